"""Promotions: conditions over the member's history (net of returns) and over the basket."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pos_loyalty.engine import Basket, BasketLine, member_status, program_from_toml, quote

from ..support import program_text
from .factories import AS_OF, bought, catalogue, member, returned

COFFEE = program_from_toml(program_text("coffee_shop"))
DAY = timedelta(days=1)


def promos(program, facts):
    return {p.name: p.products for p in member_status(program, facts, AS_OF).promotions}


class TestCoffeeShopHistory:
    def test_french_poodle_needs_a_dog_and_a_beret_in_any_order(self):
        dog, beret = bought(AS_OF - 2 * DAY, "dog", 24999), bought(AS_OF - DAY, "beret", 3499, qty=3)
        assert promos(COFFEE, member(dog))  == {}
        assert promos(COFFEE, member(beret, dog)) == {"french_poodle": ("beret", "dog")}

    def test_a_returned_dog_no_longer_counts(self):
        lines = (bought(AS_OF - 3 * DAY, "dog", 24999), bought(AS_OF - 2 * DAY, "beret", 3499),
                 returned(AS_OF - DAY, "dog", 24999))
        assert "french_poodle" not in promos(COFFEE, member(*lines))

    def test_loose_leaf_needs_more_than_20_on_coffee_and_no_tea(self):
        coffees = [bought(AS_OF - DAY + timedelta(minutes=i), "coffee", 400) for i in range(5)]  # exactly 20.00
        assert "loose_leaf" not in promos(COFFEE, member(*coffees))
        more = coffees + [bought(AS_OF - DAY + timedelta(minutes=9), "coffee", 1)]
        assert promos(COFFEE, member(*more))["loose_leaf"] == ("coffee",)
        with_tea = more + [bought(AS_OF - DAY + timedelta(minutes=10), "tea", 255)]
        assert "loose_leaf" not in promos(COFFEE, member(*with_tea))

    def test_only_active_members_qualify(self):
        lines = (bought(AS_OF - 3 * DAY, "dog", 24999), bought(AS_OF - 2 * DAY, "beret", 3499))
        assert promos(COFFEE, member(*lines, resigns=(AS_OF - DAY,))) == {}

    def test_the_reward_applies_at_the_counter(self):
        facts = member(bought(AS_OF - 2 * DAY, "dog", 24999), bought(AS_OF - DAY, "beret", 3499))
        priced = quote(COFFEE, facts, Basket((BasketLine("cat"),), member_id="m"), catalogue(cat=19500), AS_OF)
        (line,) = priced.lines
        # BRONZE's 2 % loses to french_poodle's 15 % off pets: 15 % of 195.00 = 29.25
        assert [(d.reason, d.amount) for d in line.discounts] == [("promotion", 2925)]


WINDOWED = """
[program]
name = "w"
currency = "USD"

[[promotions]]
name = "regular"
[promotions.history]
all_of = ["coffee"]
spend_above = "10.00"
window_days = 30
[promotions.reward]
kind = "message"
message = "a regular"

[[promotions]]
name = "coffee_not_tea"
[promotions.history]
all_of = ["coffee"]
none_of = ["tea"]
scope = ["coffee"]
[promotions.reward]
kind = "message"
message = "offer tea"
"""


class TestWindowsAndScope:
    program = program_from_toml(WINDOWED)

    def test_history_outside_the_window_does_not_count(self):
        old = bought(AS_OF - 30 * DAY, "coffee", 2000)  # exactly 30 days old: out
        assert "regular" not in promos(self.program, member(old))
        recent = bought(AS_OF - 30 * DAY + timedelta(seconds=1), "coffee", 2000)
        assert "regular" in promos(self.program, member(recent))

    def test_none_of_holds_even_when_scope_does_not_name_it(self):
        lines = (bought(AS_OF - 2 * DAY, "coffee", 500), bought(AS_OF - DAY, "tea", 300))
        assert "coffee_not_tea" not in promos(self.program, member(*lines))


BASKET = """
[program]
name = "b"
currency = "USD"

[[promotions]]
name = "three_for_two"
[promotions.basket]
buy_product = "tea"
buy_qty = 2
get_qty = 1
[promotions.reward]
kind = "message"
message = "buy 2 teas, get 1 free"

[[promotions]]
name = "big_basket"
[promotions.basket]
min_total = "50.00"
[promotions.reward]
kind = "percent"
percent = "10"
"""


class TestBasketConditions:
    program = program_from_toml(BASKET)
    shop = catalogue(tea=255, beret=3499, coffee=305, cup=1501, spoon=1500)

    def ring_up(self, *items):
        basket = Basket(tuple(BasketLine(p, q) for p, q in items), member_id="m")
        return quote(self.program, member(), basket, self.shop, AS_OF)

    @pytest.mark.parametrize(("teas", "free"), [(2, 0), (3, 1), (5, 1), (6, 2), (7, 2)])
    def test_buy_two_get_one(self, teas, free):
        priced = self.ring_up(("tea", teas))
        assert sum(line.free_units for line in priced.lines) == free
        assert priced.total == (teas - free) * 255

    def test_min_total_must_be_reached(self):
        assert self.ring_up(("beret", 1), ("spoon", 1)).discount_total == 0  # 49.99
        priced = self.ring_up(("beret", 1), ("cup", 1))  # exactly 50.00 reaches it
        assert [[(d.reason, d.amount) for d in line.discounts] for line in priced.lines] == [
            [("promotion", 350)], [("promotion", 150)]
        ]
