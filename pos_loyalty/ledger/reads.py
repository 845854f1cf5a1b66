"""Reads that return engine objects: a member's facts, the catalogue at an instant, a sale to return."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from ..engine import Discount, MemberFacts, MembershipChange, PointMovement, Product, Program, PurchaseLine
from ..engine.program import program_from_toml
from .connection import LedgerError
from .timestamps import parse_day, stored_ts, ts_text

PROGRAM_KEY = "program_toml"


def load_program(db: Database) -> Program:
    """The programme this ledger runs, as set by ``init``."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [PROGRAM_KEY]).fetchone()
    if row is None:
        raise LedgerError("this ledger has no programme yet: run `pos-loyalty init --program FILE`")
    return program_from_toml(row[0], source="the ledger's programme")


def load_catalogue(
    db: Database, at: datetime, product_ids: Iterable[str] | None = None, *, version: int | None = None
) -> dict[str, Product]:
    """Products with the price in force at ``at`` (the latest price that started at or before it).

    Answered from a copy of the catalogue the connection keeps, read again whenever the catalogue's
    version has moved (triggers move it on every product or price written), so pricing a basket at
    the till costs no query. ``version``: the caller has just read it in its own snapshot.
    """
    cached = _catalogue(db, catalogue_version(db) if version is None else version)
    at_text = ts_text(at)
    found = {}
    for product_id in cached.products if product_ids is None else product_ids:
        product = cached.products.get(product_id)
        history = cached.prices.get(product_id)
        if product is None or history is None:
            continue
        starts, prices = history
        index = bisect_right(starts, at_text)
        if index:
            found[product_id] = Product(product_id, product[0], product[1], prices[index - 1])
    return found


def _catalogue(db: Database, version: int) -> "_Catalogue":
    """The connection's copy of the catalogue, read again if ``version`` (read by the caller in its
    own snapshot) is not the copy's."""
    cached: _Catalogue | None = getattr(db, "_pos_catalogue", None)
    if cached is None or cached.version != version:
        cached = _read_catalogue(db)
        db._pos_catalogue = cached
    return cached


def catalogue_version(db: Database) -> int:
    return db.conn.execute("SELECT version FROM catalogue_version").fetchone()[0]


@dataclass(frozen=True, slots=True)
class _Catalogue:
    version: int
    products: dict[str, tuple[str, str | None]]
    """product_id -> (name, category)."""
    prices: dict[str, tuple[list[str], list[int]]]
    """product_id -> (the prices' start times in order, the prices)."""


def _read_catalogue(db: Database) -> _Catalogue:
    """The whole catalogue and its version, read in one snapshot."""
    own = not db.conn.in_transaction
    if own:
        db.conn.execute("BEGIN")
    try:
        version = catalogue_version(db)
        products = {pid: (name, category) for pid, name, category in db.conn.execute(
            "SELECT product_id, name, category FROM products"
        )}
        prices: dict[str, tuple[list[str], list[int]]] = {}
        for product_id, valid_from, price in db.conn.execute(
            "SELECT product_id, valid_from, price FROM prices WHERE valid_from IS NOT NULL ORDER BY product_id, valid_from"
        ):
            starts, amounts = prices.setdefault(product_id, ([], []))
            starts.append(valid_from)
            amounts.append(price)
    finally:
        if own:
            db.conn.execute("COMMIT")
    return _Catalogue(version, products, prices)


def member_exists(db: Database, member_id: str) -> bool:
    return db.execute("SELECT 1 FROM members WHERE member_id = ?", [member_id]).fetchone() is not None


def load_member_facts(db: Database, member_id: str) -> MemberFacts | None:
    """Everything the engine needs about one member, by indexed reads of their rows only."""
    read = read_member(db, member_id)
    return None if read is None else read[0]


def read_member(db: Database, member_id: str) -> tuple[MemberFacts, tuple] | None:
    """The member's facts, and the stamp of what they were read from (as :func:`member_stamp` gives it).

    The stamp comes with the same reads: the newest id of each kind of row is in what is read anyway.
    """
    row = db.conn.execute(
        """
        SELECT m.name, m.birthday, m.erased_at, (SELECT version FROM catalogue_version), o.latest, o.event_id
          FROM members m,
               (SELECT max(json_extract(payload, '$.latest')) AS latest, max(event_id) AS event_id FROM outbox
                 WHERE member_id = :member AND kind = 'points_expiring') o
         WHERE m.member_id = :member
        """,
        {"member": member_id},
    ).fetchone()
    if row is None:
        return None
    name, birthday, erased_at, version, notified, last_event = row
    membership_rows = db.conn.execute(
        "SELECT ts, status, id FROM memberships WHERE member_id = ? ORDER BY ts, id", [member_id]
    ).fetchall()
    memberships = tuple(MembershipChange(stored_ts(ts), status) for ts, status, _ in membership_rows)
    # A line's category is its product's, from the catalogue the connection keeps (the version
    # was read above, in this snapshot): a join would look each product up in two b-trees.
    products = _catalogue(db, version).products
    last_line = None
    lines = []
    for sale_id, line_no, ts, product_id, qty, total, free, rowid in db.conn.execute(MEMBER_LINES_SQL, [member_id]):
        lines.append(purchase_line((sale_id, line_no, stored_ts(ts), product_id, products[product_id][1], qty, total, free)))
        if last_line is None or rowid > last_line:
            last_line = rowid
    points = tuple(
        point_movement((mid, stored_ts(ts), kind, pts, stored_ts(exp) if exp else None, lot, reason))
        for mid, ts, kind, pts, exp, lot, reason in db.conn.execute(MEMBER_POINTS_SQL, [member_id])
    )
    # Every sale has at least one line and a sale's quantities are positive (a return's are
    # negative here), so the member's sales are the distinct sale ids of their positive lines.
    sales_count = len({line.sale_id for line in lines if line.qty > 0})
    birthday_years = frozenset(m.ts.year for m in points if m.kind == "bonus" and m.reason == "birthday")
    facts = MemberFacts(
        member_id=member_id,
        name=name or "",
        birthday=parse_day(birthday) if birthday else None,
        memberships=memberships,
        lines=tuple(lines),
        points=points,
        sales_count=sales_count,
        notified_expiry=stored_ts(notified) if notified else None,
        birthday_bonus_years=birthday_years,
    )
    stamp = (
        version,
        name,
        birthday,
        erased_at,
        last_line,
        max((m.movement_id for m in points), default=None),
        max((r[2] for r in membership_rows), default=None),
        last_event,
    )
    return facts, stamp


MEMBER_LINES_SQL = """
    SELECT sale_id, line_no, ts, product_id,
           CASE kind WHEN 'return' THEN -qty ELSE qty END,
           CASE kind WHEN 'return' THEN -total ELSE total END,
           CASE kind WHEN 'return' THEN -free_units ELSE free_units END,
           rowid
      FROM sale_lines WHERE member_id = ? ORDER BY ts, sale_id, line_no
"""
"""A member's lines in the engine's order (returns negative), read off ``schema.MEMBER_HISTORY_INDEX``."""


MEMBER_POINTS_SQL = """
    SELECT movement_id, ts, kind, points, expires_at, lot_id, reason FROM point_movements
     WHERE member_id = ? ORDER BY ts, movement_id
"""
"""A member's point movements in the engine's order, read off ``schema.POINTS_HISTORY_INDEX``."""


purchase_line = PurchaseLine._make
point_movement = PointMovement._make
"""Named tuples from a tuple of their fields. ``_make`` is Python too (in 3.11), but it hands the tuple to
``tuple.__new__`` whole, where calling the class passes each field through its generated ``__new__``:
407 against 469 ns a line (``timeit``, a sale line of eight fields)."""


_MEMBER_STAMP = """
    SELECT c.version, m.name, m.birthday, m.erased_at,
           (SELECT max(rowid) FROM sale_lines WHERE member_id = :member),
           (SELECT max(movement_id) FROM point_movements WHERE member_id = :member),
           (SELECT max(id) FROM memberships WHERE member_id = :member),
           (SELECT max(event_id) FROM outbox WHERE member_id = :member AND kind = 'points_expiring')
      FROM catalogue_version c LEFT JOIN members m ON m.member_id = :member
"""


def member_stamp(db: Database, member_id: str | None) -> tuple:
    """What a price depends on, in a few index reads: the catalogue's version, the member's row and
    the newest of each of their append-only rows (a new row always has a higher id than the old)."""
    return db.conn.execute(_MEMBER_STAMP, {"member": member_id}).fetchone()


@dataclass(frozen=True, slots=True)
class SoldLine:
    """A line of a recorded sale, with what has been returned of it so far."""

    line_no: int
    product_id: str
    qty: int
    unit_price: int
    list_amount: int
    free_units: int
    total: int
    discounts: tuple[Discount, ...]
    returned_qty: int
    refunded: int

    @property
    def returnable(self) -> int:
        return self.qty - self.returned_qty

    @property
    def points_discount(self) -> int:
        return sum(d.amount for d in self.discounts if d.reason == "points")


@dataclass(frozen=True, slots=True)
class SaleRecord:
    """A recorded sale or return as the ledger holds it."""

    sale_id: str
    ts: datetime
    member_id: str | None
    kind: str
    original_sale_id: str | None
    discount_code: str | None
    subtotal: int
    discount_total: int
    total: int
    points_earned: int
    points_bonus: int
    points_redeemed: int
    source: str
    lines: tuple[SoldLine, ...]

    @property
    def refunded(self) -> int:
        return sum(line.refunded for line in self.lines)


def load_sale(db: Database, sale_id: str) -> SaleRecord | None:
    """A sale (or return) with its lines, discounts and what has been returned of each line."""
    row = db.conn.execute(
        """
        SELECT sale_id, ts, member_id, kind, original_sale_id, discount_code, subtotal, discount_total,
               total, points_earned, points_bonus, points_redeemed, source
          FROM sales WHERE sale_id = ?
        """,
        [sale_id],
    ).fetchone()
    if row is None:
        return None
    discounts: dict[int, list[Discount]] = {}
    for line_no, reason, amount, detail in db.execute(
        "SELECT line_no, reason, amount, detail FROM line_discounts WHERE sale_id = ? ORDER BY line_no, seq",
        [sale_id],
    ):
        discounts.setdefault(line_no, []).append(Discount(reason, amount, detail or ""))
    returned = {
        line_no: (qty, refunded)
        for line_no, qty, refunded in db.execute(
            """
            SELECT l.original_line_no, sum(l.qty), sum(l.total)
              FROM sales r JOIN sale_lines l ON l.sale_id = r.sale_id
             WHERE r.original_sale_id = ? AND r.kind = 'return'
             GROUP BY l.original_line_no
            """,
            [sale_id],
        )
    }
    lines = tuple(
        SoldLine(
            line_no,
            product_id,
            qty,
            unit_price,
            list_amount,
            free,
            total,
            tuple(discounts.get(line_no, ())),
            *returned.get(line_no, (0, 0)),
        )
        for line_no, product_id, qty, unit_price, list_amount, free, total in db.execute(
            """
            SELECT line_no, product_id, qty, unit_price, list_amount, free_units, total
              FROM sale_lines WHERE sale_id = ? ORDER BY line_no
            """,
            [sale_id],
        )
    )
    (sid, ts, member_id, kind, original, code, subtotal, discount_total, total, earned, bonus, redeemed, source) = row
    return SaleRecord(
        sid, stored_ts(ts), member_id, kind, original, code, subtotal, discount_total, total,
        earned, bonus, redeemed, source, lines,
    )
