"""Simulation: the same synthetic customers run through a programme (or two) in a scratch ledger.

Visits are drawn per customer from a seeded stream that does not depend on the programme, so
``--compare`` shows two programmes on exactly the same people and baskets.
"""

from __future__ import annotations

import csv
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from .engine import Basket, BasketLine, Program, program_from_toml
from .engine.money import parse_amount
from .ledger import add_member, connect, record_sale, set_program, write
from .ledger.imports import ProductRecord, Saver
from .paths import FIXTURES
from .reports import outstanding_points, tier_segments

CATALOGUE = FIXTURES / "coffee_shop" / "products.csv"
WEIGHTS = {"coffee": 60, "tea": 20, "beret": 4, "handbag": 2, "cat": 1, "dog": 1}
"""How often each product lands in a basket: mostly coffee, now and then a beret, rarely a dog."""


@dataclass(frozen=True, slots=True)
class Visit:
    day: int
    member: str
    items: tuple[tuple[str, int], ...]
    wants_to_redeem: bool


@dataclass
class SimulationResult:
    """What a manager tunes a programme with."""

    program: str
    currency: str
    decimals: int
    members: int
    days: int
    visits: int = 0
    revenue: int = 0
    list_value: int = 0
    rewards: Counter = field(default_factory=Counter)
    """Discount given per reason (tier, stamp, promotion, code, points), minor units."""
    segments: list = field(default_factory=list)
    points_earned: int = 0
    points_redeemed: int = 0
    points_liability: int = 0
    liability_value: int = 0

    @property
    def reward_cost(self) -> int:
        return sum(self.rewards.values())


def customers(members: int, days: int, seed: int) -> list[Visit]:
    """Synthetic visits: each customer has their own habit (how often, how much), drawn from ``seed``."""
    products = list(WEIGHTS)
    weights = list(WEIGHTS.values())
    visits = []
    for number in range(members):
        rng = random.Random(f"{seed}:{number}")
        member = f"sim{number:06d}"
        per_week = rng.choice([0.2, 0.5, 1, 2, 3, 5])
        size = rng.choice([1, 1, 2, 3])
        for day in range(days):
            if rng.random() < per_week / 7:
                picked = Counter(rng.choices(products, weights, k=rng.randint(1, size)))
                visits.append(Visit(day, member, tuple(sorted(picked.items())), rng.random() < 0.3))
    visits.sort(key=lambda v: (v.day, v.member))
    return visits


def simulate(program_text: str, members: int, days: int, seed: int = 1, start: datetime | None = None) -> SimulationResult:
    """Run the customers through ``program_text`` in a scratch ledger and total what happened."""
    program = program_from_toml(program_text, "simulated programme")
    start = start or datetime(2026, 1, 1, 9, 0)
    with tempfile.TemporaryDirectory(prefix="pos-loyalty-sim-") as scratch:
        db = connect(Path(scratch) / "sim.db", durable=False)
        program = set_program(db, program_text, "simulated programme")
        _stock_catalogue(db, program)
        for number in range(members):
            add_member(db, program, f"sim{number:06d}", start, name=f"Customer {number}")
        result = SimulationResult(program.name, program.currency, program.decimals, members, days)
        for index, visit in enumerate(customers(members, days, seed)):
            at = start + timedelta(days=visit.day, minutes=index % 600)
            basket = Basket(tuple(BasketLine(p, q) for p, q in visit.items), member_id=visit.member)
            if visit.wants_to_redeem and program.points and program.points.redeem_points:
                basket = _with_redemption(db, program, basket, at)
            receipt = record_sale(db, program, basket, at, f"V{index:08d}")
            priced = receipt.quote
            result.visits += 1
            result.revenue += priced.total
            result.list_value += priced.subtotal
            result.rewards.update(priced.discounts_by_reason())
            result.points_earned += priced.points_earned + priced.points_bonus
            result.points_redeemed += priced.points_redeemed
        end = start + timedelta(days=days)
        result.segments = tier_segments(db, program, end)
        result.points_liability = outstanding_points(db, program, end)
        if program.points and program.points.redeem_points:
            result.liability_value = result.points_liability * 10**program.decimals // program.points.redeem_points
        db.close()
    return result


def _stock_catalogue(db, program: Program) -> None:
    """The coffee shop's products at their latest price, in force from the start of time."""
    latest: dict[str, dict] = {}
    with CATALOGUE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["product_id"] not in latest or row["valid_from"] > latest[row["product_id"]]["valid_from"]:
                latest[row["product_id"]] = row
    with write(db):
        saver = Saver(db, program)
        for row in latest.values():
            price = parse_amount(row["price"], program.decimals)
            saver.product(ProductRecord(row["product_id"], row["name"], row["category"] or None, price, None))


def _with_redemption(db, program: Program, basket: Basket, at: datetime) -> Basket:
    """Spend whole hundreds of points when the customer has them."""
    from .ledger import load_member_facts
    from .engine.points import points_book

    balance = points_book(load_member_facts(db, basket.member_id).points, at).balance
    step = program.points.redeem_points
    usable = (balance // step) * step
    return Basket(basket.lines, basket.member_id, redeem_points=usable) if usable > 0 else basket
