"""Indexes for browsing: type-ahead over members and products, and the sorted, paged member list.

Registered on the ledger's own ``migrations`` set, after the core schema; importing this module
(``browse`` does) is what registers it. The indexes only speed up reads: nothing about the facts
changes, and an old ledger gains them the next time it is opened.
"""

from __future__ import annotations

from sqlite_utils import Database

from .schema import migrations

BROWSE_INDEXES = {
    # Case-insensitive prefix search: SQLite turns ``col LIKE 'abc%'`` into an index range
    # only when the index uses NOCASE (LIKE's own case rule).
    "members_id_nocase": "members (member_id COLLATE NOCASE)",
    "members_name_nocase": "members (name COLLATE NOCASE, member_id)",
    "members_email_nocase": "members (email COLLATE NOCASE)",
    "members_phone": "members (phone COLLATE NOCASE)",
    "products_name_nocase": "products (name COLLATE NOCASE)",
    "products_id_nocase": "products (product_id COLLATE NOCASE)",
    # The member list pages in these orders straight off an index (no sort of 100,000 rows).
    "member_summary_net_spend": "member_summary (spend - refunds, member_id)",
    "member_summary_points": "member_summary (points_net, member_id)",
    "member_summary_last_visit": "member_summary (last_visit, member_id)",
}


@migrations()
def m101_browse_indexes(db: Database) -> None:
    """Indexes for the TUI's type-ahead searches and the member list's sort orders."""
    for name, target in BROWSE_INDEXES.items():
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
