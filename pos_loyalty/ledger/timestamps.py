"""Instants as the ledger stores them: ISO text to the second, shop-local, sortable as text."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache


FIRST_YEAR, LAST_YEAR = 1900, 2999
"""The years a shop's facts can be dated in: room for windows and expiries without overflow."""


class TimestampError(ValueError):
    """Text that is not an instant."""


def ts_text(moment: datetime) -> str:
    """``2026-03-02T09:05:00``: what the ledger stores."""
    return moment.isoformat(timespec="seconds")


stored_ts = datetime.fromisoformat
"""Read an instant the ledger wrote itself (with :func:`ts_text`): no checks, no cache needed.

A member's history is read on every status, quote and checkout, and parsing each line's time was
a third of that read; text from outside the ledger goes through :func:`parse_ts`.
"""


@lru_cache(maxsize=8192)
def parse_ts(text: str) -> datetime:
    """Read an instant from ISO text (a date alone means its midnight); timezones become local.

    Cached: the lines of one sale, and the rows the ledger reads back, repeat their instants.
    """
    raw = str(text).strip()
    if not raw:
        raise TimestampError("the time is empty")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise TimestampError(f"{raw!r} is not a date or time (expected e.g. 2026-03-02T09:05:00)") from None
    try:
        if moment.tzinfo is not None:
            moment = moment.astimezone().replace(tzinfo=None)
    except (OverflowError, ValueError):
        raise TimestampError(f"{raw!r} is outside the calendar") from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise TimestampError(f"{raw!r} is not between {FIRST_YEAR} and {LAST_YEAR}")
    return moment.replace(microsecond=0)


def ts_text_of(text: str) -> str:
    """An instant given as text, as the ledger's text: ``ts_text(parse_ts(text))``, the same
    answer or the same refusal.

    Text that is already local ISO (as tills and exports write it) is parsed once, without the
    caches and copies of :func:`parse_ts`: an import meets each sale's time once, so those caches
    miss (333,000 times: 1.62-1.68 s through parse_ts and ts_text, 0.82-0.88 s here). Text in
    the ledger's own form is its own answer once it parses: ``isoformat`` formats through
    ``printf`` at ~8,000 instructions a time, the pattern costs a tenth of that.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is None and FIRST_YEAR <= moment.year <= LAST_YEAR:
        return text if _LEDGER_FORM.fullmatch(text) else moment.isoformat(timespec="seconds")
    return ts_text(parse_ts(text))


_LEDGER_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")
"""What :func:`ts_text` writes: ``2026-03-02T09:05:00``."""
LEDGER_FORM_GLOB = "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]"
"""The same form as an SQL GLOB, for ``verify`` to find a stored time that is not in it."""


def parse_day(text: str) -> date:
    """A calendar date such as a birthday."""
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise TimestampError(f"{text!r} is not a date (expected e.g. 1990-05-17)") from None
