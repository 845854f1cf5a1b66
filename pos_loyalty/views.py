"""Engine objects as plain JSON-ready dicts, in the keys SPEC's CLI contract names."""

from __future__ import annotations

from .engine import MemberStatus, Program, Quote, format_amount
from .engine.money import format_number
from .engine.program import PointsPeriod
from .ledger import Receipt, ReturnReceipt, ts_text


def money(program: Program, minor: int) -> str:
    return format_amount(minor, program.decimals)


def when_text(stored: str | None) -> str:
    """A stored instant as a person reads it in a table: ``2026-03-02 09:05`` (JSON keeps the
    ledger's ISO text; a time before the ledger's form, such as a birthday, is shown as it is)."""
    if not stored:
        return ""
    return stored[:16].replace("T", " ", 1) if len(stored) >= 16 and stored[10] == "T" else stored


def period_note(period: PointsPeriod) -> str:
    """``2x points until 29 Nov``: a bonus period the points of a sale were multiplied by."""
    return f"{format_number(period.multiplier)}x points until {period.end:%d %b}"


def tier_basis_text(program: Program, basis: int) -> str:
    """A tier basis as the shop says it: an amount, or a number of points."""
    if program.tiers is not None and program.tiers.basis == "points":
        return f"{basis} points"
    return f"{money(program, basis)} {program.currency}"


def status_json(program: Program, status: MemberStatus | None) -> dict | None:
    if status is None:
        return None
    tier = status.tier
    points_basis = program.tiers is not None and program.tiers.basis == "points"
    return {
        "member_id": status.member_id,
        "name": status.name,
        "active": status.active,
        "tier": None
        if tier is None
        else {
            "name": tier.name,
            "rank": tier.rank,
            "basis": tier.basis if points_basis else money(program, tier.basis),
            "next": tier.next,
            "to_next": None
            if tier.to_next is None
            else (tier.to_next if points_basis else money(program, tier.to_next)),
            "discount_percent": format_number(tier.discount_percent),
            "perks": list(tier.perks),
        },
        "stamp_cards": [
            {"name": c.name, "count": c.count, "position": c.position, "buy": c.buy, "next_free": c.next_free}
            for c in status.stamp_cards
        ],
        "promotions": [{"name": p.name, "products": list(p.products)} for p in status.promotions],
        "points": None
        if status.points is None
        else {
            "balance": status.points.balance,
            "expiring": [{"points": pts, "expires_at": ts_text(at)} for pts, at in status.points.expiring],
        },
    }


def quote_lines_json(program: Program, priced: Quote) -> list[dict]:
    return [
        {
            "product_id": line.product_id,
            "qty": line.qty,
            "unit_price": money(program, line.unit_price),
            "discounts": [
                {"reason": d.reason, "amount": money(program, d.amount), "detail": d.detail} for d in line.discounts
            ],
            "total": money(program, line.total),
        }
        for line in priced.lines
    ]


def receipt_json(program: Program, receipt: Receipt) -> dict:
    priced = receipt.quote
    return {
        "sale_id": receipt.sale_id,
        "ts": ts_text(receipt.at),
        "member_id": receipt.member_id,
        "lines": quote_lines_json(program, priced),
        "subtotal": money(program, priced.subtotal),
        "discount_total": money(program, priced.discount_total),
        "total": money(program, priced.total),
        "points_earned": priced.points_earned + priced.points_bonus,
        "points_redeemed": priced.points_redeemed,
        "messages": list(priced.messages),
        "status_after": status_json(program, priced.status_after),
        "replayed": receipt.replayed,
    }


def return_json(program: Program, receipt: ReturnReceipt) -> dict:
    return {
        "return_id": receipt.return_id,
        "sale_id": receipt.sale_id,
        "ts": ts_text(receipt.at),
        "lines": [
            {"product_id": l.product_id, "qty": l.qty, "refund": money(program, l.refund)} for l in receipt.lines
        ],
        "refund_total": money(program, receipt.refund_total),
        "points_clawed_back": receipt.points_clawed_back,
        "points_restored": receipt.points_restored,
        "status_after": status_json(program, receipt.status_after),
    }
