"""Points: earned on what is paid and rounded down, redemption capped at the total,
lots spent soonest-expiring first, and a claw-back larger than the balance shown as negative."""

from __future__ import annotations

from datetime import datetime, timedelta
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_loyalty.engine import Basket, BasketLine, PointMovement, QuoteError, member_status, program_from_toml, quote
from pos_loyalty.engine.points import points_book

from ..support import program_text
from .factories import AS_OF, JOINED, catalogue, member, points_lot

POINTS = program_from_toml(program_text("points"))
SILVER = (points_lot(1, JOINED, 500, kind="adjust"),)


def ring_up(facts, *items, at=AS_OF, redeem=0, **prices):
    shop = catalogue(**prices)
    basket = Basket(tuple(BasketLine(p, q) for p, q in items), member_id="m", redeem_points=redeem)
    return quote(POINTS, facts, basket, shop, at)


class TestEarning:
    def test_spec_silver_member_paying_12_34_earns_154(self):
        # 13.71 less Silver's 10 % (1.371 -> 1.37) is 12.34 paid
        priced = ring_up(member(points=SILVER, sales_count=3), ("bag", 1), bag=1371)
        assert priced.status_before.tier.name == "Silver"
        assert (priced.total, priced.points_earned, priced.points_bonus) == (1234, 154, 0)

    def test_spec_in_double_points_week_the_same_sale_earns_308(self):
        priced = ring_up(member(points=SILVER, sales_count=3), ("bag", 1), bag=1371, at=datetime(2026, 11, 24, 10))
        assert (priced.total, priced.points_earned) == (1234, 308)

    def test_the_quote_names_the_bonus_period_its_points_were_multiplied_by(self):
        """So the till can say "2x points until 29 Nov"; from the programme's own period, not restated."""
        (week,) = POINTS.points.periods
        for day, inside in ((week.start, True), (week.end, True), (week.end + timedelta(days=1), False)):
            at = datetime.combine(day, datetime.min.time()).replace(hour=23)
            priced = ring_up(member(points=SILVER, sales_count=3), ("bag", 1), bag=1371, at=at)
            assert priced.points_periods == ((week,) if inside else ())

    def test_points_are_on_what_is_paid_rounded_down(self):
        # Basic: 1.04 less 5 % (0.052 -> 0.05) = 0.99 paid; 9.9 points -> 9
        priced = ring_up(member(points=(), sales_count=3), ("cup", 1), cup=104)
        assert (priced.total, priced.points_earned) == (99, 9)

    @given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=5))
    def test_never_more_than_the_exact_figure_and_less_than_one_short(self, price, qty):
        priced = ring_up(member(points=(), sales_count=3), ("item", qty), item=price)
        # Basic: 10 points per 1.00 paid, multiplier 1, outside any bonus period
        assert priced.points_earned == priced.total * 10 // 100

    def test_first_purchase_and_birthday_bonuses(self):
        facts = member(sales_count=0, birthday=datetime(1990, 6, 15).date())
        priced = ring_up(facts, ("item", 1), item=1000)
        assert dict(priced.bonus_reasons) == {"first purchase": 50, "birthday": 200}
        assert priced.points_bonus == 250

    def test_the_status_after_counts_what_is_earned_before_a_later_movement(self):
        # A till whose clock is behind: the member already has a movement an hour after this sale.
        later = (*SILVER, points_lot(2, AS_OF + timedelta(hours=1), 40, kind="adjust"))
        priced = ring_up(member(points=later, sales_count=3), ("cup", 1), cup=1000)
        assert priced.points_earned > 0
        assert priced.status_after.points.balance == priced.status_before.points.balance + priced.points_earned

    def test_a_resigned_member_earns_nothing(self):
        facts = member(resigns=(AS_OF - timedelta(days=1),), sales_count=3)
        priced = ring_up(facts, ("item", 1), item=1000)
        assert (priced.points_earned, priced.points_bonus, priced.total) == (0, 0, 1000)


class TestRedemption:
    rich = member(points=(points_lot(1, JOINED, 5000, kind="adjust"),), sales_count=3)

    def test_capped_at_the_basket_total(self):
        priced = ring_up(self.rich, ("item", 1), item=1000, redeem=5000)
        # Gold: 10.00 less 15 % = 8.50; 100 points = 1.00, so 850 points pay it all
        assert priced.total == 0
        assert priced.points_redeemed == 850
        assert priced.status_after.points.balance == 5000 - 850

    def test_a_partial_redemption(self):
        priced = ring_up(self.rich, ("item", 1), item=1000, redeem=150)
        assert priced.points_redeemed == 150 and priced.total == 850 - 150

    def test_more_than_the_balance_is_refused(self):
        with pytest.raises(QuoteError):
            ring_up(member(points=(points_lot(1, JOINED, 100),), sales_count=3), ("item", 1), item=1000, redeem=101)

    def test_only_active_members_redeem(self):
        facts = member(points=(points_lot(1, JOINED, 1000),), resigns=(AS_OF - timedelta(days=1),), sales_count=3)
        with pytest.raises(QuoteError):
            ring_up(facts, ("item", 1), item=1000, redeem=100)

    def test_points_are_not_earned_on_what_points_paid(self):
        priced = ring_up(self.rich, ("item", 1), item=1000, redeem=350)
        assert priced.total == 500
        assert priced.points_earned == 500 * 10 * 3 // (100 * 2)  # Gold's x1.5 on the 5.00 paid


class TestBook:
    start = datetime(2026, 1, 1, 9)

    def test_spent_soonest_expiring_first(self):
        late = PointMovement(1, self.start, "earn", 100, datetime(2026, 12, 1))
        soon = PointMovement(2, self.start + timedelta(days=1), "adjust", 100, datetime(2026, 6, 1))
        spend = PointMovement(3, self.start + timedelta(days=2), "redeem", -100)
        moves = (late, soon, spend)
        assert points_book(moves, datetime(2026, 5, 1)).balance == 100
        # The lot expiring on 1 June was the one spent, so nothing is lost when it lapses.
        assert points_book(moves, datetime(2026, 7, 1)).balance == 100
        assert points_book(moves, datetime(2026, 12, 1)).balance == 0

    def test_a_lot_expires_at_its_instant(self):
        moves = (PointMovement(1, self.start, "earn", 100, datetime(2026, 6, 1)),)
        assert points_book(moves, datetime(2026, 6, 1) - timedelta(seconds=1)).balance == 100
        assert points_book(moves, datetime(2026, 6, 1)).balance == 0

    def test_a_claw_back_beyond_the_balance_is_negative(self):
        moves = (
            PointMovement(1, self.start, "earn", 300, datetime(2027, 1, 1)),
            PointMovement(2, self.start + timedelta(days=1), "redeem", -250),
            PointMovement(3, self.start + timedelta(days=2), "clawback", -300),
        )
        book = points_book(moves, self.start + timedelta(days=3))
        assert (book.balance, book.debt) == (-250, 250)

    def test_a_debt_is_paid_off_by_the_next_points(self):
        moves = (
            PointMovement(1, self.start, "clawback", -80),
            PointMovement(2, self.start + timedelta(days=1), "earn", 100, datetime(2027, 1, 1)),
        )
        assert points_book(moves, self.start + timedelta(days=2)).balance == 20

    def test_the_status_names_the_lots_lapsed_without_an_expire_row(self):
        """What the ledger writes as ``expire`` rows with the member's next change: the part of each
        lapsed lot not spent, and nothing for a lot whose expiry is already recorded."""
        moves = (
            PointMovement(1, self.start, "earn", 70, AS_OF - timedelta(days=10)),
            PointMovement(2, self.start, "earn", 30, AS_OF - timedelta(days=5)),
            PointMovement(3, self.start, "earn", 50, AS_OF + timedelta(days=90)),
            PointMovement(4, self.start + timedelta(days=1), "redeem", -20),
        )
        status = member_status(POINTS, member(points=moves), AS_OF)
        assert status.points.lapsed == ((1, 50), (2, 30))  # the redemption took 20 of the soonest lot
        recorded = moves + (PointMovement(5, AS_OF - timedelta(days=10), "expire", -50, lot_id=1),)
        assert member_status(POINTS, member(points=recorded), AS_OF).points.lapsed == ((2, 30),)
        assert member_status(POINTS, member(points=moves), AS_OF - timedelta(days=11)).points.lapsed == ()

    def test_the_status_shows_what_expires_soon(self):
        moves = (
            PointMovement(1, self.start, "earn", 70, AS_OF + timedelta(days=10)),
            PointMovement(2, self.start, "earn", 30, AS_OF + timedelta(days=60)),
        )
        status = member_status(POINTS, member(points=moves), AS_OF)
        assert status.points.balance == 100
        assert status.points.expiring == ((70, AS_OF + timedelta(days=10)),)
