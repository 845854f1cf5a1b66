"""The engine against an independent computation: for every member of each fixture ledger, at
several as-of instants, tier basis, stamp counts and promotions recomputed with plain SQL over
sales, sale_lines and memberships."""

from __future__ import annotations

from datetime import datetime

import pytest

from pos_loyalty import ledger
from pos_loyalty.engine import member_status

from ..support import coffee_ledger, engine_view, sql_view, tiered_ledger

LEDGERS = {
    "coffee_before_dog": (
        lambda: coffee_ledger(with_dog=False),
        ["2026-03-02T08:30:00", "2026-03-02T09:12:00", "2026-03-02T12:00:00", "2026-03-03T00:00:00"],
    ),
    "coffee_after_dog": (
        lambda: coffee_ledger(with_dog=True),
        ["2026-03-02T16:59:59", "2026-03-02T17:00:00", "2026-03-02T18:00:00"],
    ),
    "tiered_pln": (
        tiered_ledger,
        [
            "2025-06-01T10:00:00",
            "2025-07-15T10:00:00",
            "2025-10-01T08:59:59",
            "2025-10-01T09:00:00",
            "2026-02-10T12:00:00",
            "2026-05-01T09:00:00",
            "2026-06-30T12:00:00",
            "2026-06-30T12:00:01",
            "2026-07-05T12:00:00",
            "2026-10-01T00:00:00",
            "2027-06-01T00:00:00",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(LEDGERS))
def test_engine_agrees_with_plain_sql(name):
    build, instants = LEDGERS[name]
    db, program = build()
    members = [row[0] for row in db.execute("SELECT member_id FROM members ORDER BY member_id")]
    assert members
    mismatches = []
    for text in instants:
        as_of = ledger.parse_ts(text)
        for member_id in members:
            facts = ledger.load_member_facts(db, member_id)
            status = member_status(program, facts, as_of)
            mine = engine_view(program, facts, status, as_of)
            theirs = sql_view(db, program, member_id, as_of)
            if mine != theirs:
                mismatches.append((text, member_id, mine, theirs))
    assert mismatches == []


def test_the_sql_reading_can_tell_members_apart():
    """Guard against a comparison that passes because both sides are empty."""
    db, program = tiered_ledger()
    at = datetime(2026, 6, 30, 12)
    bases = {sql_view(db, program, m, at)["basis"] for (m,) in db.execute("SELECT member_id FROM members")}
    assert len(bases) > 5
    db, program = coffee_ledger()
    views = [sql_view(db, program, m, datetime(2026, 3, 2, 18)) for m in ("kris", "yeva")]
    assert views[0]["promotions"] and views[1]["stamps"]["coffee"] == 5
