"""verify(): nothing to report on good ledgers; a tampered cache row is found and rebuilt."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine
from pos_loyalty.ledger import write
from pos_loyalty.ledger.verify import rebuild_summary, verify

from ..conftest import OPENING
from ..support import coffee_ledger, discount_ledger, tiered_ledger


@pytest.mark.parametrize("build", [coffee_ledger, tiered_ledger, discount_ledger], ids=lambda b: b.__name__)
def test_the_fixture_ledgers_verify(build):
    db, _ = build()
    assert verify(db) == []


def test_the_cache_holds_what_the_facts_say(coffee):
    db, _ = coffee
    kris = db.execute("SELECT visits, spend, refunds FROM member_summary WHERE member_id = 'kris'").fetchone()
    facts = db.execute(
        "SELECT count(*), sum(total) FROM sales WHERE member_id = 'kris' AND kind = 'sale'"
    ).fetchone()
    assert kris == (facts[0], facts[1], 0)


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE member_summary SET spend = spend + 1 WHERE member_id = 'kris'",
        "UPDATE member_summary SET visits = visits - 1 WHERE member_id = 'kris'",
        "UPDATE member_summary SET last_visit = '2020-01-01T00:00:00' WHERE member_id = 'kris'",
        "DELETE FROM member_summary WHERE member_id = 'kris'",
    ],
)
def test_a_tampered_summary_row_is_found_and_rebuilt(coffee, tamper):
    db, _ = coffee
    db.execute(tamper)
    faults = verify(db)
    assert len(faults) == 1 and "member_summary" in faults[0] and "kris" in faults[0]
    with write(db):
        rebuild_summary(db)
    assert verify(db) == []


def test_a_summary_row_for_a_member_with_no_history_is_found(coffee):
    db, _ = coffee
    db.execute("UPDATE member_summary SET points_net = 5 WHERE member_id = 'dave'")
    assert any("dave" in fault for fault in verify(db))


def test_a_sale_whose_total_is_not_its_lines_is_found():
    """Facts written past the ledger's functions (triggers forbid edits, not bad inserts) are caught."""
    db, _ = coffee_ledger()
    db["sales"].insert({
        "sale_id": "forged", "ts": "2026-03-03T09:00:00", "member_id": None, "kind": "sale",
        "subtotal": 1000, "discount_total": 0, "total": 1000, "source": "till",
    })
    db["sale_lines"].insert({
        "sale_id": "forged", "line_no": 1, "member_id": None, "ts": "2026-03-03T09:00:00", "product_id": "tea",
        "qty": 1, "unit_price": 900, "list_amount": 900, "free_units": 0, "total": 900,
    })
    faults = verify(db)
    assert faults and all("forged" in fault for fault in faults)


def test_till_activity_keeps_the_ledger_verified(points_shop):
    db, program = points_shop
    at = OPENING + timedelta(hours=1)
    sale = ledger.record_sale(db, program, Basket((BasketLine("dog"), BasketLine("coffee", 7)), member_id="ann"),
                              at, "S-1")
    ledger.record_return(db, program, sale.sale_id, [BasketLine("coffee", 2)], at + timedelta(days=1))
    ledger.adjust_points(db, program, "bob", -30, "correction", at)
    # a year and more later the sign-up lots have lapsed; the next write records their expiry
    later = at + timedelta(days=400)
    ledger.record_sale(db, program, Basket((BasketLine("tea"),), member_id="bob"), later, "S-2")
    assert db.execute("SELECT count(*) FROM point_movements WHERE kind = 'expire'").fetchone()[0] >= 1
    assert verify(db) == []
