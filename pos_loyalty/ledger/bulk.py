"""Set-at-a-time reads for reports: every member's membership and tier basis in a few queries."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from ..engine import Program
from ..engine.status import TIER_POINT_KINDS
from .timestamps import ts_text


def tier_bases(db: Database, program: Program, as_of: datetime) -> dict[str, tuple[bool, int]]:
    """member_id -> (active at ``as_of``, tier basis), computed in SQL the way the engine defines it.

    The engine's ``tier_basis`` is the definition; a test holds this bulk form to it member by member.
    """
    rules = program.tiers
    at = ts_text(as_of)
    active = {
        member_id: status == "active"
        for member_id, status in db.execute(
            """
            SELECT member_id, status FROM (
                SELECT member_id, status,
                       row_number() OVER (PARTITION BY member_id ORDER BY ts DESC, id DESC) AS newest
                  FROM memberships WHERE ts <= :at)
             WHERE newest = 1
            """,
            {"at": at},
        )
    }
    members = [row[0] for row in db.execute("SELECT member_id FROM members")]
    if rules is None:
        return {m: (active.get(m, False), 0) for m in members}
    if rules.basis == "spend" and not rules.window_days and not rules.since_first_join:
        latest = db.execute("SELECT max(ts) FROM sales").fetchone()[0]
        if latest is None or latest <= at:
            # All-time net spend as of now is what member_summary keeps (and verify checks).
            cached = dict(db.execute("SELECT member_id, spend - refunds FROM member_summary").fetchall())
            return {m: (active.get(m, False), cached.get(m, 0) or 0) for m in members}
    params = {
        "at": at,
        "start": ts_text(as_of - timedelta(days=rules.window_days)) if rules.window_days else None,
        "since_join": 1 if rules.since_first_join else 0,
    }
    joins = """
        LEFT JOIN (SELECT member_id, min(ts) AS first_join FROM memberships
                    WHERE status = 'active' GROUP BY member_id) j ON j.member_id = f.member_id
    """
    window = """
        f.ts <= :at
        AND (:start IS NULL OR f.ts > :start)
        AND (:since_join = 0 OR (j.first_join IS NOT NULL AND f.ts >= j.first_join))
    """
    if rules.basis == "points":
        kinds = ", ".join(f"'{k}'" for k in sorted(TIER_POINT_KINDS))
        sql = f"""
            SELECT f.member_id, sum(f.points) FROM point_movements f {joins}
             WHERE f.kind IN ({kinds}) AND {window}
             GROUP BY f.member_id
        """
    else:
        sql = f"""
            SELECT f.member_id, sum(CASE f.kind WHEN 'return' THEN -f.total ELSE f.total END)
              FROM sales f {joins}
             WHERE f.member_id IS NOT NULL AND {window}
             GROUP BY f.member_id
        """
    basis = dict(db.execute(sql, params).fetchall())
    return {m: (active.get(m, False), basis.get(m, 0) or 0) for m in members}
