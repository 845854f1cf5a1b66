"""Stacking: the best single percentage per line, or every one in order, each on what is left."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from pos_loyalty.engine import Basket, BasketLine, CodeOffer, program_from_toml, quote

from .factories import AS_OF, bought, catalogue, member

PROGRAM = """
[program]
name = "stacking"
currency = "USD"

[tiers]
[[tiers.levels]]
name = "member"
discount_percent = "10"

[[stamp_cards]]
name = "coffee"
products = ["coffee"]
buy = 5

[[promotions]]
name = "pets_week"
[promotions.basket]
min_total = "0.00"
[promotions.reward]
kind = "percent"
percent = "20"
categories = ["pets"]

[stacking]
policy = "{policy}"
order = {order}
"""

SHOP = catalogue(dog=10000, beret=999, coffee=305)
CODE = CodeOffer("SCRATCH15", Fraction(15))


def programme(policy: str, order=("tier", "promotion", "code")):
    return program_from_toml(PROGRAM.format(policy=policy, order=list(order)).replace("'", '"'))


def ring_up(program, *items, code=CODE, facts=None):
    facts = facts or member()
    basket = Basket(tuple(BasketLine(p, q) for p, q in items), member_id="m", code=code)
    return quote(program, facts, basket, SHOP, AS_OF)


def cuts(line):
    return [(d.reason, d.amount) for d in line.discounts]


class TestBest:
    program = programme("best")

    def test_only_the_largest_discount_applies(self):
        dog, beret = ring_up(self.program, ("dog", 1), ("beret", 1)).lines
        assert cuts(dog) == [("promotion", 2000)]  # 20 % beats the code's 15 % and the tier's 10 %
        assert cuts(beret) == [("code", 150)]  # no promotion on fashion: 15 % of 9.99 = 1.4985 -> 1.50

    def test_without_a_code_the_tier_discount(self):
        (beret,) = ring_up(self.program, ("beret", 1), code=None).lines
        assert cuts(beret) == [("tier", 100)]  # 10 % of 9.99 = 0.999 -> 1.00


class TestStack:
    def test_each_discount_on_what_is_left_in_the_stated_order(self):
        (dog,) = ring_up(programme("stack"), ("dog", 1)).lines
        # 100.00: tier 10 % = 10.00, promotion 20 % of 90.00 = 18.00, code 15 % of 72.00 = 10.80
        assert cuts(dog) == [("tier", 1000), ("promotion", 1800), ("code", 1080)]
        assert dog.total == 6120

    def test_another_order_changes_who_gets_what(self):
        (dog,) = ring_up(programme("stack", ("code", "promotion", "tier")), ("dog", 1)).lines
        # 100.00: code 15 % = 15.00, promotion 20 % of 85.00 = 17.00, tier 10 % of 68.00 = 6.80
        assert cuts(dog) == [("code", 1500), ("promotion", 1700), ("tier", 680)]

    def test_each_cut_is_rounded_half_up_to_the_cent(self):
        (beret,) = ring_up(programme("stack"), ("beret", 1)).lines
        # 9.99: tier 0.999 -> 1.00; code 15 % of 8.99 = 1.3485 -> 1.35
        assert cuts(beret) == [("tier", 100), ("code", 135)]
        assert beret.total == 999 - 100 - 135


class TestFreeItems:
    def test_a_stamp_reward_always_applies_and_takes_no_percentage(self):
        five = [bought(AS_OF - timedelta(minutes=i), "coffee", 305, category="beverages", sale_id=f"c{i}")
                for i in range(5)]
        for policy in ("best", "stack"):
            lines = ring_up(programme(policy), ("coffee", 2), facts=member(*five)).lines
            free = [line for line in lines if line.free_units]
            paid = [line for line in lines if not line.free_units]
            assert [cuts(line) for line in free] == [[("stamp", 305)]]
            assert paid[0].qty == 1 and {reason for reason, _ in cuts(paid[0])} <= {"tier", "code"}
            assert paid[0].discounts, policy
