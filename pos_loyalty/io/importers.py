"""Importing members, products, sales, memberships and codes: validate every row, write all or nothing."""

from __future__ import annotations

import csv
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from sys import intern

from sqlite_utils import Database

from ..engine import Program
from ..engine.money import AmountError, format_amount, parse_amount, parse_number
from ..ledger.contacts import ContactError, email_address, phone_number
from ..ledger.imports import (
    CodeRecord,
    ExportedLine,
    ImportCounts,
    ImportedSale,
    MemberRecord,
    MembershipRecord,
    ProductRecord,
    RowError,
    Saver,
    import_transaction,
)
from ..ledger.timestamps import TimestampError, parse_day, parse_ts, ts_text_of
from .parallel import parsed
from .readers import InputError, Progress, cell, expected_lines, guess_format, read_cells, read_rows

KINDS = ("members", "products", "sales", "memberships", "codes")
MAX_COUNT = 10**9
"""The largest quantity a row may carry (SQLite's integers and the shop's sense both end somewhere)."""
MAX_AMOUNT = 10**13
"""The largest amount in minor units (100 billion in a two-decimal currency)."""


@dataclass(frozen=True)
class Layout:
    """The columns a kind of file has, and which must be there."""

    columns: frozenset[str]
    required: frozenset[str]


EXPORTED_SALE_COLUMNS = (
    "list_amount", "discount", "total", "discounts", "free_units", "original_line_no", "source",
)
"""What ``export sales`` writes beside the import layout, so its file imports again as it was: the
line's list amount, its discount, what was paid (``total``, as ``line_amount``), each discount with
its reason (:func:`discounts_cell`), the units given free and, on a return, the line of the sale it
gives back; ``source`` is where the exporting ledger had the sale from, and an import records its own."""

LAYOUTS = {
    "members": Layout(
        frozenset({"member_id", "name", "email", "phone", "joined_at", "birthday"}), frozenset({"member_id"})
    ),
    "products": Layout(
        frozenset({"product_id", "name", "category", "price", "valid_from"}), frozenset({"product_id", "price"})
    ),
    "sales": Layout(
        frozenset(
            {
                "sale_id", "ts", "member_id", "product_id", "qty", "unit_price", "line_amount",
                "kind", "original_sale_id", "discount_code", *EXPORTED_SALE_COLUMNS,
            }
        ),
        frozenset({"sale_id", "ts", "product_id"}),
    ),
    "memberships": Layout(frozenset({"member_id", "ts", "status"}), frozenset({"member_id", "ts", "status"})),
    "codes": Layout(frozenset({"code", "percent"}), frozenset({"code", "percent"})),
}


class Fields:
    """Typed access to one row's cells; every problem raises RowError naming the column."""

    def __init__(self, row: dict, decimals: int):
        self.row = row
        self.decimals = decimals

    def text(self, key: str, required: bool = False) -> str | None:
        value = cell(self.row, key)
        if value is None and required:
            raise RowError(key, "is empty")
        return value

    def amount(self, key: str, required: bool = False) -> int | None:
        return amount_cell(key, self.text(key, required), self.decimals)

    def count(self, key: str, default: int) -> int:
        return count_cell(key, self.text(key), default)

    def moment(self, key: str, required: bool = False):
        return moment_cell(key, self.text(key, required))

    def contact(self, key: str, check) -> str | None:
        try:
            return check(self.text(key))
        except ContactError as exc:
            raise RowError(key, str(exc)) from None

    def day(self, key: str) -> str | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return parse_day(value).isoformat()
        except TimestampError as exc:
            raise RowError(key, str(exc)) from None


def amount_cell(key: str, value: str | None, decimals: int) -> int | None:
    """A money cell's minor units (None when blank): no more decimals than the currency, not negative."""
    if value is None:
        return None
    try:
        minor = _minor_units(value, decimals)
    except AmountError as exc:
        minor = _decimal_comma_units(value, decimals)
        if minor is None:
            hint = " (no thousands separators; a decimal comma takes one or two digits)" if "," in value else ""
            raise RowError(key, f"{exc}{hint}") from None
    if minor < 0:
        raise RowError(key, f"{value!r} is negative")
    if minor > MAX_AMOUNT:
        raise RowError(key, f"{value!r} is more than a till handles")
    return minor


_minor_units = lru_cache(maxsize=16384)(parse_amount)
"""parse_amount, cached: a shop's files repeat a few thousand prices over millions of lines."""

_DECIMAL_COMMA = re.compile(r"^\s*([+-]?[0-9]+),([0-9]{1,2})\s*$")
"""``12,50``: a decimal comma, as spreadsheets write amounts in much of Europe. One or two digits
after it only: ``1,250`` could be a thousand two hundred and fifty, and is refused."""


def decimal_point(text: str) -> str | None:
    """``"12,50"`` -> ``"12.50"``; None for text that is not a number with a decimal comma."""
    match = _DECIMAL_COMMA.match(text)
    return None if match is None else f"{match.group(1)}.{match.group(2)}"


def _decimal_comma_units(text: str, decimals: int) -> int | None:
    """``"12,50"`` in minor units; None when it is not an amount with a decimal comma."""
    point = decimal_point(text)
    if point is None:
        return None
    try:
        return _minor_units(point, decimals)
    except AmountError:
        return None


def count_cell(key: str, value: str | None, default: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise RowError(key, f"{value!r} is not a whole number") from None
    if abs(number) > MAX_COUNT:
        raise RowError(key, f"{value!r} is more than a till handles")
    return number


def moment_cell(key: str, value: str | None):
    if value is None:
        return None
    try:
        return parse_ts(value)
    except TimestampError as exc:
        raise RowError(key, str(exc)) from None


def member_record(f: Fields) -> MemberRecord:
    return MemberRecord(
        member_id=f.text("member_id", True),
        name=f.text("name") or "",
        email=f.contact("email", email_address),
        phone=f.contact("phone", phone_number),
        joined_at=f.moment("joined_at"),
        birthday=f.day("birthday"),
    )


def product_record(f: Fields) -> ProductRecord:
    """A product and one of its prices; a blank price is a product with none (history names it, as
    the Online Retail file's products, and the till cannot sell it)."""
    price = f.amount("price")
    valid_from = f.moment("valid_from")
    if price is None and valid_from is not None:
        raise RowError("price", "is empty (a valid_from needs a price)")
    return ProductRecord(
        product_id=f.text("product_id", True),
        name=f.text("name") or f.text("product_id", True),
        category=f.text("category"),
        price=price,
        valid_from=valid_from,
    )


def membership_record(f: Fields) -> MembershipRecord:
    return MembershipRecord(f.text("member_id", True), f.moment("ts", True), f.text("status", True))


def code_record(f: Fields) -> CodeRecord:
    text = f.text("percent", True)
    try:
        percent = parse_number(decimal_point(text) or text)
    except AmountError as exc:
        raise RowError("percent", str(exc)) from None
    return CodeRecord(f.text("code", True).upper(), percent)


SaleLine = tuple[tuple, tuple]
"""One sales-file row as ``((sale_id, ts, member_id, kind, original_sale_id, discount_code),
(product_id, qty, unit_price, line_amount, exported))``: what it says of its sale, and its item
(``exported`` an :class:`~..ledger.imports.ExportedLine` where the file is in ``export sales``'
layout, else None)."""
SHARED_FIELDS = ("ts", "member_id", "kind", "original_sale_id", "discount_code")
"""What every line of one sale must agree on (after the sale id, in a :data:`SaleLine`'s head)."""


SALE_CELLS = (
    "sale_id", "ts", "member_id", "product_id", "qty", "unit_price", "line_amount",
    "kind", "original_sale_id", "discount_code", *EXPORTED_SALE_COLUMNS,
)
"""The columns of a sales file, in the order :func:`sale_line` takes a row's cells."""
_OWN_CELLS = len(SALE_CELLS) - len(EXPORTED_SALE_COLUMNS)
"""How many of :data:`SALE_CELLS` every sales file may have; the export's follow, and are left off
a CSV row's cells where the file has none of them (:func:`sale_line` reads the rest)."""
_EXPORTED_READ = slice(_OWN_CELLS, len(SALE_CELLS) - 1)
"""The cells of the export's columns an import reads (all but ``source``, the last)."""


_LINE_KINDS = {"sale": "sale", "return": "return"}
"""A line's kind, and the one object that stands for it.

Kinds and product ids repeat over a file's lines: as one object each (``intern`` for the ids),
a chunk of events from the parsing process pickles each once (unpickling 50,000 sales: 0.097 ->
0.065 s)."""


def sale_line(cells: tuple, decimals: int) -> SaleLine:
    """One imported sale line from its cells (:data:`SALE_CELLS`), checked cell by cell in the
    same order as every other record.

    It runs once per line of a sales file: the cells come as a tuple, not a dict, and each is
    stripped once up front instead of through a ``Fields`` accessor (12.3 -> 8.8 µs a line with
    a dict; the tuple saves the dict). A plain tuple comes out, with the time as the ledger's
    text: it may be sent from the parsing process.
    """
    sale_id, ts, member_id, product_id, qty, unit_price, line_amount, kind, original, code = [
        value and value.strip() or None for value in cells
    ]
    kind = (kind or "sale").lower()
    if kind not in _LINE_KINDS:
        raise RowError("kind", f"must be sale or return, not {kind!r}")
    kind = _LINE_KINDS[kind]
    qty = count_cell("qty", qty, 1)
    if qty < 1:
        raise RowError("qty", f"must be at least 1 (a return is kind=return with a positive qty), not {qty}")
    unit_price = amount_cell("unit_price", unit_price, decimals)
    line_amount = amount_cell("line_amount", line_amount, decimals)
    if unit_price is not None and line_amount is not None:
        raise RowError("line_amount", "give unit_price or line_amount, not both")
    if original is not None and kind != "return":
        raise RowError("original_sale_id", "only a return references an original sale")
    if sale_id is None:
        raise RowError("sale_id", "is empty")
    if ts is None:
        raise RowError("ts", "is empty")
    ts = moment_text("ts", ts)
    if product_id is None:
        raise RowError("product_id", "is empty")
    product_id = intern(product_id)
    return (
        (sale_id, ts, member_id, kind, original, code.upper() if code else None),
        (product_id, qty, unit_price, line_amount, None),
    )


def exported_sale_line(cells: tuple, decimals: int) -> SaleLine:
    """As :func:`sale_line`, for a row with cells of ``export sales``' own columns too (some of
    them may have been left off the end): what was paid (``total``, as ``line_amount``), with
    ``unit_price`` beside it the list price a unit, the line's list amount (``list_amount``, else
    the unit price times the quantity, else ``total`` plus ``discount``) and the discounts that
    make up the difference. Where the file gives them all they must agree."""
    head, item = sale_line(cells[:_OWN_CELLS], decimals)
    exported = [value and value.strip() or None for value in cells[_EXPORTED_READ]]
    if not any(exported):
        return head, item
    exported += [None] * (_EXPORTED_READ.stop - _OWN_CELLS - len(exported))  # columns left off the end
    listed_text, discount_text, total_text, discounts_text, free_text, line_text = exported
    _, _, _, kind, original, code = head
    product_id, qty, unit_price, line_amount, _ = item
    listed = amount_cell("list_amount", listed_text, decimals)
    discount = amount_cell("discount", discount_text, decimals)
    total = amount_cell("total", total_text, decimals)
    discounts = discounts_cell(discounts_text, decimals)
    free = count_cell("free_units", free_text, 0) if free_text else 0
    if not 0 <= free <= qty:
        raise RowError("free_units", f"must be from 0 to the quantity ({qty}), not {free}")
    original_line = (count_cell("original_line_no", line_text, 0) or None) if line_text else None
    if line_text is not None and (original is None or original_line is None):
        raise RowError("original_line_no", "names a line of the original sale: only a return with an original_sale_id has one")
    if total is not None and line_amount is not None:
        raise RowError("total", "give line_amount or total, not both (each is what was paid)")
    paid = line_amount if total is None else total
    if paid is None:
        raise RowError("total", "is empty (list_amount and discount need the amount paid beside them)")
    if listed is None:
        listed = unit_price * qty if unit_price is not None else paid + (discount or 0)
    if paid > listed:
        raise RowError("total", f"{total_text!r} is more than the list amount ({format_amount(listed, decimals)})")
    if discount is not None and discount != listed - paid:
        raise RowError("discount", f"{discount_text!r} is not the list amount less the total "
                                   f"({format_amount(listed - paid, decimals)})")
    if discounts is not None:
        if kind == "return":
            raise RowError("discounts", "a return's lines have none (their refund is what was paid for them)")
        if code is None and any(reason == "code" for reason, _, _ in discounts):
            raise RowError("discounts", "a code's discount on a sale that names no discount code")
        added = sum(amount for _, amount, _ in discounts)
        if added != listed - paid:
            raise RowError("discounts", f"add up to {format_amount(added, decimals)}, not the list amount less the total "
                                        f"({format_amount(listed - paid, decimals)})")
    if paid == listed and not free and original_line is None and unit_price is not None and unit_price * qty == paid:
        return head, (product_id, qty, unit_price, None, None)  # as a plain line says it (most lines: no discount)
    return head, (product_id, qty, unit_price, paid, ExportedLine(listed, discounts, free, original_line))


_REASON = re.compile(r"[a-z][a-z_]*")


def discounts_cell(value: str | None, decimals: int) -> tuple[tuple[str, int, str | None], ...] | None:
    """A line's discounts as ``export sales`` writes them, ``reason amount detail`` for each in
    shell quoting (``tier 0.76 'SILVER 5%' stamp 3.05 'coffee card: buy 5, this one is free'``),
    as (reason, minor units, detail) triples; None when the cell is blank."""
    if value is None:
        return None
    try:
        words = shlex.split(value)
    except ValueError:
        raise RowError("discounts", f"{value[:40]!r} has a quote that is not closed") from None
    if len(words) % 3:
        raise RowError("discounts", f"{value[:40]!r} is not a reason, an amount and a detail for each discount "
                                    "(e.g. tier 0.76 'SILVER 5%')")
    found = []
    for reason, amount, detail in zip(words[::3], words[1::3], words[2::3]):
        if not _REASON.fullmatch(reason):
            raise RowError("discounts", f"{reason!r} is not a reason (a word such as tier, stamp, promotion, code)")
        minor = amount_cell("discounts", amount, decimals)
        if not minor:
            raise RowError("discounts", f"{reason} {amount}: a discount takes something off")
        found.append((reason, minor, detail or None))
    return tuple(found)


def moment_text(key: str, value: str) -> str:
    """A time cell as the ledger's text; cached, as the lines of one sale repeat their time."""
    try:
        return _ledger_text(value)
    except TimestampError as exc:
        raise RowError(key, str(exc)) from None


_ledger_text = lru_cache(maxsize=4096)(ts_text_of)


def sale_events(
    path: Path, fmt: str, decimals: int, keep_cells: bool, progress: Progress | None = None
) -> Iterator[tuple]:
    """A sales file's rows, checked and grouped into sales, as events for :func:`_save_sales`.

    Sales are their consecutive lines with one sale id. Everything here is the file's own
    business, so it may run in the parsing process (see parallel.py); the ledger's checks come
    after. In file order it yields ``("refused", row, field, message, cells)`` for a row refused
    on its own, ``("sale", sale, rows, cells)`` for each sale (``sale`` an :class:`ImportedSale`
    as a plain tuple) and, last, ``("read", rows)``. ``cells`` are each row's cells for a reject
    file, or None unless ``keep_cells``.
    """
    layout = LAYOUTS["sales"]
    read = 0
    pending: list[tuple[int, dict | None, SaleLine]] = []

    def close() -> list[tuple]:
        """The events of the sale whose lines are pending: the sale, or each line refused."""
        head = pending[0][2][0]
        for _, _, (other, _) in pending:
            if other != head:
                field = next(name for name, a, b in zip(SHARED_FIELDS, other[1:], head[1:]) if a != b)
                message = f"sale {head[0]}: {field} differs between its lines"
                events = [("refused", number, field, message, row) for number, row, _ in pending]
                break
        else:
            sale = (*head, [item for _, _, (_, item) in pending])
            cells = [row for _, row, _ in pending] if keep_cells else None
            events = [("sale", sale, [number for number, _, _ in pending], cells)]
        pending.clear()
        return events

    cells = read_cells(
        path, fmt, set(layout.columns), set(layout.required), SALE_CELLS, progress, optional=len(EXPORTED_SALE_COLUMNS)
    )
    for number, values in cells:
        read += 1
        row = dict(zip(SALE_CELLS, values)) if keep_cells else None
        try:
            line = sale_line(values, decimals) if len(values) == _OWN_CELLS else exported_sale_line(values, decimals)
        except RowError as exc:
            yield ("refused", number, exc.field, str(exc), row)
            continue
        sale_id = line[0][0]
        if pending and sale_id != pending[0][2][0][0]:
            yield from close()
        # A sale id seen again further on is refused by the Saver, which knows the ids written
        # (holding every id here would grow with the file).
        pending.append((number, row, line))
    if pending:
        yield from close()
    yield ("read", read)


PARSERS: dict[str, Callable[[Fields], object]] = {
    "members": member_record,
    "products": product_record,
    "memberships": membership_record,
    "codes": code_record,
}


class Rejects:
    """The reject file of an ``--skip-invalid`` import: each refused row with the reason."""

    def __init__(self, path: Path, columns: list[str]):
        self.path = path
        self.columns = columns
        self.count = 0
        self._handle = None
        self._writer = None

    def add(self, number: int, row: dict, field: str | None, reason: str) -> None:
        if self._writer is None:
            self._handle = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["row", *self.columns, "field", "reason"])
        self._writer.writerow([number, *(cell(row, c) or "" for c in self.columns), field or "", reason])
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def default_rejects(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def import_file(
    db: Database,
    program: Program,
    kind: str,
    path: str | Path,
    fmt: str | None = None,
    *,
    skip_invalid: bool = False,
    rejects: Path | None = None,
    progress: Progress | None = None,
) -> ImportCounts:
    """Import one file as one transaction.

    By default every row must be valid or nothing is written. With ``skip_invalid`` the valid
    rows are written and each refused row goes to the reject file with its reason. A big sales
    file is read and checked by :func:`sale_events` in a second process (see parallel.py).
    """
    if kind not in KINDS:
        raise InputError(path, f"cannot import {kind!r} (expected one of: {', '.join(KINDS)})")
    path = Path(path)
    fmt = guess_format(path, fmt)
    layout = LAYOUTS[kind]
    refused = Rejects(rejects or default_rejects(path), sorted(layout.columns)) if skip_invalid else None

    def refuse(number: int, row: dict | None, exc: RowError) -> None:
        if refused is None:
            raise InputError(path, str(exc), number, exc.field) from None
        refused.add(number, row, exc.field, str(exc))

    try:
        with import_transaction(db):
            guess = expected_lines(path)
            saver = Saver(db, program, guess if kind == "sales" else 0, expected_members=guess if kind == "members" else 0)
            if kind == "sales":
                args = (path, fmt, program.decimals, refused is not None)
                with parsed(path, sale_events, *args, progress=progress) as events:
                    _save_sales(saver, events, refuse)
            else:
                rows = read_rows(path, fmt, set(layout.columns), set(layout.required), progress)
                save = SAVERS[kind](saver)
                for number, row in rows:
                    saver.counts.read += 1
                    try:
                        save(PARSERS[kind](Fields(row, program.decimals)))
                    except RowError as exc:
                        refuse(number, row, exc)
            # A header and no rows is what an export of nothing writes: importing it changes nothing.
            counts = saver.finish()
    finally:
        if refused is not None:
            refused.close()
    counts.rejected = refused.count if refused is not None else 0
    return counts


SAVERS = {
    "members": lambda saver: saver.member,
    "products": lambda saver: saver.product,
    "memberships": lambda saver: saver.membership,
    "codes": lambda saver: saver.code,
}


def _save_sales(saver: Saver, events: Iterator[tuple], refuse) -> None:
    """Save each sale of :func:`sale_events`, or refuse all its rows; refuse the rows refused already."""
    for event in events:
        tag = event[0]
        if tag == "sale":
            _, sale, numbers, cells = event
            try:
                saver.sale(ImportedSale._make(sale))
            except RowError as exc:
                for index, number in enumerate(numbers):
                    refuse(number, cells[index] if cells else None, exc)
        elif tag == "refused":
            _, number, field, message, cells = event
            refuse(number, cells, RowError(field, message))
        else:
            saver.counts.read = event[1]
