"""Saving imported history: natural ids, re-imports change nothing, conflicts are refused."""

from __future__ import annotations

import os
import sys
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import NamedTuple

from sqlite_utils import Database

from ..engine import Program
from ..engine.money import format_number, parse_number, percent_of, share
from ..engine.points import expiry_for
from .connection import insert, write
from .reads import load_sale
from .schema import DEFERRABLE_INDEXES
from .schema_browse import NAME_INDEX
from .timestamps import stored_ts, ts_text

EPOCH = datetime(1970, 1, 1)
"""The start of a catalogue price given without ``valid_from``."""


class RowError(ValueError):
    """One imported row is wrong; ``field`` names the column."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class MemberRecord:
    member_id: str
    name: str
    email: str | None
    phone: str | None
    joined_at: datetime | None
    birthday: str | None


@dataclass(frozen=True, slots=True)
class ProductRecord:
    product_id: str
    name: str
    category: str | None
    price: int | None
    """None for a product with no catalogue price."""
    valid_from: datetime | None


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    member_id: str
    ts: datetime
    status: str


@dataclass(frozen=True, slots=True)
class CodeRecord:
    code: str
    percent: Fraction


class ExportedLine(NamedTuple):
    """What ``export sales`` says of a line beyond the import layout, so it comes back as it was."""

    list_amount: int
    discounts: tuple[tuple[str, int, str | None], ...] | None
    """(reason, amount, detail) of each discount, adding up to the list amount less the amount
    paid; None where the file does not say (the difference is then one unexplained discount)."""
    free_units: int
    original_line_no: int | None
    """The line of the original sale a return line gives back (the till's choice: its paid units
    before its free ones), or None to take the sale's lines in order."""


class ImportedSale(NamedTuple):
    """One imported sale or return: what its lines share, once, and the lines themselves.

    ``ts`` is already the ledger's text (:func:`~.timestamps.ts_text`): files are parsed apart
    from the ledger, often in another process, and text is what the ledger stores and compares.
    Each item is ``(product_id, qty, unit_price, line_amount, exported)``; a price left out is
    None, and ``exported`` is an :class:`ExportedLine` where the file is in ``export sales``'
    layout (its ``line_amount`` is then what was paid, after every discount), else None.
    """

    sale_id: str
    ts: str
    member_id: str | None
    kind: str
    original_sale_id: str | None
    discount_code: str | None
    items: list[tuple[str, int, int | None, int | None, ExportedLine | None]]


@dataclass
class ImportCounts:
    """What an import read, wrote and left as it was."""

    read: int = 0
    written: int = 0
    unchanged: int = 0
    rejected: int = 0
    unpriced: int = 0
    """Products the file gave no price (the till cannot sell them)."""


SALE_COLUMNS = (
    "sale_id", "ts", "member_id", "kind", "original_sale_id", "discount_code",
    "subtotal", "discount_total", "total", "source",
)
LINE_COLUMNS = (
    "sale_id", "line_no", "member_id", "ts", "kind", "product_id", "qty", "unit_price",
    "list_amount", "free_units", "total", "original_line_no",
)
DISCOUNT_COLUMNS = ("sale_id", "line_no", "seq", "reason", "amount", "detail")
IMPORTED_DISCOUNT = "imported"
"""The reason of a discount an imported line carries below its list amount beyond a code's, where
the file says how much and not why (its ``discounts`` column is blank or missing)."""
_listed = itemgetter(LINE_COLUMNS.index("list_amount"))
_paid = itemgetter(LINE_COLUMNS.index("total"))


TOTAL_COLUMNS = ("visits", "last_visit", "spend", "refunds", "points_net")
"""The per-member totals an import adds to ``member_summary``, in the order the Saver keeps them."""
_ADDED = {
    "visits": "visits = visits + excluded.visits",
    "last_visit": "last_visit = max(coalesce(last_visit, ''), excluded.last_visit)",
    "spend": "spend = spend + excluded.spend",
    "refunds": "refunds = refunds + excluded.refunds",
    "points_net": "points_net = points_net + excluded.points_net",
}


@lru_cache(maxsize=None)
def _add_totals_sql(changed: tuple[str, ...]) -> str:
    """Add an import's totals for one member to the per-member cache (a row is made if it has none).

    Only the ``changed`` totals are assigned: SQLite rewrites an index entry whenever its column is
    assigned, even to the same value, and a sales import moves no member's points (50,000 members
    0.40-0.53 s -> 0.29-0.40 s without touching ``member_summary_points``).
    """
    action = f"UPDATE SET {', '.join(_ADDED[column] for column in changed)}" if changed else "NOTHING"
    return (
        f"INSERT INTO member_summary (member_id, {', '.join(TOTAL_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)"
        f" ON CONFLICT (member_id) DO {action}"
    )


@contextmanager
def import_transaction(db: Database) -> Iterator[Database]:
    """An import's one write transaction (``connection.write``), with SQLite's foreign-key lookups off.

    The :class:`Saver` checks every reference it writes: members and products against the sets
    it holds, a sale's lines after their sale in the same flush, a return's original sale and a
    redeemed code by reading them. SQLite's own check would repeat that for each row: three
    index lookups for each sale line. Keys are on again however the transaction ends, and stay
    on inside a transaction the caller already holds (the pragma cannot change there).
    """
    keys_off = not db.conn.in_transaction
    if keys_off:
        db.execute("PRAGMA foreign_keys = OFF")
    try:
        with write(db):
            yield db
    finally:
        if keys_off:
            db.execute("PRAGMA foreign_keys = ON")


@lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...], rows: int = 1) -> str:
    row = f"({', '.join('?' * len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * rows)}"


ROWS_PER_INSERT = 50
"""Rows one INSERT statement writes in :func:`_insert_rows` (at most 999 values a statement, for
SQLite before 3.32)."""


def _insert_rows(db: Database, table: str, columns: tuple[str, ...], values: list) -> None:
    """Insert rows given as one flat list of their ``values``, in order, ``ROWS_PER_INSERT`` to a statement.

    SQLite's work for a statement beyond its rows (and the sqlite3 module's, a step and a reset
    each) is then paid once for fifty rows: 1,000,000 sale lines 5.6-6.5 s -> 4.1-4.6 s. The
    values come flat because a statement's parameters are: fifty rows are one slice of the list
    instead of a tuple joined from fifty (and the rows' own tuples are never made or freed).
    """
    width = len(columns)
    step = ROWS_PER_INSERT * width
    whole = len(values) - len(values) % step
    if whole:
        db.conn.executemany(
            _insert_sql(table, columns, ROWS_PER_INSERT), (values[start:start + step] for start in range(0, whole, step))
        )
    if whole < len(values):
        db.conn.executemany(
            _insert_sql(table, columns), (values[start:start + width] for start in range(whole, len(values), width))
        )


class Saver:
    """Writes validated records inside the caller's transaction; raises RowError on conflicts.

    Sales are buffered and written in batches with ``executemany``; lookups of members,
    products and prices are cached for the import. Call :meth:`finish` at the end.
    """

    BATCH = 2000
    """Sales buffered before a flush."""
    ID_CACHE_LIMIT = 300_000
    """Up to this many sales (recorded before, or written by this import), their ids are held in
    memory instead of looked up one by one; past it they are looked up, so memory stays bounded."""

    DEFER_MIN_LINES = 10_000
    """Imports expected to bring fewer lines than this keep the indexes up as they go."""
    DEFER_MIN_MEMBERS = 1_000
    """Imports expected to bring fewer members than this keep the name index up as they go (a
    rebuild costs ~10 µs a member held, the trigger ~60 µs a member added)."""
    TOTALS_LIMIT = 100_000
    """Members whose running totals are held before they are added to ``member_summary``."""

    def __init__(self, db: Database, program: Program, expected_lines: int = 0, *, expected_members: int = 0):
        """``expected_lines``, ``expected_members``: rough counts of the sale lines or members coming
        (0: unknown, or few).

        An import expected to bring at least as many lines as the ledger holds (and at least
        ``DEFER_MIN_LINES``) drops the secondary indexes of ``sales`` and ``sale_lines`` at its
        first write and builds them again at the end, in the same transaction: one sorted build
        instead of a random insert per line into each (300,000 synthetic lines 13.0 s -> 10.1 s).
        Members likewise (``DEFER_MIN_MEMBERS``): the full-text index of their names is filled
        in one pass at the end instead of by its trigger on each new member.
        """
        self.db = db
        self.program = program
        self.expected_lines = expected_lines
        self.expected_members = expected_members
        self._deferred: dict[str, str] | None = None
        self._names_trigger: str | None = None
        """The name index's insert trigger while this import has it dropped (its SQL, to put back)."""
        self._names_checked = False
        self.counts = ImportCounts()
        self._totals: dict[str, list] = {}
        """Member -> [visits, last visit, spend, refunds, points] this import adds to member_summary."""
        self._members: set[str] | None = None
        self._products: set[str] | None = None
        self._prices: dict[str, list[tuple[str, int]]] = {}
        # Rows waiting for a flush, each table's as one flat list of values (see _insert_rows).
        self._sales: list = []
        self._lines: list = []
        self._discounts: list = []
        self._redemptions: list = []
        self._pending_ids: set[str] = set()
        self._pending_returned: set[str] = set()
        """The sales that buffered returns give back to: another return of one reads it after a flush."""
        self._memberships_read: Counter = Counter()
        """How often this file has given each (member, time, status)."""
        self._ids: dict[str, bool] | None = None
        """Sale id -> written by this import (else recorded before it), while few enough to hold."""
        self._ids_checked = False
        self._first_new_rowid = 0
        """Sales from this rowid on were written by this import (the ledger is append-only)."""
        self._joins: dict[str, str] = {}
        self._pending_codes: dict[str, str] = {}

    # -- members ------------------------------------------------------------------------

    def member(self, rec: MemberRecord) -> None:
        row = self.db.execute(
            "SELECT name, email, phone, birthday FROM members WHERE member_id = ?", [rec.member_id]
        ).fetchone()
        if row is not None:
            if tuple(v or None for v in row) != (rec.name or None, rec.email, rec.phone, rec.birthday):
                raise RowError("member_id", f"member {rec.member_id!r} already exists with other details")
            first = self.db.execute(
                "SELECT min(ts) FROM memberships WHERE member_id = ? AND status = 'active'", [rec.member_id]
            ).fetchone()[0]
            if rec.joined_at is not None and first is not None and first != ts_text(rec.joined_at):
                raise RowError("joined_at", f"member {rec.member_id!r} first joined at {first}")
            self.counts.unchanged += 1
            return
        self._defer_name_index()
        created = rec.joined_at or EPOCH
        insert(self.db, "members", {"member_id": rec.member_id, "name": rec.name, "email": rec.email,
                                    "phone": rec.phone, "birthday": rec.birthday, "created_at": ts_text(created)})
        self._known_members().add(rec.member_id)
        if rec.joined_at is not None:
            self._join(rec.member_id, rec.joined_at, first=True)
        self.counts.written += 1

    def _join(self, member_id: str, at: datetime, first: bool) -> None:
        self.db.conn.execute(
            "INSERT INTO memberships (member_id, ts, status) VALUES (?, ?, 'active')", (member_id, ts_text(at))
        )
        points = self.program.points
        if first and points and points.signup_bonus:
            exp = expiry_for(points, at)
            insert(self.db, "point_movements", {
                "member_id": member_id, "ts": ts_text(at), "kind": "bonus", "points": points.signup_bonus,
                "expires_at": ts_text(exp) if exp else None, "reason": "sign-up",
            })
        totals = self._totals.get(member_id) or self._new_totals(member_id)
        totals[4] += points.signup_bonus if first and points else 0

    def membership(self, rec: MembershipRecord) -> None:
        if rec.status not in ("active", "resigned"):
            raise RowError("status", f"status must be active or resigned, not {rec.status!r}")
        if rec.member_id not in self._known_members():
            raise RowError("member_id", f"unknown member {rec.member_id!r}")
        history = self.db.execute(
            "SELECT ts, status FROM memberships WHERE member_id = ? ORDER BY ts, id", [rec.member_id]
        ).fetchall()
        # A file may hold one change twice at one instant (resigned and back in the same second):
        # a row is new when the file has given it more often than the ledger holds it.
        change = (ts_text(rec.ts), rec.status)
        self._memberships_read[(rec.member_id, *change)] += 1
        if history.count(change) >= self._memberships_read[(rec.member_id, *change)]:
            self.counts.unchanged += 1
            return
        if history and history[-1][0] > ts_text(rec.ts):
            raise RowError("ts", f"{rec.member_id}: membership changes must come in time order (last {history[-1][0]})")
        current = history[-1][1] if history else "resigned"
        if current == rec.status:
            raise RowError("status", f"{rec.member_id} is already {'an active member' if current == 'active' else 'not a member'}")
        if rec.status == "active":
            self._join(rec.member_id, rec.ts, first=not any(s == "active" for _, s in history))
        else:
            insert(self.db, "memberships", {"member_id": rec.member_id, "ts": ts_text(rec.ts), "status": rec.status})
        self.counts.written += 1

    def _known_members(self) -> set[str]:
        if self._members is None:
            self._members = {row[0] for row in self.db.execute("SELECT member_id FROM members")}
        return self._members

    # -- catalogue and codes --------------------------------------------------------------

    def product(self, rec: ProductRecord) -> None:
        row = self.db.execute("SELECT name, category FROM products WHERE product_id = ?", [rec.product_id]).fetchone()
        valid_from = ts_text(rec.valid_from or EPOCH)
        if row is None:
            insert(self.db, "products", {"product_id": rec.product_id, "name": rec.name, "category": rec.category})
            self._known_products().add(rec.product_id)
        elif (row[0], row[1] or None) != (rec.name, rec.category):
            self.db.conn.execute("UPDATE products SET name = ?, category = ? WHERE product_id = ?",
                                 (rec.name, rec.category, rec.product_id))
        if rec.price is None:  # a product with no catalogue price: its name and category only
            self.counts.unpriced += 1
            if row is None:
                self.counts.written += 1
            else:
                self.counts.unchanged += 1
            return
        self._prices.pop(rec.product_id, None)
        price = self.db.execute(
            "SELECT price FROM prices WHERE product_id = ? AND valid_from = ?", [rec.product_id, valid_from]
        ).fetchone()
        if price is not None:
            if price[0] != rec.price:
                raise RowError("price", f"{rec.product_id} already has another price from {valid_from}; give a new valid_from")
            self.counts.unchanged += 1
            return
        insert(self.db, "prices", {"product_id": rec.product_id, "valid_from": valid_from, "price": rec.price})
        self.counts.written += 1

    def _known_products(self) -> set[str]:
        if self._products is None:
            self._products = {row[0] for row in self.db.execute("SELECT product_id FROM products")}
        return self._products

    def ensure_product(self, product_id: str, name: str, category: str | None = None) -> bool:
        """Add a product with no catalogue price (history that carries its own amounts); True when added."""
        if product_id in self._known_products():
            return False
        self.db.conn.execute(
            "INSERT INTO products (product_id, name, category) VALUES (?, ?, ?)", (product_id, name or product_id, category)
        )
        self._known_products().add(product_id)
        return True

    def ensure_member(self, member_id: str, seen_at: str) -> bool:
        """Add a member who joins at the first instant (ledger text) they are seen in this import; True when added.

        The join is written at :meth:`finish`, at the earliest instant seen, so a file that is not
        in time order still dates the join at the member's first purchase.
        """
        if member_id in self._joins:
            if seen_at < self._joins[member_id]:
                self._joins[member_id] = seen_at
            return False
        if member_id in self._known_members():
            return False
        self._defer_name_index()
        self.db.conn.execute("INSERT INTO members (member_id, name, created_at) VALUES (?, '', ?)", (member_id, seen_at))
        self._known_members().add(member_id)
        self._joins[member_id] = seen_at
        return True

    def _price_at(self, product_id: str, at: str) -> int | None:
        """The catalogue price of ``product_id`` at ``at`` (ledger text), or None before its first price."""
        prices = self._prices.get(product_id)
        if prices is None:
            prices = self._prices[product_id] = self.db.execute(
                "SELECT valid_from, price FROM prices WHERE product_id = ? ORDER BY valid_from", [product_id]
            ).fetchall()
        # (instant, any price): bisect past every price that starts at or before ``at``.
        index = bisect_right(prices, (at, sys.maxsize)) - 1
        return prices[index][1] if index >= 0 else None

    def code(self, rec: CodeRecord) -> None:
        if not 0 < rec.percent <= 50:
            raise RowError("percent", "a code is worth more than 0 and at most 50 percent")
        row = self.db.execute("SELECT percent FROM codes WHERE code = ?", [rec.code]).fetchone()
        if row is not None:
            if parse_number(row[0]) != rec.percent:
                raise RowError("code", f"code {rec.code} already exists with {row[0]} %")
            self.counts.unchanged += 1
            return
        insert(self.db, "codes", {"code": rec.code, "percent": format_number(rec.percent), "issued_at": ts_text(EPOCH)})
        self.counts.written += 1

    # -- sales --------------------------------------------------------------------------

    def sale(self, sale: ImportedSale) -> None:
        """Save one imported sale or return; the same sale again changes nothing.

        Everything is checked before anything is buffered, so a refused sale leaves no trace.
        """
        sale_id, ts, member_id, kind, original_sale_id, code, items = sale
        if member_id is not None and member_id not in (self._members or self._known_members()):
            raise RowError("member_id", f"unknown member {member_id!r}")
        seen = self._seen(sale_id)
        if seen == "here":
            raise RowError("sale_id", f"sale {sale_id} came earlier in this file: a sale's lines must be next to each other")
        if seen == "before":
            self._same_sale(load_sale(self.db, sale_id), sale)
            self.counts.unchanged += len(items)
            return
        if code is None and (kind == "sale" or original_sale_id is None):
            values, subtotal, total = self._paid_as_priced(sale)
            self._lines += values
        else:
            priced = self._priced(sale)
            if kind == "sale":
                lines, discounts, code = self._sale_lines(sale, priced)
            else:
                lines, discounts, code = self._return_lines(sale, priced)
                self._pending_returned.add(original_sale_id)
            subtotal = sum(map(_listed, lines))
            total = sum(map(_paid, lines))
            self._lines += chain.from_iterable(lines)
            for line_no, seq, reason, amount, detail in discounts:
                self._discounts += (sale_id, line_no, seq, reason, amount, detail)
            if code is not None:
                self._redemptions += (code, sale_id, ts)
                self._pending_codes[code] = sale_id
        self._sales += (sale_id, ts, member_id, kind, original_sale_id, code, subtotal, subtotal - total, total, "import")
        self._pending_ids.add(sale_id)
        if member_id is not None:
            totals = self._totals.get(member_id) or self._new_totals(member_id)
            if kind == "sale":
                totals[0] += 1
                if totals[1] is None or ts > totals[1]:
                    totals[1] = ts
                totals[2] += total
            else:
                totals[3] += total
        self.counts.written += len(items)
        if len(self._pending_ids) >= self.BATCH:
            self.flush()

    def _seen(self, sale_id: str) -> str | None:
        """"before" when the ledger held ``sale_id`` before this import, "here" when this import
        wrote it (or holds it to write), None when it is new."""
        if sale_id in self._pending_ids:
            return "here"
        if not self._ids_checked:
            self._ids_checked = True
            self._first_new_rowid = self.db.execute("SELECT coalesce(max(rowid), 0) + 1 FROM sales").fetchone()[0]
            if self._first_new_rowid - 1 <= self.ID_CACHE_LIMIT:
                self._ids = {row[0]: False for row in self.db.execute("SELECT sale_id FROM sales")}
        if self._ids is not None:
            here = self._ids.get(sale_id)
            return None if here is None else "here" if here else "before"
        row = self.db.execute("SELECT rowid FROM sales WHERE sale_id = ?", [sale_id]).fetchone()
        if row is None:
            return None
        return "here" if row[0] >= self._first_new_rowid else "before"

    def flush(self) -> None:
        """Write the buffered sales, their lines, discounts and code redemptions."""
        if not self._pending_ids:
            return
        if self._deferred is None:
            self._deferred = self._defer_indexes()
        _insert_rows(self.db, "sales", SALE_COLUMNS, self._sales)
        if self._ids is not None:
            if len(self._ids) + len(self._pending_ids) > self.ID_CACHE_LIMIT:
                self._ids = None  # too many to hold: from now on, ask the index
            else:
                self._ids.update(dict.fromkeys(self._pending_ids, True))
        _insert_rows(self.db, "sale_lines", LINE_COLUMNS, self._lines)
        _insert_rows(self.db, "line_discounts", DISCOUNT_COLUMNS, self._discounts)
        _insert_rows(self.db, "code_redemptions", ("code", "sale_id", "ts"), self._redemptions)
        for buffer in (self._sales, self._lines, self._discounts, self._redemptions):
            buffer.clear()
        self._pending_ids.clear()
        self._pending_returned.clear()
        self._pending_codes.clear()

    def _defer_indexes(self) -> dict[str, str]:
        """Drop the deferrable indexes when this import is big for the ledger; their SQL, to rebuild."""
        if not self._big_for("sale_lines", self.expected_lines, self.DEFER_MIN_LINES):
            return {}
        return self._drop_until_finish("index", DEFERRABLE_INDEXES)

    def _defer_name_index(self) -> None:
        """Before this import's first new member: drop the trigger that indexes each new member's
        name when the import is big for the ledger (``DEFER_MIN_MEMBERS``); :meth:`finish` puts it
        back and rebuilds the index from every name. 50,000 members: 2.8-4.2 s in the trigger,
        0.4-0.5 s to rebuild."""
        if self._names_checked:
            return
        self._names_checked = True
        if self._big_for("members", self.expected_members, self.DEFER_MIN_MEMBERS):
            name = f"{NAME_INDEX}_insert"
            self._names_trigger = self._drop_until_finish("trigger", (name,)).get(name)

    def _big_for(self, table: str, expected: int, minimum: int) -> bool:
        """Whether ``expected`` new rows are at least as many as ``table`` holds, and ``minimum``."""
        # Append-only tables: the largest rowid is the number of rows ever written (cheap to read).
        held = self.db.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()[0]
        return expected >= max(minimum, held)

    def _drop_until_finish(self, kind: str, names: tuple[str, ...]) -> dict[str, str]:
        """Drop the named indexes or triggers that exist; their SQL, for :meth:`finish` to put back.

        Dropped and put back inside the import's transaction: a refused import leaves them."""
        marks = ", ".join("?" * len(names))
        found = dict(
            self.db.execute(f"SELECT name, sql FROM sqlite_master WHERE type = ? AND name IN ({marks})",
                            [kind, *names]).fetchall()
        )
        for name in found:
            self.db.execute(f"DROP {kind.upper()} {name}")
        return found

    def finish(self) -> ImportCounts:
        """Flush what is buffered, rebuild any deferred index and bring the per-member cache up to date."""
        self.flush()
        if self._names_trigger is not None:
            self.db.execute(self._names_trigger)
            self.db.execute(f"INSERT INTO {NAME_INDEX} ({NAME_INDEX}) VALUES ('rebuild')")
            self._names_trigger = None
        if self._deferred:
            # The index builds sort every line: SQLite's sorter may use helper threads, and by now
            # the parsing process has finished with the other core (3.0 -> 2.5 s for 1,000,000 lines).
            self.db.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
            try:
                for sql in self._deferred.values():
                    self.db.execute(sql)
            finally:
                self.db.execute("PRAGMA threads = 0")
        self._deferred = {}
        for member_id, joined_at in self._joins.items():
            self.db.conn.execute("UPDATE members SET created_at = ? WHERE member_id = ?", (joined_at, member_id))
            self._join(member_id, stored_ts(joined_at), first=True)
        self._joins.clear()
        self._flush_totals()
        return self.counts

    def _new_totals(self, member_id: str) -> list:
        """A member's totals as this import adds to them, [visits, last visit, spend, refunds, points]
        (``member_summary`` gets them at the end: one upsert per member instead of a pass over every
        sale, 1.5 s -> 0.3 s for 1,000,000 lines). :meth:`sale` adds to them in place."""
        if len(self._totals) >= self.TOTALS_LIMIT:
            self._flush_totals()
        totals = self._totals[member_id] = [0, None, 0, 0, 0]
        return totals

    def _flush_totals(self) -> None:
        by_change: dict[tuple[str, ...], list[tuple]] = {}
        for member_id, totals in sorted(self._totals.items()):
            changed = tuple(column for column, value in zip(TOTAL_COLUMNS, totals) if value)
            by_change.setdefault(changed, []).append((member_id, *totals))
        for changed, rows in by_change.items():
            self.db.conn.executemany(_add_totals_sql(changed), rows)
        self._totals.clear()

    @staticmethod
    def _same_sale(existing, sale: ImportedSale) -> None:
        """A re-imported sale must be the one recorded: same kind, member, time and units."""
        recorded, given = Counter(), Counter()
        for sold in existing.lines:
            recorded[sold.product_id] += sold.qty
        for product_id, qty, *_ in sale.items:
            given[product_id] += qty
        if (existing.kind, existing.member_id, ts_text(existing.ts), recorded) != (
            sale.kind, sale.member_id, sale.ts, given
        ):
            raise RowError("sale_id", f"sale {sale.sale_id} already exists with other contents")

    def _priced(self, sale: ImportedSale) -> list[tuple[str, int, int | None, int | None, ExportedLine | None]]:
        """Each item as (product, qty, unit price, amount, exported): the amount given, or unit
        price x qty, or the catalogue's; what an export says of the line, where the file is one."""
        known = self._known_products()
        refunded_as_paid = sale.kind == "return" and sale.original_sale_id is not None
        priced = []
        for product_id, qty, unit_price, line_amount, exported in sale.items:
            if product_id not in known:
                raise RowError("product_id", f"unknown product {product_id!r}")
            if exported is not None:
                unit = unit_price if unit_price is not None else share(exported.list_amount, 1, qty)
                priced.append((product_id, qty, unit, line_amount, exported))
            elif line_amount is not None:
                priced.append((product_id, qty, share(line_amount, 1, qty), line_amount, None))
            elif unit_price is not None:
                priced.append((product_id, qty, unit_price, unit_price * qty, None))
            elif refunded_as_paid:
                priced.append((product_id, qty, None, None, None))  # refunded at what was paid, below
            else:
                price = self._price_at(product_id, sale.ts)
                if price is None:
                    raise RowError("unit_price", f"{product_id} has no catalogue price at {sale.ts}")
                priced.append((product_id, qty, price, price * qty, None))
        return priced

    @staticmethod
    def _line(sale: ImportedSale, line_no: int, product_id: str, qty: int, unit: int, listed: int, paid: int,
              original_line: int | None = None, free: int = 0) -> tuple:
        """A row of ``sale_lines`` (:data:`LINE_COLUMNS`)."""
        return (sale.sale_id, line_no, sale.member_id, sale.ts, sale.kind, product_id, qty, unit, listed, free, paid,
                original_line)

    def _paid_as_priced(self, sale: ImportedSale) -> tuple[list, int, int]:
        """The rows of ``sale_lines`` for a sale with no code, or a return with no original sale, as
        flat values, their list amount and their total: each line paid at its amount, with the
        discounts the file gives below its list amount (one unexplained amount where it gives no
        reasons; :meth:`_line` inlined: most lines come this way)."""
        sale_id, ts, member_id, kind = sale.sale_id, sale.ts, sale.member_id, sale.kind
        values, subtotal, total, cuts = [], 0, 0, []
        for line_no, (product_id, qty, unit, amount, exported) in enumerate(self._priced(sale), start=1):
            listed, free = amount, 0
            if exported is not None:
                listed, free = exported.list_amount, exported.free_units
                if listed != amount and kind == "sale":
                    given = exported.discounts or ((IMPORTED_DISCOUNT, listed - amount, None),)
                    for seq, (reason, cut, detail) in enumerate(given, start=1):
                        cuts += (sale_id, line_no, seq, reason, cut, detail)
            values += (sale_id, line_no, member_id, ts, kind, product_id, qty, unit, listed, free, amount, None)
            subtotal += listed
            total += amount
        if cuts:  # once every line is priced: a refused sale leaves no trace
            self._discounts += cuts
        return values, subtotal, total

    def _sale_lines(self, sale: ImportedSale, priced):
        """(rows of ``sale_lines``, discounts, code redeemed) of a sale with a discount code."""
        code = sale.discount_code
        row = self.db.execute("SELECT percent FROM codes WHERE code = ?", [code]).fetchone()
        if row is None:
            raise RowError("discount_code", f"unknown discount code {code!r}")
        used = self._pending_codes.get(code) or (
            self.db.execute("SELECT sale_id FROM code_redemptions WHERE code = ?", [code]).fetchone() or [None]
        )[0]
        if used is not None and used != sale.sale_id:
            raise RowError("discount_code", f"discount code {code} was already used by sale {used}")
        percent = parse_number(row[0])
        lines, discounts = [], []
        for line_no, (product_id, qty, unit, amount, exported) in enumerate(priced, start=1):
            if exported is not None and exported.discounts is not None:  # each discount, the code's among them
                discounts += [(line_no, seq, *discount) for seq, discount in enumerate(exported.discounts, start=1)]
                lines.append(self._line(sale, line_no, product_id, qty, unit, exported.list_amount, amount,
                                        free=exported.free_units))
                continue
            if exported is None:  # the code's discount comes off the amount the file gave
                listed, paid = amount, amount - percent_of(amount, percent)
            else:  # the file gave what was paid after every discount, the code's among them
                listed, paid = exported.list_amount, amount
            cut = percent_of(listed, percent)
            if paid > listed - cut:
                raise RowError("total", f"{product_id} was paid more than its list amount less the code's {format_number(percent)}%")
            if cut:
                discounts.append((line_no, 1, "code", cut, f"{code} {format_number(percent)}%"))
            if listed - cut > paid:  # the rest of what the file says this line was discounted
                discounts.append((line_no, 2 if cut else 1, IMPORTED_DISCOUNT, listed - cut - paid, None))
            lines.append(self._line(sale, line_no, product_id, qty, unit, listed, paid,
                                    free=exported.free_units if exported is not None else 0))
        return lines, discounts, code

    def _return_lines(self, sale: ImportedSale, priced):
        """(rows of ``sale_lines``, no discounts, no code) of a return against its sale: refunds never
        above what was paid. (A return with no original sale is paid as priced, in :meth:`sale`.)"""
        if sale.discount_code is not None:
            raise RowError("discount_code", "a return does not redeem a discount code")
        if sale.original_sale_id in self._pending_ids or sale.original_sale_id in self._pending_returned:
            self.flush()  # the sale, and what was returned of it, as this file has it so far
        original = load_sale(self.db, sale.original_sale_id)
        if original is None or original.kind != "sale":
            raise RowError("original_sale_id", f"unknown sale {sale.original_sale_id!r}")
        if original.member_id != sale.member_id:
            raise RowError("member_id", f"sale {original.sale_id} belongs to {original.member_id or 'no member'}")
        if sale.ts < ts_text(original.ts):  # the ledger's text sorts as time does
            raise RowError("ts", f"a return cannot be dated before its sale ({ts_text(original.ts)})")
        left = {sold.line_no: sold.returnable for sold in original.lines}
        rows = []
        lines = {sold.line_no: sold for sold in original.lines}
        for product_id, qty, _unit, amount, exported in priced:
            need = qty
            taking = original.lines
            if exported is not None and exported.original_line_no is not None:  # the line the till gave back
                named = lines.get(exported.original_line_no)
                if named is None or named.product_id != product_id:
                    raise RowError("original_line_no", f"sale {original.sale_id} has no line {exported.original_line_no} "
                                                       f"of {product_id}")
                taking = [named]
            for sold in taking:
                if sold.product_id != product_id or need == 0:
                    continue
                take = min(need, left[sold.line_no])
                if not take:
                    continue
                before = sold.qty - left[sold.line_no]
                left[sold.line_no] -= take
                need -= take
                paid = share(sold.total, before + take, sold.qty) - share(sold.total, before, sold.qty)
                refund = amount if amount is not None and take == qty else paid
                if refund > paid:
                    raise RowError("unit_price", f"refunds {refund} minor units, more than the {paid} paid for them")
                listed = share(sold.list_amount, before + take, sold.qty) - share(sold.list_amount, before, sold.qty)
                rows.append(self._line(sale, len(rows) + 1, product_id, take, sold.unit_price, listed, refund,
                                       sold.line_no, take if sold.free_units else 0))
            if need:
                raise RowError("qty", f"cannot return {qty} x {product_id}: more than sale {original.sale_id} has left")
        return rows, [], None
