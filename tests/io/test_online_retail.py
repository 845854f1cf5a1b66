"""The Online Retail importer against an independent reading of the same file."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from pos_loyalty import ledger
from pos_loyalty.io.importers import Rejects
from pos_loyalty.engine import Basket, BasketLine, member_status
from pos_loyalty.io.online_retail import COLUMNS, import_online_retail, import_online_retail_prices
from pos_loyalty.io.readers import InputError
from pos_loyalty.ledger.verify import verify
from pos_loyalty.paths import PROGRAMS, REPO

REAL_FILE = REPO.parent / "shared" / "data" / "online-retail" / "OnlineRetail.csv"


def fresh_ledger():
    db = ledger.memory()
    program = ledger.set_program(db, (PROGRAMS / "coffee_shop.toml").read_text(), "coffee_shop.toml")
    return db, program


def independent_reading(path: Path, encoding: str = "utf-8") -> dict:
    """What the file says, read with csv and Decimal and nothing of the product's."""
    invoices, returns, anonymous, write_offs, bad_debt, rounded = set(), 0, 0, 0, 0, 0
    sales_lines = 0
    net = defaultdict(Decimal)
    first = {}
    with path.open(encoding=encoding, newline="") as handle:
        for row in csv.DictReader(handle):
            invoice, qty, price = row["InvoiceNo"], int(row["Quantity"]), Decimal(row["UnitPrice"])
            customer = row["CustomerID"].removesuffix(".0") or None
            if invoice.startswith("A"):
                bad_debt += 1
                continue
            if qty < 0 and not invoice.startswith("C"):
                write_offs += 1
                continue
            amount = abs(qty) * price
            if amount != amount.quantize(Decimal("0.01")):
                rounded += 1
            amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            invoices.add(invoice)
            if invoice.startswith("C"):
                returns += 1
            else:
                sales_lines += 1
            if customer is None:
                anonymous += 1
            else:
                net[customer] += -amount if invoice.startswith("C") else amount
                first.setdefault(customer, row["InvoiceDate"])
    return {
        "invoices": len(invoices),
        "sale_lines": sales_lines,
        "return_lines": returns,
        "anonymous_lines": anonymous,
        "skipped_write_offs": write_offs,
        "skipped_bad_debt": bad_debt,
        "rounded_lines": rounded,
        "members": len(net),
        "net": {c: int(v * 100) for c, v in net.items()},
    }


@pytest.fixture(scope="module")
def real_subset(tmp_path_factory) -> Path:
    """The first 40,000 rows of the real file (it is in shared/data beside the repository)."""
    if not REAL_FILE.exists():
        pytest.skip(f"{REAL_FILE} is not here")
    path = tmp_path_factory.mktemp("retail") / "subset.csv"
    with REAL_FILE.open(encoding="utf-8") as source, path.open("w", encoding="utf-8") as out:
        for number, line in enumerate(source):
            if number > 40000:
                break
            out.write(line)
    return path


def test_real_rows_import_as_an_independent_reading_says(real_subset):
    db, program = fresh_ledger()
    summary = import_online_retail(db, program, real_subset)
    expected = independent_reading(real_subset)
    for key in ("invoices", "sale_lines", "return_lines", "anonymous_lines", "skipped_write_offs",
                "skipped_bad_debt", "rounded_lines"):
        assert getattr(summary, key) == expected[key], key
    assert summary.members_added == expected["members"]
    net = dict(
        db.execute(
            "SELECT member_id, sum(CASE kind WHEN 'return' THEN -total ELSE total END) FROM sales"
            " WHERE member_id IS NOT NULL GROUP BY member_id"
        ).fetchall()
    )
    assert net == expected["net"]
    assert verify(db) == []


def test_members_met_in_the_file_are_in_the_name_index_built_at_the_end(real_subset, monkeypatch):
    """An import that brings many members drops the name index's trigger and rebuilds the index once."""
    from pos_loyalty.ledger.imports import Saver

    monkeypatch.setattr(Saver, "DEFER_MIN_MEMBERS", 1)
    db, program = fresh_ledger()
    trigger = "SELECT sql FROM sqlite_master WHERE name = 'member_names_insert'"
    before = db.execute(trigger).fetchone()
    dropped = []
    real = Saver._defer_name_index
    monkeypatch.setattr(Saver, "_defer_name_index", lambda self: (real(self), dropped.append(self._names_trigger)))
    summary = import_online_retail(db, program, real_subset)
    assert summary.members_added > 0 and before[0] in dropped
    assert db.execute(trigger).fetchone() == before
    db.execute("INSERT INTO member_names (member_names) VALUES ('integrity-check')")
    indexed = db.execute("SELECT count(*) FROM member_names_docsize").fetchone()[0]
    assert indexed == db.execute("SELECT count(*) FROM members").fetchone()[0] == summary.members_added


def test_reimporting_changes_nothing(real_subset):
    db, program = fresh_ledger()
    import_online_retail(db, program, real_subset)
    before = db.execute("SELECT count(*), sum(total) FROM sales").fetchone()
    again = import_online_retail(db, program, real_subset)
    assert (again.invoices, again.members_added) == (0, 0)
    assert again.unchanged_lines == again.rows - again.skipped_write_offs - again.skipped_bad_debt
    assert db.execute("SELECT count(*), sum(total) FROM sales").fetchone() == before


SHAPES = [
    # InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country
    ("536365", "85123A", "WHITE HANGING HEART", "6", "12/1/2010 8:26", "2.55", "17850.0", "United Kingdom"),
    ("536365", "71053", "WHITE METAL LANTERN", "6", "12/1/2010 8:26", "3.39", "17850.0", "United Kingdom"),
    ("536366", "22633", "HAND WARMER £ UNION JACK", "3", "12/1/2010 8:28", "0.001", "", "United Kingdom"),
    ("C536379", "D", "Discount", "-1", "12/1/2010 9:41", "27.50", "14527", "United Kingdom"),
    ("536380", "22961", "JAM MAKING SET", "-24", "12/1/2010 9:45", "0", "", "United Kingdom"),
    ("A563185", "B", "Adjust bad debt", "1", "8/12/2011 14:50", "11062.06", "", "United Kingdom"),
]


def write_shapes(path: Path, encoding: str, rows=SHAPES) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_the_shapes_it_circulates_in(tmp_path, encoding):
    """The UCI original's M/D/Y dates, float customer ids, Latin-1, and every special line."""
    db, program = fresh_ledger()
    summary = import_online_retail(db, program, write_shapes(tmp_path / "retail.csv", encoding))
    assert (summary.invoices, summary.sale_lines, summary.return_lines) == (3, 3, 1)
    assert (summary.skipped_write_offs, summary.skipped_bad_debt, summary.rounded_lines) == (1, 1, 1)
    assert summary.anonymous_lines == 1
    name = db.execute("SELECT name FROM products WHERE product_id = '22633'").fetchone()[0]
    assert name == "HAND WARMER £ UNION JACK"
    assert db.execute("SELECT ts FROM memberships WHERE member_id = '17850'").fetchone()[0] == "2010-12-01T08:26:00"
    assert db.execute("SELECT total FROM sales WHERE sale_id = '536366'").fetchone()[0] == 0  # 3 x 0.001 rounds to 0.00
    assert db.execute("SELECT kind, total FROM sales WHERE sale_id = 'C536379'").fetchone() == ("return", 2750)


def test_a_bad_row_names_file_row_and_field_and_writes_nothing(tmp_path):
    db, program = fresh_ledger()
    rows = SHAPES[:2] + [("536390", "22941", "CHRISTMAS LIGHTS", "two", "12/1/2010 10:19", "8.50", "17511", "UK")]
    path = write_shapes(tmp_path / "bad.csv", "utf-8", rows)
    with pytest.raises(InputError) as caught:
        import_online_retail(db, program, path)
    assert str(caught.value).startswith(f"{path}: row 4: Quantity:")
    assert db.execute("SELECT count(*) FROM sales").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM members").fetchone()[0] == 0


def test_skip_invalid_writes_the_rest_and_a_reject_file(tmp_path):
    db, program = fresh_ledger()
    rows = SHAPES[:2] + [("536390", "22941", "CHRISTMAS LIGHTS", "two", "12/1/2010 10:19", "8.50", "17511", "UK")]
    path = write_shapes(tmp_path / "bad.csv", "utf-8", rows)
    rejects = Rejects(tmp_path / "rejects.csv", list(COLUMNS))
    summary = import_online_retail(db, program, path, skip_invalid=True, rejects=rejects)
    rejects.close()
    assert (summary.invoices, summary.rejected) == (1, 1)
    refused = list(csv.DictReader((tmp_path / "rejects.csv").open()))
    assert [(r["row"], r["field"], r["InvoiceNo"]) for r in refused] == [("4", "Quantity", "536390")]


def test_an_invoice_met_again_after_it_closed_is_refused_in_the_files_terms(tmp_path, monkeypatch):
    """A straggler line of an invoice already saved: refused naming InvoiceNo, not the ledger's sale_id."""
    from pos_loyalty.io import online_retail

    monkeypatch.setattr(online_retail, "OPEN_INVOICES", 1)  # each invoice closes when the next begins
    db, program = fresh_ledger()
    rows = [SHAPES[0], SHAPES[2], SHAPES[1]]  # 536365, 536366, then 536365 again
    path = write_shapes(tmp_path / "apart.csv", "utf-8", rows)
    with pytest.raises(InputError) as caught:
        import_online_retail(db, program, path)
    assert (caught.value.row, caught.value.field) == (4, "InvoiceNo")
    assert "next to each other" in str(caught.value)
    assert db.execute("SELECT count(*) FROM sales").fetchone()[0] == 0


def test_a_file_of_another_layout_is_refused(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("sale_id,ts\n1,2026-01-01\n")
    db, program = fresh_ledger()
    with pytest.raises(InputError, match="not the Online Retail layout"):
        import_online_retail(db, program, path)


def latest_prices(path: Path) -> dict[str, int]:
    """Each product's latest selling price, read with csv, datetime and Decimal only."""
    latest = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle)):
            invoice, qty, price = row["InvoiceNo"], int(row["Quantity"]), Decimal(row["UnitPrice"])
            cents = int((price * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
            if invoice[:1] in ("A", "C") or qty <= 0 or cents <= 0:
                continue
            text = row["InvoiceDate"]
            when = datetime.strptime(text, "%m/%d/%Y %H:%M") if "/" in text else datetime.fromisoformat(text)
            if row["StockCode"] not in latest or (when, number) > latest[row["StockCode"]][0]:
                latest[row["StockCode"]] = ((when, number), cents)
    return {product: cents for product, (_, cents) in latest.items()}


def test_products_get_the_price_of_their_latest_sale_so_the_till_can_sell_them(real_subset):
    db, program = fresh_ledger()
    import_online_retail(db, program, real_subset)
    counts = import_online_retail_prices(db, program, real_subset)
    expected = latest_prices(real_subset)
    assert counts.written == len(expected)
    now = datetime(2011, 12, 31)
    catalogue = ledger.load_catalogue(db, now)
    assert {product: p.price for product, p in catalogue.items()} == expected
    product = next(iter(expected))
    priced = ledger.quote_for(db, program, Basket((BasketLine(product, 2),)), now)
    assert priced.total == 2 * expected[product]
    again = import_online_retail_prices(db, program, real_subset)
    assert (again.written, again.unchanged) == (0, len(expected))
    assert verify(db) == []


def test_prices_keep_a_category_set_by_hand_and_pass_over_returns_write_offs_and_fractions_of_a_penny(tmp_path):
    db, program = fresh_ledger()
    later = ("536381", "85123A", "CREAM HANGING HEART", "96", "12/2/2010 9:00", "2.295", "17850", "United Kingdom")
    path = write_shapes(tmp_path / "retail.csv", "utf-8", [*SHAPES, later])
    with ledger.write(db):
        db.execute("INSERT INTO products (product_id, name, category) VALUES ('85123A', 'Heart', 'decor')")
    import_online_retail_prices(db, program, path)
    assert db.execute("SELECT name, category FROM products WHERE product_id = '85123A'").fetchone() == (
        "CREAM HANGING HEART", "decor")
    # 2.295 rounds half-up to 2.30; the 0.001 hand warmer, the return and the write-off set no price.
    assert db.execute("SELECT product_id, valid_from, price FROM prices ORDER BY product_id").fetchall() == [
        ("71053", "2010-12-01T08:26:00", 339), ("85123A", "2010-12-02T09:00:00", 230)]


def test_an_invoice_time_with_a_utc_offset_is_stored_as_the_shops_local_time(tmp_path):
    """Stored with its offset, the time could not be compared with the ledger's others: the member's
    status, and every report over them, failed."""
    db, program = fresh_ledger()
    text = "2010-12-01T08:26:00+05:00"
    rows = [("536365", "85123A", "WHITE HANGING HEART", "6", text, "2.55", "17850", "United Kingdom")]
    import_online_retail(db, program, write_shapes(tmp_path / "retail.csv", "utf-8", rows))
    local = datetime.fromisoformat(text).astimezone().replace(tzinfo=None).isoformat()
    assert db.execute("SELECT ts FROM sales").fetchone()[0] == local
    assert member_status(program, ledger.load_member_facts(db, "17850"), datetime(2011, 1, 1)).active
