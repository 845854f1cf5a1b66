"""Small builders of engine facts for the engine tests (no ledger involved)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pos_loyalty.engine import MemberFacts, MembershipChange, PointMovement, Product, PurchaseLine

JOINED = datetime(2026, 1, 1, 9, 0, 0)
AS_OF = datetime(2026, 6, 30, 12, 0, 0)


def bought(ts: datetime, product: str, amount: int, qty: int = 1, category: str | None = None,
           sale_id: str | None = None, free: int = 0) -> PurchaseLine:
    return PurchaseLine(sale_id or f"s-{ts.isoformat()}-{product}", 1, ts, product, category, qty, amount, free)


def returned(ts: datetime, product: str, amount: int, qty: int = 1, category: str | None = None) -> PurchaseLine:
    return PurchaseLine(f"r-{ts.isoformat()}-{product}", 1, ts, product, category, -qty, -amount)


def member(*lines: PurchaseLine, joins=(JOINED,), resigns=(), points=(), sales_count=None, birthday=None) -> MemberFacts:
    changes = sorted([MembershipChange(t, "active") for t in joins] + [MembershipChange(t, "resigned") for t in resigns],
                     key=lambda c: c.ts)
    return MemberFacts(
        "m",
        name="M",
        birthday=birthday,
        memberships=tuple(changes),
        lines=tuple(sorted(lines, key=lambda l: l.ts)),
        points=tuple(points),
        sales_count=len([l for l in lines if l.qty > 0]) if sales_count is None else sales_count,
    )


def points_lot(movement_id: int, ts: datetime, points: int, kind: str = "earn", days: int | None = 365) -> PointMovement:
    return PointMovement(movement_id, ts, kind, points, ts + timedelta(days=days) if days else None)


def catalogue(**prices: int) -> dict[str, Product]:
    categories = {"coffee": "beverages", "tea": "beverages", "dog": "pets", "cat": "pets", "beret": "fashion"}
    return {pid: Product(pid, pid.title(), categories.get(pid), price) for pid, price in prices.items()}
