"""Privacy, access and backup through the CLI: erased data is gone from the file's bytes,
manager-only commands need the PIN, and a backup taken during sales verifies."""

from __future__ import annotations

import csv
import json
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pos_loyalty import ledger
from pos_loyalty.ledger.access import set_pin
from pos_loyalty.paths import PROGRAMS

from .helpers import cli, coffee_shop


@pytest.fixture
def shop(tmp_path) -> Path:
    return coffee_shop(tmp_path / "shop.db", "points")


def file_bytes(db: Path) -> bytes:
    return b"".join(Path(f"{db}{suffix}").read_bytes() for suffix in ("", "-wal") if Path(f"{db}{suffix}").exists())


def test_erase_of_a_member_among_thousands_leaves_no_trace(shop, tmp_path):
    """With members over many pages, freed cells keep their old bytes unless the store overwrites
    them: this is the case ``secure_delete`` is for (turned off, the e-mail and name stay)."""
    crowd = tmp_path / "crowd.csv"
    with crowd.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["member_id", "name", "email", "phone", "joined_at"])
        for number in range(3000):
            name = "Quintessa Zyxwvut" if number == 1500 else f"Member Number {number}"
            writer.writerow([f"m{number:05d}", name, f"member.{number:05d}@example.org",
                             f"+44 7700 9{number:05d}", "2025-01-01"])
    cli(shop, "import", "members", str(crowd))
    # "zyxwvut" is also a word in the name index; sorting last, it is stored there whole.
    personal = (b"member.01500@example.org", b"Quintessa Zyxwvut", b"+44 7700 901500", b"zyxwvut")
    assert all(value in file_bytes(shop) for value in personal)
    assert "zyxwvut" in name_index_terms(shop)
    cli(shop, "members", "erase", "m01500", "--yes")
    left = file_bytes(shop)
    assert [value for value in personal if value in left] == []
    assert b"member.01499@example.org" in left  # the neighbours are untouched
    terms = name_index_terms(shop)  # the name search index forgot the erased name's words too
    assert "zyxwvut" not in terms and "1499" in terms


def name_index_terms(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, member_names, 'row')")
        return {term for (term,) in conn.execute("SELECT term FROM temp.terms")}
    finally:
        conn.close()


def test_the_ledger_file_is_readable_by_its_owner_only(shop):
    assert stat.S_IMODE(shop.stat().st_mode) == 0o600


def test_erase_leaves_no_trace_of_the_email_in_the_file(shop):
    email = json.loads(cli(shop, "members", "show", "kris", "--json").stdout)["email"]
    assert email and email.encode() in file_bytes(shop)
    spent = "SELECT sum(total) FROM sales WHERE member_id = 'kris'"
    before = ledger.connect(shop).execute(spent).fetchone()[0]
    cli(shop, "members", "erase", "kris", "--yes")
    assert email.encode() not in file_bytes(shop)
    shown = json.loads(cli(shop, "members", "show", "kris", "--json").stdout)
    assert (shown["name"], shown["email"], shown["erased_at"] is not None) == (None, None, True)
    db = ledger.connect(shop)
    assert db.execute(spent).fetchone()[0] == before  # the amounts stay
    assert db.execute("SELECT count(*) FROM erasures WHERE member_id = 'kris'").fetchone()[0] == 1


def test_manager_only_commands_need_the_pin(shop):
    set_pin(ledger.connect(shop), "4321")
    for args in (["points", "adjust", "kris", "10", "--reason", "goodwill"], ["members", "erase", "kris", "--yes"],
                 ["init", "--program", str(PROGRAMS / "coffee_shop.toml")], ["manager-pin", "--clear"]):
        refused = cli(shop, *args, ok=False)
        assert refused.exit_code == 1 and "needs the manager PIN" in refused.stderr
    wrong = cli(shop, "points", "adjust", "kris", "10", "--reason", "goodwill", "--pin", "0000", ok=False)
    assert wrong.exit_code == 1 and "wrong manager PIN" in wrong.stderr
    cli(shop, "points", "adjust", "kris", "10", "--reason", "goodwill", "--pin", "4321")
    cli(shop, "members", "erase", "kris", "--yes", env={"POS_LOYALTY_PIN": "4321"})
    assert b"4321" not in file_bytes(shop)


def test_wrong_pins_lock_the_manager_commands_for_a_while(shop):
    set_pin(ledger.connect(shop), "4321")
    for _ in range(3):
        cli(shop, "points", "adjust", "kris", "10", "--reason", "x", "--pin", "1111", ok=False)
    locked = cli(shop, "points", "adjust", "kris", "10", "--reason", "x", "--pin", "4321", ok=False)
    assert locked.exit_code == 1 and "too many wrong PINs" in locked.stderr
    db = ledger.connect(shop)
    assert db.execute("SELECT count(*) FROM point_movements WHERE kind = 'adjust'").fetchone()[0] == 0


SELLER = """
import sys
from datetime import datetime, timedelta
from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine
db = ledger.connect(sys.argv[1]); program = ledger.load_program(db)
at = datetime(2026, 4, 1, 9)
for n in range(int(sys.argv[2])):
    basket = Basket((BasketLine("coffee", 1 + n % 3),), member_id=("kris", "dave", "yeva")[n % 3])
    ledger.record_sale(db, program, basket, at + timedelta(seconds=n), f"bk-{n:05d}")
print("sold")
"""


def test_a_backup_taken_while_a_till_sells_verifies(shop, tmp_path):
    seller = subprocess.Popen([sys.executable, "-c", SELLER, str(shop), "400"], stdout=subprocess.PIPE, text=True)
    watcher = ledger.connect(shop)

    def sold() -> int:
        return watcher.execute("SELECT count(*) FROM sales WHERE sale_id LIKE 'bk-%'").fetchone()[0]

    copies = []
    try:
        while sold() < 20 and seller.poll() is None:
            time.sleep(0.01)
        for number in range(3):
            target = tmp_path / f"backup-{number}.db"
            already = sold()  # committed before the backup began: the copy must hold them
            result = cli(shop, "backup", str(target))
            assert "verified" in result.stdout
            copies.append((target, already))
    finally:
        assert seller.wait(timeout=120) == 0 and "sold" in seller.stdout.read()
    for copy, already in copies:
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        db = ledger.connect(copy)
        sales = {row[0] for row in db.execute("SELECT sale_id FROM sales WHERE sale_id LIKE 'bk-%'")}
        # a consistent copy holds a prefix of the till's sales, each whole
        assert sales == {f"bk-{n:05d}" for n in range(len(sales))} and len(sales) >= already > 0
        assert db.execute(
            "SELECT count(*) FROM sales s WHERE s.sale_id LIKE 'bk-%' AND NOT EXISTS"
            " (SELECT 1 FROM sale_lines l WHERE l.sale_id = s.sale_id)"
        ).fetchone()[0] == 0
    assert cli(shop, "backup", str(copies[0]), ok=False).exit_code == 1  # never overwrites
