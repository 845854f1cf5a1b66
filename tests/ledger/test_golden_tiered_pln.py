"""Seed 001: tiers on a rolling net balance from the first join, against
fixtures/tiered_pln/expected.json (computed independently with plain Python)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from pos_loyalty import ledger
from pos_loyalty.engine import member_status
from pos_loyalty.engine.status import tier_basis

from ..support import FIXTURES

EXPECTED = json.loads((FIXTURES / "tiered_pln" / "expected.json").read_text())
AS_OF = ledger.parse_ts(EXPECTED["as_of"])


def _net(program, facts, status) -> int:
    if status.tier is not None:
        return status.tier.basis
    return tier_basis(program, facts, [line for line in facts.lines if line.ts <= AS_OF], AS_OF)


def test_every_member_of_the_fixture_is_in_the_ledger(tiered):
    db, _ = tiered
    members = {row[0] for row in db.execute("SELECT member_id FROM members")}
    assert members == set(EXPECTED["members"])


@pytest.mark.parametrize("member_id", sorted(EXPECTED["members"]))
def test_member_active_tier_and_net(tiered, member_id):
    db, program = tiered
    facts = ledger.load_member_facts(db, member_id)
    status = member_status(program, facts, AS_OF)
    got = {
        "active": status.active,
        "tier": status.tier.name if status.tier else None,
        "net_minor": _net(program, facts, status),
    }
    assert got == EXPECTED["members"][member_id]


def test_segment_counts(tiered):
    db, program = tiered
    counts = Counter()
    for (member_id,) in db.execute("SELECT member_id FROM members"):
        status = member_status(program, ledger.load_member_facts(db, member_id), AS_OF)
        if status.tier is not None:
            counts[(status.tier.name, status.tier.rank)] += 1
    expected = {(row["tier"], row["rank"]): row["members"] for row in EXPECTED["segments"]}
    assert {key: counts.get(key, 0) for key in expected} == expected
    assert sum(counts.values()) == sum(expected.values())


def test_the_anonymous_sale_is_recorded_and_counts_for_nobody(tiered):
    db, _ = tiered
    anonymous = db.execute("SELECT sale_id, total FROM sales WHERE member_id IS NULL").fetchall()
    assert anonymous == [("pl-0024", 30000)]
    lines = db.execute("SELECT count(*) FROM sale_lines WHERE sale_id = 'pl-0024' AND member_id IS NULL").fetchone()
    assert lines == (1,)


def test_lenas_return_counts_once_its_day_comes(tiered):
    """After the as-of, lena's 999.99 return (2026-07-05) lowers her balance; it was not counted before."""
    db, program = tiered
    facts = ledger.load_member_facts(db, "lena")
    before = member_status(program, facts, AS_OF).tier
    after = member_status(program, facts, ledger.parse_ts("2026-07-05T12:00:00")).tier
    assert before.basis - after.basis == 99999
    assert (before.name, after.name) == ("Green", "White")
