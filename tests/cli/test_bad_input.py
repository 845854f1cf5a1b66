"""Every user mistake: one line naming file, row and field; exit 1; the ledger exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_loyalty.cli import app
from pos_loyalty.paths import FIXTURES, PROGRAMS

from ..support import ledger_digest

from .helpers import coffee_shop, runner

SALES_HEADER = "sale_id,ts,member_id,product_id,qty,unit_price,kind,original_sale_id,discount_code"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A coffee-shop ledger with members, products, codes and the recipe's sales."""
    db = tmp_path_factory.mktemp("template") / "shop.db"
    return coffee_shop(db, extra=(("codes", FIXTURES / "discounting" / "codes.csv"),))


@pytest.fixture
def shop(template, tmp_path) -> Path:
    """A copy of the template, taken with SQLite's backup API (the WAL holds recent pages)."""
    import sqlite3

    db = tmp_path / "shop.db"
    source, target = sqlite3.connect(template), sqlite3.connect(db)
    source.backup(target)
    source.close()
    target.close()
    return db


def sales_file(tmp_path: Path, *rows: str, header: str = SALES_HEADER) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


GOOD = "x-1,2026-03-05T10:00:00,kris,coffee,1,,sale,,"

CASES = {
    "malformed row": (
        lambda t: sales_file(t, GOOD, "x-2,2026-03-05T10:00:00,kris"),
        ["sales"], ("row 3", "fields")),
    "wrong type": (
        lambda t: sales_file(t, GOOD, "x-2,2026-03-05T10:00:00,kris,coffee,two,,sale,,"),
        ["sales"], ("row 3", "qty")),
    "too many decimals": (
        lambda t: sales_file(t, GOOD, "x-2,2026-03-05T10:00:00,kris,coffee,1,2.999,sale,,"),
        ["sales"], ("row 3", "unit_price", "more than 2 decimals")),
    "impossible date": (
        lambda t: sales_file(t, GOOD, "x-2,2026-02-30T10:00:00,kris,coffee,1,,sale,,"),
        ["sales"], ("row 3", "ts")),
    "unknown member": (
        lambda t: sales_file(t, GOOD, "x-2,2026-03-05T10:00:00,zoe,coffee,1,,sale,,"),
        ["sales"], ("row 3", "member_id", "unknown member")),
    "unknown product": (
        lambda t: sales_file(t, GOOD, "x-2,2026-03-05T10:00:00,kris,latte,1,,sale,,"),
        ["sales"], ("row 3", "product_id", "unknown product")),
    "unknown sale": (
        lambda t: sales_file(t, GOOD, "x-2,2026-03-05T10:00:00,kris,coffee,1,,return,nope,"),
        ["sales"], ("row 3", "original_sale_id", "unknown sale")),
    "unknown code": (
        lambda t: sales_file(t, GOOD, "x-2,2026-03-05T10:00:00,kris,coffee,1,,sale,,NOPE15"),
        ["sales"], ("row 3", "discount_code", "unknown discount code")),
    "used code": (
        lambda t: sales_file(t, "x-1,2026-03-05T10:00:00,kris,coffee,1,,sale,,ALDNE15",
                             "x-2,2026-03-05T10:01:00,kris,coffee,1,,sale,,ALDNE15"),
        ["sales"], ("row 3", "discount_code", "already used")),
    "return beyond bought": (
        lambda t: sales_file(t, GOOD, "x-2,2026-03-05T11:00:00,kris,coffee,2,,return,x-1,"),
        ["sales"], ("row 3", "qty", "more than sale x-1 has left")),
    "conflicting id": (
        lambda t: sales_file(t, "cs-0001,2026-03-05T10:00:00,kris,dog,1,,sale,,"),
        ["sales"], ("row 2", "sale_id", "already exists")),
    "empty file": (lambda t: (t / "empty.csv").write_text("") and None or t / "empty.csv", ["sales"], ("is empty",)),
    "binary file": (lambda t: (t / "bin.csv").write_bytes(b"\x00\x01PK\x03\x04" * 50) and None or t / "bin.csv",
                    ["sales"], ("not a text file",)),
    "missing file": (lambda t: t / "missing.csv", ["sales"], ("no such file",)),
    "json of the wrong shape": (
        lambda t: (t / "m.json").write_text('{"member_id": "a", "name": "b"}') and None or t / "m.json",
        ["members"], ("expected a JSON list of objects",)),
    "json row of the wrong shape": (
        lambda t: (t / "m.json").write_text('[{"member_id": "a"}, ["b"]]') and None or t / "m.json",
        ["members"], ("row 2", "expected an object")),
    "unknown column": (
        lambda t: sales_file(t, GOOD, header=SALES_HEADER.replace("qty", "quantity")),
        ["sales"], ("row 1", "quantity", "unknown column")),
    "not an e-mail address": (
        lambda t: (t / "m.csv").write_text("member_id,name,email\nzoe,Zoe,zoe@example.com\nmax,Max,Max Mustermann\n")
        and None or t / "m.csv",
        ["members"], ("row 3", "email", "not an e-mail address")),
    "not a phone number": (
        lambda t: (t / "m.csv").write_text("member_id,name,phone\nzoe,Zoe,+44 20 7946 0000\nmax,Max,call me\n")
        and None or t / "m.csv",
        ["members"], ("row 3", "phone", "not a phone number")),
    "conflicting member": (
        lambda t: (t / "m.csv").write_text("member_id,name\nkris,Someone Else\n") and None or t / "m.csv",
        ["members"], ("row 2", "member_id", "already exists")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_import_mistake(shop, tmp_path, case):
    make, kind, expected = CASES[case]
    path = make(tmp_path)
    before = ledger_digest(shop)
    result = runner.invoke(app, ["--db", str(shop), "import", *kind, str(path)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]
    for fragment in expected:
        assert fragment in lines[0], lines[0]
    assert ledger_digest(shop) == before


@pytest.mark.parametrize("bad", sorted(p.name for p in (PROGRAMS / "bad").glob("*.toml")))
def test_a_bad_programme_file_is_refused_and_the_programme_kept(shop, bad):
    path = PROGRAMS / "bad" / bad
    before = ledger_digest(shop)
    result = runner.invoke(app, ["--db", str(shop), "init", "--program", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0]
    assert ledger_digest(shop) == before


def test_the_same_file_twice_changes_nothing(shop):
    before = ledger_digest(shop)
    result = runner.invoke(app, ["--db", str(shop), "import", "sales", str(FIXTURES / "coffee_shop" / "sales.csv")])
    assert result.exit_code == 0 and "wrote 0" in result.stdout
    assert ledger_digest(shop) == before


@pytest.mark.parametrize("command", [["status", "kris"], ["import", "sales", str(FIXTURES / "coffee_shop" / "sales.csv")]])
def test_another_programs_database_is_refused_in_one_line_and_not_touched(tmp_path, command):
    import sqlite3

    path = tmp_path / "accounts.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)")
    other.commit()
    other.close()
    before = path.read_bytes()
    result = runner.invoke(app, ["--db", str(path), *command])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "not a pos-loyalty ledger" in lines[0], result.stderr
    assert path.read_bytes() == before
