"""Migrations: a ledger made by an earlier schema is brought up to date when it is opened; a database
that belongs to another program is refused untouched."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest

from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine
from pos_loyalty.ledger.browse import MEMBER_SALES, PICK_SALES, member_page
from pos_loyalty.ledger.reads import MEMBER_LINES_SQL, MEMBER_POINTS_SQL
from pos_loyalty.ledger.schema import (
    MEMBER_HISTORY_COLUMNS, MEMBER_HISTORY_INDEX, POINTS_HISTORY_COLUMNS, POINTS_HISTORY_INDEX,
)
from pos_loyalty.ledger.verify import verify

from ..support import COFFEE_FILES, import_fixture, new_ledger


def indexes(db) -> dict[str, str]:
    return {name: sql for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")}


def plan(db, sql: str, params: list) -> str:
    return " ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, params))


def test_a_member_history_is_read_off_the_covering_index(tmp_path):
    db, _ = new_ledger("coffee_shop", tmp_path / "shop.db")
    shown = plan(db, MEMBER_LINES_SQL, ["kris"])
    assert f"COVERING INDEX {MEMBER_HISTORY_INDEX}" in shown and "TEMP B-TREE" not in shown, shown


def test_a_members_points_are_read_off_their_covering_index_in_order(tmp_path):
    db, _ = new_ledger("points", tmp_path / "points.db")
    shown = plan(db, MEMBER_POINTS_SQL, ["kris"])
    assert f"COVERING INDEX {POINTS_HISTORY_INDEX}" in shown and "TEMP B-TREE" not in shown, shown


def test_a_ledger_from_before_the_points_history_index_is_upgraded(tmp_path):
    path = tmp_path / "old.db"
    db, program = new_ledger("points", path)
    import_fixture(db, program, "coffee_shop", [("products", "products.csv")])
    at = datetime(2026, 3, 2, 9)
    ledger.add_member(db, program, "kris", at, name="Kris")
    ledger.record_sale(db, program, Basket((BasketLine("coffee", 2),), member_id="kris"), at, "S1")
    with ledger.write(db):
        db.execute(f"DROP INDEX {POINTS_HISTORY_INDEX}")
        db.execute('CREATE INDEX "idx_point_movements_member_id_ts" ON "point_movements" ("member_id", "ts")')
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_points_history_index'")
    before = ledger.load_member_facts(db, "kris").points
    db.conn.close()

    reopened = ledger.connect(path)
    found = indexes(reopened)
    assert "idx_point_movements_member_id_ts" not in found
    assert all(column in found[POINTS_HISTORY_INDEX] for column in POINTS_HISTORY_COLUMNS)
    assert before and ledger.load_member_facts(reopened, "kris").points == before
    assert verify(reopened) == []


def test_a_members_sales_are_found_through_their_lines_without_scanning_sales(tmp_path):
    db, _ = new_ledger("coffee_shop", tmp_path / "shop.db")
    shown = plan(db, PICK_SALES.format(where=MEMBER_SALES), {"member": "kris", "limit": 20})
    assert f"COVERING INDEX {MEMBER_HISTORY_INDEX}" in shown and "SCAN s" not in shown, shown


def test_the_latest_sales_of_every_till_come_off_the_time_index_without_a_sort(tmp_path):
    db, _ = new_ledger("coffee_shop", tmp_path / "shop.db")
    shown = plan(db, PICK_SALES.format(where="s.kind = 'sale'"), {"limit": 32})
    assert "USING INDEX idx_sales_ts" in shown and "TEMP B-TREE" not in shown, shown


def test_a_ledger_from_before_the_covering_index_and_the_last_visit_index_is_upgraded(tmp_path):
    path = tmp_path / "old.db"
    db, program = new_ledger("coffee_shop", path)
    import_fixture(db, program, "coffee_shop", COFFEE_FILES)
    # Put the file back the way the first schema left it: the narrow history index, the last-visit
    # index and the sales-by-member index, with the migrations that removed them not yet recorded.
    with ledger.write(db):
        db.execute(f"DROP INDEX {MEMBER_HISTORY_INDEX}")
        db.execute('CREATE INDEX "idx_sale_lines_member_id_ts" ON "sale_lines" ("member_id", "ts")')
        db.execute("CREATE INDEX member_summary_last_visit ON member_summary (last_visit, member_id)")
        db.execute('CREATE INDEX "idx_sales_member_id_ts" ON "sales" ("member_id", "ts")')
        db.execute(
            "DELETE FROM _sqlite_migrations WHERE name IN"
            " ('m002_member_history_index', 'm102_no_last_visit_index', 'm004_no_sales_by_member_index')"
        )
    before = db.execute("SELECT count(*), sum(total) FROM sale_lines").fetchone()
    db.conn.close()

    reopened = ledger.connect(path)
    found = indexes(reopened)
    assert "idx_sale_lines_member_id_ts" not in found and "member_summary_last_visit" not in found
    assert "idx_sales_member_id_ts" not in found
    assert all(column in found[MEMBER_HISTORY_INDEX] for column in MEMBER_HISTORY_COLUMNS)
    assert reopened.execute("SELECT count(*), sum(total) FROM sale_lines").fetchone() == before
    assert verify(reopened) == []


def test_a_ledger_from_before_the_name_index_gets_its_names_indexed(tmp_path):
    path = tmp_path / "old.db"
    db, program = new_ledger("coffee_shop", path)
    ledger.add_member(db, program, "as", datetime(2026, 3, 1, 9), name="Anna Smith")
    with ledger.write(db):
        for trigger in ("member_names_insert", "member_names_update"):
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute("DROP TABLE member_names")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm103_member_names'")
    db.conn.close()

    reopened = ledger.connect(path)
    assert [row.member_id for row in member_page(reopened, program, search="smith").rows] == ["as"]
    ledger.add_member(reopened, program, "bs", datetime(2026, 3, 1, 9), name="Bob Smithers")  # the triggers are back
    assert [row.member_id for row in member_page(reopened, program, search="smith", sort="member_id",
                                                 descending=False).rows] == ["as", "bs"]


def test_another_programs_database_is_refused_and_left_as_it_was(tmp_path):
    """A mistyped --db naming some other SQLite file must not get a ledger's tables or WAL mode."""
    path = tmp_path / "other.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE members (id INTEGER PRIMARY KEY, email TEXT)")
    other.execute("INSERT INTO members (email) VALUES ('someone@example.com')")
    other.commit()
    other.close()
    before = path.read_bytes()
    with pytest.raises(ledger.LedgerError, match="not a pos-loyalty ledger") as refused:
        ledger.connect(path)
    assert str(path) in str(refused.value)
    assert path.read_bytes() == before
    assert not (tmp_path / "other.db-wal").exists()


def test_an_empty_database_file_becomes_a_ledger(tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    db = ledger.connect(path)
    assert db["sales"].exists()
