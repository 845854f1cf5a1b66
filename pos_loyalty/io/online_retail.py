"""The UCI Online Retail file as it is published: invoices become sales, customers become members.

What it holds and how each part is read (see ../shared/data/online-retail/README.md):
invoices starting with ``C`` are returns with no original sale; lines without a CustomerID are
anonymous; other negative lines (stock write-offs) and ``A`` invoices (bad-debt adjustments)
are skipped and counted; a line amount below a penny's precision is rounded half-up and counted.
A customer becomes a member who joined at their first invoice.
"""

from __future__ import annotations

import csv
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlite_utils import Database

from ..engine import Program
from ..engine.money import AmountError, decimal_parts, divide_half_up
from ..ledger.imports import ImportCounts, ImportedSale, ProductRecord, RowError, Saver, import_transaction
from ..ledger.timestamps import parse_ts, ts_text, ts_text_of
from .parallel import parsed
from .readers import InputError, Progress, counted, csv_values, expected_lines, open_text

COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")
LEDGER_TO_FILE = {"sale_id": "InvoiceNo", "member_id": "CustomerID", "product_id": "StockCode", "qty": "Quantity",
                  "unit_price": "UnitPrice", "ts": "InvoiceDate"}
"""The file's column for a ledger field the Saver names in a refusal."""
OPEN_INVOICES = 256
"""Invoices kept open while reading: an invoice's lines may be interleaved with a few others."""
LINES_PER_CUSTOMER = 100
"""A low guess of the file's lines per customer (the UCI file has 124), for the Saver's guess of
the members an import brings (see ``Saver.DEFER_MIN_MEMBERS``)."""


@dataclass
class RetailSummary:
    """What an Online Retail import read, wrote, skipped and rounded."""

    rows: int = 0
    sale_lines: int = 0
    return_lines: int = 0
    anonymous_lines: int = 0
    invoices: int = 0
    members_added: int = 0
    products_added: int = 0
    skipped_write_offs: int = 0
    skipped_bad_debt: int = 0
    rounded_lines: int = 0
    unchanged_lines: int = 0
    rejected: int = 0
    notes: list[str] = field(default_factory=list)


@lru_cache(maxsize=4096)
def parse_when(text: str) -> str:
    """``2010-12-01 08:26:00`` or the original's ``12/1/2010 8:26``, as the ledger's text (an invoice's lines share one)."""
    text = text.strip()
    try:
        if "/" in text:
            return ts_text(datetime.strptime(text, "%m/%d/%Y %H:%M"))
        # As every other import reads a time: one with a UTC offset becomes the shop's local time
        # (stored with its offset, it could not be compared with any other instant of the ledger).
        return ts_text_of(text)
    except ValueError:
        raise RowError("InvoiceDate", f"{text!r} is not a date and time") from None


def customer_id(text: str | None) -> str | None:
    """``17850``, or ``17850.0`` as some copies write it; empty means anonymous."""
    text = text.strip()
    if not text:
        return None
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit():
        raise RowError("CustomerID", f"{text!r} is not a customer number")
    return text


@dataclass(slots=True)
class _Line:
    row: int
    values: list[str]
    invoice: str
    ts: str
    member: str | None
    product: str
    description: str
    qty: int
    amount: int
    is_return: bool


def _rows(path: Path, progress: Progress | None):
    handle = open_text(path)
    with handle:
        reader = csv.reader(counted(handle, path, progress))
        header = next(reader, None)
        if header is None:
            raise InputError(path, "is empty")
        header = [h.strip() for h in header]
        if tuple(header) != COLUMNS:
            missing = [c for c in COLUMNS if c not in header]
            raise InputError(
                path,
                f"is not the Online Retail layout (expected {','.join(COLUMNS)})",
                1,
                missing[0] if missing else None,
            )
        yield from csv_values(path, reader, len(COLUMNS))


INVOICE, STOCK, DESCRIPTION, QUANTITY, DATE, PRICE, CUSTOMER, COUNTRY = range(len(COLUMNS))


def _parse(number: int, values: list[str], summary: RetailSummary) -> _Line | None:
    """One row as a line, or None when it is a write-off or a bad-debt adjustment (counted)."""
    invoice = values[INVOICE].strip()
    if not invoice:
        raise RowError("InvoiceNo", "is empty")
    if invoice.upper().startswith("A"):
        summary.skipped_bad_debt += 1
        return None
    is_return = invoice.upper().startswith("C")
    qty = _quantity(values)
    price, scale = _unit_price(values)
    member = customer_id(values[CUSTOMER])
    if not is_return and qty < 0:
        summary.skipped_write_offs += 1
        return None
    if qty == 0:
        raise RowError("Quantity", "is 0")
    if price < 0:
        raise RowError("UnitPrice", "is negative")
    if is_return and qty > 0:
        raise RowError("Quantity", "a cancellation (C invoice) should have a negative quantity")
    exact = abs(qty) * price * 100
    if exact % scale:
        summary.rounded_lines += 1
    product = values[STOCK].strip()
    if not product:
        raise RowError("StockCode", "is empty")
    return _Line(
        number, values, invoice, parse_when(values[DATE]), member, product,
        values[DESCRIPTION].strip(), abs(qty), divide_half_up(exact, scale), is_return,
    )


def _quantity(values: list[str]) -> int:
    try:
        return int(values[QUANTITY])
    except ValueError:
        raise RowError("Quantity", f"{values[QUANTITY]!r} is not a whole number") from None


def _unit_price(values: list[str]) -> tuple[int, int]:
    """The unit price as (integer, power of ten): exact, whatever its decimals."""
    try:
        return decimal_parts(values[PRICE])
    except AmountError:
        raise RowError("UnitPrice", f"{values[PRICE]!r} is not a price") from None


def invoice_events(path: Path, keep_cells: bool, progress: Progress | None = None) -> Iterator[tuple]:
    """The file's rows, checked and gathered into invoices, as events for :func:`import_online_retail`.

    Nothing here needs the ledger, so it may run in the parsing process (see parallel.py). In
    file order it yields ``("refused", row, field, message, cells)`` for a row refused on its
    own, ``("invoice", sale, rows, new_products, cells)`` for each invoice as it closes (``sale``
    an :class:`ImportedSale` as a plain tuple; ``new_products`` the (product, description) pairs
    of products no invoice before it named) and, last, ``("counted", rows, write-offs, bad-debt
    lines, rounded lines)``. ``cells`` are each row's cells for a reject file, or None unless
    ``keep_cells``.
    """
    tally = RetailSummary()
    open_invoices: OrderedDict[str, list[_Line]] = OrderedDict()
    # One string per product: the pickled events refer to it instead of repeating it.
    products: dict[str, str] = {}

    def close() -> Iterator[tuple]:
        invoice, lines = open_invoices.popitem(last=False)
        head = lines[0]
        cells = [line.values for line in lines] if keep_cells else None
        if any(line.member != head.member for line in lines):
            for line in lines:
                yield ("refused", line.row, "CustomerID", f"invoice {invoice} names two customers",
                       line.values if keep_cells else None)
            return
        new_products = []
        for line in lines:
            if line.product not in products:
                products[line.product] = line.product
                new_products.append((line.product, line.description))
        sale = (invoice, head.ts, head.member, "return" if head.is_return else "sale", None, None,
                [(products[line.product], line.qty, None, line.amount, None) for line in lines])
        yield ("invoice", sale, [line.row for line in lines], new_products, cells)

    for number, values in _rows(path, progress):
        tally.rows += 1
        try:
            line = _parse(number, values, tally)
        except RowError as exc:
            yield ("refused", number, exc.field, str(exc), values if keep_cells else None)
            continue
        if line is None:
            continue
        lines = open_invoices.get(line.invoice)
        if lines is None:
            # An invoice met again after it closed is refused by the Saver, which knows the ids
            # it wrote (holding every invoice number here would grow with the file).
            if len(open_invoices) >= OPEN_INVOICES:
                yield from close()
            lines = open_invoices[line.invoice] = []
        lines.append(line)
    while open_invoices:
        yield from close()
    yield ("counted", tally.rows, tally.skipped_write_offs, tally.skipped_bad_debt, tally.rounded_lines)


def import_online_retail(
    db: Database,
    program: Program,
    path: str | Path,
    *,
    skip_invalid: bool = False,
    rejects=None,
    progress: Progress | None = None,
) -> RetailSummary:
    """Import the file in one transaction (all or nothing unless ``skip_invalid``).

    The rows are read and checked by :func:`invoice_events`, in a second process for a big file;
    each invoice is saved here as it comes.
    """
    path = Path(path)
    summary = RetailSummary()

    def refuse(row: int, values: list[str] | None, exc: RowError) -> None:
        if rejects is None:
            raise InputError(path, str(exc), row, exc.field) from None
        rejects.add(row, dict(zip(COLUMNS, values)), exc.field, str(exc))
        summary.rejected += 1

    def save(sale: ImportedSale, rows: list[int], new_products: list[tuple[str, str]], cells: list | None) -> None:
        try:
            if sale.member_id is not None and saver.ensure_member(sale.member_id, sale.ts):
                summary.members_added += 1
            for product_id, description in new_products:
                if saver.ensure_product(product_id, description):
                    summary.products_added += 1
            before = saver.counts.unchanged
            saver.sale(sale)
        except RowError as exc:
            exc = RowError(LEDGER_TO_FILE.get(exc.field, exc.field), str(exc))
            for index, row in enumerate(rows):
                refuse(row, cells[index] if cells else None, exc)
            return
        unchanged = saver.counts.unchanged - before
        summary.unchanged_lines += unchanged
        if not unchanged:
            summary.invoices += 1
            if sale.kind == "return":
                summary.return_lines += len(rows)
            else:
                summary.sale_lines += len(rows)
            if sale.member_id is None:
                summary.anonymous_lines += len(rows)

    with import_transaction(db):
        lines = expected_lines(path)
        saver = Saver(db, program, lines, expected_members=lines // LINES_PER_CUSTOMER)
        with parsed(path, invoice_events, path, rejects is not None, progress=progress) as events:
            for event in events:
                tag = event[0]
                if tag == "invoice":
                    save(ImportedSale._make(event[1]), *event[2:])
                elif tag == "refused":
                    _, row, field, message, cells = event
                    refuse(row, cells, RowError(field, message))
                else:
                    _, summary.rows, summary.skipped_write_offs, summary.skipped_bad_debt, summary.rounded_lines = event
        if summary.rows == 0:
            raise InputError(path, "has no rows to import")
        saver.finish()
    return summary


def import_online_retail_prices(
    db: Database, program: Program, path: str | Path, *, progress: Progress | None = None
) -> ImportCounts:
    """Give every product the file sells a catalogue price, so the till can sell it: the unit price
    of its latest sale (by invoice date, then the file's order), from that sale's time on, rounded
    half-up to the currency. Returns, write-offs and bad-debt lines are not prices and are passed
    over. A product's name becomes its latest description; a category set by hand is kept.

    One transaction, all or nothing; importing the same file again changes nothing.
    """
    path = Path(path)
    latest: dict[str, tuple[str, int, str, int]] = {}
    """product -> (time, row, description, price) of its latest sale so far."""
    rows = 0
    for number, values in _rows(path, progress):
        rows += 1
        try:
            priced = _sale_price(values, program.decimals)
        except RowError as exc:
            raise InputError(path, str(exc), number, exc.field) from None
        if priced is None:
            continue
        product, when, price = priced
        seen = latest.get(product)
        if seen is None or (when, number) > seen[:2]:
            latest[product] = (when, number, values[DESCRIPTION].strip(), price)
    if rows == 0:
        raise InputError(path, "has no rows to import")
    with import_transaction(db):
        categories = dict(db.execute("SELECT product_id, category FROM products"))
        saver = Saver(db, program, 0)
        for product, (when, number, description, price) in sorted(latest.items()):
            saver.counts.read += 1
            record = ProductRecord(product, description or product, categories.get(product), price, parse_ts(when))
            try:
                saver.product(record)
            except RowError as exc:
                raise InputError(path, str(exc), number, LEDGER_TO_FILE.get(exc.field, "UnitPrice")) from None
        counts = saver.finish()
    counts.read = rows
    return counts


def _sale_price(values: list[str], decimals: int) -> tuple[str, str, int] | None:
    """(product, time, unit price in minor units) of a row that sells something; None for any other row."""
    invoice = values[INVOICE].strip().upper()
    if not invoice or invoice[0] in "AC":
        return None
    if _quantity(values) <= 0:
        return None
    price, scale = _unit_price(values)
    minor = divide_half_up(price * 10**decimals, scale)
    product = values[STOCK].strip()
    if minor <= 0 or not product:
        return None  # nothing paid, or less than the smallest coin: not a price to sell at
    return product, parse_when(values[DATE]), minor
