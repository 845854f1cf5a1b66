"""Shared fixtures: ledgers built from the golden data, and small shops for behaviour tests."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, settings

from pos_loyalty import ledger

from .support import coffee_ledger, discount_ledger, import_fixture, new_ledger, tiered_ledger

settings.register_profile(
    "pos_loyalty", max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("pos_loyalty")

OPENING = datetime(2026, 3, 1, 9, 0, 0)
"""A fixed instant the behaviour tests start from (time is passed in, never read)."""


@pytest.fixture
def coffee():
    """The coffee-shop golden ledger, the article's dog included."""
    return coffee_ledger(with_dog=True)


@pytest.fixture
def tiered():
    return tiered_ledger()


@pytest.fixture
def discounting():
    return discount_ledger()


def _shop(program_name: str, members: tuple[str, ...]):
    """A ledger with the coffee-shop catalogue and a few members who joined at OPENING."""
    db, program = new_ledger(program_name)
    import_fixture(db, program, "coffee_shop", [("products", "products.csv")])
    for member_id in members:
        ledger.add_member(db, program, member_id, OPENING, name=member_id.title())
    return db, program


@pytest.fixture
def coffee_shop():
    """An empty coffee-shop ledger: catalogue, members ann and bob, no sales."""
    return _shop("coffee_shop", ("ann", "bob"))


@pytest.fixture
def points_shop():
    """The points programme over the coffee-shop catalogue, members ann and bob."""
    return _shop("points", ("ann", "bob"))


@pytest.fixture
def tiered_shop():
    db, program = new_ledger("tiered_pln")
    import_fixture(db, program, "tiered_pln", [("products", "products.csv")])
    return db, program
