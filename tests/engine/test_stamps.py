"""Stamp cards: buy N, the (N+1)th is free, also inside one basket; the count nets out returns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_loyalty.engine import Basket, BasketLine, member_status, program_from_toml, quote

from ..support import program_text
from .factories import AS_OF, bought, catalogue, member, returned

COFFEE = program_from_toml(program_text("coffee_shop"))
PRICE = 305
SHOP = catalogue(coffee=PRICE, tea=255, beret=3499)


def with_coffees(count: int, *extra):
    lines = [bought(AS_OF - timedelta(hours=1, minutes=i), "coffee", PRICE, category="beverages", sale_id=f"c{i}")
             for i in range(count)]
    return member(*lines, *extra)


def ring_up(facts, *items: tuple[str, int]):
    basket = Basket(tuple(BasketLine(p, q) for p, q in items), member_id="m" if facts else None)
    return quote(COFFEE, facts, basket, SHOP, AS_OF)


def card(status):
    (found,) = status.stamp_cards
    return found


class TestInOneBasket:
    def test_count_4_buying_3_gets_exactly_one_free_on_its_own_line(self):
        priced = ring_up(with_coffees(4), ("coffee", 3))
        free = [line for line in priced.lines if line.free_units]
        paid = [line for line in priced.lines if not line.free_units]
        assert len(free) == 1 and free[0].qty == 1 and free[0].free_units == 1
        assert [(d.reason, d.amount) for d in free[0].discounts] == [("stamp", PRICE)]
        assert free[0].total == 0
        assert sum(line.qty for line in paid) == 2 and all(not line.discounts for line in paid)
        assert priced.total == 2 * PRICE
        assert card(priced.status_after).count == 7

    def test_six_coffees_on_an_empty_card_five_paid_and_the_sixth_free(self):
        priced = ring_up(with_coffees(0), ("coffee", 6))
        assert [(line.qty, line.free_units) for line in priced.lines] == [(5, 0), (1, 1)]
        assert priced.total == 5 * PRICE

    def test_thirteen_coffees_on_an_empty_card_two_free(self):
        priced = ring_up(with_coffees(0), ("coffee", 13))
        assert sum(line.free_units for line in priced.lines) == 2
        assert priced.total == 11 * PRICE

    def test_the_free_unit_lands_on_the_line_where_it_falls(self):
        priced = ring_up(with_coffees(4), ("coffee", 1), ("tea", 1), ("coffee", 1), ("coffee", 1))
        shape = [(line.product_id, line.qty, line.free_units) for line in priced.lines]
        assert shape == [("coffee", 1, 0), ("tea", 1, 0), ("coffee", 1, 1), ("coffee", 1, 0)]

    def test_next_free_at_count_5_a_single_coffee_is_free(self):
        priced = ring_up(with_coffees(5), ("coffee", 1))
        assert priced.total == 0 and card(priced.status_before).next_free
        after = card(priced.status_after)
        assert (after.count, after.position, after.next_free) == (6, 0, False)

    def test_other_products_do_not_stamp(self):
        priced = ring_up(with_coffees(5), ("tea", 2), ("beret", 1))
        assert not any(line.free_units for line in priced.lines)
        assert card(priced.status_after).count == 5

    def test_an_anonymous_basket_gets_no_free_coffee(self):
        priced = ring_up(None, ("coffee", 6))
        assert priced.total == 6 * PRICE and priced.status_after is None

    @given(start=st.integers(min_value=0, max_value=40), qty=st.integers(min_value=1, max_value=20))
    def test_free_units_are_the_sixth_of_each_cycle(self, start, qty):
        priced = ring_up(with_coffees(start), ("coffee", qty))
        # unit k of the card (counting from 1) is free exactly when k is a multiple of 6
        expected = sum(1 for k in range(start + 1, start + qty + 1) if k % 6 == 0)
        assert sum(line.free_units for line in priced.lines) == expected
        assert priced.total == (qty - expected) * PRICE
        assert card(priced.status_after).count == start + qty


class TestStatus:
    @pytest.mark.parametrize(
        ("count", "position", "next_free"),
        [(0, 0, False), (1, 1, False), (4, 4, False), (5, 5, True), (6, 0, False), (11, 5, True), (13, 1, False)],
    )
    def test_position_and_next_free(self, count, position, next_free):
        found = card(member_status(COFFEE, with_coffees(count), AS_OF))
        assert (found.count, found.position, found.buy, found.next_free) == (count, position, 5, next_free)

    def test_returns_take_stamps_back(self):
        facts = with_coffees(6, returned(AS_OF - timedelta(minutes=1), "coffee", 0, qty=1, category="beverages"))
        found = card(member_status(COFFEE, facts, AS_OF))
        assert (found.count, found.next_free) == (5, True)

    def test_the_count_never_goes_below_zero(self):
        facts = member(returned(AS_OF - timedelta(minutes=1), "coffee", PRICE, qty=3, category="beverages"))
        assert card(member_status(COFFEE, facts, AS_OF)).count == 0

    def test_purchases_after_the_as_of_are_not_counted(self):
        facts = with_coffees(3, bought(AS_OF + timedelta(seconds=1), "coffee", PRICE, category="beverages"))
        assert card(member_status(COFFEE, facts, AS_OF)).count == 3
