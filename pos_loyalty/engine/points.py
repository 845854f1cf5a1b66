"""Points: lots that expire, spent soonest-expiring first, earned on what was actually paid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from .facts import PointMovement
from .program import PointsPeriod, PointsRules

_NEVER = datetime.max


@dataclass(slots=True)
class Lot:
    """Points that arrived together and expire together."""

    lot_id: int
    expires_at: datetime | None
    remaining: int


@dataclass(frozen=True, slots=True)
class PointsBook:
    """The state of a member's points at an instant."""

    balance: int
    """Unexpired points minus any unpaid debt; negative after a large claw-back."""
    lots: tuple[Lot, ...]
    debt: int
    expired_unrecorded: tuple[tuple[int, int], ...]
    """(lot id, points) of lots expired by the instant with no ``expire`` row yet."""


def _sort_key(lot: Lot) -> tuple[datetime, int]:
    return (lot.expires_at or _NEVER, lot.lot_id)


def points_book(movements: tuple[PointMovement, ...], as_of: datetime) -> PointsBook:
    """Replay the audit trail up to ``as_of`` into lots, a debt and a balance."""
    lots: dict[int, Lot] = {}
    debt = 0
    for move in movements:
        if move.ts > as_of:
            break
        if move.kind == "expire":
            lot = lots.get(move.lot_id) if move.lot_id is not None else None
            if lot is not None:
                lot.remaining = max(0, lot.remaining + move.points)
            continue
        if move.points > 0:
            paid_off = min(debt, move.points)
            debt -= paid_off
            lots[move.movement_id] = Lot(move.movement_id, move.expires_at, move.points - paid_off)
        elif move.points < 0:
            debt += _consume(lots, -move.points, move.ts)
    live, expired = [], []
    for lot in lots.values():
        if lot.remaining > 0:
            (live if lot.expires_at is None or lot.expires_at > as_of else expired).append(lot)
    live.sort(key=_sort_key)
    expired.sort(key=_sort_key)
    balance = sum(lot.remaining for lot in live) - debt
    return PointsBook(balance, tuple(live), debt, tuple((lot.lot_id, lot.remaining) for lot in expired))


def _consume(lots: dict[int, Lot], points: int, at: datetime) -> int:
    """Take ``points`` from unexpired lots, soonest-expiring first; return what could not be taken."""
    for lot in sorted(lots.values(), key=_sort_key):
        if points == 0:
            break
        if lot.remaining <= 0 or (lot.expires_at is not None and lot.expires_at <= at):
            continue
        taken = min(lot.remaining, points)
        lot.remaining -= taken
        points -= taken
    return points


def expiring_soon(book: PointsBook, rules: PointsRules, as_of: datetime) -> tuple[tuple[int, datetime], ...]:
    """(points, expires_at) of lots that expire within the warning period after ``as_of``."""
    horizon = as_of + timedelta(days=rules.expiring_soon_days)
    return tuple(
        (lot.remaining, lot.expires_at)
        for lot in book.lots
        if lot.expires_at is not None and lot.expires_at <= horizon
    )


def expiry_for(rules: PointsRules, earned_at: datetime) -> datetime | None:
    """When points earned at ``earned_at`` expire."""
    return earned_at + timedelta(days=rules.expiry_days) if rules.expiry_days else None


_ONE = Fraction(1)


def periods_at(rules: PointsRules, at: datetime) -> tuple[PointsPeriod, ...]:
    """The bonus periods (double points week) ``at`` falls in."""
    day = at.date()
    return tuple(period for period in rules.periods if period.start <= day <= period.end)


def period_multiplier(periods: tuple[PointsPeriod, ...]) -> Fraction:
    """The product of the periods' multipliers."""
    multiplier = _ONE
    for period in periods:
        multiplier *= period.multiplier
    return multiplier


def earn_for(rules: PointsRules, paid: int, decimals: int, multiplier: Fraction) -> int:
    """Points earned on ``paid`` minor units, rounded down per sale.

    ``floor(paid * per_unit / 10**decimals * multiplier)``, in integers: it runs on every checkout,
    and each Fraction operation reduces by a gcd.
    """
    if paid <= 0:
        return 0
    return paid * rules.per_unit * multiplier.numerator // (10**decimals * multiplier.denominator)


def redemption_value(rules: PointsRules, points: int, decimals: int) -> tuple[int, int]:
    """(minor units, points actually used) for offering ``points``; never spends a point for nothing."""
    if rules.redeem_points <= 0 or points <= 0:
        return 0, 0
    minor = points * 10**decimals // rules.redeem_points
    used = -(-minor * rules.redeem_points // 10**decimals)
    return minor, used


def points_for_value(rules: PointsRules, minor: int, decimals: int) -> int:
    """The points needed to pay ``minor`` units."""
    return -(-minor * rules.redeem_points // 10**decimals)


def clawback(base: int, bonus: int, paid: int, refunded_before: int, refunded_now: int, fully_returned: bool) -> int:
    """Points to take back for a return, so that a full return takes back exactly what the sale gave.

    The base points go back in proportion to the money refunded (``base - floor(base * kept / paid)``
    so far); the bonuses go back with the return that leaves nothing of the sale, which is decided
    by units, not money: a sale paid entirely with points refunds nothing and still gives its bonus back.
    """

    def base_cost(refunded: int) -> int:
        if paid <= 0:
            return 0
        kept = max(0, paid - refunded)
        return base - base * kept // paid

    taken = base_cost(refunded_before + refunded_now) - base_cost(refunded_before)
    return taken + (bonus if fully_returned else 0)


def restore(redeemed: int, value_total: int, value_before: int, value_now: int) -> int:
    """Redeemed points given back for returned units, in proportion to the points discount they carried."""
    if redeemed <= 0 or value_total <= 0:
        return 0

    def given(value: int) -> int:
        return redeemed * min(value, value_total) // value_total

    return given(value_before + value_now) - given(value_before)
