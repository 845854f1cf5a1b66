"""Reading a file's records as cells: the same answer from csv, json and jsonl, whatever the column order."""

from __future__ import annotations

import json

import pytest

from pos_loyalty.io.importers import LAYOUTS, SALE_CELLS
from pos_loyalty.io.readers import read_cells


@pytest.fixture
def files(tmp_path):
    """The same two records in each format, the columns in another order than asked, one column missing."""
    records = [{"b": " 2 ", "a": "1"}, {"b": "", "a": "x"}]
    csv_file = tmp_path / "r.csv"
    csv_file.write_text("b,a\n 2 ,1\n,x\n", encoding="utf-8")
    jsonl_file = tmp_path / "r.jsonl"
    jsonl_file.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    json_file = tmp_path / "r.json"
    json_file.write_text(json.dumps(records), encoding="utf-8")
    return {"csv": csv_file, "jsonl": jsonl_file, "json": json_file}


def stripped(cells: tuple) -> tuple:
    return tuple(c.strip() or None if c else None for c in cells)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_cells_come_in_the_order_asked_with_a_missing_column_blank(files, fmt):
    got = list(read_cells(files[fmt], fmt, {"a", "b", "c"}, {"a"}, ("c", "a", "b")))
    assert [stripped(cells) for _, cells in got] == [(None, "1", "2"), (None, "x", None)]
    rows = [number for number, _ in got]
    assert rows == ([2, 3] if fmt == "csv" else [1, 2])


def test_one_column_asked_comes_as_a_one_cell_tuple(files):
    assert [cells for _, cells in read_cells(files["csv"], "csv", {"a", "b"}, set(), ("a",))] == [("1",), ("x",)]


def test_a_sales_line_is_read_from_every_column_a_sales_file_may_have():
    assert len(SALE_CELLS) == len(set(SALE_CELLS)) and set(SALE_CELLS) == LAYOUTS["sales"].columns


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_the_one_the_header_uses(tmp_path, delimiter):
    """Cells holding the other delimiters (quoted where they must be) stay whole."""
    path = tmp_path / "r.csv"
    d = delimiter
    path.write_text(f'a{d}b\n"1,5"{d}"x;y"\n"2\t3"{d}"p{d}q"\n', encoding="utf-8")
    got = [cells for _, cells in read_cells(path, "csv", {"a", "b"}, {"a", "b"}, ("a", "b"))]
    assert got == [("1,5", "x;y"), ("2\t3", f"p{d}q")]
