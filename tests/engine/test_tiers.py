"""Tiers: "above" against "at_least", what is missing to the next tier, windows and first joins."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pos_loyalty.engine import member_status, program_from_toml

from ..support import cents, program_text
from .factories import AS_OF, JOINED, bought, member, points_lot, returned

LADDER = """
[program]
name = "ladder"
currency = "USD"

[tiers]
basis = "spend"
comparison = "{comparison}"

[[tiers.levels]]
name = "entry"

[[tiers.levels]]
name = "bronze"
threshold = "200.00"

[[tiers.levels]]
name = "silver"
threshold = "300.00"
"""


def _status(program, *lines, **kw):
    return member_status(program, member(*lines, **kw), AS_OF)


def _spent(program, amount: int):
    return _status(program, bought(AS_OF - timedelta(days=1), "x", amount))


class TestComparison:
    """"above" needs strictly more than the threshold; "at_least" is satisfied by the threshold itself."""

    above = program_from_toml(LADDER.format(comparison="above"))
    at_least = program_from_toml(LADDER.format(comparison="at_least"))

    @pytest.mark.parametrize(
        ("amount", "above", "at_least"),
        [
            (0, "entry", "entry"),
            (19999, "entry", "entry"),
            (20000, "entry", "bronze"),
            (20001, "bronze", "bronze"),
            (29999, "bronze", "bronze"),
            (30000, "bronze", "silver"),
            (30001, "silver", "silver"),
        ],
    )
    def test_tier_at_the_edges(self, amount, above, at_least):
        assert _spent(self.above, amount).tier.name == above
        assert _spent(self.at_least, amount).tier.name == at_least

    def test_to_next_with_above_is_one_cent_more_than_the_gap(self):
        tier = _spent(self.above, cents("74.28")).tier
        assert (tier.next, tier.to_next) == ("bronze", cents("200.01") - cents("74.28"))

    def test_to_next_with_at_least_is_the_gap(self):
        tier = _spent(self.at_least, cents("74.28")).tier
        assert (tier.next, tier.to_next) == ("bronze", cents("200.00") - cents("74.28"))

    def test_exactly_at_the_threshold_with_above_still_misses_one_cent(self):
        tier = _spent(self.above, cents("200.00")).tier
        assert (tier.name, tier.next, tier.to_next) == ("entry", "bronze", 1)

    def test_top_tier_has_no_next(self):
        tier = _spent(self.above, cents("1000.00")).tier
        assert (tier.name, tier.rank, tier.next, tier.to_next) == ("silver", 3, None, None)

    def test_rank_counts_from_one(self):
        assert [_spent(self.at_least, a).tier.rank for a in (0, 20000, 30000)] == [1, 2, 3]


class TestSpecFigures:
    """SPEC's own edge figures for the shipped programmes."""

    coffee = program_from_toml(program_text("coffee_shop"))
    tiered = program_from_toml(program_text("tiered_pln"))

    @pytest.mark.parametrize(("amount", "tier"), [("200.00", "CLIMBING"), ("200.01", "BRONZE"),
                                                  ("300.00", "BRONZE"), ("400.01", "GOLD")])
    def test_coffee_shop(self, amount, tier):
        assert _spent(self.coffee, cents(amount)).tier.name == tier

    @pytest.mark.parametrize(
        ("amount", "tier"),
        [("299.99", "White"), ("300.00", "Green"), ("999.99", "Green"), ("1000.00", "Silver"),
         ("1999.99", "Silver"), ("2000.00", "Golden")],
    )
    def test_tiered_pln(self, amount, tier):
        assert _spent(self.tiered, cents(amount)).tier.name == tier


class TestWindow:
    """tiered_pln: the window is (as_of - 365 days, as_of], counted from the first join."""

    program = program_from_toml(program_text("tiered_pln"))
    joined = AS_OF - timedelta(days=800)

    def basis(self, *lines, **kw):
        kw.setdefault("joins", (self.joined,))
        return _status(self.program, *lines, **kw).tier.basis

    def test_exactly_365_days_old_is_out(self):
        assert self.basis(bought(AS_OF - timedelta(days=365), "x", 30000)) == 0

    def test_one_second_younger_is_in(self):
        assert self.basis(bought(AS_OF - timedelta(days=365) + timedelta(seconds=1), "x", 30000)) == 30000

    def test_at_the_as_of_instant_is_in(self):
        assert self.basis(bought(AS_OF, "x", 1)) == 1

    def test_after_the_as_of_is_out(self):
        assert self.basis(bought(AS_OF + timedelta(seconds=1), "x", 1)) == 0

    def test_a_return_counts_by_its_own_date(self):
        old_sale = bought(AS_OF - timedelta(days=400), "x", 50000)
        recent_return = returned(AS_OF - timedelta(days=10), "x", 20000)
        assert self.basis(old_sale, recent_return, bought(AS_OF - timedelta(days=5), "y", 70000)) == 50000

    def test_a_return_outside_the_window_does_not_count(self):
        sale = bought(AS_OF - timedelta(days=400), "x", 50000)
        back = returned(AS_OF - timedelta(days=370), "x", 50000)
        assert self.basis(sale, back, bought(AS_OF - timedelta(days=1), "y", 1000)) == 1000

    def test_only_from_the_first_join(self):
        first = AS_OF - timedelta(days=100)
        before = bought(first - timedelta(seconds=1), "x", 30000)
        at_join = bought(first, "y", 100)
        assert self.basis(before, at_join, joins=(first,)) == 100

    def test_rejoining_does_not_restart_the_count_and_purchases_while_resigned_count(self):
        first = AS_OF - timedelta(days=200)
        resign, rejoin = first + timedelta(days=30), first + timedelta(days=90)
        lines = (bought(first + timedelta(days=1), "a", 40000), bought(first + timedelta(days=60), "b", 20000),
                 bought(first + timedelta(days=100), "c", 45000))
        status = _status(self.program, *lines, joins=(first, rejoin), resigns=(resign,))
        assert status.active and status.tier.basis == 105000 and status.tier.name == "Silver"

    def test_a_resigned_member_has_no_tier(self):
        first = AS_OF - timedelta(days=200)
        status = _status(self.program, bought(first + timedelta(days=1), "a", 300000),
                         joins=(first,), resigns=(AS_OF - timedelta(days=1),))
        assert not status.active and status.tier is None and status.promotions == ()

    def test_a_member_who_never_joined_has_no_tier(self):
        status = _status(self.program, bought(AS_OF - timedelta(days=1), "a", 300000), joins=())
        assert not status.active and status.tier is None


class TestPointsBasis:
    """points.toml: the tier follows points earned; redeeming or expiry never demotes."""

    program = program_from_toml(program_text("points"))

    def test_earned_points_decide_the_tier(self):
        status = _status(self.program, points=(points_lot(1, JOINED, 500),))
        assert (status.tier.name, status.tier.basis) == ("Silver", 500)

    def test_redeeming_does_not_demote(self):
        moves = (points_lot(1, JOINED, 600),
                 points_lot(2, JOINED + timedelta(days=1), -600, kind="redeem", days=None))
        status = _status(self.program, points=moves)
        assert status.points.balance == 0 and status.tier.name == "Silver"

    def test_expiry_does_not_demote(self):
        moves = (points_lot(1, JOINED, 2000, days=30),)
        status = _status(self.program, points=moves)
        assert status.points.balance == 0 and status.tier.name == "Gold"

    def test_a_claw_back_does_demote(self):
        moves = (points_lot(1, JOINED, 600),
                 points_lot(2, JOINED + timedelta(days=1), -200, kind="clawback", days=None))
        status = _status(self.program, points=moves)
        assert (status.tier.name, status.tier.basis, status.tier.to_next) == ("Basic", 400, 100)
