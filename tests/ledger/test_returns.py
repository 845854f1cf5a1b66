"""Returns: what is left to return, refunds of what was paid, stamps and points reversed."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine, member_status
from pos_loyalty.ledger.verify import verify

from ..conftest import OPENING
from ..support import dump

AT = OPENING + timedelta(hours=1)
LATER = AT + timedelta(days=1)


def sell(db, program, member, *items, at=AT, code=None, redeem=0):
    basket = Basket(tuple(BasketLine(p, q) for p, q in items), member_id=member, redeem_points=redeem)
    return ledger.record_sale(db, program, basket, at, ledger.new_sale_id(), code=code)


def give_back(db, program, sale_id, *items, at=LATER, return_id=None):
    return ledger.record_return(db, program, sale_id, [BasketLine(p, q) for p, q in items], at, return_id=return_id)


def status(db, program, member, at=LATER):
    return member_status(program, ledger.load_member_facts(db, member), at)


class TestQuantityLeft:
    def test_cannot_return_more_than_was_bought_minus_returned(self, coffee_shop):
        db, program = coffee_shop
        sale = sell(db, program, "ann", ("beret", 3), ("dog", 1))
        give_back(db, program, sale.sale_id, ("beret", 2))
        before = dump(db)
        with pytest.raises(ledger.LedgerError, match="1 bought and not yet returned"):
            give_back(db, program, sale.sale_id, ("beret", 2))
        with pytest.raises(ledger.LedgerError):
            give_back(db, program, sale.sale_id, ("dog", 1), ("beret", 2))  # one bad item refuses it all
        assert dump(db) == before
        give_back(db, program, sale.sale_id, ("beret", 1))
        with pytest.raises(ledger.LedgerError):
            give_back(db, program, sale.sale_id, ("beret", 1))
        assert verify(db) == []

    @pytest.mark.parametrize("items", [(("cat", 1),), (("beret", 0),)])
    def test_products_not_in_the_sale_or_no_units_are_refused(self, coffee_shop, items):
        db, program = coffee_shop
        sale = sell(db, program, "ann", ("beret", 1))
        with pytest.raises(ledger.LedgerError):
            give_back(db, program, sale.sale_id, *items)

    def test_unknown_sale_and_a_return_dated_before_its_sale_are_refused(self, coffee_shop):
        db, program = coffee_shop
        sale = sell(db, program, "ann", ("beret", 1))
        with pytest.raises(ledger.LedgerError, match="unknown sale"):
            give_back(db, program, "no-such-sale", ("beret", 1))
        with pytest.raises(ledger.LedgerError, match="before its sale"):
            give_back(db, program, sale.sale_id, ("beret", 1), at=AT - timedelta(seconds=1))

    def test_a_return_id_twice_records_one_return(self, coffee_shop):
        db, program = coffee_shop
        sale = sell(db, program, "ann", ("beret", 3))
        first = give_back(db, program, sale.sale_id, ("beret", 1), return_id="R-1")
        again = give_back(db, program, sale.sale_id, ("beret", 1), return_id="R-1")
        assert again.refund_total == first.refund_total
        assert db.execute("SELECT count(*) FROM sales WHERE kind = 'return'").fetchone()[0] == 1


class TestRefund:
    def test_refund_is_what_was_paid_after_discounts(self, coffee_shop):
        db, program = coffee_shop
        sell(db, program, "ann", ("dog", 1))  # 249.99 makes ann BRONZE (2 %)
        sale = sell(db, program, "ann", ("beret", 3), ("cat", 1), at=AT + timedelta(minutes=1))
        paid = {line.product_id: line.total for line in ledger.load_sale(db, sale.sale_id).lines}
        assert all(line.discounts for line in sale.quote.lines)  # the tier discount applied
        back = give_back(db, program, sale.sale_id, ("cat", 1))
        assert back.refund_total == paid["cat"]
        pieces = [give_back(db, program, sale.sale_id, ("beret", 1)).refund_total for _ in range(3)]
        assert sum(pieces) == paid["beret"]
        assert max(pieces) - min(pieces) <= 1
        assert verify(db) == []

    def test_refund_includes_a_code_discount(self, coffee_shop):
        db, program = coffee_shop
        [(code, percent)] = ledger.issue_codes(db, 1, OPENING, rng=random.Random(11))
        sale = sell(db, program, "bob", ("handbag", 1), code=code)
        (line,) = ledger.load_sale(db, sale.sale_id).lines
        assert [d.reason for d in line.discounts] == ["code"]
        assert give_back(db, program, sale.sale_id, ("handbag", 1)).refund_total == line.total < line.list_amount

    def test_the_refund_is_recorded_as_a_return_of_the_sale(self, coffee_shop):
        db, program = coffee_shop
        sale = sell(db, program, "ann", ("beret", 2))
        back = give_back(db, program, sale.sale_id, ("beret", 1))
        record = ledger.load_sale(db, back.return_id)
        assert (record.kind, record.original_sale_id, record.total) == ("return", sale.sale_id, back.refund_total)
        assert ledger.load_sale(db, sale.sale_id).lines[0].returned_qty == 1


class TestStampsBack:
    def test_returned_coffees_take_their_stamps_back(self, coffee_shop):
        db, program = coffee_shop
        sale = sell(db, program, "ann", ("coffee", 4))
        give_back(db, program, sale.sale_id, ("coffee", 3))
        assert status(db, program, "ann").stamp_cards[0].count == 1

    def test_returning_the_free_coffee_refunds_nothing_and_gives_the_reward_back(self, coffee_shop):
        db, program = coffee_shop
        sell(db, program, "ann", ("coffee", 5))
        assert status(db, program, "ann", AT).stamp_cards[0].next_free
        free = sell(db, program, "ann", ("coffee", 1), at=AT + timedelta(minutes=5))
        assert free.quote.total == 0 and free.quote.lines[0].free_units == 1
        assert not status(db, program, "ann").stamp_cards[0].next_free
        back = give_back(db, program, free.sale_id, ("coffee", 1))
        assert back.refund_total == 0
        card = status(db, program, "ann").stamp_cards[0]
        assert (card.count, card.next_free) == (5, True)
        again = sell(db, program, "ann", ("coffee", 1), at=LATER + timedelta(minutes=1))
        assert again.quote.total == 0
        assert verify(db) == []

    def test_paid_units_go_back_before_the_free_one(self, coffee_shop):
        db, program = coffee_shop
        sale = sell(db, program, "ann", ("coffee", 6))  # five paid, the sixth free
        back = give_back(db, program, sale.sale_id, ("coffee", 1))
        paid_line = next(line for line in sale.quote.lines if not line.free_units)
        assert back.refund_total == paid_line.unit_price


class TestPointsBack:
    def test_a_full_return_claws_back_everything_the_sale_earned(self, points_shop):
        db, program = points_shop
        before = status(db, program, "ann", AT)
        sale = sell(db, program, "ann", ("dog", 1), ("coffee", 2))
        gained = sale.quote.points_earned + sale.quote.points_bonus
        assert gained > 0
        back = give_back(db, program, sale.sale_id, ("dog", 1), ("coffee", 2))
        assert back.points_clawed_back == gained
        after = status(db, program, "ann")
        assert after.points.balance == before.points.balance
        assert after.tier.basis == before.tier.basis

    def test_a_partial_return_claws_back_a_share(self, points_shop):
        db, program = points_shop
        sale = sell(db, program, "ann", ("dog", 1), ("beret", 1))
        back = give_back(db, program, sale.sale_id, ("beret", 1))
        assert 0 < back.points_clawed_back < sale.quote.points_earned

    def test_a_claw_back_larger_than_the_balance_leaves_it_negative(self, points_shop):
        db, program = points_shop
        first = sell(db, program, "ann", ("beret", 2))
        balance = first.points_balance
        # offer every point on a small basket: they pay it all, so it earns nothing back
        spend = sell(db, program, "ann", ("coffee", 2), at=AT + timedelta(minutes=1), redeem=balance)
        assert spend.quote.total == 0 and spend.quote.points_earned == 0
        assert 0 <= spend.points_balance < first.quote.points_earned
        back = give_back(db, program, first.sale_id, ("beret", 2))
        expected = spend.points_balance - back.points_clawed_back
        assert expected < 0
        assert status(db, program, "ann").points.balance == expected
        assert back.status_after.points.balance == expected

    def test_a_full_return_of_a_sale_paid_with_points_claws_back_its_bonus(self, points_shop):
        db, program = points_shop
        ledger.adjust_points(db, program, "ann", 300, "goodwill", AT)
        before = status(db, program, "ann", AT)
        sale = sell(db, program, "ann", ("coffee", 1), at=AT + timedelta(minutes=1), redeem=before.points.balance)
        assert sale.quote.total == 0 and sale.quote.points_bonus == program.points.first_purchase_bonus
        give_back(db, program, sale.sale_id, ("coffee", 1))
        after = status(db, program, "ann")
        assert (after.points.balance, after.tier.basis) == (before.points.balance, before.tier.basis)

    def test_returning_units_paid_with_points_gives_the_points_back(self, points_shop):
        db, program = points_shop
        ledger.adjust_points(db, program, "ann", 400, "goodwill", AT)
        before = status(db, program, "ann", AT)
        sale = sell(db, program, "ann", ("beret", 1), at=AT + timedelta(minutes=1), redeem=300)
        assert sale.quote.points_redeemed == 300
        back = give_back(db, program, sale.sale_id, ("beret", 1))
        assert back.points_restored == 300
        assert status(db, program, "ann").points.balance == before.points.balance
