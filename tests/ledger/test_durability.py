"""Durable writes and early pricing: what a checkout may do outside the write lock, and what not.

A durable ledger commits at SQLite's ``NORMAL`` and syncs the log itself once the write lock is
free (``connection.WalSync``); a checkout prices its basket before it takes the lock and prices it
again under the lock when another writer moved anything the price rests on.
"""

from __future__ import annotations

import fcntl
import os
from datetime import timedelta

import pytest

from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine, member_status
from pos_loyalty.ledger import connection, writes

from ..conftest import OPENING
from ..support import import_fixture, new_ledger

AT = OPENING + timedelta(hours=2)


@pytest.fixture
def shop(tmp_path):
    path = tmp_path / "till.db"
    db, program = new_ledger("coffee_shop", path)
    import_fixture(db, program, "coffee_shop", [("products", "products.csv")])
    ledger.add_member(db, program, "ann", OPENING, name="Ann")
    return path, db, program


def _watch(db, monkeypatch, path):
    """Record the statements the connection runs and each fdatasync, with whether the lock was free."""
    seen: list[tuple] = []
    db.conn.set_trace_callback(lambda sql: seen.append(("sql", sql.split()[0].upper())))
    real = os.fdatasync

    def spy(fd):
        other = os.open(f"{path}-lock", os.O_RDWR)
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if the lock is still held
            fcntl.flock(other, fcntl.LOCK_UN)
            free = True
        except BlockingIOError:
            free = False
        finally:
            os.close(other)
        seen.append(("sync", os.fstat(fd).st_ino, free))
        real(fd)

    monkeypatch.setattr(connection.os, "fdatasync", spy)
    return seen


def test_a_durable_checkout_returns_after_its_log_is_synced_with_the_lock_free(shop, monkeypatch):
    path, db, program = shop
    seen = _watch(db, monkeypatch, path)
    ledger.record_sale(db, program, Basket((BasketLine("coffee", 2),), "ann"), AT, "S-1")
    log = os.stat(f"{path}-wal").st_ino
    commits = [i for i, event in enumerate(seen) if event == ("sql", "COMMIT")]
    syncs = [(i, event) for i, event in enumerate(seen) if event[0] == "sync"]
    assert syncs, "the checkout returned without syncing anything"
    index, (_, inode, lock_free) = syncs[-1]
    assert inode == log, "the file synced is not the ledger's write-ahead log"
    assert index > commits[-1], "the log was synced before the checkout committed"
    assert lock_free, "the log was synced while the checkout still held the write lock"


def test_a_refused_write_syncs_nothing_and_an_undurable_ledger_never_syncs(shop, monkeypatch, tmp_path):
    path, db, program = shop
    seen = _watch(db, monkeypatch, path)
    with pytest.raises(ledger.LedgerError):
        ledger.record_sale(db, program, Basket((BasketLine("no-such-thing"),), "ann"), AT, "S-2")
    assert [event for event in seen if event[0] == "sync"] == []
    scratch = ledger.connect(tmp_path / "scratch.db", durable=False)
    scratch_seen = _watch(scratch, monkeypatch, tmp_path / "scratch.db")
    ledger.add_member(scratch, program, "bob", OPENING)
    assert [event for event in scratch_seen if event[0] == "sync"] == []


def test_a_price_read_before_the_lock_is_not_used_once_another_till_moved_the_member(shop, monkeypatch):
    """Between the early pricing and the lock, another till sells ann her sixth coffee's worth of
    stamps; the checkout must see it (the stamp card's free coffee) rather than the early price."""
    path, db, program = shop
    other = ledger.connect(path)
    for n in range(5):
        ledger.record_sale(other, program, Basket((BasketLine("coffee"),), "ann"), AT + timedelta(minutes=n), f"O-{n}")
    late = AT + timedelta(hours=1)
    early = writes._price_in_snapshot

    def priced_then_overtaken(db_, program_, basket, at, code):
        result = early(db_, program_, basket, at, code)
        if db_ is db:
            ledger.record_sale(other, program, Basket((BasketLine("coffee"),), "ann"), late, "O-5")
        return result

    monkeypatch.setattr(writes, "_price_in_snapshot", priced_then_overtaken)
    receipt = ledger.record_sale(db, program, Basket((BasketLine("coffee"),), "ann"), late, "S-7")
    # Priced again under the lock, on the six coffees now recorded, exactly as a lone till would.
    monkeypatch.undo()
    alone, alone_program = new_ledger("coffee_shop")
    import_fixture(alone, alone_program, "coffee_shop", [("products", "products.csv")])
    ledger.add_member(alone, alone_program, "ann", OPENING, name="Ann")
    for n in range(5):
        ledger.record_sale(alone, alone_program, Basket((BasketLine("coffee"),), "ann"), AT + timedelta(minutes=n), f"O-{n}")
    ledger.record_sale(alone, alone_program, Basket((BasketLine("coffee"),), "ann"), late, "O-5")
    expected = ledger.record_sale(alone, alone_program, Basket((BasketLine("coffee"),), "ann"), late, "S-7")
    assert receipt.quote.total == expected.quote.total
    assert receipt.quote.lines == expected.quote.lines
    assert member_status(program, ledger.load_member_facts(db, "ann"), late) == member_status(
        alone_program, ledger.load_member_facts(alone, "ann"), late
    )


def test_a_catalogue_change_between_pricing_and_the_lock_is_priced_again(shop, monkeypatch):
    path, db, program = shop
    other = ledger.connect(path)
    early = writes._price_in_snapshot
    price_before = ledger.load_catalogue(db, AT, ["tea"])["tea"].price

    def priced_then_repriced(db_, program_, basket, at, code):
        result = early(db_, program_, basket, at, code)
        assert db_ is db
        with ledger.write(other):
            other.execute("INSERT INTO prices (product_id, valid_from, price) VALUES ('tea', ?, ?)",
                          [ledger.ts_text(AT - timedelta(minutes=1)), price_before + 100])
        return result

    monkeypatch.setattr(writes, "_price_in_snapshot", priced_then_repriced)
    receipt = ledger.record_sale(db, program, Basket((BasketLine("tea"),), None), AT, "S-tea")
    assert receipt.quote.lines[0].unit_price == price_before + 100


def _catalogue_by_sql(db, at_text):
    """The price in force at an instant, straight from the tables (independent of the cached copy)."""
    return {
        pid: (name, category, price)
        for pid, name, category, price in db.execute(
            """
            SELECT p.product_id, p.name, p.category,
                   (SELECT price FROM prices r WHERE r.product_id = p.product_id AND r.valid_from <= ?
                     ORDER BY r.valid_from DESC LIMIT 1)
              FROM products p
            """,
            [at_text],
        )
        if price is not None
    }


def test_the_catalogue_copy_answers_as_the_tables_do_and_follows_every_write(shop):
    path, db, program = shop
    other = ledger.connect(path)
    with ledger.write(other):
        for n, (pid, price) in enumerate([("tea", 300), ("tea", 310), ("coffee", 305), ("tea", 320)]):
            other.execute("INSERT INTO prices (product_id, valid_from, price) VALUES (?, ?, ?)",
                          [pid, ledger.ts_text(AT + timedelta(days=n)), price])
        other.execute("INSERT INTO products (product_id, name, category) VALUES ('scone', 'Scone', 'bakery')")
    starts = sorted({row[0] for row in db.execute("SELECT valid_from FROM prices")})
    instants = [AT - timedelta(days=400)] + [
        ledger.parse_ts(start) + delta for start in starts for delta in (timedelta(seconds=-1), timedelta(0))
    ]
    for at in instants:
        got = {pid: (p.name, p.category, p.price) for pid, p in ledger.load_catalogue(db, at).items()}
        assert got == _catalogue_by_sql(db, ledger.ts_text(at)), ledger.ts_text(at)
    with ledger.write(other):
        other.execute("INSERT INTO prices (product_id, valid_from, price) VALUES ('scone', ?, 250)", [ledger.ts_text(AT)])
    assert ledger.load_catalogue(db, AT, ["scone"])["scone"].price == 250
    with ledger.write(other):  # an update alone, no insert beside it
        other.execute("UPDATE products SET category = 'infusions' WHERE product_id = 'tea'")
    assert ledger.load_catalogue(db, AT, ["tea"])["tea"].category == "infusions"


def test_a_members_lines_carry_their_products_category_as_the_tables_hold_it(shop):
    """A history line's category comes from the connection's copy of the catalogue, not a join:
    it must be the products table's, and follow a change another till makes to it."""
    path, db, program = shop
    with ledger.write(db):
        db.execute("INSERT INTO products (product_id, name, category) VALUES ('scone', 'Scone', 'bakery')")
        db.execute("INSERT INTO prices (product_id, valid_from, price) VALUES ('scone', ?, 250)", [ledger.ts_text(OPENING)])
    basket = Basket((BasketLine("scone", 2), BasketLine("tea"), BasketLine("coffee")), "ann")
    ledger.record_sale(db, program, basket, AT, "S-ann")
    ledger.record_return(db, program, "S-ann", [BasketLine("scone")], AT + timedelta(minutes=5))

    def by_sql():
        return sorted(db.execute(
            "SELECT l.product_id, p.category, CASE l.kind WHEN 'return' THEN -l.qty ELSE l.qty END"
            "  FROM sale_lines l JOIN products p USING (product_id) WHERE l.member_id = 'ann'"
        ).fetchall())

    def by_facts():
        return sorted((line.product_id, line.category, line.qty) for line in ledger.load_member_facts(db, "ann").lines)

    assert ("scone", "bakery", -1) in by_facts() and by_facts() == by_sql()
    other = ledger.connect(path)
    with ledger.write(other):
        other.execute("UPDATE products SET category = 'pastry' WHERE product_id = 'scone'")
    assert ("scone", "pastry", 2) in by_facts() and by_facts() == by_sql()


@pytest.mark.parametrize("fixture", ["coffee", "tiered", "points_shop"])
def test_the_stamp_read_with_a_members_facts_is_the_one_read_under_the_lock(fixture, request):
    """A checkout keeps its early price only when the two agree, so they must agree while nothing
    moves: for every member of the golden ledgers, with sales, returns, points, a resignation and
    an erasure among them."""
    db, program = request.getfixturevalue(fixture)
    if fixture == "points_shop":
        ledger.record_sale(db, program, Basket((BasketLine("coffee", 3),), "ann"), AT, "P-1")
        ledger.record_return(db, program, "P-1", [BasketLine("coffee", 1)], AT + timedelta(hours=1))
        ledger.change_membership(db, program, "bob", AT, "resigned")
        ledger.erase_member(db, "bob", AT + timedelta(hours=2))
    members = [row[0] for row in db.execute("SELECT member_id FROM members")]
    assert members
    for member_id in members:
        _, stamp = ledger.reads.read_member(db, member_id)
        assert stamp == ledger.reads.member_stamp(db, member_id), member_id
    assert ledger.reads.member_stamp(db, None)[1:] == (None,) * 7
