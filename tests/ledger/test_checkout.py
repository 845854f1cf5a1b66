"""Checkout: append-only facts, one transaction, idempotent by sale id, history keeps its prices."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import timedelta

import pytest

from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine, member_status
from pos_loyalty.ledger.verify import verify

from ..conftest import OPENING
from ..support import dump

AT = OPENING + timedelta(hours=1)

# SPEC, "Ledger (facts)": the rows that are never updated or deleted.
FACT_TABLES = [
    "sales", "sale_lines", "line_discounts", "memberships", "point_movements",
    "code_redemptions", "outbox", "prices", "erasures",
]


def basket(member, *items, redeem=0):
    return Basket(tuple(BasketLine(p, q) for p, q in items), member_id=member, redeem_points=redeem)


def sell(db, program, member, *items, at=AT, sale_id=None, code=None, redeem=0):
    return ledger.record_sale(db, program, basket(member, *items, redeem=redeem), at,
                              sale_id or ledger.new_sale_id(), code=code)


def counts(db):
    return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in FACT_TABLES + ["member_summary"]}


@pytest.fixture
def busy(points_shop):
    """A points ledger with at least one row in every fact table."""
    db, program = points_shop
    [(code, _)] = ledger.issue_codes(db, 1, OPENING, rng=random.Random(7))
    sale = sell(db, program, "ann", ("dog", 1), ("coffee", 2), code=code)
    ledger.record_return(db, program, sale.sale_id, [BasketLine("coffee", 1)], AT + timedelta(hours=1))
    ledger.change_membership(db, program, "bob", AT, "resigned")
    db["erasures"].insert({"member_id": "bob", "ts": "2026-03-01T12:00:00"})
    return db, program


class TestAppendOnly:
    def test_every_fact_table_has_rows_to_protect(self, busy):
        db, _ = busy
        assert all(n > 0 for n in counts(db).values()), counts(db)

    @pytest.mark.parametrize("table", FACT_TABLES)
    def test_update_is_refused(self, busy, table):
        db, _ = busy
        before = dump(db)
        column = db[table].columns[-1].name
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(f"UPDATE {table} SET {column} = {column}")
        assert dump(db) == before

    @pytest.mark.parametrize("table", FACT_TABLES)
    def test_delete_is_refused(self, busy, table):
        db, _ = busy
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(f"DELETE FROM {table}")
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0

    def test_members_are_never_deleted(self, busy):
        db, _ = busy
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("DELETE FROM members WHERE member_id = 'bob'")

    def test_the_busy_ledger_verifies(self, busy):
        db, _ = busy
        assert verify(db) == []


class TestIdempotent:
    def test_the_same_sale_id_twice_records_one_sale(self, points_shop):
        db, program = points_shop
        first = sell(db, program, "ann", ("dog", 1), ("coffee", 3), sale_id="S-1")
        after_first = dump(db)
        again = sell(db, program, "ann", ("dog", 1), ("coffee", 3), sale_id="S-1", at=AT + timedelta(minutes=5))
        assert dump(db) == after_first
        assert again.replayed and not first.replayed
        assert (again.quote.total, again.quote.points_earned) == (first.quote.total, first.quote.points_earned)
        assert db.execute("SELECT count(*) FROM sales WHERE sale_id = 'S-1'").fetchone()[0] == 1
        assert verify(db) == []

    def test_a_retried_checkout_with_a_code_is_not_refused_for_using_it(self, points_shop):
        db, program = points_shop
        [(code, _)] = ledger.issue_codes(db, 1, OPENING, rng=random.Random(4))
        first = sell(db, program, "ann", ("handbag", 1), sale_id="S-1", code=code)
        again = sell(db, program, "ann", ("handbag", 1), sale_id="S-1", code=code)
        assert again.replayed and again.quote.total == first.quote.total
        assert db.execute("SELECT count(*) FROM code_redemptions").fetchone()[0] == 1

    @pytest.mark.parametrize(
        ("member", "items"),
        [("ann", (("dog", 1), ("coffee", 2))), ("ann", (("cat", 1),)), ("bob", (("dog", 1), ("coffee", 3))),
         (None, (("dog", 1), ("coffee", 3)))],
    )
    def test_the_same_id_for_a_different_basket_is_refused(self, points_shop, member, items):
        db, program = points_shop
        sell(db, program, "ann", ("dog", 1), ("coffee", 3), sale_id="S-1")
        before = dump(db)
        with pytest.raises(ledger.LedgerError, match="S-1"):
            sell(db, program, member, *items, sale_id="S-1")
        assert dump(db) == before


class TestAtomic:
    def test_a_used_code_refuses_the_whole_checkout(self, points_shop):
        db, program = points_shop
        [(code, _)] = ledger.issue_codes(db, 1, OPENING, rng=random.Random(3))
        sell(db, program, "ann", ("coffee", 1), code=code)
        before = dump(db)
        with pytest.raises(ledger.LedgerError, match="already used"):
            sell(db, program, "bob", ("dog", 1), code=code, sale_id="S-2")
        assert dump(db) == before

    def test_a_failure_at_the_last_write_leaves_nothing(self, points_shop):
        """Fail the outbox insert, the last write of a checkout: the sale, its lines, discounts,
        code redemption and point movements already inserted must all be rolled back."""
        db, program = points_shop
        [(code, _)] = ledger.issue_codes(db, 1, OPENING, rng=random.Random(5))
        before = dump(db)
        db.execute("CREATE TEMP TRIGGER fail_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'boom'); END")
        with pytest.raises(sqlite3.DatabaseError, match="boom"):
            sell(db, program, "ann", ("dog", 1), ("coffee", 6), code=code, sale_id="S-X")
        db.execute("DROP TRIGGER fail_outbox")
        assert dump(db) == before
        # and the code is still good for a real checkout afterwards
        receipt = sell(db, program, "ann", ("dog", 1), code=code, sale_id="S-Y")
        assert "code" in receipt.quote.discounts_by_reason()
        assert verify(db) == []

    @pytest.mark.parametrize(
        ("member", "items", "redeem"),
        [("nobody", (("coffee", 1),), 0), ("ann", (("unicorn", 1),), 0), ("ann", (("coffee", 0),), 0),
         ("ann", (("coffee", 1),), 10_000)],
    )
    def test_a_refused_basket_writes_nothing(self, points_shop, member, items, redeem):
        db, program = points_shop
        before = dump(db)
        with pytest.raises(ledger.LedgerError):
            sell(db, program, member, *items, redeem=redeem)
        assert dump(db) == before


class TestEvents:
    """The outbox gets what changed, with the fact that caused it, in the checkout's transaction."""

    def events(self, db, member):
        return [
            (kind, json.loads(payload), cause_kind, cause_id)
            for kind, payload, cause_kind, cause_id in db.execute(
                "SELECT kind, payload, cause_kind, cause_id FROM outbox WHERE member_id = ? ORDER BY event_id",
                [member],
            )
        ]

    def test_a_sale_that_lifts_the_tier_and_fills_the_card(self, coffee_shop):
        db, program = coffee_shop
        receipt = sell(db, program, "ann", ("dog", 1), ("coffee", 5))  # 249.99 + 5 coffees: BRONZE, next free
        found = [(k, p, c, i) for k, p, c, i in self.events(db, "ann") if c == "sale"]
        assert ("tier_changed", {"from": "CLIMBING", "to": "BRONZE", "direction": "up"}, "sale",
                receipt.sale_id) in found
        assert ("stamp_reward_ready", {"card": "coffee", "count": 5}, "sale", receipt.sale_id) in found
        assert receipt.quote.status_after.tier.name == "BRONZE"

    def test_a_return_that_drops_the_tier(self, coffee_shop):
        db, program = coffee_shop
        receipt = sell(db, program, "ann", ("dog", 1))
        back = ledger.record_return(db, program, receipt.sale_id, [BasketLine("dog")], AT + timedelta(hours=1))
        assert ("tier_changed", {"from": "BRONZE", "to": "CLIMBING", "direction": "down"}, "return",
                back.return_id) in self.events(db, "ann")


class TestWhatIsRecorded:
    def test_each_line_keeps_the_price_in_force_and_its_discounts(self, coffee_shop):
        """Coffee is 2.99 until 2026-03-02T09:12 and 3.05 after (the recipe's price change)."""
        db, program = coffee_shop
        early = sell(db, program, "ann", ("coffee", 1), at=OPENING.replace(day=2, hour=9, minute=11))
        late = sell(db, program, "ann", ("coffee", 1), at=OPENING.replace(day=2, hour=9, minute=12))
        prices = [ledger.load_sale(db, r.sale_id).lines[0].unit_price for r in (early, late)]
        assert prices == [299, 305]

    def test_discounts_are_stored_per_line_with_their_reason(self, coffee_shop):
        db, program = coffee_shop
        for i in range(5):
            sell(db, program, "ann", ("coffee", 1), at=AT + timedelta(minutes=i))
        receipt = sell(db, program, "ann", ("coffee", 1), ("beret", 1), at=AT + timedelta(minutes=9))
        stored = ledger.load_sale(db, receipt.sale_id)
        assert [(line.product_id, [(d.reason, d.amount) for d in line.discounts]) for line in stored.lines] == [
            ("coffee", [("stamp", 299)]), ("beret", [])
        ]
        assert stored.total == sum(line.total for line in stored.lines) == receipt.quote.total
        assert stored.subtotal - stored.discount_total == stored.total

    def test_an_anonymous_sale_counts_for_no_member(self, coffee_shop):
        db, program = coffee_shop
        before = member_status(program, ledger.load_member_facts(db, "ann"), AT)
        receipt = sell(db, program, None, ("coffee", 6), ("dog", 1))
        assert receipt.quote.discount_total == 0
        assert db.execute("SELECT count(*) FROM sales WHERE member_id IS NULL").fetchone()[0] == 1
        assert member_status(program, ledger.load_member_facts(db, "ann"), AT) == before
        assert db.execute("SELECT count(*) FROM member_summary WHERE visits > 0").fetchone()[0] == 0

    def test_the_receipt_status_is_what_the_ledger_says_next(self, points_shop):
        db, program = points_shop
        receipt = sell(db, program, "ann", ("dog", 2), ("coffee", 3))
        reread = member_status(program, ledger.load_member_facts(db, "ann"), AT)
        assert receipt.quote.status_after == reread
        assert receipt.points_balance == reread.points.balance
