"""A member's status as of an instant: tier, stamp cards, promotions and points."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from .facts import MemberFacts, PurchaseLine
from .points import PointsBook, expiring_soon, points_book
from .program import HistoryCondition, Program, StampCard, Tier

TIER_POINT_KINDS = frozenset({"earn", "bonus", "adjust", "clawback"})
"""Movements that count towards a points-based tier: redeeming or expiry never demotes."""


@dataclass(frozen=True, slots=True)
class TierStatus:
    """Where a member stands on the tier ladder."""

    name: str
    rank: int
    basis: int
    """The spend (minor units) or points the tier is decided on."""
    next: str | None
    to_next: int | None
    """What is missing to reach the next tier; None at the top."""
    discount_percent: Fraction
    perks: tuple[str, ...]
    points_multiplier: Fraction


@dataclass(frozen=True, slots=True)
class StampCardStatus:
    """A stamp card: ``position`` of ``buy + 1`` in the cycle; the last position is the free one."""

    name: str
    count: int
    position: int
    buy: int
    next_free: bool


@dataclass(frozen=True, slots=True)
class PromotionStatus:
    """A promotion the member qualifies for, and the products that made them qualify."""

    name: str
    products: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class PointsStatus:
    """Points balance and what expires soon."""

    balance: int
    expiring: tuple[tuple[int, datetime], ...] = ()
    lapsed: tuple[tuple[int, int], ...] = ()
    """(lot id, points) of lots that lapsed by the instant with no ``expire`` row yet: the ledger
    writes those rows with the member's next change."""

    @property
    def expiring_total(self) -> int:
        return sum(points for points, _ in self.expiring)


@dataclass(frozen=True, slots=True)
class MemberStatus:
    """Everything the cashier sees about a member."""

    member_id: str
    name: str
    active: bool
    tier: TierStatus | None
    stamp_cards: tuple[StampCardStatus, ...]
    promotions: tuple[PromotionStatus, ...]
    points: PointsStatus | None


def member_status(program: Program, facts: MemberFacts, as_of: datetime) -> MemberStatus:
    """The engine's view of one member as of ``as_of``; reads nothing but its arguments."""
    active = facts.is_active(as_of)
    lines = [line for line in facts.lines if line.ts <= as_of]
    book = points_book(facts.points, as_of) if program.points else None
    return MemberStatus(
        member_id=facts.member_id,
        name=facts.name,
        active=active,
        tier=tier_status(program, facts, lines, as_of) if active else None,
        stamp_cards=tuple(stamp_card_status(card, lines) for card in program.stamp_cards),
        promotions=qualifying_promotions(program, lines, as_of) if active else (),
        points=_points_status(program, book, as_of),
    )


def _points_status(program: Program, book: PointsBook | None, as_of: datetime) -> PointsStatus | None:
    if program.points is None or book is None:
        return None
    return PointsStatus(book.balance, expiring_soon(book, program.points, as_of), book.expired_unrecorded)


def tier_basis(program: Program, facts: MemberFacts, lines: list[PurchaseLine], as_of: datetime) -> int:
    """The amount (or points) a member's tier is decided on, as of ``as_of`` (``lines``: those at or before it)."""
    rules = program.tiers
    assert rules is not None
    since = facts.first_join() if rules.since_first_join else None
    start = as_of - timedelta(days=rules.window_days) if rules.window_days else None

    if rules.since_first_join and since is None:
        return 0
    if rules.basis == "points":
        moves = (m for m in facts.points if m.kind in TIER_POINT_KINDS and m.ts <= as_of)
        return sum(m.points for m in moves if (start is None or m.ts > start) and (since is None or m.ts >= since))
    # ``lines`` are already the ones at or before as_of; this loop is on every status, so it is plain.
    total = 0
    for line in lines:
        if (start is None or line.ts > start) and (since is None or line.ts >= since):
            total += line.amount
    return total


def tier_for(program: Program, basis: int) -> tuple[Tier, Tier | None]:
    """The tier a basis reaches and the one after it."""
    rules = program.tiers
    assert rules is not None
    reached = rules.levels[0]
    following: Tier | None = None
    for tier in rules.levels[1:]:
        if rules.qualifies(basis, tier):
            reached = tier
        else:
            following = tier
            break
    return reached, following


def tier_status(program: Program, facts: MemberFacts, lines: list[PurchaseLine], as_of: datetime) -> TierStatus | None:
    if program.tiers is None:
        return None
    basis = tier_basis(program, facts, lines, as_of)
    tier, following = tier_for(program, basis)
    return TierStatus(
        name=tier.name,
        rank=tier.rank,
        basis=basis,
        next=following.name if following else None,
        to_next=program.tiers.missing(basis, following) if following else None,
        discount_percent=tier.discount_percent,
        perks=tier.perks,
        points_multiplier=tier.points_multiplier,
    )


def stamp_card_status(card: StampCard, lines: list[PurchaseLine]) -> StampCardStatus:
    """Every qualifying unit is a stamp; the free one is the (buy + 1)th of its cycle."""
    products, categories = card.products, card.categories  # card.covers, inlined: this runs per line
    count = max(0, sum(line.qty for line in lines if line.product_id in products or line.category in categories))
    position = count % (card.buy + 1)
    return StampCardStatus(card.name, count, position, card.buy, position == card.buy)


def history_qualifies(condition: HistoryCondition, lines: list[PurchaseLine], as_of: datetime) -> tuple[str, ...] | None:
    """The products that make a history condition hold, or None when it does not."""
    start = as_of - timedelta(days=condition.window_days) if condition.window_days else None
    scope = condition.scope
    watched = scope | condition.all_of | condition.none_of
    units: dict[str, int] = defaultdict(int)
    spend = 0
    for line in lines:
        product_id = line.product_id
        if product_id not in watched or (start is not None and line.ts <= start):
            continue
        units[product_id] += line.qty
        if product_id in scope:
            spend += line.amount
    bought = {product for product, qty in units.items() if qty > 0}
    if not condition.all_of <= bought or condition.none_of & bought:
        return None
    if condition.spend_above is not None and spend <= condition.spend_above:
        return None
    return tuple(sorted(bought & (condition.scope | condition.all_of)))


def qualifying_promotions(program: Program, lines: list[PurchaseLine], as_of: datetime) -> tuple[PromotionStatus, ...]:
    """Promotions whose history condition the member meets (basket-only ones are decided at the counter)."""
    found = []
    for promo in program.promotions:
        if promo.history is None:
            continue
        products = history_qualifies(promo.history, lines, as_of)
        if products is not None:
            found.append(PromotionStatus(promo.name, products, promo.description))
    return tuple(found)
