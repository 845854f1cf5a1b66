"""What the engine knows of a member: the facts read from the ledger, as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Product:
    """A catalogue entry with the price in force at the moment it was read."""

    product_id: str
    name: str
    category: str | None
    price: int


@dataclass(frozen=True, slots=True)
class MembershipChange:
    """A join (``active``) or a resignation (``resigned``)."""

    ts: datetime
    status: str


class PurchaseLine(NamedTuple):
    """One line of a member's sale or return.

    Returns are negative: ``qty`` is minus the units returned and ``amount`` minus the refund,
    so sums over a history are net of returns. A named tuple, not a dataclass: a status reads
    a member's whole history, and tuples are built several times faster.
    """

    sale_id: str
    line_no: int
    ts: datetime
    product_id: str
    category: str | None
    qty: int
    amount: int
    free_units: int = 0


class PointMovement(NamedTuple):
    """One row of the points audit trail (a named tuple for the same reason as PurchaseLine)."""

    movement_id: int
    ts: datetime
    kind: str
    """earn, bonus, redeem, expire, adjust, clawback, restore."""
    points: int
    """Signed: positive adds to the balance."""
    expires_at: datetime | None = None
    lot_id: int | None = None
    """For an ``expire`` row: the lot it closes."""
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """Everything the engine needs about one member, in time order."""

    member_id: str
    name: str = ""
    birthday: date | None = None
    memberships: tuple[MembershipChange, ...] = ()
    lines: tuple[PurchaseLine, ...] = ()
    points: tuple[PointMovement, ...] = ()
    sales_count: int = 0
    """Sales (not returns) already recorded; 0 means the next one is the first purchase."""
    notified_expiry: datetime | None = None
    """The expiry of the last lot a "points expiring" event was written for."""
    birthday_bonus_years: frozenset[int] = field(default_factory=frozenset)
    """Years in which the birthday bonus has already been given."""

    def is_active(self, as_of: datetime) -> bool:
        """Active in the programme at ``as_of`` (the last change at or before it is a join)."""
        state = False
        for change in self.memberships:
            if change.ts > as_of:
                break
            state = change.status == "active"
        return state

    def first_join(self) -> datetime | None:
        return next((c.ts for c in self.memberships if c.status == "active"), None)
