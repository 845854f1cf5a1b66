"""The TUI's pure parts: the draft basket, quote-line ownership, quantities typed, receipts and rules as text."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest
from rich.console import Console

from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine
from pos_loyalty.io.importers import import_file
from pos_loyalty.paths import FIXTURES
from pos_loyalty.tui.dialogs.enrol import guess_fields
from pos_loyalty.tui.draft import Draft, line_owners
from pos_loyalty.tui.screens.counter import split_quantity
from pos_loyalty.tui.text import receipt_text, return_text, rules_markdown
from pos_loyalty.tui.widgets.bar_chart import bar_text
from pos_loyalty.tui.widgets.member_panel import panel_content

from ..support import COFFEE_FILES, coffee_ledger, import_fixture, new_ledger

AT = datetime(2026, 3, 3, 9, 0)


@pytest.fixture(scope="module")
def shop():
    return coffee_ledger(with_dog=False)


def test_draft_merges_and_changes_lines():
    draft = Draft().add("coffee").add("tea", 2).add("coffee", 2)
    assert draft.lines == (BasketLine("coffee", 3), BasketLine("tea", 2))
    assert draft.set_qty(0, 1).lines[0].qty == 1
    assert draft.set_qty(1, 0).lines == (BasketLine("coffee", 3),)
    points = Draft(member_id="ann", redeem_points=100).add("tea")
    assert points.with_member("bob").redeem_points == 0
    assert points.remove(0).redeem_points == 0
    with pytest.raises(ValueError):
        draft.add("tea", 0)


def test_line_owners_follow_free_units(shop):
    db, program = shop
    draft = Draft(member_id="yeva").add("coffee", 3).add("tea")
    priced = ledger.quote_for(db, program, draft.basket(), AT)
    assert [(l.product_id, l.qty, l.free_units) for l in priced.lines] == [
        ("coffee", 2, 0), ("coffee", 1, 1), ("tea", 1, 0)
    ]
    assert line_owners(draft, priced) == [0, 0, 1]


def test_quantity_typed_before_the_product():
    assert split_quantity("3*coffee") == (3, "coffee")
    assert split_quantity("2 x cof") == (2, "cof")
    assert split_quantity("coffee") == (None, "coffee")
    assert split_quantity("7up") == (None, "7up")


def test_enrol_guesses_what_was_typed():
    assert guess_fields("Ann Lee") == {"name": "Ann Lee"}
    assert guess_fields("555-0199") == {"phone": "555-0199"}
    assert guess_fields("ann@example.com") == {"email": "ann@example.com"}
    assert guess_fields("  ") == {}


def test_receipt_and_return_slip(shop):
    db, program = shop
    receipt = ledger.record_sale(db, program, Basket((BasketLine("coffee", 2), BasketLine("tea")), "yeva"), AT, "r-1")
    text = receipt_text(program, receipt, "Yeva")
    assert "Sale r-1" in text and "Member: Yeva (yeva)" in text
    assert "Coffee (free)" in text and "coffee card: buy 5, this one is\n  free      " in text
    assert "TOTAL USD" in text and "5.32" in text  # 2.90 + 0.00 + 2.42
    assert "coffee card: 1 of 5, 4 more to a free one" in text
    assert all(len(line) <= 44 for line in text.splitlines())
    back = ledger.record_return(db, program, "r-1", [BasketLine("coffee", 2)], AT)
    slip = return_text(program, back, "Yeva")
    assert "Return r-1-R1" in slip and "REFUND USD" in slip and "2.90" in slip
    assert "coffee card: 5 of 5, next one free" in slip


def test_rules_in_plain_words():
    for name, phrases in {
        "coffee_shop": ["more than 200.00 USD", "the 6th", "best single one", "french_poodle"],
        "tiered_pln": ["at least 300.00 PLN", "last 365 days", "first joined"],
        "points": ["10 points for every 1.00 USD", "100 points take 1.00 USD off", "expire 365 days", "points × 1.5"],
    }.items():
        from pos_loyalty.engine import program_from_toml

        text = rules_markdown(program_from_toml((FIXTURES / "programs" / f"{name}.toml").read_text()))
        for phrase in phrases:
            assert phrase in text, (name, phrase)


def test_bar_text_scales_to_eighths():
    assert bar_text(10, 10, 4) == "████"
    assert bar_text(5, 10, 4) == "██"
    assert bar_text(1, 16, 2) == "▏"
    assert bar_text(0, 10, 4) == ""


@pytest.mark.parametrize("module", ["pos_loyalty.ledger.browse", "pos_loyalty.ledger.access", "pos_loyalty.tui.draft"])
def test_core_parts_import_no_textual(module):
    """The browse queries, the PIN and the draft basket stay headless (harlequin's rule)."""
    probe = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout.split()
    assert not [name for name in loaded if name.split(".")[0] in {"textual", "rich", "typer"}]


def test_pricing_says_which_part_was_refused():
    """A bad code or too many points: priced without them, and the ledger's reason kept."""
    from pos_loyalty.tui.screens.counter import price_or_say_why

    db = ledger.memory()
    program = ledger.set_program(db, (FIXTURES / "programs" / "points.toml").read_text(), "points.toml")
    import_file(db, program, "products", FIXTURES / "coffee_shop" / "products.csv")
    ledger.add_member(db, program, "ann", AT, name="Ann")  # 100 sign-up points
    draft = Draft(member_id="ann", redeem_points=50).add("tea")
    quote, dropped, refusal = price_or_say_why(db, program, draft, AT)
    assert dropped == () and quote.points_redeemed == 50 and refusal is None
    quote, dropped, refusal = price_or_say_why(db, program, Draft(member_id="ann", redeem_points=500).add("tea"), AT)
    assert dropped == ("points",) and quote.points_redeemed == 0 and "only 100 points available" in refusal
    quote, dropped, refusal = price_or_say_why(db, program, Draft(member_id="ann", code="NOPE").add("tea"), AT)
    assert dropped == ("code",) and "unknown discount code" in refusal
    with pytest.raises(ledger.LedgerError):
        price_or_say_why(db, program, Draft(member_id="nobody").add("tea"), AT)


def test_the_panel_and_the_receipt_say_a_bonus_period_doubled_the_points():
    db, program = new_ledger("points")
    import_fixture(db, program, "coffee_shop", COFFEE_FILES)
    basket = Basket((BasketLine("coffee", 2),), "yeva")
    for at, said in ((datetime(2026, 11, 24, 10), True), (datetime(2026, 12, 1, 10), False)):
        priced = ledger.quote_for(db, program, basket, at)
        console = Console(width=40, record=True)
        console.print(panel_content(program, priced.status_before, priced))
        receipt = ledger.record_sale(db, program, basket, at, f"p-{at:%d}")
        for text in (console.export_text(), receipt_text(program, receipt, "Yeva")):
            assert ("2x points until 29 Nov" in text) is said
