"""The cache rebuilt from the ledger, and the ledger's invariants checked: what ``verify`` runs."""

from __future__ import annotations

from sqlite_utils import Database

SUMMARY_SQL = """
    SELECT m.member_id,
           coalesce((SELECT count(*) FROM sales s WHERE s.member_id = m.member_id AND s.kind = 'sale'), 0),
           (SELECT max(ts) FROM sales s WHERE s.member_id = m.member_id AND s.kind = 'sale'),
           coalesce((SELECT sum(total) FROM sales s WHERE s.member_id = m.member_id AND s.kind = 'sale'), 0),
           coalesce((SELECT sum(total) FROM sales s WHERE s.member_id = m.member_id AND s.kind = 'return'), 0),
           coalesce((SELECT sum(points) FROM point_movements p WHERE p.member_id = m.member_id), 0)
      FROM members m
"""


def rebuild_summary(db: Database, member_ids: list[str] | None = None) -> int:
    """Recompute ``member_summary`` from the facts (for all members, or the ones named)."""
    if member_ids is None:
        db.execute("DELETE FROM member_summary")
        db.execute(f"INSERT INTO member_summary (member_id, visits, last_visit, spend, refunds, points_net) {SUMMARY_SQL}")
        return db.execute("SELECT count(*) FROM member_summary").fetchone()[0]
    for start in range(0, len(member_ids), 500):
        chunk = member_ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        db.execute(f"DELETE FROM member_summary WHERE member_id IN ({marks})", chunk)
        db.execute(
            f"INSERT INTO member_summary (member_id, visits, last_visit, spend, refunds, points_net) "
            f"{SUMMARY_SQL} WHERE m.member_id IN ({marks})",
            chunk,
        )
    return len(member_ids)


CHECKS: list[tuple[str, str]] = [
    (
        "a sale's total is not the sum of its lines",
        """SELECT s.sale_id FROM sales s JOIN sale_lines l ON l.sale_id = s.sale_id
            GROUP BY s.sale_id HAVING sum(l.total) != s.total OR sum(l.list_amount) != s.subtotal""",
    ),
    (
        "a line's total is not its list price minus its discounts",
        """SELECT l.sale_id || '#' || l.line_no FROM sale_lines l
             JOIN sales s ON s.sale_id = l.sale_id AND s.kind = 'sale'
             LEFT JOIN (SELECT sale_id, line_no, sum(amount) AS cut FROM line_discounts GROUP BY sale_id, line_no) d
               ON d.sale_id = l.sale_id AND d.line_no = l.line_no
            WHERE l.list_amount - coalesce(d.cut, 0) != l.total""",
    ),
    (
        "a sale has no lines",
        "SELECT s.sale_id FROM sales s WHERE NOT EXISTS (SELECT 1 FROM sale_lines l WHERE l.sale_id = s.sale_id)",
    ),
    (
        "more was returned than was bought",
        """SELECT r.original_sale_id || '#' || l.original_line_no FROM sales r
             JOIN sale_lines l ON l.sale_id = r.sale_id
             JOIN sale_lines o ON o.sale_id = r.original_sale_id AND o.line_no = l.original_line_no
            WHERE r.kind = 'return'
            GROUP BY r.original_sale_id, l.original_line_no
           HAVING sum(l.qty) > max(o.qty) OR sum(l.total) > max(o.total)""",
    ),
    (
        "a line's member, time or kind differs from its sale's",
        """SELECT l.sale_id FROM sale_lines l JOIN sales s ON s.sale_id = l.sale_id
            WHERE l.ts != s.ts OR l.kind != s.kind OR coalesce(l.member_id, '') != coalesce(s.member_id, '')""",
    ),
    (
        "a sale's recorded points differ from its point movements",
        """SELECT s.sale_id FROM sales s
            WHERE s.kind = 'sale' AND (
                s.points_earned != coalesce((SELECT sum(points) FROM point_movements p
                                              WHERE p.sale_id = s.sale_id AND p.kind = 'earn'), 0)
             OR s.points_redeemed != -coalesce((SELECT sum(points) FROM point_movements p
                                              WHERE p.sale_id = s.sale_id AND p.kind = 'redeem'), 0))""",
    ),
    (
        "a discount code was redeemed by a sale that does not name it",
        """SELECT c.code FROM code_redemptions c JOIN sales s ON s.sale_id = c.sale_id
            WHERE coalesce(s.discount_code, '') != c.code""",
    ),
    (
        "an expire row does not close a lot of the same member",
        """SELECT e.movement_id FROM point_movements e LEFT JOIN point_movements l ON l.movement_id = e.lot_id
            WHERE e.kind = 'expire' AND (l.movement_id IS NULL OR l.member_id != e.member_id OR e.points > 0)""",
    ),
]


def verify(db: Database) -> list[str]:
    """Every fault found, one line each; an empty list means the ledger and its cache agree."""
    faults: list[str] = []
    result = db.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        faults.append(f"integrity check: {result}")
    for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check").fetchall()[:10]:
        faults.append(f"foreign key: {table} row {rowid} points at a missing {parent}")
    for message, sql in CHECKS:
        bad = [row[0] for row in db.execute(sql + " LIMIT 6").fetchall()]
        if bad:
            shown = ", ".join(str(b) for b in bad[:5]) + (" …" if len(bad) > 5 else "")
            faults.append(f"{message}: {shown}")
    cached = {row[0]: tuple(row[1:]) for row in db.execute("SELECT * FROM member_summary")}
    rebuilt = {row[0]: tuple(row[1:]) for row in db.execute(SUMMARY_SQL)}
    wrong = sorted(m for m in rebuilt.keys() | cached.keys() if _normal(cached.get(m)) != _normal(rebuilt.get(m)))
    if wrong:
        faults.append(f"member_summary differs from the ledger for {len(wrong)} member(s): {', '.join(wrong[:5])}")
    return faults


def _normal(row):
    """A member with no cached row is the same as one with all-zero totals."""
    if row is None:
        return (0, None, 0, 0, 0)
    return row
