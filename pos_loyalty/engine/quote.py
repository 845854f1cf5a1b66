"""A basket priced for a member: per-line discounts with reasons, totals, points and the status after."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from functools import lru_cache

from .events import Event, status_events
from .facts import MemberFacts, PointMovement, Product, PurchaseLine
from .money import format_number, percent_of
from .points import earn_for, expiry_for, period_multiplier, periods_at, redemption_value
from .program import PointsPeriod, Program, Promotion
from .status import MemberStatus, member_status

PENDING_SALE = "(this sale)"


class QuoteError(ValueError):
    """A basket that cannot be rung up as it is (unknown product, bad quantity, too many points)."""


@dataclass(frozen=True, slots=True)
class BasketLine:
    """A product and how many units of it."""

    product_id: str
    qty: int = 1


@dataclass(frozen=True, slots=True)
class CodeOffer:
    """A discount code presented at the counter, already checked as unused by the ledger."""

    code: str
    percent: Fraction


@dataclass(frozen=True, slots=True)
class Basket:
    """What the cashier has rung up, before checkout."""

    lines: tuple[BasketLine, ...]
    member_id: str | None = None
    code: CodeOffer | None = None
    redeem_points: int = 0


@dataclass(frozen=True, slots=True)
class Discount:
    """One discount on one line, and why."""

    reason: str
    """tier, stamp, promotion, code or points."""
    amount: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """A priced line; units given free by a stamp card or offer are on a line of their own."""

    product_id: str
    name: str
    category: str | None
    qty: int
    unit_price: int
    discounts: tuple[Discount, ...] = ()
    free_units: int = 0

    @property
    def subtotal(self) -> int:
        return self.qty * self.unit_price

    @property
    def discount_total(self) -> int:
        return sum(d.amount for d in self.discounts)

    @property
    def total(self) -> int:
        return self.subtotal - self.discount_total


@dataclass(frozen=True, slots=True)
class Quote:
    """The whole priced basket, and what it does for the member."""

    lines: tuple[QuoteLine, ...]
    points_earned: int = 0
    points_bonus: int = 0
    points_redeemed: int = 0
    status_before: MemberStatus | None = None
    status_after: MemberStatus | None = None
    messages: tuple[str, ...] = ()
    events: tuple[Event, ...] = ()
    bonus_reasons: tuple[tuple[str, int], ...] = field(default=())
    """(reason, points) of each bonus in ``points_bonus``."""
    points_periods: tuple[PointsPeriod, ...] = ()
    """The bonus periods (double points week) whose multipliers ``points_earned`` has."""

    @property
    def subtotal(self) -> int:
        return sum(line.subtotal for line in self.lines)

    @property
    def discount_total(self) -> int:
        return sum(line.discount_total for line in self.lines)

    @property
    def total(self) -> int:
        return sum(line.total for line in self.lines)

    def discounts_by_reason(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for line in self.lines:
            for discount in line.discounts:
                found[discount.reason] = found.get(discount.reason, 0) + discount.amount
        return found


def quote(
    program: Program,
    facts: MemberFacts | None,
    basket: Basket,
    catalogue: dict[str, Product],
    at: datetime,
) -> Quote:
    """Price ``basket`` at ``at`` for the member whose ``facts`` are given (None: anonymous)."""
    if not basket.lines:
        raise QuoteError("the basket is empty")
    for line in basket.lines:
        if line.qty < 1:
            raise QuoteError(f"{line.product_id}: quantity must be at least 1")
        if line.product_id not in catalogue:
            raise QuoteError(f"unknown product {line.product_id!r}")
    before = member_status(program, facts, at) if facts is not None else None
    member = before is not None and before.active
    if basket.redeem_points and not member:
        raise QuoteError("only an active member can redeem points")
    lines = [
        QuoteLine(p.product_id, p.name, p.category, line.qty, p.price)
        for line in basket.lines
        for p in [catalogue[line.product_id]]
    ]
    messages: list[str] = []
    if member:
        lines = _stamp_rewards(program, before, lines)
        promos = _promotions_met(program, before, lines)
        lines = _free_product_rewards(promos, lines)
        messages = [p.reward.message for p in promos if p.reward.kind == "message"]
    else:
        promos = []
    lines = _percent_discounts(program, before if member else None, promos, basket.code, lines)
    lines, redeemed = _redeem_points(program, facts, before, basket.redeem_points, lines, at)
    draft = Quote(tuple(lines), status_before=before, messages=tuple(messages), points_redeemed=redeemed)
    if facts is None or before is None:
        return draft
    earned, bonuses, periods = _points_earned(program, facts, before, draft.total, at) if member else (0, (), ())
    after_facts = with_sale(program, facts, draft, earned, bonuses, at)
    after = member_status(program, after_facts, at)
    return replace(
        draft,
        points_earned=earned,
        points_bonus=sum(points for _, points in bonuses),
        bonus_reasons=bonuses,
        points_periods=periods,
        status_after=after,
        events=status_events(before, after),
    )


def _stamp_rewards(program: Program, status: MemberStatus, lines: list[QuoteLine]) -> list[QuoteLine]:
    """Give the free unit of each stamp card where it falls, also inside this basket."""
    counts = {card.name: card_status.count for card, card_status in zip(program.stamp_cards, status.stamp_cards)}
    out: list[QuoteLine] = []
    for line in lines:
        card = next((c for c in program.stamp_cards if c.covers(line.product_id, line.category)), None)
        if card is None:
            out.append(line)
            continue
        free = 0
        for _ in range(line.qty):
            if counts[card.name] % (card.buy + 1) == card.buy:
                free += 1
            counts[card.name] += 1
        out.extend(_split_free(line, free, "stamp", f"{card.name} card: buy {card.buy}, this one is free"))
    return out


def _split_free(line: QuoteLine, free: int, reason: str, detail: str) -> list[QuoteLine]:
    """The paid units and the free units of a line, as separate lines."""
    if free == 0:
        return [line]
    paid = line.qty - free
    free_line = replace(line, qty=free, free_units=free, discounts=(Discount(reason, free * line.unit_price, detail),))
    return ([replace(line, qty=paid)] if paid else []) + [free_line]


def _promotions_met(program: Program, status: MemberStatus, lines: list[QuoteLine]) -> list[Promotion]:
    """Promotions whose history (from the status) and basket conditions both hold."""
    history_met = {p.name for p in status.promotions}
    subtotal = sum(line.subtotal for line in lines)
    met = []
    for promo in program.promotions:
        if promo.history is not None and promo.name not in history_met:
            continue
        condition = promo.basket
        if condition is not None:
            if condition.min_total is not None and subtotal < condition.min_total:
                continue
            if condition.buy_product is not None:
                units = sum(line.qty for line in lines if line.product_id == condition.buy_product and not line.free_units)
                if units < condition.buy_qty + condition.get_qty:
                    continue
        met.append(promo)
    return met


def _free_product_rewards(promos: list[Promotion], lines: list[QuoteLine]) -> list[QuoteLine]:
    """Buy X get Y, and a free product a promotion gives when it is in the basket."""
    for promo in promos:
        condition = promo.basket
        if condition is not None and condition.buy_product is not None:
            lines = _give_free(lines, condition.buy_product, None, condition, promo)
        elif promo.reward.kind == "free_product":
            (product,) = promo.reward.products
            lines = _give_free(lines, product, 1, None, promo)
    return lines


def _give_free(lines, product_id, count, condition, promo) -> list[QuoteLine]:
    paid_units = sum(line.qty for line in lines if line.product_id == product_id and not line.free_units)
    if condition is not None:
        cycle = condition.buy_qty + condition.get_qty
        count = (paid_units // cycle) * condition.get_qty
    remaining = min(count, paid_units)
    out = []
    for line in lines:
        if remaining and line.product_id == product_id and not line.free_units:
            free = min(remaining, line.qty)
            remaining -= free
            out.extend(_split_free(line, free, "promotion", promo.name))
        else:
            out.append(line)
    return out


def _percent_discounts(program, status, promos, code, lines) -> list[QuoteLine]:
    """Tier, promotion and code percentages on each paid line, combined by the stacking policy."""
    out = []
    for line in lines:
        if line.free_units:
            out.append(line)
            continue
        candidates: dict[str, tuple[Fraction, str]] = {}
        if status is not None and status.tier is not None and status.tier.discount_percent > 0:
            candidates["tier"] = (status.tier.discount_percent, status.tier.name)
        best_promo = max(
            (
                (p.reward.percent, p.name)
                for p in promos
                if p.reward.kind == "percent" and p.reward.covers(line.product_id, line.category)
            ),
            default=None,
        )
        if best_promo is not None:
            candidates["promotion"] = best_promo
        if code is not None:
            candidates["code"] = (code.percent, code.code)
        extra = _combine(program, candidates, line.total)
        out.append(replace(line, discounts=line.discounts + extra) if extra else line)
    return out


def _combine(program: Program, candidates: dict[str, tuple[Fraction, str]], amount: int) -> tuple[Discount, ...]:
    if not candidates:
        return ()
    if program.stacking.policy == "best":
        # The largest percentage wins; on a tie the earlier source in the stated order.
        order = program.stacking.order
        reason = max(candidates, key=lambda r: (candidates[r][0], -order.index(r)))
        percent, detail = candidates[reason]
        return (Discount(reason, percent_of(amount, percent), _detail(detail, percent)),)
    discounts = []
    for reason in program.stacking.order:
        if reason in candidates:
            percent, detail = candidates[reason]
            cut = percent_of(amount, percent)
            amount -= cut
            discounts.append(Discount(reason, cut, _detail(detail, percent)))
    return tuple(discounts)


@lru_cache(maxsize=256)
def _detail(name: str, percent: Fraction) -> str:
    """``Silver 5%``: a programme has a handful of these, written on every discounted line."""
    return f"{name} {format_number(percent)}%"


def _redeem_points(program, facts, status, points, lines, at) -> tuple[list[QuoteLine], int]:
    """Spend points as a discount spread over the paid lines, capped at what is left to pay."""
    if not points:
        return lines, 0
    rules = program.points
    if rules is None or rules.redeem_points <= 0:
        raise QuoteError("this programme has no points to redeem")
    if points < 0:
        raise QuoteError("points to redeem must be positive")
    balance = status.points.balance if status and status.points else 0
    if points > balance:
        raise QuoteError(f"only {max(balance, 0)} points available, {points} asked")
    total = sum(line.total for line in lines)
    value, _ = redemption_value(rules, points, program.decimals)
    value = min(value, total)
    used = -(-value * rules.redeem_points // 10**program.decimals)
    if value == 0:
        return lines, 0
    shares = _allocate(value, [line.total for line in lines])
    out = [
        replace(line, discounts=line.discounts + (Discount("points", cut, f"{used} points"),)) if cut else line
        for line, cut in zip(lines, shares)
    ]
    return out, used


def _allocate(amount: int, weights: list[int]) -> list[int]:
    """Split ``amount`` over ``weights`` proportionally, largest remainder first; never above a weight."""
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    raw = [Fraction(amount * w, whole) for w in weights]
    shares = [int(r) for r in raw]
    leftover = amount - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(raw[i] - shares[i]), i))
    for i in by_remainder[:leftover]:
        shares[i] += 1
    return shares


def _points_earned(
    program, facts, status, paid, at
) -> tuple[int, tuple[tuple[str, int], ...], tuple[PointsPeriod, ...]]:
    """Points on what is actually paid, with the tier accelerator, periods and bonuses; and the periods."""
    rules = program.points
    if rules is None:
        return 0, (), ()
    periods = periods_at(rules, at)
    multiplier = period_multiplier(periods)
    if status.tier is not None and status.tier.points_multiplier != 1:
        multiplier *= status.tier.points_multiplier
    earned = earn_for(rules, paid, program.decimals, multiplier)
    bonuses = []
    if rules.first_purchase_bonus and facts.sales_count == 0:
        bonuses.append(("first purchase", rules.first_purchase_bonus))
    if (
        rules.birthday_bonus
        and facts.birthday is not None
        and facts.birthday.month == at.month
        and at.year not in facts.birthday_bonus_years
    ):
        bonuses.append(("birthday", rules.birthday_bonus))
    return earned, tuple(bonuses), periods


def with_sale(program: Program, facts: MemberFacts, draft: Quote, earned: int, bonuses, at: datetime) -> MemberFacts:
    """The member's facts as they will be once this basket is checked out."""
    new_lines = tuple(
        PurchaseLine(PENDING_SALE, index, at, line.product_id, line.category, line.qty, line.total, line.free_units)
        for index, line in enumerate(draft.lines, start=1)
    )
    moves: list[PointMovement] = []
    next_id = max((m.movement_id for m in facts.points), default=0) + 1
    rules = program.points
    if rules is not None:
        if draft.points_redeemed:
            moves.append(PointMovement(next_id, at, "redeem", -draft.points_redeemed))
            next_id += 1
        for kind, points in [("earn", earned)] + [("bonus", p) for _, p in bonuses]:
            if points:
                moves.append(PointMovement(next_id, at, kind, points, expiry_for(rules, at)))
                next_id += 1
    points = facts.points + tuple(moves)
    if facts.points and facts.points[-1].ts > at:  # a till whose clock is behind: keep them in time order
        points = tuple(sorted(points, key=lambda m: (m.ts, m.movement_id)))
    return replace(facts, lines=facts.lines + new_lines, points=points, sales_count=facts.sales_count + 1)

