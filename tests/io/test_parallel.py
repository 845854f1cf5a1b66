"""Big files are parsed in a second process: each import must come out exactly as the in-process one does."""

from __future__ import annotations

import csv
import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pos_loyalty.io import parallel
from pos_loyalty.io.importers import Rejects, import_file, sale_events
from pos_loyalty.io.online_retail import COLUMNS, import_online_retail
from pos_loyalty.io.readers import InputError
from pos_loyalty.ledger.verify import verify
from pos_loyalty.paths import REPO
from tests.support import COFFEE_FILES, dump, import_fixture, new_ledger, write_csv

REAL_FILE = REPO.parent / "shared" / "data" / "online-retail" / "OnlineRetail.csv"
SALES_HEADER = ["sale_id", "ts", "member_id", "product_id", "qty", "unit_price", "kind", "original_sale_id"]
PRODUCTS = ["tea", "coffee", "dog", "cat", "beret", "handbag"]
MEMBERS = ["kris", "dave", "yeva", "rick", ""]
OPENING = datetime(2026, 3, 2, 8, 0)


@pytest.fixture
def children(monkeypatch) -> list[int]:
    """Every file counts as big; each import that parsed in a child process is noted."""
    monkeypatch.setattr(parallel, "CHILD_MIN_BYTES", 0)
    started: list[int] = []
    real = parallel._received

    def spy(child, *args):
        started.append(child.pid)
        return real(child, *args)

    monkeypatch.setattr(parallel, "_received", spy)
    return started


def shop():
    db, program = new_ledger("coffee_shop")
    import_fixture(db, program, "coffee_shop", COFFEE_FILES[:2])
    return db, program


def sales_rows(sales: int = 400) -> list[list[str]]:
    """Sales of 1-3 lines, some priced in the file, some anonymous, and returns of earlier sales."""
    rows = []
    for number in range(sales):
        member = MEMBERS[number % len(MEMBERS)]
        ts = (OPENING + timedelta(minutes=3 * number)).isoformat()
        for line in range(1 + number % 3):
            price = f"{1 + (number + line) % 7}.{line}5" if number % 4 == 0 else ""
            rows.append([f"s{number:04d}", ts, member, PRODUCTS[(number + line) % 6], str(1 + line), price, "sale", ""])
        if number % 10 == 9:
            rows.append([f"r{number:04d}", ts, member, PRODUCTS[number % 6], "1", "", "return", f"s{number:04d}"])
    return rows


def with_mistakes(rows: list[list[str]]) -> list[list[str]]:
    """One mistake of each kind the parser or the ledger refuses, spread through the file."""
    rows = [list(row) for row in rows]
    rows[30][4] = "two"  # qty: the parser
    rows[100][3] = "unicorn"  # unknown product: the ledger
    rows[200][1] = "yesterday"  # ts: the parser
    rows[300][2] = "nobody"  # unknown member: the ledger
    rows.append(list(rows[5]))  # a sale's lines apart: the parser
    return rows


def retail_rows(path: Path, lines: int) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        handle.readline()
        return [row for _, row in zip(range(lines), csv.reader(handle))]


def both_ways(children, run) -> tuple:
    """``run()`` in-process and then in a child process: (in-process result, child result)."""
    limit = parallel.CHILD_MIN_BYTES
    parallel.CHILD_MIN_BYTES = 10**12
    try:
        here = run()
    finally:
        parallel.CHILD_MIN_BYTES = limit
    assert not children
    there = run()
    assert len(children) == 1, "the second run did not parse in a child process"
    return here, there


def outcome(import_one):
    """What an import did: its answer (or the error it raised) and every row of the ledger."""
    db, program = shop()
    try:
        answer = import_one(db, program)
    except InputError as exc:
        answer = ("refused", str(exc), exc.row, exc.field)
    tables = dump(db)
    del tables["_sqlite_migrations"]  # when each ledger was made
    return answer, tables


class TestSalesFiles:
    @pytest.mark.parametrize("fmt", ["csv", "jsonl"])
    def test_a_good_file_imports_the_same_both_ways(self, children, tmp_path, fmt):
        rows = sales_rows()
        if fmt == "csv":
            path = write_csv(tmp_path / "sales.csv", SALES_HEADER, rows)
        else:
            path = tmp_path / "sales.jsonl"
            path.write_text("".join(json.dumps(dict(zip(SALES_HEADER, row))) + "\n" for row in rows))
        here, there = both_ways(children, lambda: outcome(lambda db, p: import_file(db, p, "sales", path)))
        assert here == there
        counts, tables = here
        assert counts.written == len(rows) and len(tables["sales"]) == 440

    def test_a_bad_row_is_refused_the_same_both_ways(self, children, tmp_path):
        rows = with_mistakes(sales_rows())
        path = write_csv(tmp_path / "sales.csv", SALES_HEADER, rows)
        here, there = both_ways(children, lambda: outcome(lambda db, p: import_file(db, p, "sales", path)))
        assert here == there
        assert here[0] == ("refused", f"{path}: row 32: qty: 'two' is not a whole number", 32, "qty")
        assert not here[1]["sales"]
        with pytest.raises(ProcessLookupError):
            os.kill(children[0], 0)  # gone, and reaped, by the time the import has failed

    def test_skip_invalid_writes_the_same_rows_and_rejects_both_ways(self, children, tmp_path):
        rows = with_mistakes(sales_rows())
        path = write_csv(tmp_path / "sales.csv", SALES_HEADER, rows)
        rejects = tmp_path / "rejects.csv"

        def run():
            answer = outcome(lambda db, p: import_file(db, p, "sales", path, skip_invalid=True, rejects=rejects))
            return answer, rejects.read_text()

        here, there = both_ways(children, run)
        assert here == there
        (counts, _), refused = here
        assert counts.rejected == len(refused.splitlines()) - 1 >= 5  # whole sales are refused
        assert refused.splitlines()[0].startswith("row,")

    def test_a_file_level_problem_is_refused_the_same_both_ways(self, children, tmp_path):
        path = write_csv(tmp_path / "sales.csv", SALES_HEADER, sales_rows())
        text = path.read_text().splitlines()
        text[500] += ",extra"
        path.write_text("\n".join(text) + "\n")
        here, there = both_ways(children, lambda: outcome(lambda db, p: import_file(db, p, "sales", path)))
        assert here == there
        assert here[0][2:] == (501, None) and "fields" in here[0][1]

    def test_progress_is_reported_from_the_child_up_to_the_whole_file(self, children, tmp_path):
        path = write_csv(tmp_path / "sales.csv", SALES_HEADER, sales_rows(sales=20000))
        seen = []
        db, program = shop()
        import_file(db, program, "sales", path, progress=lambda done, size: seen.append((done, size)))
        assert children and len(seen) > 2
        size = path.stat().st_size
        assert seen[-1] == (size, size) and seen == sorted(seen)


class TestOnlineRetail:
    @pytest.fixture
    def retail(self, tmp_path) -> Path:
        if not REAL_FILE.exists():
            pytest.skip(f"{REAL_FILE} is not here")
        rows = retail_rows(REAL_FILE, 20000)
        return write_csv(tmp_path / "retail.csv", list(COLUMNS), rows)

    def test_the_real_file_imports_the_same_both_ways(self, children, retail):
        here, there = both_ways(children, lambda: outcome(lambda db, p: import_online_retail(db, p, retail)))
        assert here == there
        summary, tables = here
        assert summary.invoices > 500 and summary.members_added > 100 and summary.products_added > 1000
        assert len(tables["products"]) == 6 + summary.products_added

    def test_bad_rows_are_refused_and_rejected_the_same_both_ways(self, children, retail, tmp_path):
        rows = retail_rows(retail, 20000)
        rows[9000][3] = "many"  # Quantity
        rows[12000][6] = "12x"  # CustomerID
        path = write_csv(tmp_path / "bad.csv", list(COLUMNS), rows)
        here, there = both_ways(children, lambda: outcome(lambda db, p: import_online_retail(db, p, path)))
        assert here == there
        assert here[0] == ("refused", f"{path}: row 9002: Quantity: 'many' is not a whole number", 9002, "Quantity")

        def skipping():
            rejects = Rejects(tmp_path / "rejects.csv", list(COLUMNS))
            try:
                answer = outcome(lambda db, p: import_online_retail(db, p, path, skip_invalid=True, rejects=rejects))
            finally:
                rejects.close()
            return answer, (tmp_path / "rejects.csv").read_text()

        children.clear()
        here, there = both_ways(children, skipping)
        assert here == there
        (summary, tables), refused = here
        assert summary.rejected == 2 and refused.splitlines()[1].startswith("9002,")


def test_a_crash_in_the_child_is_an_error_with_its_traceback(children, tmp_path):
    path = write_csv(tmp_path / "sales.csv", SALES_HEADER, sales_rows(sales=10))
    with pytest.raises(RuntimeError, match="TypeError"):
        with parallel.parsed(path, sale_events, path, "csv", "two decimals", False) as events:
            list(events)


def test_a_skipped_file_in_the_child_still_verifies(children, tmp_path):
    """The child's answer lands in a ledger that passes verify."""
    db, program = shop()
    import_file(db, program, "sales", write_csv(tmp_path / "sales.csv", SALES_HEADER, sales_rows()))
    assert children and verify(db) == []
