"""The cache rebuilt from the ledger, and the ledger's invariants checked: what ``verify`` runs."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlite_utils import Database

from .connection import MMAP_BYTES
from .timestamps import LEDGER_FORM_GLOB

ALL_SUMMARIES_SQL = """
    SELECT m.member_id, coalesce(a.visits, 0), a.last_visit, coalesce(a.spend, 0), coalesce(a.refunds, 0),
           coalesce(p.points, 0)
      FROM members m
      LEFT JOIN (SELECT member_id,
                        sum(kind = 'sale') AS visits,
                        max(CASE WHEN kind = 'sale' THEN ts END) AS last_visit,
                        sum(CASE WHEN kind = 'sale' THEN total ELSE 0 END) AS spend,
                        sum(CASE WHEN kind = 'return' THEN total ELSE 0 END) AS refunds
                   FROM sales WHERE member_id IS NOT NULL GROUP BY member_id) a ON a.member_id = m.member_id
      LEFT JOIN (SELECT member_id, sum(points) AS points FROM point_movements GROUP BY member_id) p
             ON p.member_id = m.member_id
"""
"""Every member's totals recomputed from the facts, in one grouped pass over sales (``verify``
compares them with ``member_summary``)."""


def rebuild_summary(db: Database) -> int:
    """Recompute ``member_summary`` from the facts, for every member."""
    db.execute("DELETE FROM member_summary")
    db.execute(f"INSERT INTO member_summary (member_id, visits, last_visit, spend, refunds, points_net) {ALL_SUMMARIES_SQL}")
    return db.execute("SELECT count(*) FROM member_summary").fetchone()[0]


SALES_AGAINST_LINES = """
    SELECT s.sale_id,
           CASE WHEN count(l.sale_id) = 0 THEN 'a sale has no lines'
                WHEN sum(l.total) != s.total OR sum(l.list_amount) != s.subtotal
                THEN 'a sale''s total is not the sum of its lines'
                ELSE 'a line''s member, time or kind differs from its sale''s' END
      FROM sales s LEFT JOIN sale_lines l ON l.sale_id = s.sale_id
     GROUP BY s.sale_id
    HAVING count(l.sale_id) = 0 OR sum(l.total) != s.total OR sum(l.list_amount) != s.subtotal
        OR max(l.ts != s.ts OR l.kind != s.kind OR coalesce(l.member_id, '') != coalesce(s.member_id, ''))
     LIMIT 100
"""
"""Three invariants of a sale and its lines in one pass over both (5.1 s on 5,000,000 lines, where
the three queries apart took 13.5 s); each fault is named by the invariant it breaks."""

LEDGER_TIME = LEDGER_FORM_GLOB
"""The one form the ledger stores an instant in (``timestamps.ts_text``): the engine compares
stored times as naive local instants, so one kept with a UTC offset (as an import before
``0d2884f`` could write) fails every status of its member. A sale's lines repeat its time, which
the sales-against-lines check already compares."""

CHECKS: list[tuple[str, str]] = [
    (
        "a time is not in the ledger's form (2026-03-02T09:05:00)",
        f"""SELECT 'sale ' || sale_id FROM sales WHERE ts NOT GLOB '{LEDGER_TIME}'
            UNION ALL
            SELECT 'membership of ' || member_id FROM memberships WHERE ts NOT GLOB '{LEDGER_TIME}'
            UNION ALL
            SELECT 'point movement ' || movement_id FROM point_movements
             WHERE ts NOT GLOB '{LEDGER_TIME}' OR expires_at NOT GLOB '{LEDGER_TIME}'
            UNION ALL
            SELECT 'price of ' || product_id FROM prices WHERE valid_from NOT GLOB '{LEDGER_TIME}'""",
    ),
    (
        "a line's total is not its list price minus its discounts",
        # The line's own kind (that it is its sale's is checked below): no lookup of the sale.
        """SELECT l.sale_id || '#' || l.line_no FROM sale_lines l
             LEFT JOIN (SELECT sale_id, line_no, sum(amount) AS cut FROM line_discounts GROUP BY sale_id, line_no) d
               ON d.sale_id = l.sale_id AND d.line_no = l.line_no
            WHERE l.kind = 'sale' AND l.list_amount - coalesce(d.cut, 0) != l.total""",
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


def verify(db: Database, on_step: Callable[[str, float], None] | None = None) -> list[str]:
    """Every fault found, one line each; an empty list means the ledger and its cache agree.

    The file's integrity check runs on a connection of its own beside the invariant checks (on a
    5,000,000-line ledger they take about as long as each other, and SQLite works without
    Python's lock, so two cores halve the wait). The invariants and the cache comparison read
    one snapshot, so a till selling meanwhile cannot make them disagree with each other.
    ``on_step(name, seconds)``, if given, hears how long each step took (the scale bench prints it);
    for the integrity check it is called from the checking thread.
    """
    timed = _timer(on_step)
    path = _file_of(db)
    beside = None
    if path is not None:
        beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify")
        integrity = beside.submit(timed, "integrity check", lambda: _integrity_of_file(path))
    faults: list[str] = []
    try:
        own_snapshot = not db.conn.in_transaction
        if own_snapshot:
            db.execute("BEGIN")
        try:
            faults += timed("foreign keys", lambda: _foreign_keys(db))
            faults += timed("sales against their lines", lambda: _sales_against_lines(db))
            for message, sql in CHECKS:
                faults += timed(message, lambda message=message, sql=sql: _invariant(db, message, sql))
            faults += timed("member_summary", lambda: _summary(db))
        finally:
            if own_snapshot:
                db.execute("ROLLBACK")
        found = integrity.result() if beside is not None else timed("integrity check", lambda: _integrity(db.conn))
    finally:
        if beside is not None:
            beside.shutdown(wait=True)
    return found + faults


def _timer(on_step: Callable[[str, float], None] | None):
    def timed(name: str, step: Callable[[], list[str]]) -> list[str]:
        started = time.perf_counter()
        found = step()
        if on_step is not None:
            on_step(name, time.perf_counter() - started)
        return found

    return timed


def _file_of(db: Database) -> str | None:
    """The ledger's file, or None for an in-memory ledger."""
    for _, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return file or None
    return None


def _integrity_of_file(path: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        return _integrity(conn)
    finally:
        conn.close()


def _integrity(conn: sqlite3.Connection) -> list[str]:
    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return [] if result == "ok" else [f"integrity check: {result}"]


def _foreign_keys(db: Database) -> list[str]:
    return [
        f"foreign key: {table} row {rowid} points at a missing {parent}"
        for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check").fetchall()[:10]
    ]


def _invariant(db: Database, message: str, sql: str) -> list[str]:
    bad = [row[0] for row in db.execute(sql + " LIMIT 6").fetchall()]
    return [_fault(message, bad)] if bad else []


def _sales_against_lines(db: Database) -> list[str]:
    found: dict[str, list[str]] = {}
    for sale_id, message in db.execute(SALES_AGAINST_LINES).fetchall():
        found.setdefault(message, []).append(sale_id)
    return [_fault(message, bad) for message, bad in found.items()]


def _fault(message: str, bad: list) -> str:
    shown = ", ".join(str(b) for b in bad[:5]) + (" …" if len(bad) > 5 else "")
    return f"{message}: {shown}"


def _summary(db: Database) -> list[str]:
    cached = {row[0]: tuple(row[1:]) for row in db.execute("SELECT * FROM member_summary")}
    rebuilt = {row[0]: tuple(row[1:]) for row in db.execute(ALL_SUMMARIES_SQL)}
    wrong = sorted(m for m in rebuilt.keys() | cached.keys() if _normal(cached.get(m)) != _normal(rebuilt.get(m)))
    if not wrong:
        return []
    return [f"member_summary differs from the ledger for {len(wrong)} member(s): {', '.join(wrong[:5])}"]


def _normal(row):
    """A member with no cached row is the same as one with all-zero totals."""
    if row is None:
        return (0, None, 0, 0, 0)
    return row
