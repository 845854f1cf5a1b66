"""The append-only SQLite ledger: facts in, engine objects out.

Imports no Textual, Typer or Rich. Every write is one transaction (see ``connection.write``).
"""

from . import schema_browse  # noqa: F401  (registers the browse indexes' migration)
from .connection import LedgerBusy, LedgerError, backup, connect, memory, write
from .reads import SaleRecord, SoldLine, load_catalogue, load_member_facts, load_program, load_sale
from .timestamps import TimestampError, parse_ts, ts_text
from .writes import (
    Receipt,
    ReturnReceipt,
    add_member,
    adjust_points,
    change_membership,
    erase_member,
    expire_all_lapsed,
    issue_codes,
    new_sale_id,
    quote_for,
    record_return,
    record_sale,
    set_program,
)

__all__ = [
    "LedgerBusy", "LedgerError", "Receipt", "ReturnReceipt", "SaleRecord", "SoldLine", "TimestampError",
    "add_member", "adjust_points", "backup", "change_membership", "connect", "erase_member", "expire_all_lapsed", "issue_codes", "load_catalogue",
    "load_member_facts", "load_program", "load_sale", "memory", "new_sale_id", "parse_ts", "quote_for",
    "record_return", "record_sale", "set_program", "ts_text", "write",
]
