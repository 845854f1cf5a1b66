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
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlite_utils import Database

from ..engine import Program
from ..engine.money import AmountError, decimal_parts, divide_half_up
from ..ledger import write
from ..ledger.imports import RowError, SaleLineRecord, Saver
from .readers import InputError, Progress, counted, csv_values, expected_lines, open_text

COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")
OPEN_INVOICES = 256
"""Invoices kept open while reading: an invoice's lines may be interleaved with a few others."""


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
def parse_when(text: str) -> datetime:
    """``2010-12-01 08:26:00`` or the original's ``12/1/2010 8:26`` (an invoice's lines share one)."""
    text = text.strip()
    try:
        if "/" in text:
            return datetime.strptime(text, "%m/%d/%Y %H:%M")
        return datetime.fromisoformat(text).replace(microsecond=0)
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
    ts: datetime
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
    try:
        qty = int(values[QUANTITY])
    except ValueError:
        raise RowError("Quantity", f"{values[QUANTITY]!r} is not a whole number") from None
    try:
        price, scale = decimal_parts(values[PRICE])
    except AmountError:
        raise RowError("UnitPrice", f"{values[PRICE]!r} is not a price") from None
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


def import_online_retail(
    db: Database,
    program: Program,
    path: str | Path,
    *,
    skip_invalid: bool = False,
    rejects=None,
    progress: Progress | None = None,
) -> RetailSummary:
    """Import the file in one transaction (all or nothing unless ``skip_invalid``)."""
    path = Path(path)
    summary = RetailSummary()

    def refuse(line_no: int, values: dict, exc: RowError) -> None:
        if rejects is None:
            raise InputError(path, str(exc), line_no, exc.field) from None
        rejects.add(line_no, dict(zip(COLUMNS, values)), exc.field, str(exc))
        summary.rejected += 1

    with write(db):
        saver = Saver(db, program, expected_lines(path))
        open_invoices: OrderedDict[str, list[_Line]] = OrderedDict()
        closed: set[str] = set()

        def close(invoice: str) -> None:
            lines = open_invoices.pop(invoice)
            closed.add(invoice)
            head = lines[0]
            records = [
                SaleLineRecord(
                    sale_id=head.invoice, ts=head.ts, member_id=head.member, product_id=line.product,
                    qty=line.qty, unit_price=None, line_amount=line.amount,
                    kind="return" if head.is_return else "sale", original_sale_id=None, discount_code=None,
                )
                for line in lines
            ]
            try:
                if head.member is not None and saver.ensure_member(head.member, head.ts):
                    summary.members_added += 1
                for line in lines:
                    if line.member != head.member:
                        raise RowError("CustomerID", f"invoice {head.invoice} names two customers")
                    if saver.ensure_product(line.product, line.description):
                        summary.products_added += 1
                before = saver.counts.unchanged
                saver.sale(records)
            except RowError as exc:
                for line in lines:
                    refuse(line.row, line.values, exc)
                return
            unchanged = saver.counts.unchanged - before
            summary.unchanged_lines += unchanged
            if not unchanged:
                summary.invoices += 1
                if head.is_return:
                    summary.return_lines += len(lines)
                else:
                    summary.sale_lines += len(lines)
                if head.member is None:
                    summary.anonymous_lines += len(lines)

        for number, values in _rows(path, progress):
            summary.rows += 1
            try:
                line = _parse(number, values, summary)
            except RowError as exc:
                refuse(number, values, exc)
                continue
            if line is None:
                continue
            if line.invoice in closed:
                refuse(number, values, RowError("InvoiceNo", f"invoice {line.invoice}'s lines are too far apart"))
                continue
            if line.invoice not in open_invoices:
                if len(open_invoices) >= OPEN_INVOICES:
                    close(next(iter(open_invoices)))
                open_invoices[line.invoice] = []
            open_invoices[line.invoice].append(line)
        while open_invoices:
            close(next(iter(open_invoices)))
        if summary.rows == 0:
            raise InputError(path, "has no rows to import")
        saver.finish()
    return summary
