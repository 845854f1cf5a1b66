"""The CLI contract: commands, JSON keys, exit codes and one-line errors, through CliRunner."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pos_loyalty.cli import app
from pos_loyalty.paths import FIXTURES, PROGRAMS

from .helpers import cli, coffee_shop, runner

AT = "2026-03-03T10:00:00"


@pytest.fixture
def shop(tmp_path) -> Path:
    """A coffee-shop ledger with the recipe's rows, built through the CLI."""
    return coffee_shop(tmp_path / "shop.db")


def status_of(db: Path, member: str, as_of: str = AT) -> dict:
    return json.loads(cli(db, "status", member, "--as-of", as_of, "--json").stdout)


def test_status_json_has_the_contract_keys(shop):
    data = status_of(shop, "kris")
    assert set(data) == {"member_id", "name", "active", "tier", "stamp_cards", "promotions", "points"}
    assert set(data["tier"]) == {"name", "rank", "basis", "next", "to_next", "discount_percent", "perks"}
    assert set(data["stamp_cards"][0]) == {"name", "count", "position", "buy", "next_free"}
    # SPEC's golden figures, as the CLI prints them.
    assert (data["tier"]["name"], data["tier"]["basis"]) == ("CLIMBING", "74.28")
    assert data["stamp_cards"][0]["count"] == 13
    assert [p["name"] for p in data["promotions"]] == ["loose_leaf"]


def test_sell_applies_the_free_coffee_and_is_idempotent_by_id(shop):
    first = json.loads(cli(shop, "sell", "yeva", "coffee:2", "--at", AT, "--id", "till-1", "--json").stdout)
    assert set(first) >= {
        "sale_id", "member_id", "lines", "subtotal", "discount_total", "total",
        "points_earned", "points_redeemed", "status_after",
    }
    free = [line for line in first["lines"] if any(d["reason"] == "stamp" for d in line["discounts"])]
    assert len(free) == 1 and free[0]["total"] == "0.00" and free[0]["qty"] == 1
    again = json.loads(cli(shop, "sell", "yeva", "coffee:2", "--at", AT, "--id", "till-1", "--json").stdout)
    assert again["total"] == first["total"] and again["replayed"] is True
    assert status_of(shop, "yeva")["stamp_cards"][0]["count"] == 7


def test_return_refunds_what_was_paid_and_gives_the_reward_back(shop):
    sale = json.loads(cli(shop, "sell", "yeva", "coffee:2", "--at", AT, "--id", "s1", "--json").stdout)
    paid = {line["total"] for line in sale["lines"]}
    back = json.loads(cli(shop, "return", "s1", "coffee:2", "--at", AT, "--json").stdout)
    assert set(back) >= {"return_id", "sale_id", "lines", "refund_total", "status_after"}
    assert back["refund_total"] == sale["total"]
    assert {line["refund"] for line in back["lines"]} == paid
    assert back["status_after"]["stamp_cards"][0]["next_free"] is True


def test_the_printed_receipt_shows_a_discounts_row_only_when_something_was_taken_off(shop):
    plain = cli(shop, "sell", "-", "tea", "--at", AT, "--id", "plain").stdout
    assert "total" in plain and "discounts  " not in plain and "-0.00" not in plain
    # yeva's coffee card has a free coffee among the next two (the test above).
    free = cli(shop, "sell", "yeva", "coffee:2", "--at", AT, "--id", "free").stdout
    figures = {
        row.strip("│ ").split()[0]: Decimal(row.split("│")[-2].split()[0])
        for row in free.splitlines()
        if row.strip("│ ").startswith(("subtotal", "discounts", "total"))
    }
    assert figures["discounts"] < 0 and figures["subtotal"] + figures["discounts"] == figures["total"], free


def test_anonymous_sale_counts_for_nobody(shop):
    before = status_of(shop, "kris")
    cli(shop, "sell", "-", "coffee:3", "--at", AT)
    assert status_of(shop, "kris") == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["status", "nobody"], "unknown member 'nobody'"),
        (["sell", "kris", "latte", "--at", AT], "unknown product 'latte'"),
        (["sell", "kris", "coffee:x", "--at", AT], "quantity must be a whole number"),
        (["sell", "kris", "coffee", "--code", "NOPE", "--at", AT], "unknown discount code"),
        (["return", "cs-0001", "coffee:2", "--at", AT], "1 bought and not yet returned"),
        (["return", "no-such-sale", "coffee", "--at", AT], "unknown sale"),
        (["status", "kris", "--as-of", "yesterday"], "is not a date or time"),
        (["export", "everything"], "cannot export 'everything'"),
    ],
)
def test_user_mistakes_get_one_line_and_exit_1(shop, args, message):
    before = cli(shop, "export", "sales").stdout
    result = cli(shop, *args, ok=False)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert cli(shop, "export", "sales").stdout == before


def test_bad_import_names_file_row_and_field_and_writes_nothing(shop, tmp_path):
    bad = tmp_path / "sales.csv"
    good = (FIXTURES / "coffee_shop" / "sales_dog.csv").read_text()
    header = good.splitlines()[0]
    row = good.splitlines()[1]
    bad.write_text("\n".join([header, row, row.replace("cs-0030", "cs-0031").replace(",dog,", ",dog,1.999,", 1)]) + "\n")
    exported = cli(shop, "export", "sales").stdout
    result = cli(shop, "import", "sales", str(bad), ok=False)
    assert result.exit_code == 1
    assert str(bad) in result.stderr and "row 3" in result.stderr
    assert cli(shop, "export", "sales").stdout == exported


def test_read_commands_do_not_create_a_ledger(tmp_path):
    missing = tmp_path / "none.db"
    result = cli(missing, "status", "kris", ok=False)
    assert result.exit_code == 1 and "pos-loyalty init" in result.stderr
    assert not missing.exists()


def test_export_status_jsonl_matches_status(shop):
    lines = cli(shop, "export", "status", "--format", "jsonl", "--as-of", AT).stdout.splitlines()
    exported = {row["member_id"]: row for row in map(json.loads, lines)}
    assert exported["yeva"] == status_of(shop, "yeva")


@pytest.mark.parametrize(
    "kind, extra",
    [("members", ()), ("members", ("--include-personal-data",)), ("memberships", ()), ("products", ()), ("sales", ()),
     ("status", ()), ("events", ())],
)
def test_a_csv_export_has_its_header_with_rows_or_without(shop, tmp_path, kind, extra):
    """An export with no rows is still a CSV file with its header, the one an export with rows has."""
    cli(shop, "sell", "yeva", "coffee:6", "--at", AT)  # events too: the sixth coffee is free
    full = cli(shop, "export", kind, *extra, "--as-of", AT).stdout.splitlines()
    empty = tmp_path / "empty.db"
    cli(empty, "init", "--program", str(PROGRAMS / "coffee_shop.toml"))
    bare = cli(empty, "export", kind, *extra).stdout.splitlines()
    assert len(full) > 1 and bare == full[:1]


def test_exports_leave_out_personal_data_unless_asked(shop):
    plain = cli(shop, "export", "members").stdout
    full = cli(shop, "export", "members", "--include-personal-data").stdout
    assert "@" not in plain and "@" in full


def _commands(group, prefix=()):
    """Every command and group path (Typer vendors its own click, so look for sub-commands)."""
    for name, command in group.commands.items():
        yield prefix + (name,)
        if hasattr(command, "commands"):
            yield from _commands(command, prefix + (name,))


@pytest.mark.parametrize("path", sorted(_commands(__import__("typer").main.get_command(app))))
def test_every_command_has_help_with_an_example(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example: pos-loyalty" in result.stdout, f"{' '.join(path)} --help has no example"


def test_issued_codes_print_as_a_csv_that_imports_back_unchanged(shop, tmp_path):
    printed = cli(shop, "codes", "issue", "5", "--max-percent", "20", "--step", "10").stdout
    rows = list(csv.DictReader(printed.splitlines()))
    assert len({row["code"] for row in rows}) == 5 and {row["percent"] for row in rows} <= {"10", "20"}
    listed = {c["code"]: c["percent"] for c in json.loads(cli(shop, "codes", "list", "--json").stdout)}
    assert {row["code"]: row["percent"] for row in rows}.items() <= listed.items()
    path = tmp_path / "cards.csv"
    path.write_text(printed)
    assert "wrote 0, 5 already in the ledger" in cli(shop, "import", "codes", str(path)).stdout


def test_members_show_for_a_person_labels_details_and_says_when_there_are_no_sales(shop):
    cli(shop, "members", "add", "zoe", "--name", "Zoe", "--email", "zoe@example.com", "--at", AT)
    shown = cli(shop, "members", "show", "zoe", "--as-of", AT).stdout
    assert "e-mail zoe@example.com" in shown and "enrolled 2026-03-03 10:00" in shown
    assert "No sales or returns yet." in shown and "recent sales" not in shown
    assert "recent sales and returns" in cli(shop, "members", "show", "kris", "--as-of", AT).stdout


def test_members_list_reads_as_a_table_for_people(shop):
    """Times to the minute with a space, as the till shows them; no points column or sort where the
    programme has no points (the JSON keeps the ledger's ISO times)."""
    shown = cli(shop, "members", "list").stdout
    assert "2026-03-02 10:15" in shown and "T10:15" not in shown and "points" not in shown
    assert json.loads(cli(shop, "members", "list", "--json").stdout)[1]["last_visit"] == "2026-03-02T10:15:00"
    refused = cli(shop, "members", "list", "--sort", "points", ok=False)
    assert refused.exit_code == 1 and refused.stderr.strip().endswith("has no points (sort by one of: id, name, spend, last-visit)")
    points = coffee_shop(shop.with_name("points.db"), program="points")
    assert "points" in cli(points, "members", "list", "--sort", "points").stdout


def test_points_expire_books_the_lapsed_lots_once_and_the_member_list_shows_live_points(tmp_path, monkeypatch):
    class Clock(datetime):  # the CLI reads the clock at its edge: a year and a half after the recipe
        @classmethod
        def now(cls, tz=None):
            return datetime(2027, 9, 1, 2, 0, 0)

    monkeypatch.setattr("pos_loyalty.cli.datetime", Clock)
    db = coffee_shop(tmp_path / "points.db", program="points")
    cli(db, "sell", "kris", "coffee:2", "--at", AT, "--id", "S1")
    earned = status_of(db, "kris")["points"]["balance"]
    later = "2027-06-01T02:00:00"  # past the programme's 365 days
    listed = {m["member_id"]: m for m in json.loads(cli(db, "members", "list", "--json").stdout)}
    assert earned > 0 and listed["kris"]["points"] == earned and status_of(db, "kris", later)["points"]["balance"] == 0
    balances = {m: status_of(db, m)["points"]["balance"] for m in listed}  # sign-up bonuses, and kris's sale
    held = {m: points for m, points in balances.items() if points}
    expected = f"{sum(held.values())} lapsed points of {len(held)} members"  # kris, dave, yeva, rick
    assert cli(db, "points", "expire", "--as-of", later).stdout.startswith(expected)
    listed = {m["member_id"]: m for m in json.loads(cli(db, "members", "list", "--json").stdout)}
    assert all(m["points"] == 0 for m in listed.values()) and status_of(db, "kris", later)["points"]["balance"] == 0
    assert cli(db, "points", "expire", "--as-of", later).stdout.startswith("0 lapsed points of 0 members")
    assert "ok" in cli(db, "verify").stdout
    future = cli(db, "points", "expire", "--as-of", "2999-01-01", ok=False)
    assert future.exit_code == 1 and "is in the future" in future.stderr
    no_points = cli(coffee_shop(tmp_path / "shop.db"), "points", "expire", ok=False)
    assert no_points.exit_code == 1 and "no points" in no_points.stderr


def as_spreadsheet(source: Path, target: Path, delimiter: str) -> Path:
    """``source`` as Excel saves a CSV where the comma is the decimal mark: a byte-order mark, CRLF
    line ends, ``delimiter`` between cells and a decimal comma in every amount."""
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    amounts = {i for i, name in enumerate(rows[0]) if name in ("price", "unit_price")}
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(rows[0])
        for row in rows[1:]:
            writer.writerow([cell.replace(".", ",") if i in amounts else cell for i, cell in enumerate(row)])
    return target


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_spreadsheets_csv_with_decimal_commas_imports_as_the_plain_csv_does(shop, tmp_path, delimiter):
    """The recipe's members, products and sales saved by a European spreadsheet make the same ledger."""
    other = tmp_path / "spreadsheet.db"
    cli(other, "init", "--program", str(PROGRAMS / "coffee_shop.toml"))
    for kind in ("members", "products", "sales"):
        path = as_spreadsheet(FIXTURES / "coffee_shop" / f"{kind}.csv", tmp_path / f"{kind}.csv", delimiter)
        cli(other, "import", kind, str(path))
    written = (tmp_path / "products.csv").read_text(encoding="utf-8-sig")
    assert delimiter.join(["coffee", "Coffee", "beverages", "3,05"]) in written  # the file is as described
    for kind in ("members", "products", "sales", "status"):
        mine = cli(other, "export", kind, "--format", "json", "--as-of", AT).stdout
        assert mine == cli(shop, "export", kind, "--format", "json", "--as-of", AT).stdout, kind


def test_an_amount_with_a_thousands_separator_is_refused_not_guessed(shop, tmp_path):
    """1,250 could be a thousand and a quarter or one and a quarter: one line, row and field, nothing written."""
    path = tmp_path / "products.csv"
    path.write_text("product_id;name;category;price\nmug;Mug;gifts;8,50\nvase;Vase;gifts;1,250\n", encoding="utf-8")
    result = cli(shop, "import", "products", str(path), ok=False)
    assert result.exit_code == 1
    assert "products.csv: row 3: price: '1,250' is not an amount" in result.stderr
    assert "mug" not in cli(shop, "export", "products").stdout


def test_members_and_memberships_exported_import_back_to_the_same_statuses(tmp_path):
    """The tiered programme's members resign and rejoin: the two exports carry that to a new ledger,
    and its statuses are the old one's (the sales come from the recipe's file in both)."""
    folder = FIXTURES / "tiered_pln"
    program = str(PROGRAMS / "tiered_pln.toml")
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    cli(old, "init", "--program", program)
    for kind in ("members", "memberships", "products", "sales"):
        cli(old, "import", kind, str(folder / f"{kind}.csv"))
    for kind, extra in (("members", ("--include-personal-data",)), ("memberships", ())):
        cli(old, "export", kind, *extra, "-o", str(tmp_path / f"{kind}.csv"))
    exported = list(csv.DictReader((tmp_path / "memberships.csv").open(encoding="utf-8")))
    with (folder / "memberships.csv").open(encoding="utf-8") as handle:
        given = list(csv.DictReader(handle))
    assert {tuple(row.values()) for row in given} <= {tuple(row.values()) for row in exported}
    assert any(row["status"] == "resigned" for row in exported)

    cli(new, "init", "--program", program)
    for path in (tmp_path / "members.csv", tmp_path / "memberships.csv", folder / "products.csv", folder / "sales.csv"):
        cli(new, "import", path.stem, str(path))
    assert cli(new, "export", "memberships").stdout == cli(old, "export", "memberships").stdout
    as_of = "2026-06-30T12:00:00"  # the golden figures' instant: irena has resigned, jan rejoined
    assert cli(new, "export", "status", "--format", "json", "--as-of", as_of).stdout == \
        cli(old, "export", "status", "--format", "json", "--as-of", as_of).stdout


@pytest.mark.parametrize(("program", "fmt"), [("coffee_shop", "csv"), ("tiered_pln", "csv"), ("coffee_shop", "json")])
def test_a_ledgers_exports_import_into_a_new_ledger_with_the_same_statuses_and_sales(tmp_path, program, fmt):
    """Till sales with tier discounts, a free coffee and a code, and a return against one: each
    export imports into a new ledger, whose statuses, discount report and sales are the old one's
    (but for where the sales came from), and which verifies."""
    old, new = coffee_shop(tmp_path / "old.db", program), tmp_path / "new.db"
    cli(old, "codes", "issue", "1")
    code = json.loads(cli(old, "codes", "list", "--json").stdout)[0]["code"]
    cli(old, "sell", "yeva", "coffee:6", "tea", "--at", AT, "--id", "T1")
    cli(old, "sell", "rick", "coffee:2", "--code", code, "--at", "2026-03-03T10:05:00", "--id", "T2")
    cli(old, "return", "T1", "coffee:2", "--at", "2026-03-04T09:00:00")
    kinds = ("members", "memberships", "products", "codes", "sales")
    for kind in kinds:
        cli(old, "export", kind, "--format", fmt, "-o", str(tmp_path / f"{kind}.{fmt}"))
    with (tmp_path / f"sales.{fmt}").open(encoding="utf-8") as handle:
        sold = list(csv.DictReader(handle)) if fmt == "csv" else json.load(handle)
    free = {row["total"] for row in sold if row["sale_id"] == "T1" and row["product_id"] == "coffee"} >= {"0.00"}
    assert free == (program == "coffee_shop")  # the coffee card's sixth (tiered_pln has no card)
    assert all(Decimal(r["list_amount"]) - Decimal(r["discount"]) == Decimal(r["total"]) for r in sold)

    cli(new, "init", "--program", str(PROGRAMS / f"{program}.toml"))
    for kind in kinds:
        cli(new, "import", kind, str(tmp_path / f"{kind}.{fmt}"))
    as_of = "2026-03-05T12:00:00"
    for kind in ("status", "sales"):
        exported = [cli(db, "export", kind, "--format", "json", "--as-of", as_of).stdout for db in (old, new)]
        before, after = ([{k: v for k, v in row.items() if k != "source"} for row in json.loads(e)] for e in exported)
        assert after == before and after
    report = [cli(db, "report", "discounts", "--json").stdout for db in (old, new)]
    assert report[0] == report[1] and json.loads(report[0])[0]["orders"] == 1
    assert "ok" in cli(new, "verify").stdout
    assert "wrote 0" in cli(new, "import", "sales", str(tmp_path / f"sales.{fmt}")).stdout


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        (["X1,2026-03-03T10:00:00,kris,coffee,2,3.05,6.10,6.10,3,,"], "row 2: free_units: must be from 0 to the quantity (2), not 3"),
        (["X1,2026-03-03T10:00:00,kris,coffee,2,3.05,6.10,6.10,,,1"],
         "row 2: original_line_no: names a line of the original sale: only a return with an original_sale_id has one"),
        (["X1,2026-03-03T10:00:00,kris,coffee,2,3.05,6.10,6.10,,,", "X1-R1,2026-03-03T11:00:00,kris,coffee,1,3.05,3.05,3.05,,X1,2"],
         "row 3: original_line_no: sale X1 has no line 2 of coffee"),
    ],
    ids=["more free than bought", "a line on a sale", "a line the sale lacks"],
)
def test_an_exported_lines_free_units_and_original_line_are_checked(shop, tmp_path, rows, says):
    path = tmp_path / "sales.csv"
    header = "sale_id,ts,member_id,product_id,qty,unit_price,list_amount,total,free_units,original_sale_id,original_line_no"
    kinds = ["sale" if "-R" not in row else "return" for row in rows]
    path.write_text("\n".join([header + ",kind", *(f"{row},{kind}" for row, kind in zip(rows, kinds))]) + "\n", encoding="utf-8")
    refused = cli(shop, "import", "sales", str(path), ok=False)
    assert refused.exit_code == 1 and refused.stderr.strip() == f"pos-loyalty: {path}: {says}"


def test_a_product_without_a_price_exports_and_imports_as_one(shop, tmp_path):
    """Imported history may name products the catalogue has no price for (the Online Retail file's):
    they export with a blank price and import as such, said so; a valid_from needs a price."""
    path = tmp_path / "products.csv"
    path.write_text("product_id,name,category,price,valid_from\nmug,Mug,gifts,,\n", encoding="utf-8")
    said = cli(shop, "import", "products", str(path)).stdout.strip()
    assert said == f"{path}: read 1 rows, wrote 1, 0 already in the ledger; 1 products without a price " \
                   "(history names them; the till cannot sell them)"
    exported = list(csv.DictReader(io.StringIO(cli(shop, "export", "products").stdout)))
    assert [row for row in exported if row["product_id"] == "mug"] == [
        {"product_id": "mug", "name": "Mug", "category": "gifts", "price": "", "valid_from": ""}
    ]
    assert "wrote 0, 1 already in the ledger" in cli(shop, "import", "products", str(path)).stdout
    path.write_text("product_id,name,price,valid_from\nmug,Mug,,2026-03-01\n", encoding="utf-8")
    refused = cli(shop, "import", "products", str(path), ok=False)
    assert refused.stderr.strip() == f"pos-loyalty: {path}: row 2: price: is empty (a valid_from needs a price)"


def test_an_export_of_nothing_imports_as_nothing(shop, tmp_path):
    """A ledger with no codes exports a header alone; importing it elsewhere succeeds and writes nothing."""
    path = tmp_path / "codes.csv"
    cli(shop, "export", "codes", "-o", str(path))
    assert path.read_text(encoding="utf-8") == "code,percent\n"
    other = coffee_shop(tmp_path / "other.db")
    assert cli(other, "import", "codes", str(path)).stdout.strip() == f"{path}: read 0 rows, wrote 0, 0 already in the ledger"


@pytest.mark.parametrize(
    ("cells", "field", "says"),
    [
        ("3.05,6.10,0.30,5.90", "discount", "'0.30' is not the list amount less the total (0.20)"),
        ("3.05,6.10,,6.20", "total", "'6.20' is more than the list amount (6.10)"),
        ("3.05,6.10,0.30,", "total", "is empty (list_amount and discount need the amount paid beside them)"),
        ("3.05,6.10,0.30,5.80,tier 0.20 'GOLD 10%'", "discounts",
         "add up to 0.20, not the list amount less the total (0.30)"),
        ("3.05,6.10,0.30,5.80,tier 0.30", "discounts",
         "'tier 0.30' is not a reason, an amount and a detail for each discount (e.g. tier 0.76 'SILVER 5%')"),
        ("3.05,6.10,0.30,5.80,code 0.30 'X 5%'", "discounts", "a code's discount on a sale that names no discount code"),
    ],
    ids=["discount disagrees", "paid above list", "no total", "discounts disagree", "no detail", "code without code"],
)
def test_a_sales_export_whose_amounts_disagree_is_refused(shop, tmp_path, cells, field, says):
    path = tmp_path / "sales.csv"
    cells += "," * (4 - cells.count(","))  # to the discounts column
    path.write_text(
        "sale_id,ts,member_id,product_id,qty,unit_price,list_amount,discount,total,discounts,kind\n"
        f"X1,2026-03-03T10:00:00,kris,coffee,2,{cells},sale\n",
        encoding="utf-8",
    )
    refused = cli(shop, "import", "sales", str(path), ok=False)
    assert refused.exit_code == 1 and refused.stderr.strip() == f"pos-loyalty: {path}: row 2: {field}: {says}"
    assert "X1" not in cli(shop, "export", "sales").stdout


def test_a_return_says_the_points_taken_and_given_back_on_one_line(tmp_path):
    db = coffee_shop(tmp_path / "points.db", program="points")
    cli(db, "sell", "yeva", "coffee:3", "tea", "--redeem-points", "100", "--at", AT, "--id", "T1")
    printed = cli(db, "return", "T1", "coffee:2", "--at", "2026-03-03T11:00:00").stdout
    assert any(re.fullmatch(r"points taken back [1-9][0-9]*, given back [1-9][0-9]*", line) for line in printed.splitlines())


def test_a_sale_in_a_bonus_period_says_so_on_its_own_line(tmp_path):
    """The points programme's double points week (23-29 Nov): the receipt says the points were doubled, and until when."""
    db = coffee_shop(tmp_path / "points.db", program="points")
    inside = cli(db, "sell", "yeva", "coffee", "--at", "2026-11-24T10:00:00").stdout.splitlines()
    outside = cli(db, "sell", "yeva", "coffee", "--at", "2026-12-01T10:00:00").stdout.splitlines()
    assert "2x points until 29 Nov" in inside
    assert not any("points until" in line for line in outside)


def test_the_online_retail_file_brings_its_sales_then_its_prices_and_the_till_sells_its_products(tmp_path):
    db = tmp_path / "retail.db"
    cli(db, "init", "--program", str(PROGRAMS / "coffee_shop.toml"))
    path = tmp_path / "retail.csv"
    path.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
        "536366,71053,WHITE METAL LANTERN,6,12/1/2010 8:28,3.39,,United Kingdom\n",
        encoding="utf-8",
    )
    cli(db, "import", "sales", str(path), "--format", "online-retail")
    refused = cli(db, "sell", "17850", "85123A", "--at", "2011-01-01T10:00:00", ok=False)
    assert refused.exit_code == 1 and "85123A has no catalogue price" in refused.stderr
    said = cli(db, "import", "products", str(path), "--format", "online-retail").stdout
    assert "priced 2 products at their latest sale, 2 prices new" in said
    sold = json.loads(cli(db, "sell", "17850", "85123A", "--at", "2011-01-01T10:00:00", "--json").stdout)
    assert sold["lines"][0]["unit_price"] == "2.55"
    wrong = cli(db, "import", "members", str(path), "--format", "online-retail", ok=False)
    assert wrong.exit_code == 1 and "use `import sales` or `import products`" in wrong.stderr
