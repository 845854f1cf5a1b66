"""The ledger's schema, created and upgraded by versioned sqlite-utils migrations."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("pos_loyalty")

FACT_TABLES = (
    "prices",
    "memberships",
    "sales",
    "sale_lines",
    "line_discounts",
    "point_movements",
    "code_redemptions",
    "outbox",
    "erasures",
)
"""Append-only tables: a correction is a new row, never an UPDATE or DELETE."""


MEMBER_HISTORY_INDEX = "sale_lines_member_history"
MEMBER_HISTORY_COLUMNS = ("member_id", "ts", "sale_id", "line_no", "product_id", "kind", "qty", "total", "free_units")
"""A member's sale lines in time order, carrying every column the engine reads.

Status, quote and every checkout read the member's whole history; with the columns in the index
that is one range scan, with no lookup into the table per line (the lines read 50-100 µs -> 40 µs
for a typical member on a 1,000,000-line ledger). A checkout still dirties one page of it.
"""


POINTS_HISTORY_INDEX = "point_movements_member_history"
POINTS_HISTORY_COLUMNS = ("member_id", "ts", "movement_id", "kind", "points", "expires_at", "lot_id", "reason")
"""A member's point movements in time order, carrying every column the engine reads.

Without it each movement was a lookup into the table, on a page of its own (movements are
appended in time order, a member's few among everyone's): a points checkout read ~57 pages for
them, each a read from the disk cache whenever another till had written since (SQLite then
starts its page cache afresh). With it they are one range of one or two pages.
"""


DEFERRABLE_INDEXES = (MEMBER_HISTORY_INDEX, "idx_sales_ts")
"""Secondary indexes of the big fact tables that a large import drops and builds again at its
end (``imports.Saver``); nothing the import itself reads goes through them."""


@migrations()
def m001_ledger(db: Database) -> None:
    """Reference data, facts, and the append-only guards."""
    db["settings"].create({"key": str, "value": str}, pk="key", not_null={"value"}, strict=True)
    db["members"].create(
        {
            "member_id": str,
            "name": str,
            "email": str,
            "phone": str,
            "birthday": str,
            "created_at": str,
            "erased_at": str,
        },
        pk="member_id",
        not_null={"created_at"},
        strict=True,
    )
    db["products"].create(
        {"product_id": str, "name": str, "category": str},
        pk="product_id",
        not_null={"name"},
        strict=True,
    )
    db["prices"].create(
        {"product_id": str, "valid_from": str, "price": int},
        pk=("product_id", "valid_from"),
        foreign_keys=[("product_id", "products", "product_id")],
        not_null={"price"},
        strict=True,
    )
    db["memberships"].create(
        {"id": int, "member_id": str, "ts": str, "status": str},
        pk="id",
        foreign_keys=[("member_id", "members", "member_id")],
        not_null={"member_id", "ts", "status"},
        strict=True,
    )
    db["memberships"].create_index(["member_id", "ts"])
    db["sales"].create(
        {
            "sale_id": str,
            "ts": str,
            "member_id": str,
            "kind": str,
            "original_sale_id": str,
            "discount_code": str,
            "subtotal": int,
            "discount_total": int,
            "total": int,
            "points_earned": int,
            "points_bonus": int,
            "points_redeemed": int,
            "source": str,
        },
        pk="sale_id",
        foreign_keys=[
            ("member_id", "members", "member_id"),
            ("original_sale_id", "sales", "sale_id"),
        ],
        not_null={"ts", "kind", "subtotal", "discount_total", "total", "source"},
        defaults={"points_earned": 0, "points_bonus": 0, "points_redeemed": 0},
        strict=True,
    )
    # Partial: only returns reference a sale, so a checkout does not touch this index at all.
    db.execute(
        "CREATE INDEX idx_sales_original_sale_id ON sales (original_sale_id) WHERE original_sale_id IS NOT NULL"
    )
    db["sales"].create_index(["ts"])
    db["sale_lines"].create(
        {
            "sale_id": str,
            "line_no": int,
            "member_id": str,
            "ts": str,
            "kind": str,
            "product_id": str,
            "qty": int,
            "unit_price": int,
            "list_amount": int,
            "free_units": int,
            "total": int,
            "original_line_no": int,
        },
        pk=("sale_id", "line_no"),
        foreign_keys=[
            ("sale_id", "sales", "sale_id"),
            ("product_id", "products", "product_id"),
        ],
        not_null={"ts", "kind", "product_id", "qty", "unit_price", "list_amount", "free_units", "total"},
        # member_id, ts and kind repeat the sale's so a member's history is one indexed read.
        defaults={"free_units": 0, "kind": "sale"},
        strict=True,
    )
    db.execute(f"CREATE INDEX {MEMBER_HISTORY_INDEX} ON sale_lines ({', '.join(MEMBER_HISTORY_COLUMNS)})")
    db["line_discounts"].create(
        {"sale_id": str, "line_no": int, "seq": int, "reason": str, "amount": int, "detail": str},
        pk=("sale_id", "line_no", "seq"),
        foreign_keys=[("sale_id", "sales", "sale_id")],
        not_null={"reason", "amount"},
        strict=True,
    )
    db["point_movements"].create(
        {
            "movement_id": int,
            "member_id": str,
            "ts": str,
            "kind": str,
            "points": int,
            "expires_at": str,
            "lot_id": int,
            "sale_id": str,
            "reason": str,
        },
        pk="movement_id",
        foreign_keys=[
            ("member_id", "members", "member_id"),
            ("sale_id", "sales", "sale_id"),
            ("lot_id", "point_movements", "movement_id"),
        ],
        not_null={"member_id", "ts", "kind", "points"},
        strict=True,
    )
    db["point_movements"].create_index(["member_id", "ts"])  # replaced by m005's covering index
    db["point_movements"].create_index(["sale_id"])
    db["codes"].create(
        {"code": str, "percent": str, "issued_at": str},
        pk="code",
        not_null={"percent", "issued_at"},
        strict=True,
    )
    db["code_redemptions"].create(
        {"code": str, "sale_id": str, "ts": str},
        pk="code",
        foreign_keys=[("code", "codes", "code"), ("sale_id", "sales", "sale_id")],
        not_null={"sale_id", "ts"},
        strict=True,
    )
    db["code_redemptions"].create_index(["sale_id"], unique=True)
    db["outbox"].create(
        {
            "event_id": int,
            "ts": str,
            "member_id": str,
            "kind": str,
            "payload": str,
            "cause_kind": str,
            "cause_id": str,
        },
        pk="event_id",
        foreign_keys=[("member_id", "members", "member_id")],
        not_null={"ts", "kind", "payload"},
        strict=True,
    )
    db["outbox"].create_index(["member_id", "kind"])
    db["erasures"].create(
        {"id": int, "member_id": str, "ts": str},
        pk="id",
        foreign_keys=[("member_id", "members", "member_id")],
        not_null={"member_id", "ts"},
        strict=True,
    )
    db["member_summary"].create(
        {
            "member_id": str,
            "visits": int,
            "last_visit": str,
            "spend": int,
            "refunds": int,
            "points_net": int,
        },
        pk="member_id",
        foreign_keys=[("member_id", "members", "member_id")],
        not_null={"visits", "spend", "refunds", "points_net"},
        strict=True,
    )
    for table in FACT_TABLES:
        for action in ("UPDATE", "DELETE"):
            db.execute(
                f"""
                CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END
                """
            )
    db.execute(
        """
        CREATE TRIGGER members_no_delete BEFORE DELETE ON members
        BEGIN SELECT RAISE(ABORT, 'members are erased, never deleted'); END
        """
    )


@migrations()
def m002_member_history_index(db: Database) -> None:
    """Ledgers made before the covering member-history index get it in place of the narrow one."""
    db.execute("DROP INDEX IF EXISTS idx_sale_lines_member_id_ts")
    db.execute(f"CREATE INDEX IF NOT EXISTS {MEMBER_HISTORY_INDEX} ON sale_lines ({', '.join(MEMBER_HISTORY_COLUMNS)})")


@migrations()
def m003_catalogue_version(db: Database) -> None:
    """A number that moves whenever a product or a price is written.

    A checkout prices its basket before it takes the write lock and, once it holds the lock, checks
    that nothing it priced with has moved; the catalogue's part of that check is this one row.
    """
    db.execute("CREATE TABLE catalogue_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL) STRICT")
    db.execute("INSERT INTO catalogue_version VALUES (1, 0)")
    for event, table in (("INSERT", "products"), ("UPDATE", "products"), ("INSERT", "prices")):
        db.execute(
            f"""
            CREATE TRIGGER {table}_{event.lower()}_moves_catalogue AFTER {event} ON {table}
            BEGIN UPDATE catalogue_version SET version = version + 1; END
            """
        )


@migrations()
def m004_no_sales_by_member_index(db: Database) -> None:
    """A member's sales are found through the member-history index of their lines (every sale has
    one); a second index by member on ``sales`` cost each checkout another page in its commit
    (13.5 -> 12.0 pages, the commit 205 -> 175 µs measured) and each big import an index build."""
    db.execute("DROP INDEX IF EXISTS idx_sales_member_id_ts")


@migrations()
def m005_points_history_index(db: Database) -> None:
    """A member's point movements come from one covering index, as their sale lines do (see
    :data:`POINTS_HISTORY_COLUMNS`); it takes the place of the narrow (member, time) index."""
    db.execute("DROP INDEX IF EXISTS idx_point_movements_member_id_ts")
    db.execute(f"CREATE INDEX IF NOT EXISTS {POINTS_HISTORY_INDEX} ON point_movements ({', '.join(POINTS_HISTORY_COLUMNS)})")
