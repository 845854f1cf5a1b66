"""The ledger's text for an instant given as text: the quick path agrees with parse_ts and ts_text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_loyalty.ledger.timestamps import TimestampError, parse_ts, ts_text, ts_text_of


def by_parse_ts(text: str) -> str | type[TimestampError]:
    try:
        return ts_text(parse_ts(text))
    except TimestampError:
        return TimestampError


def by_ts_text_of(text: str) -> str | type[TimestampError]:
    try:
        return ts_text_of(text)
    except TimestampError:
        return TimestampError


moments = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))
offsets = st.none() | st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
spellings = st.sampled_from(["seconds", "minutes", "milliseconds", "microseconds", "auto"])


@given(moments, offsets, spellings, st.booleans())
def test_any_iso_instant_reads_as_parse_ts_reads_it(moment, offset, spelling, date_only):
    """Naive or with an offset, to any precision, inside or outside the ledger's years."""
    moment = moment.replace(tzinfo=offset)
    text = moment.date().isoformat() if date_only else moment.isoformat(timespec=spelling)
    assert by_ts_text_of(text) == by_parse_ts(text)


@pytest.mark.parametrize("text", [
    "2026-03-02T09:05:00", "2026-03-02", "2026-03-02 09:05", "2026-03-02T09:05:00.999999",
    "2026-03-02T09:05:00+02:00", "1899-12-31T23:59:59", "3000-01-01", "2026-02-30T10:00:00",
    "yesterday", "", " ", "20260302T090500", " 2026-03-02T09:05:00 ",
    # Nineteen characters, read by fromisoformat, and not the ledger's form: their text is not theirs.
    "2026-W10-1T09:05:00", "2026-03-02 09:05:00", "2026-03-02t09:05:00", "2026-061T09:05:00Z",
])
def test_the_awkward_ones_read_as_parse_ts_reads_them(text):
    assert by_ts_text_of(text) == by_parse_ts(text)
