"""The read-only browse queries: type-ahead search, history, and the paged, sorted member list."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine
from pos_loyalty.ledger import browse
from pos_loyalty.ledger.verify import rebuild_summary

from ..support import coffee_ledger

AT = datetime(2026, 3, 3, 9, 0)


@pytest.fixture
def shop():
    """The coffee-shop golden ledger (in memory) with the browse indexes."""
    return coffee_ledger(with_dog=False)


def test_member_search_by_id_name_phone_and_email(shop):
    db, _ = shop
    assert [h.member_id for h in browse.search_members(db, "yeva")] == ["yeva"]
    assert [h.member_id for h in browse.search_members(db, "YE")] == ["yeva"]  # case-insensitive prefix
    assert [h.member_id for h in browse.search_members(db, "rick@")] == ["rick"]
    assert [h.member_id for h in browse.search_members(db, "+1-555-0102")] == ["dave"]
    assert [h.member_id for h in browse.search_members(db, "0104")] == ["rick"]  # inside the phone number
    assert [h.member_id for h in browse.search_members(db, "555 0101")] == ["kris"]  # digits, whatever the punctuation
    assert [h.member_id for h in browse.search_members(db, "example.org")] == ["yeva"]
    assert browse.search_members(db, "nobody") == []
    assert browse.search_members(db, "") == []
    assert browse.search_members(db, "%") == []  # wildcards are text, not patterns
    assert browse.search_members(db, "e") == []  # one letter matches starts only: no noise while typing
    assert len(browse.search_members(db, "example", limit=2)) == 2
    hit = browse.search_members(db, "kris")[0]
    assert hit.label == "Kris · kris · +1-555-0101"


def test_prefix_searches_use_the_indexes(shop):
    db, _ = shop
    for column in ("member_id", "name", "email", "phone"):
        plan = db.execute(
            f"EXPLAIN QUERY PLAN SELECT member_id FROM members WHERE {column} LIKE ? ESCAPE '\\'", ["ab%"]
        ).fetchall()
        assert "USING" in plan[0][3] and "INDEX" in plan[0][3], (column, plan)
    for key, index in (
        ("s.spend - s.refunds", "member_summary_net_spend"),
        ("s.points_net", "member_summary_points"),
    ):
        for direction in ("ASC", "DESC"):
            plan = " ".join(
                row[3]
                for row in db.execute(
                    "EXPLAIN QUERY PLAN SELECT s.member_id FROM member_summary s JOIN members m "
                    f"ON m.member_id = s.member_id ORDER BY {key} {direction}, s.member_id {direction} LIMIT 40 OFFSET 80"
                )
            )
            assert index in plan and "TEMP B-TREE" not in plan, (key, direction, plan)


def test_product_search_is_priced_at_the_instant(shop):
    db, _ = shop
    (coffee,) = browse.search_products(db, "cof", AT)
    assert (coffee.product_id, coffee.price) == ("coffee", 305)
    (early,) = browse.search_products(db, "coffee", datetime(2026, 3, 1, 12))
    assert early.price == 299
    assert [p.product_id for p in browse.search_products(db, "t", AT)] == ["tea", "beret", "cat"]  # starts first
    assert browse.search_products(db, "coffee", datetime(2025, 1, 1)) == []  # no price in force yet


def test_recent_sales_and_what_is_left_to_return(shop):
    db, program = shop
    receipt = ledger.record_sale(db, program, Basket((BasketLine("tea", 3),), "dave"), AT, "t-1")
    ledger.record_return(db, program, "t-1", [BasketLine("tea", 1)], AT)
    recent = browse.recent_sales(db, "dave", limit=3)
    assert [(s.sale_id, s.kind) for s in recent[:2]] == [("t-1-R1", "return"), ("t-1", "sale")]
    assert recent[2].ts < AT and len(recent) == 3
    sale = browse.sale_summary(db, "t-1")
    assert (sale.units, sale.returnable, sale.total) == (3, 2, receipt.quote.total)
    returnable = browse.recent_sales(db, "dave", returnable_only=True)
    assert all(s.kind == "sale" and s.returnable > 0 for s in returnable)
    ledger.record_return(db, program, "t-1", [BasketLine("tea", 2)], AT)
    assert "t-1" not in [s.sale_id for s in browse.recent_sales(db, "dave", returnable_only=True)]


def test_member_page_sorts_and_pages(shop):
    db, program = shop
    page = browse.member_page(db, program, sort="tier")
    assert [r.member_id for r in page.rows] == ["rick", "yeva", "dave", "kris"]
    assert page.total == 4 and page.offset == 0
    assert [r.net_spend for r in page.rows] == [45364, 37106, 25298, 7428]
    page = browse.member_page(db, program, sort="spend", descending=False, offset=1, limit=2)
    assert [r.member_id for r in page.rows] == ["dave", "yeva"]
    page = browse.member_page(db, program, sort="name", descending=False)
    assert [r.name for r in page.rows] == ["Dave", "Kris", "Rick", "Yeva"]
    page = browse.member_page(db, program, search="r", sort="spend")
    assert [r.member_id for r in page.rows] == ["rick"] and page.total == 1  # prefix of id, name, e-mail or phone
    page = browse.member_page(db, program, search="+1-555", sort="member_id", descending=False)
    assert [r.member_id for r in page.rows] == ["dave", "kris", "rick", "yeva"]
    with pytest.raises(ValueError):
        browse.member_page(db, program, sort="shoe size")


def test_member_page_counts_members_with_no_cached_totals(shop):
    """A member without a summary row (never joined, never bought) still appears, at the zero end."""
    db, program = shop
    ledger.add_member(db, program, "zed", AT, name="Zed", join=False)
    db.execute("DELETE FROM member_summary WHERE member_id = 'zed'")
    down = browse.member_page(db, program, sort="spend")
    assert [r.member_id for r in down.rows][-1] == "zed" and down.total == 5
    up = browse.member_page(db, program, sort="spend", descending=False)
    assert [r.member_id for r in up.rows][0] == "zed"
    tail = browse.member_page(db, program, sort="points", offset=3, limit=10)
    assert len(tail.rows) == 2 and tail.rows[-1].member_id == "zed"
    rebuild_summary(db)
    assert browse.member_page(db, program, sort="spend").total == 5


def test_a_broad_search_walks_the_sort_order_and_gives_the_same_pages(shop, monkeypatch):
    """A broad search reads its page in index order and counts by reading the members: the same
    rows and totals as sorting and counting every match."""
    db, program = shop
    for n in range(30):
        ledger.add_member(db, program, f"m{n:02d}", AT, name=f"Mia Moss {n:02d}", join=n % 3 != 0)
    for n in range(5):  # "moss" is their names' first word: a broad prefix, with more by a later word
        ledger.add_member(db, program, f"x{n}", AT, name=f"Moss Ann {n}")
    for n in range(0, 30, 2):
        basket = Basket((BasketLine("coffee", 1 + n % 4), BasketLine("tea", n % 3 + 1)), member_id=f"m{n:02d}")
        ledger.record_sale(db, program, basket, AT + timedelta(minutes=n), f"walk-{n}")
    walked = []
    walk = browse._walk_in_order

    def spy(*args, **kwargs):
        rows = walk(*args, **kwargs)
        walked.append(rows is not None)
        return rows

    monkeypatch.setattr(browse, "_walk_in_order", spy)

    def pages(broad: int) -> list:
        monkeypatch.setattr(browse, "WALK_ABOVE", broad)
        monkeypatch.setattr(browse, "SCAN_TO_COUNT_ABOVE", broad)
        return [
            (page.total, [r.member_id for r in page.rows])
            for search in ("m", "mi", "moss", "m1", "+1-555", "e")
            for sort in browse.SORTS
            for descending in (True, False)
            for offset in (0, 5, 14, 28)
            for page in [browse.member_page(db, program, search=search, sort=sort, descending=descending,
                                            offset=offset, limit=6)]
        ]

    for _ in ("with members who have no totals yet", "every member with totals"):
        walked.clear()
        assert pages(4) == pages(10**9)
        assert sum(walked) >= 20  # the walk answered the broad first pages (deep pages sort the matches)
        rebuild_summary(db)


def test_free_member_id(shop):
    db, program = shop
    assert browse.free_member_id(db, "Ann Lee") == "ann-lee"
    ledger.add_member(db, program, "ann-lee", AT)
    assert browse.free_member_id(db, "Ann  Lee!") == "ann-lee-2"
    assert browse.free_member_id(db, "Yeva") == "yeva-2"
    assert browse.free_member_id(db, "***") == "member"
    assert browse.free_member_id(db, "Zoë Łukasiewicz-Żółć") == "zoe-lukasiewicz-zolc"
    assert browse.free_member_id(db, "Søren Straße") == "soren-strasse"
    assert browse.free_member_id(db, "Юлия Петрова") == "юлия-петрова"
    assert browse.free_member_id(db, "ＡＮＮ＿ＬＥＥ") == "ann-lee-2"  # full-width, as a phone keyboard may type it


def test_member_details_and_point_history(shop):
    db, program = shop
    details = browse.member_details(db, "kris")
    assert (details.name, details.email, details.visits, details.spend) == ("Kris", "kris@example.com", 14, 7428)
    assert browse.member_details(db, "nobody") is None
    assert browse.point_history(db, "kris") == []  # the coffee shop has no points
    assert [state for _, state in browse.membership_history(db, "kris")] == ["active"]


def test_an_expire_row_in_the_point_history_names_the_lot_that_lapsed(points_shop):
    db, program = points_shop
    ledger.record_sale(db, program, Basket((BasketLine("coffee", 2),), "ann"), AT, "S1")
    ledger.adjust_points(db, program, "ann", 25, "goodwill", AT + timedelta(days=400))  # writes the lapses first
    history = browse.point_history(db, "ann")
    expired = sorted((row.points, row.reason) for row in history if row.kind == "expire")
    lots = [row for row in history if row.points > 0 and row.kind != "adjust"]  # sign-up, purchase, first-purchase bonus
    assert len(lots) == 3
    assert expired == sorted((-lot.points, f"{lot.kind} of {lot.ts:%Y-%m-%d} lapsed") for lot in lots)
    assert next(row.reason for row in history if row.kind == "adjust") == "goodwill"


def test_any_word_of_a_name_finds_its_member(shop):
    """A surname, or the start of any word of a name, finds the member in the list and at the counter."""
    db, program = shop
    for member_id, name in [("as", "Anna Smith"), ("bs", "Bob Smithers"), ("sj", "Smith Jones"),
                            ("zo", "Zoë O'Brien-Kelly"), ("an", "Annabel Lee")]:
        ledger.add_member(db, program, member_id, AT, name=name)

    def listed(text: str) -> list[str]:
        page = browse.member_page(db, program, search=text, sort="member_id", descending=False)
        assert page.total == len(page.rows)
        return [row.member_id for row in page.rows]

    assert listed("smith") == ["as", "bs", "sj"]
    assert listed("SMITHERS") == ["bs"]
    assert listed("anna smi") == ["as"]  # every word typed starts a word of the name
    assert listed("smi ann") == ["as"]
    assert listed("lee") == ["an"]
    assert listed("zoe") == ["zo"] and listed("kelly") == ["zo"] and listed("o'brien") == ["zo"]
    assert {hit.member_id for hit in browse.search_members(db, "smith")} == {"as", "bs", "sj"}
    assert listed("kris") == ["kris"]  # the fixture's own members, by id and name, as before


def test_what_a_cashier_types_is_never_query_syntax(shop):
    db, program = shop
    ledger.add_member(db, program, "as", AT, name="Anna Smith")
    for text in ['"', 'smith"', "smith*", "AND", "NEAR(", "-", "^smi", "a OR b", "col:smith", "()", "*"]:
        browse.member_page(db, program, search=text, sort="tier")  # no OperationalError
        browse.search_members(db, text)
    assert browse.name_words("smith*") == '"smith*"*' and browse.name_words("- --") is None
