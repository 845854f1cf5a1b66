"""Manager reports from the ledger, through the engine: segments, KPIs, discount codes, promotions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from sqlite_utils import Database

from .engine import Program, member_status
from .engine.money import parse_number, round_half_up
from .engine.points import points_book
from .engine.status import tier_for
from .ledger import load_member_facts, ts_text
from .ledger.bulk import tier_bases

ACTIVE_DAYS = 90
"""A member is active with a purchase in this many days (the points seed's definition)."""


@dataclass(frozen=True, slots=True)
class Segment:
    """Members in one tier as of an instant (the tiered seed's segmentation)."""

    tier: str
    rank: int
    members: int


def tier_segments(db: Database, program: Program, as_of: datetime) -> list[Segment]:
    """Active members per tier, every tier listed (zero included), lowest rank first."""
    if program.tiers is None:
        return []
    counts: Counter[str] = Counter()
    for active, basis in tier_bases(db, program, as_of).values():
        if active:
            counts[tier_for(program, basis)[0].name] += 1
    return [Segment(t.name, t.rank, counts[t.name]) for t in program.tiers.levels]


@dataclass(frozen=True, slots=True)
class DiscountRow:
    """The discounting recipe's analysis for one code percentage; amounts in minor units."""

    percent: Fraction
    orders: int
    avg_items: int
    avg_subtotal: int
    avg_total: int
    avg_discount: int


def discount_analysis(db: Database, program: Program) -> list[DiscountRow]:
    """Per code percentage: orders, and average items, subtotal, total and code discount (half-up)."""
    rows = db.execute(
        """
        SELECT c.percent, s.sale_id, s.subtotal, s.total,
               (SELECT sum(qty) FROM sale_lines l WHERE l.sale_id = s.sale_id),
               (SELECT coalesce(sum(amount), 0) FROM line_discounts d
                 WHERE d.sale_id = s.sale_id AND d.reason = 'code')
          FROM code_redemptions r
          JOIN sales s ON s.sale_id = r.sale_id
          JOIN codes c ON c.code = r.code
        """
    ).fetchall()
    groups: dict[Fraction, list[tuple[int, int, int, int]]] = {}
    for percent, _, subtotal, total, items, discount in rows:
        groups.setdefault(parse_number(percent), []).append((items, subtotal, total, discount))
    out = []
    for percent in sorted(groups):
        orders = groups[percent]
        n = len(orders)

        def avg(index: int) -> int:
            return round_half_up(Fraction(sum(o[index] for o in orders), n))

        out.append(DiscountRow(percent, n, avg(0), avg(1), avg(2), avg(3)))
    return out


@dataclass(frozen=True, slots=True)
class Kpis:
    """The points seed's KPIs, for the period (since, as_of]."""

    since: datetime
    as_of: datetime
    members: int
    sign_ups_by_month: tuple[tuple[str, int], ...]
    active_members: int
    repeat_rate: Fraction | None
    upgrades: int
    downgrades: int
    points_earned: int
    points_redeemed: int
    points_expired: int
    earn_to_burn: Fraction | None
    outstanding_points: int


def tier_moves(db: Database, program: Program, since: datetime, as_of: datetime) -> tuple[int, int]:
    """(upgrades, downgrades): members active at both ends of the period whose tier at its end ranks
    above (below) their tier at its start. Read from the facts, so imported history counts too, and a
    member who went up and came back down within the period has not moved."""
    if program.tiers is None:
        return 0, 0
    start, end = tier_bases(db, program, since), tier_bases(db, program, as_of)
    up = down = 0
    for member_id, (active, basis) in end.items():
        was_active, was_basis = start.get(member_id, (False, 0))
        if active and was_active:
            move = tier_for(program, basis)[0].rank - tier_for(program, was_basis)[0].rank
            up, down = up + (move > 0), down + (move < 0)
    return up, down


def kpis(db: Database, program: Program, as_of: datetime, since: datetime | None = None) -> Kpis:
    """Sign-ups, active members, repeat rate, tier moves and the points economy."""
    since = since or as_of - timedelta(days=30)
    at, start = ts_text(as_of), ts_text(since)
    members = db.execute("SELECT count(*) FROM members").fetchone()[0]
    sign_ups = tuple(
        db.execute(
            """
            SELECT substr(first_join, 1, 7) AS month, count(*) FROM (
                SELECT member_id, min(ts) AS first_join FROM memberships
                 WHERE status = 'active' GROUP BY member_id)
             WHERE first_join <= ? GROUP BY month ORDER BY month
            """,
            [at],
        ).fetchall()
    )
    active = db.execute(
        """
        SELECT count(DISTINCT member_id) FROM sales
         WHERE member_id IS NOT NULL AND kind = 'sale' AND ts > ? AND ts <= ?
        """,
        [ts_text(as_of - timedelta(days=ACTIVE_DAYS)), at],
    ).fetchone()[0]
    buyers, repeaters = db.execute(
        """
        SELECT count(*), coalesce(sum(visits >= 2), 0) FROM (
            SELECT member_id, count(*) AS visits FROM sales
             WHERE member_id IS NOT NULL AND kind = 'sale' AND ts <= ? GROUP BY member_id)
        """,
        [at],
    ).fetchone()
    upgrades, downgrades = tier_moves(db, program, since, as_of)
    by_kind = dict(
        db.execute(
            "SELECT kind, sum(points) FROM point_movements WHERE ts > ? AND ts <= ? GROUP BY kind", [start, at]
        ).fetchall()
    )
    earned = sum(by_kind.get(k, 0) for k in ("earn", "bonus"))
    redeemed = -by_kind.get("redeem", 0)
    expired = -by_kind.get("expire", 0) + _unrecorded_expiry(db, program, since, as_of)
    return Kpis(
        since=since,
        as_of=as_of,
        members=members,
        sign_ups_by_month=sign_ups,
        active_members=active,
        repeat_rate=Fraction(repeaters, buyers) if buyers else None,
        upgrades=upgrades,
        downgrades=downgrades,
        points_earned=earned,
        points_redeemed=redeemed,
        points_expired=expired,
        earn_to_burn=Fraction(earned, redeemed) if redeemed else None,
        outstanding_points=outstanding_points(db, program, as_of),
    )


def _members_with_points(db: Database) -> list[str]:
    return [row[0] for row in db.execute("SELECT DISTINCT member_id FROM point_movements")]


def outstanding_points(db: Database, program: Program, as_of: datetime) -> int:
    """The points liability: every member's unexpired balance as of ``as_of``."""
    if program.points is None:
        return 0
    total = 0
    for member_id in _members_with_points(db):
        facts = load_member_facts(db, member_id)
        total += points_book(facts.points, as_of).balance
    return total


def _unrecorded_expiry(db: Database, program: Program, since: datetime, as_of: datetime) -> int:
    """Points that lapsed in the period but have no ``expire`` row yet (written at the next visit)."""
    if program.points is None or program.points.expiry_days is None:
        return 0
    total = 0
    for (member_id,) in db.execute(
        "SELECT DISTINCT member_id FROM point_movements WHERE expires_at > ? AND expires_at <= ?",
        [ts_text(since), ts_text(as_of)],
    ):
        book = points_book(load_member_facts(db, member_id).points, as_of)
        expires = {m.movement_id: m.expires_at for m in load_member_facts(db, member_id).points}
        total += sum(points for lot, points in book.expired_unrecorded if expires[lot] > since)
    return total


@dataclass(frozen=True, slots=True)
class PromotionReach:
    """How many active members qualify for a promotion, and how often it was given at the till."""

    name: str
    qualifying: int
    given: int
    discount: int


def promotion_reach(db: Database, program: Program, as_of: datetime) -> list[PromotionReach]:
    """Per promotion: active members who qualify as of ``as_of``, and its discounts given so far."""
    qualifying: Counter[str] = Counter()
    for (member_id,) in db.execute("SELECT member_id FROM members"):
        status = member_status(program, load_member_facts(db, member_id), as_of)
        for promo in status.promotions:
            qualifying[promo.name] += 1
    given = {
        name: (count, amount)
        for name, count, amount in db.execute(
            """
            SELECT substr(d.detail, 1, instr(d.detail || ' ', ' ') - 1), count(DISTINCT d.sale_id), sum(d.amount)
              FROM line_discounts d JOIN sales s ON s.sale_id = d.sale_id
             WHERE d.reason = 'promotion' AND s.ts <= ? GROUP BY 1
            """,
            [ts_text(as_of)],
        )
    }
    return [
        PromotionReach(p.name, qualifying[p.name], *given.get(p.name, (0, 0)))
        for p in program.promotions
    ]
