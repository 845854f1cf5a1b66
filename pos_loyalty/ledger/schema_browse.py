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
    # The member list pages in these orders straight off an index (no sort of 100,000 rows):
    # the tier order (net spend, or points for a points programme) is the one it opens in.
    # "Last visit" has no index on purpose: every checkout moves its member's last visit, and
    # keeping an index in that order cost each durable checkout two more pages in its commit
    # (15.7 -> 13.5 pages measured); that sort reads member_summary whole, 25-50 ms per 50,000.
    "member_summary_net_spend": "member_summary (spend - refunds, member_id)",
    "member_summary_points": "member_summary (points_net, member_id)",
}


@migrations()
def m101_browse_indexes(db: Database) -> None:
    """Indexes for the TUI's type-ahead searches and the member list's sort orders."""
    for name, target in BROWSE_INDEXES.items():
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


@migrations()
def m102_no_last_visit_index(db: Database) -> None:
    """Ledgers that had the last-visit index lose it (see ``BROWSE_INDEXES``)."""
    db.execute("DROP INDEX IF EXISTS member_summary_last_visit")


NAME_INDEX = "member_names"
"""Full-text index of members' names, so a surname or any word of a name finds its member."""


@migrations()
def m103_member_names(db: Database) -> None:
    """Every word of every member's name, prefix-searchable (``"smi"*`` finds Anna Smith).

    An FTS5 table over ``members`` (external content: the names stay in ``members`` only), kept
    in step by triggers. Erasing a member rewrites the index (``ledger.writes.erase_member``), so
    the erased name's words leave it too.
    """
    db.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {NAME_INDEX} USING fts5("
        "name, content='members', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2', prefix='1 2')"
    )
    db.execute(
        f"""
        CREATE TRIGGER IF NOT EXISTS {NAME_INDEX}_insert AFTER INSERT ON members BEGIN
            INSERT INTO {NAME_INDEX} (rowid, name) VALUES (new.rowid, new.name);
        END
        """
    )
    db.execute(
        f"""
        CREATE TRIGGER IF NOT EXISTS {NAME_INDEX}_update AFTER UPDATE OF name ON members BEGIN
            INSERT INTO {NAME_INDEX} ({NAME_INDEX}, rowid, name) VALUES ('delete', old.rowid, old.name);
            INSERT INTO {NAME_INDEX} (rowid, name) VALUES (new.rowid, new.name);
        END
        """
    )
    db.execute(f"INSERT INTO {NAME_INDEX} ({NAME_INDEX}) VALUES ('rebuild')")
