"""Importing history: re-imports change nothing, a bad row refuses the whole file with a message
naming file, row and field, and imported sales keep their prices."""

from __future__ import annotations

import pytest

from pos_loyalty import ledger
from pos_loyalty.engine import member_status
from pos_loyalty.io.importers import import_file
from pos_loyalty.io.readers import InputError
from pos_loyalty.ledger.imports import Saver
from pos_loyalty.ledger.schema import DEFERRABLE_INDEXES
from pos_loyalty.ledger.verify import verify

from ..support import COFFEE_FILES, FIXTURES, dump, import_fixture, new_ledger, write_csv

SALES = FIXTURES / "coffee_shop" / "sales.csv"
SALES_HEADER = "sale_id,ts,member_id,product_id,qty,unit_price,kind,original_sale_id,discount_code".split(",")


@pytest.fixture
def catalogue_only():
    db, program = new_ledger("coffee_shop")
    import_fixture(db, program, "coffee_shop", COFFEE_FILES[:2])
    return db, program


FIXTURE_IMPORTS = [
    ("coffee_shop", "coffee_shop", COFFEE_FILES + [("sales", "sales_dog.csv")]),
    ("tiered_pln", "tiered_pln",
     [("products", "products.csv"), ("members", "members.csv"), ("memberships", "memberships.csv"),
      ("sales", "sales.csv")]),
    ("discounting", "coffee_shop", [("products", "products.csv"), ("codes", "codes.csv"), ("sales", "sales.csv")]),
]
"""(fixture folder, programme, files in import order) of every fixture."""


class TestReimport:
    @pytest.mark.parametrize(("folder", "program", "files"), FIXTURE_IMPORTS)
    def test_importing_the_same_files_again_changes_nothing(self, folder, program, files):
        db, prog = new_ledger(program)
        import_fixture(db, prog, folder, files)
        before = dump(db)
        for kind, name in files:
            counts = import_file(db, prog, kind, FIXTURES / folder / name)
            assert counts.written == 0 and counts.unchanged == counts.read > 0, (kind, counts)
        assert dump(db) == before

    def test_a_sale_id_reused_for_other_contents_is_refused(self, catalogue_only, tmp_path):
        db, program = catalogue_only
        import_file(db, program, "sales", SALES)
        before = dump(db)
        other = write_csv(tmp_path / "other.csv", SALES_HEADER,
                          [["cs-0001", "2026-03-02T08:00:00", "kris", "dog", "1", "", "sale", "", ""]])
        with pytest.raises(InputError) as caught:
            import_file(db, program, "sales", other)
        assert (caught.value.row, caught.value.field) == (2, "sale_id")
        assert dump(db) == before

    @pytest.mark.parametrize("held", [True, False], ids=["ids held", "ids looked up"])
    def test_a_sale_met_again_further_on_is_refused_and_a_reimport_is_not(
        self, catalogue_only, tmp_path, monkeypatch, held
    ):
        """The Saver tells this file's own sales from the ledger's earlier ones, with the ids in
        memory or (past its limit, so memory stays bounded) by the index and the rowid."""
        monkeypatch.setattr(Saver, "BATCH", 1)  # each sale written before the next comes
        if not held:
            monkeypatch.setattr(Saver, "ID_CACHE_LIMIT", 0)
        db, program = catalogue_only
        rows = [
            ["a-1", "2026-03-02T08:00:00", "kris", "coffee", "1", "", "sale", "", ""],
            ["a-2", "2026-03-02T08:05:00", "dave", "tea", "1", "", "sale", "", ""],
            ["a-1", "2026-03-02T08:00:00", "kris", "coffee", "1", "", "sale", "", ""],
        ]
        apart = write_csv(tmp_path / "apart.csv", SALES_HEADER, rows)
        before = dump(db)
        with pytest.raises(InputError) as caught:
            import_file(db, program, "sales", apart)
        assert (caught.value.row, caught.value.field) == (4, "sale_id")
        assert "next to each other" in str(caught.value)
        assert dump(db) == before
        counts = import_file(db, program, "sales", apart, skip_invalid=True, rejects=tmp_path / "rejects.csv")
        assert (counts.written, counts.rejected) == (2, 1)
        assert (tmp_path / "rejects.csv").read_text().splitlines()[1].startswith("4,")
        whole = write_csv(tmp_path / "whole.csv", SALES_HEADER, rows[:2])
        counts = import_file(db, program, "sales", whole)  # the same sales again: nothing new
        assert (counts.written, counts.unchanged) == (0, 2)
        assert not verify(db)


def _with_last_row(tmp_path, column: str, value: str):
    """The fixture's sales.csv with one cell of its last row changed."""
    rows = [line.split(",") for line in SALES.read_text().splitlines()]
    header, body = rows[0], rows[1:]
    body[-1][header.index(column)] = value
    return write_csv(tmp_path / "sales_bad.csv", header, body), len(rows)


class TestAllOrNothing:
    @pytest.mark.parametrize(
        ("column", "value", "words"),
        [
            ("qty", "two", "whole number"),
            ("product_id", "unicorn", "unknown product"),
            ("member_id", "nobody", "unknown member"),
            ("ts", "yesterday", "not a date"),
            ("unit_price", "3.001", "decimals"),
            ("kind", "swap", "sale or return"),
        ],
    )
    def test_a_bad_last_row_leaves_the_ledger_unchanged(self, catalogue_only, tmp_path, column, value, words):
        db, program = catalogue_only
        path, last_row = _with_last_row(tmp_path, column, value)
        before = dump(db)
        with pytest.raises(InputError) as caught:
            import_file(db, program, "sales", path)
        error = caught.value
        assert (error.path, error.row, error.field) == (str(path), last_row, column)
        message = str(error)
        assert message.startswith(f"{path}: row {last_row}: {column}: ") and words in message
        assert "\n" not in message
        assert dump(db) == before
        assert db.execute("SELECT count(*) FROM sales").fetchone()[0] == 0

    def test_a_good_file_after_a_refused_one_imports_whole(self, catalogue_only, tmp_path):
        db, program = catalogue_only
        path, _ = _with_last_row(tmp_path, "qty", "two")
        with pytest.raises(InputError):
            import_file(db, program, "sales", path)
        counts = import_file(db, program, "sales", SALES)
        assert counts.written == counts.read == db.execute("SELECT count(*) FROM sales").fetchone()[0]
        assert verify(db) == []

    def test_a_bad_member_row_refuses_the_members_file(self, tmp_path):
        db, program = new_ledger("coffee_shop")
        rows = [line.split(",") for line in (FIXTURES / "coffee_shop" / "members.csv").read_text().splitlines()]
        rows[-1][4] = "2026-13-01T00:00:00"
        path = write_csv(tmp_path / "members.csv", rows[0], rows[1:])
        with pytest.raises(InputError) as caught:
            import_file(db, program, "members", path)
        assert (caught.value.row, caught.value.field) == (len(rows), "joined_at")
        assert db.execute("SELECT count(*) FROM members").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM memberships").fetchone()[0] == 0


class TestForeignKeys:
    """An import writes with SQLite's foreign-key lookups off, as the Saver checks each reference."""

    @staticmethod
    def keys_on(db) -> bool:
        return db.execute("PRAGMA foreign_keys").fetchone()[0] == 1

    def test_keys_are_on_again_whether_the_import_lands_or_not(self, catalogue_only, tmp_path):
        db, program = catalogue_only
        import_file(db, program, "sales", SALES)
        assert self.keys_on(db)
        with pytest.raises(InputError):
            import_file(db, program, "sales", _with_last_row(tmp_path, "product_id", "unicorn")[0])
        assert self.keys_on(db)
        with ledger.write(db):  # inside a caller's transaction they are never turned off
            import_file(db, program, "codes", write_csv(tmp_path / "c.csv", ["code", "percent"], [["TEN10", "10"]]))
            assert self.keys_on(db)
        assert self.keys_on(db)

    @pytest.mark.parametrize(("folder", "files"), [(folder, files) for folder, _, files in FIXTURE_IMPORTS])
    def test_every_reference_an_import_writes_resolves(self, tmp_path, folder, files):
        """Sales, their lines, returns against sales, codes redeemed, memberships and (the points
        programme's) sign-up points of members who join."""
        db, program = new_ledger("points", tmp_path / "ledger.db")
        import_fixture(db, program, folder, files)
        assert db.execute("SELECT count(*) FROM sale_lines").fetchone()[0] > 0
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_rows_written_fifty_to_a_statement_are_the_rows_written_one_by_one(tmp_path, monkeypatch):
    """Sales, lines, code discounts and redemptions of a file whose counts are not multiples of 50."""
    from pos_loyalty.ledger import imports

    codes = write_csv(tmp_path / "c.csv", ["code", "percent"], [[f"C{i:03d}", "10"] for i in range(60)])
    rows = []
    for number in range(123):
        code = f"C{number:03d}" if number < 60 else ""
        for line in range(1 + number % 3):
            rows.append([f"b{number:03d}", f"2026-03-02T{8 + number // 60:02d}:{number % 60:02d}:00",
                         ["kris", "dave", ""][number % 3], ["coffee", "tea", "beret"][line], str(1 + line), "",
                         "sale", "", code])
    sales = write_csv(tmp_path / "s.csv", SALES_HEADER, rows)

    def ledger_after(per_statement: int):
        monkeypatch.setattr(imports, "ROWS_PER_INSERT", per_statement)
        db, program = new_ledger("coffee_shop")
        import_fixture(db, program, "coffee_shop", COFFEE_FILES[:2])
        import_file(db, program, "codes", codes)
        import_file(db, program, "sales", sales)
        facts = dump(db)
        del facts["_sqlite_migrations"]  # when each ledger was made
        return facts

    assert imports.ROWS_PER_INSERT == 50
    assert ledger_after(50) == ledger_after(1)


class TestImportedHistoryIsFact:
    def test_an_imported_sale_keeps_its_price_and_gets_no_rewards_after_the_fact(self, catalogue_only, tmp_path):
        """yeva's sixth coffee in the file is priced as given: no stamp reward is added afterwards."""
        db, program = catalogue_only
        rows = [[f"y{i}", f"2026-03-02T1{i}:00:00", "yeva", "coffee", "1", "4.00", "sale", "", ""] for i in range(6)]
        import_file(db, program, "sales", write_csv(tmp_path / "s.csv", SALES_HEADER, rows))
        assert db.execute("SELECT sum(total), count(*) FROM sales").fetchone() == (2400, 6)
        assert db.execute("SELECT count(*) FROM line_discounts").fetchone()[0] == 0

    def test_a_code_named_on_an_imported_sale_is_redeemed_by_its_rule(self, catalogue_only, tmp_path):
        db, program = catalogue_only
        import_file(db, program, "codes", write_csv(tmp_path / "c.csv", ["code", "percent"], [["TEN10", "10"]]))
        rows = [["z1", "2026-03-02T10:00:00", "dave", "beret", "1", "", "sale", "", "ten10"]]
        import_file(db, program, "sales", write_csv(tmp_path / "s.csv", SALES_HEADER, rows))
        assert db.execute("SELECT code, sale_id FROM code_redemptions").fetchall() == [("TEN10", "z1")]
        sale = ledger.load_sale(db, "z1")
        assert [(d.reason, d.amount) for d in sale.lines[0].discounts] == [("code", 350)]  # 10 % of 34.99
        rows = [["z2", "2026-03-02T11:00:00", "kris", "beret", "1", "", "sale", "", "TEN10"]]
        with pytest.raises(InputError, match="already used"):
            import_file(db, program, "sales", write_csv(tmp_path / "s2.csv", SALES_HEADER, rows))

    def test_a_return_with_no_original_sale_carries_its_own_amount(self, catalogue_only, tmp_path):
        db, program = catalogue_only
        rows = [["r1", "2026-03-02T10:00:00", "dave", "beret", "2", "30.00", "return", "", ""]]
        import_file(db, program, "sales", write_csv(tmp_path / "r.csv", SALES_HEADER, rows))
        assert db.execute("SELECT kind, total FROM sales").fetchall() == [("return", 6000)]
        assert verify(db) == []

    def test_an_imported_return_never_refunds_more_than_was_paid(self, catalogue_only, tmp_path):
        """The return repeats the list price, but the sale paid half: refused, or refunded what was paid."""
        db, program = catalogue_only
        import_file(db, program, "codes", write_csv(tmp_path / "c.csv", ["code", "percent"], [["HALF50", "50"]]))
        rows = [
            ["x1", "2026-03-02T08:00:00", "kris", "dog", "1", "", "sale", "", "HALF50"],  # paid 125.00
            ["x1r", "2026-03-03T08:00:00", "kris", "dog", "1", "249.99", "return", "x1", ""],
        ]
        path = write_csv(tmp_path / "s.csv", SALES_HEADER, rows)
        try:
            import_file(db, program, "sales", path)
        except InputError:
            assert db.execute("SELECT count(*) FROM sales").fetchone()[0] == 0  # refused whole: fine
            return
        paid = ledger.load_sale(db, "x1").lines[0].total
        assert ledger.load_sale(db, "x1r").total <= paid
        assert verify(db) == []

    def test_two_returns_of_one_sale_in_one_file_return_no_more_than_was_bought(self, catalogue_only, tmp_path):
        """The second return reads the first from the same file (both are still buffered when it
        comes): 2 of 3 coffees back, then 2 more is one too many. Found by the export round-trip
        property; the file imported whole before, and verify found more returned than bought."""
        db, program = catalogue_only
        rows = [
            ["s1", "2026-03-03T09:00:00", "kris", "coffee", "3", "", "sale", "", ""],
            ["s1r1", "2026-03-03T10:00:00", "kris", "coffee", "2", "", "return", "s1", ""],
            ["s1r2", "2026-03-03T11:00:00", "kris", "coffee", "2", "", "return", "s1", ""],
        ]
        with pytest.raises(InputError, match="row 4: qty: cannot return 2 x coffee: more than sale s1 has left"):
            import_file(db, program, "sales", write_csv(tmp_path / "s.csv", SALES_HEADER, rows))
        rows[2][4] = "1"
        import_file(db, program, "sales", write_csv(tmp_path / "s.csv", SALES_HEADER, rows))
        assert [line.returnable for line in ledger.load_sale(db, "s1").lines] == [0]
        assert verify(db) == []

    def test_a_member_resigned_and_back_within_one_second_comes_back_a_member(self, catalogue_only, tmp_path):
        """The memberships export of a member who resigned and rejoined in the second they joined
        repeats (that second, active): the second one is a rejoin, not the join again. Found by the
        export round-trip property; the rejoin was taken for the join and skipped."""
        db, program = catalogue_only
        rows = [["kris", "2026-03-01T09:15:00", status] for status in ("active", "resigned", "active")]
        path = write_csv(tmp_path / "m.csv", ["member_id", "ts", "status"], rows)
        counts = import_file(db, program, "memberships", path)
        assert (counts.written, counts.unchanged) == (2, 1)  # the join came with the members file
        at = ledger.parse_ts("2026-03-01T09:15:00")
        assert member_status(program, ledger.load_member_facts(db, "kris"), at).active
        again = import_file(db, program, "memberships", path)
        assert (again.written, again.unchanged) == (0, 3)


class TestDeferredIndexes:
    """A big import drops the secondary indexes of sales and sale_lines and builds them again."""

    @staticmethod
    def schema(db) -> dict[str, str]:
        return dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))

    @pytest.fixture
    def big_for_its_ledger(self, monkeypatch):
        """Make the fixture's sales file count as big: every import into a small ledger defers."""
        monkeypatch.setattr(Saver, "DEFER_MIN_LINES", 1)
        dropped: list[str] = []
        real = Saver._defer_indexes

        def spy(self):
            found = real(self)
            dropped.extend(found)
            return found

        monkeypatch.setattr(Saver, "_defer_indexes", spy)
        return dropped

    def test_the_indexes_come_back_as_they_were(self, catalogue_only, big_for_its_ledger):
        db, program = catalogue_only
        before = self.schema(db)
        import_file(db, program, "sales", SALES)
        assert sorted(big_for_its_ledger) == sorted(DEFERRABLE_INDEXES)
        assert self.schema(db) == before
        assert verify(db) == []
        history = "SELECT count(*) FROM sale_lines WHERE member_id = 'kris'"
        assert "COVERING INDEX" in " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + history))

    def test_a_refused_import_leaves_the_indexes_and_the_rows(
        self, catalogue_only, big_for_its_ledger, tmp_path, monkeypatch
    ):
        db, program = catalogue_only
        monkeypatch.setattr(Saver, "BATCH", 1)  # write each sale as it comes, before the bad row
        before_schema, before_rows = self.schema(db), dump(db)
        with pytest.raises(InputError):
            import_file(db, program, "sales", _with_last_row(tmp_path, "product_id", "no-such-product")[0])
        assert big_for_its_ledger  # it had dropped them before the bad row was reached
        assert self.schema(db) == before_schema and dump(db) == before_rows

    def test_a_small_import_into_a_bigger_ledger_keeps_its_indexes(self, catalogue_only, monkeypatch):
        db, program = catalogue_only
        import_file(db, program, "sales", SALES)
        monkeypatch.setattr(Saver, "DEFER_MIN_LINES", 1)
        saver = Saver(db, program, expected_lines=1)
        assert saver._defer_indexes() == {}  # 1 line coming, the ledger holds more: keep them


class TestDeferredNameIndex:
    """A big members import fills the name search index in one pass at its end, not member by member."""

    @staticmethod
    def members_file(tmp_path, count: int, bad_row: int | None = None):
        rows = [[f"n{i:04d}", f"Ana Example{i}", "2026-01-05" if i != bad_row else "2026-02-30"] for i in range(count)]
        return write_csv(tmp_path / "members.csv", ["member_id", "name", "joined_at"], rows)

    @staticmethod
    def names_found(db, words: str) -> int:
        return db.execute("SELECT count(*) FROM member_names WHERE member_names MATCH ?", [words]).fetchone()[0]

    @staticmethod
    def trigger(db):
        return db.execute("SELECT sql FROM sqlite_master WHERE name = 'member_names_insert'").fetchone()

    @pytest.fixture
    def dropped(self, monkeypatch) -> list:
        """Every members import counts as big; the trigger SQL each one dropped."""
        monkeypatch.setattr(Saver, "DEFER_MIN_MEMBERS", 1)
        found = []
        real = Saver._defer_name_index
        monkeypatch.setattr(Saver, "_defer_name_index", lambda self: (real(self), found.append(self._names_trigger)))
        return found

    def test_every_imported_name_is_found_and_the_trigger_is_back(self, tmp_path, dropped):
        db, program = new_ledger("coffee_shop")
        trigger = self.trigger(db)
        import_file(db, program, "members", self.members_file(tmp_path, 40))
        assert set(dropped) == {trigger[0]}  # it was dropped for this import
        assert self.trigger(db) == trigger
        assert self.names_found(db, "ana") == 40 and self.names_found(db, "example17") == 1
        db.execute("INSERT INTO member_names (member_names) VALUES ('integrity-check')")
        ledger.add_member(db, program, "late", ledger.parse_ts("2026-02-01"), name="Zed Later")
        assert self.names_found(db, "zed") == 1  # the trigger indexes the next member again

    def test_a_refused_import_leaves_the_trigger_and_the_index(self, tmp_path, dropped):
        db, program = new_ledger("coffee_shop")
        trigger, before = self.trigger(db), dump(db)
        with pytest.raises(InputError, match="row 39"):
            import_file(db, program, "members", self.members_file(tmp_path, 40, bad_row=37))
        assert set(dropped) == {trigger[0]}  # dropped before the bad row was reached
        assert self.trigger(db) == trigger and dump(db) == before
        assert self.names_found(db, "ana") == 0

    def test_a_small_import_into_a_bigger_ledger_keeps_the_trigger(self, tmp_path, monkeypatch):
        db, program = new_ledger("coffee_shop")
        import_file(db, program, "members", self.members_file(tmp_path, 40))
        monkeypatch.setattr(Saver, "DEFER_MIN_MEMBERS", 1)
        saver = Saver(db, program, expected_members=5)
        saver._defer_name_index()
        assert saver._names_trigger is None and self.trigger(db) is not None


@pytest.mark.parametrize("limit", [100_000, 1], ids=["totals held", "totals added as they go"])
def test_an_import_adds_its_totals_to_what_the_till_already_recorded(tmp_path, monkeypatch, limit):
    """member_summary after an import equals a rebuild from the facts: members with till sales before
    it, sales dated before and after those, returns, sign-up points of members who join at their
    first invoice (Online Retail), and an anonymous sale."""
    from datetime import datetime

    from pos_loyalty.engine import Basket, BasketLine
    from pos_loyalty.io.online_retail import import_online_retail

    monkeypatch.setattr(Saver, "TOTALS_LIMIT", limit)
    db, program = new_ledger("points")
    import_fixture(db, program, "coffee_shop", COFFEE_FILES[:2])
    ledger.record_sale(db, program, Basket((BasketLine("coffee", 2),), "kris"), datetime(2026, 3, 5, 9), "T-1")
    ledger.record_sale(db, program, Basket((BasketLine("tea"),), "dave"), datetime(2026, 3, 1, 9), "T-2")
    rows = [  # kris's imported sales all come before the till's, dave's after it
        ["i1", "2026-03-02T08:00:00", "kris", "tea", "2", "", "sale", "", ""],
        ["i2", "2026-03-04T08:00:00", "kris", "beret", "1", "", "sale", "", ""],
        ["i3", "2026-03-04T09:00:00", "kris", "beret", "1", "", "return", "i2", ""],
        ["i4", "2026-03-03T08:00:00", "dave", "coffee", "3", "", "sale", "", ""],
        ["i5", "2026-03-04T08:00:00", "", "coffee", "1", "", "sale", "", ""],
    ]
    import_file(db, program, "sales", write_csv(tmp_path / "s.csv", SALES_HEADER, rows))
    retail = tmp_path / "retail.csv"
    retail.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
        "536366,71053,LANTERN,2,12/2/2010 9:00,3.39,17850,United Kingdom\n"
        "C536367,71053,LANTERN,-1,12/3/2010 9:00,3.39,17850,United Kingdom\n"
        "536368,22633,HAND WARMER,6,12/1/2010 8:28,1.85,13047,United Kingdom\n"
    )
    import_online_retail(db, program, retail)
    assert db.execute("SELECT count(*) FROM member_summary WHERE points_net > 0").fetchone()[0] >= 2
    assert verify(db) == []
