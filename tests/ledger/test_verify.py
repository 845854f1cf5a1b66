"""verify(): nothing to report on good ledgers; a tampered cache row is found and rebuilt."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine
from pos_loyalty.ledger import write
from pos_loyalty.ledger.verify import rebuild_summary, verify

from ..conftest import OPENING
from ..support import COFFEE_FILES, coffee_ledger, discount_ledger, import_fixture, new_ledger, tiered_ledger


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


FORGED_SALE = {
    "sale_id": "forged", "ts": "2026-03-03T09:00:00", "member_id": "kris", "kind": "sale",
    "subtotal": 900, "discount_total": 0, "total": 900, "source": "till",
}
FORGED_LINE = {
    "sale_id": "forged", "line_no": 1, "member_id": "kris", "ts": "2026-03-03T09:00:00", "kind": "sale",
    "product_id": "tea", "qty": 1, "unit_price": 900, "list_amount": 900, "free_units": 0, "total": 900,
}


@pytest.mark.parametrize(
    ("line", "invariant"),
    [
        (None, "a sale has no lines"),
        ({"total": 800, "list_amount": 800}, "a sale's total is not the sum of its lines"),
        ({"ts": "2026-03-03T09:00:01"}, "a line's member, time or kind differs from its sale's"),
        ({"member_id": "dave"}, "a line's member, time or kind differs from its sale's"),
        ({"member_id": None}, "a line's member, time or kind differs from its sale's"),
        ({"kind": "return"}, "a line's member, time or kind differs from its sale's"),
        ({"total": 850}, "a line's total is not its list price minus its discounts"),
    ],
    ids=["no lines", "sum", "time", "member", "anonymous line", "kind", "discounts"],
)
def test_each_invariant_of_a_sale_and_its_lines_is_named(line, invariant):
    """Rows inserted past the ledger's functions break one invariant each, and verify says which."""
    db, _ = coffee_ledger()
    assert verify(db) == []
    db["sales"].insert({**FORGED_SALE, "total": 900 if line is None or "total" not in line else line["total"]})
    if line is not None:
        db["sale_lines"].insert({**FORGED_LINE, **line})
    faults = [fault for fault in verify(db) if "member_summary" not in fault]
    assert len(faults) == 1 and faults[0].startswith(f"{invariant}: forged"), faults


def test_a_file_ledger_is_verified_with_its_integrity_check_beside(tmp_path):
    """On a file the integrity check runs on a connection of its own; the steps are all reported."""
    db, program = new_ledger("coffee_shop", tmp_path / "shop.db")
    import_fixture(db, program, "coffee_shop", COFFEE_FILES)
    steps = []
    assert verify(db, on_step=lambda name, seconds: steps.append(name)) == []
    assert "integrity check" in steps and "sales against their lines" in steps and "member_summary" in steps


@pytest.mark.parametrize(
    ("table", "row", "named"),
    [
        ("sales", None, "sale forged"),
        ("memberships", {"member_id": "kris", "ts": "2026-03-04T09:00:00+01:00", "status": "resigned"},
         "membership of kris"),
        ("memberships", {"member_id": "kris", "ts": "2026-03-04 09:00:00", "status": "resigned"},
         "membership of kris"),
        ("prices", {"product_id": "tea", "valid_from": "2026-04-01", "price": 950}, "price of tea"),
    ],
    ids=["sale with an offset", "membership with an offset", "membership with a space", "price as a date"],
)
def test_a_time_not_in_the_ledgers_form_is_found(table, row, named):
    """The engine compares stored times as naive local text; one with an offset, a space or no
    time of day is named by verify (the ledger's own writes are never the cause)."""
    db, _ = coffee_ledger()
    if table == "sales":
        when = "2026-03-03T09:00:00+01:00"
        db["sales"].insert({**FORGED_SALE, "ts": when})
        db["sale_lines"].insert({**FORGED_LINE, "ts": when})
    else:
        db[table].insert(row)
    faults = [fault for fault in verify(db) if "member_summary" not in fault]
    assert faults == [f"a time is not in the ledger's form (2026-03-02T09:05:00): {named}"]
