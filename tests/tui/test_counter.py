"""Whole counter flows driven by keys on a demo ledger; asserts on the ledger and on the messages the app emits."""

from __future__ import annotations

import random

from textual import events

from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine, member_status
from pos_loyalty.ledger import LedgerBusy, issue_codes
from pos_loyalty.tui.dialogs.enrol import EnrolDialog
from pos_loyalty.tui.dialogs.prompt import PromptDialog
from pos_loyalty.tui.messages import CheckedOut, CheckoutFailed, MemberEnrolled, Priced, Returned
from pos_loyalty.tui.screens import counter as counter_module
from pos_loyalty.tui.screens.counter import CounterScreen
from pos_loyalty.tui.screens.receipt import ReceiptScreen
from pos_loyalty.tui.screens.returns import ReturnScreen
from pos_loyalty.tui.widgets.basket import BasketTable

from .conftest import NOW, until

SIZE = (100, 30)


def keys(text: str) -> list[str]:
    """Characters as Pilot key names."""
    names = {" ": "space", "*": "asterisk", "@": "at", ".": "full_stop", "-": "minus", "+": "plus"}
    return [names.get(ch, ch) for ch in text]


async def find_member(pilot, recorder, text: str, member_id: str) -> Priced:
    """Type in the member lookup, pick the first match, wait until the panel shows the member."""
    await pilot.press("f2", *keys(text))
    await until(pilot, lambda: pilot.app.screen.query_one("#member-lookup").matches_open, what="member matches")
    await pilot.press("enter")
    return await recorder.wait_for(pilot, Priced, lambda m: m.draft.member_id == member_id and m.status is not None)


async def add_item(pilot, recorder, text: str) -> Priced:
    """Type in the product entry and Enter; wait for the basket to be priced with it."""
    before = len(recorder.of(Priced))
    await pilot.press("f3", *keys(text))
    await until(pilot, lambda: pilot.app.screen.query_one("#product-lookup").matches_open, what="product matches")
    await pilot.press("enter")
    return await recorder.wait_for(pilot, Priced, lambda m: m.quote is not None, after=before)


async def test_stamp_reward_checkout_and_return(app, demo_path, recorder):
    """yeva's 6th coffee is free on its own line; checkout records it; returning it gives the stamp back."""
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        counter = app.screen
        assert isinstance(counter, CounterScreen)
        priced = await find_member(pilot, recorder, "ye", "yeva")
        assert priced.status.stamp_cards[0].next_free

        priced = await add_item(pilot, recorder, "co")
        (line,) = priced.quote.lines
        assert (line.product_id, line.qty, line.free_units, line.total) == ("coffee", 1, 1, 0)
        assert [d.reason for d in line.discounts] == ["stamp"]
        assert priced.quote.total == 0
        assert "0.00" in str(counter.query_one("#totals").render())

        await pilot.press("f9")
        done = await recorder.wait_for(pilot, CheckedOut)
        sale_id = done.receipt.sale_id
        await until(pilot, lambda: isinstance(app.screen, ReceiptScreen), what="receipt shown")
        assert "TOTAL USD" in app.screen.text and "0.00" in app.screen.text
        assert counter.draft.empty and counter.draft.member_id is None  # the next customer starts clean

        db = ledger.connect(demo_path)
        sale = ledger.load_sale(db, sale_id)
        assert sale is not None and sale.member_id == "yeva" and sale.total == 0
        assert [(l.product_id, l.qty, l.free_units, l.total) for l in sale.lines] == [("coffee", 1, 1, 0)]
        assert db.execute("SELECT count(*) FROM sales WHERE sale_id = ?", [sale_id]).fetchone()[0] == 1
        program = ledger.load_program(db)
        assert not member_status(program, ledger.load_member_facts(db, "yeva"), NOW).stamp_cards[0].next_free

        # Return it straight from the receipt: R picks this sale, its one line is pre-chosen.
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ReturnScreen) and app.screen.sale is not None, what="sale loaded")
        assert app.screen.chosen == {"coffee": 1}
        await pilot.press("f9")
        returned = await recorder.wait_for(pilot, Returned)
        assert returned.receipt.sale_id == sale_id
        assert returned.receipt.refund_total == 0  # a free reward item refunds nothing...
        assert returned.receipt.status_after.stamp_cards[0].next_free  # ...and gives the reward back
        await until(pilot, lambda: isinstance(app.screen, ReceiptScreen), what="return slip shown")
        assert "REFUND USD" in app.screen.text and "next one free" in app.screen.text
        await pilot.press("escape")
        # The counter shows the member again, with the free coffee back on the card.
        priced = await recorder.wait_for(pilot, Priced, lambda m: m.draft.member_id == "yeva" and m.status is not None
                                         and m.status.stamp_cards[0].next_free)
        recorded = db.execute(
            "SELECT kind, total, original_sale_id FROM sales WHERE original_sale_id = ?", [sale_id]
        ).fetchall()
        assert recorded == [("return", 0, sale_id)]
        assert member_status(program, ledger.load_member_facts(db, "yeva"), NOW).stamp_cards[0].next_free


async def test_paid_units_refund_what_was_paid(app, demo_path, recorder):
    """Two coffees and tea for a SILVER member: one coffee free, the rest 5 % off; the return refunds what was paid."""
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await find_member(pilot, recorder, "ye", "yeva")
        await add_item(pilot, recorder, "2*co")
        priced = await add_item(pilot, recorder, "tea")
        lines = [(l.product_id, l.qty, l.free_units, l.total) for l in priced.quote.lines]
        # 3.05 paid coffee with 5 % off = 2.90 (half-up of 15.25 cents); tea 2.55 - 0.13 = 2.42.
        assert lines == [("coffee", 1, 0, 290), ("coffee", 1, 1, 0), ("tea", 1, 0, 242)]
        await pilot.press("f9")
        done = await recorder.wait_for(pilot, CheckedOut)
        await until(pilot, lambda: isinstance(app.screen, ReceiptScreen))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ReturnScreen) and app.screen.sale is not None)
        screen = app.screen
        assert screen.chosen == {}  # several products: the cashier chooses
        await pilot.press("a", "down", "plus", "plus")  # all the coffees, one tea (the second + is capped)
        assert screen.chosen == {"coffee": 2, "tea": 1}
        await pilot.press("minus")
        assert screen.chosen == {"coffee": 2, "tea": 0}
        await pilot.press("f9")
        returned = await recorder.wait_for(pilot, Returned)
        assert returned.receipt.refund_total == 290
        assert returned.receipt.status_after.stamp_cards[0].next_free
        db = ledger.connect(demo_path)
        sale = ledger.load_sale(db, done.receipt.sale_id)
        assert [(l.product_id, l.returned_qty) for l in sale.lines] == [("coffee", 1), ("coffee", 1), ("tea", 0)]


async def test_change_and_remove_lines(app, recorder):
    """3*coffee puts three on one line; +, - and Del on the basket change it; the free unit follows."""
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        counter = app.screen
        await find_member(pilot, recorder, "ye", "yeva")
        priced = await add_item(pilot, recorder, "3*cof")
        assert counter.draft.lines[0].qty == 3
        assert [(l.qty, l.free_units) for l in priced.quote.lines] == [(2, 0), (1, 1)]
        await pilot.press("down")  # from the item entry into the basket
        assert isinstance(app.focused, BasketTable)
        before = len(recorder.of(Priced))
        await pilot.press("minus")
        priced = await recorder.wait_for(pilot, Priced, after=before)
        assert counter.draft.lines[0].qty == 2
        await pilot.press("plus", "plus")
        await until(pilot, lambda: counter.draft.lines[0].qty == 4)
        await pilot.press("enter")  # set the quantity outright
        await until(pilot, lambda: isinstance(app.screen, PromptDialog))
        await pilot.press("1", "enter")  # the old quantity is selected: typing replaces it
        await until(pilot, lambda: counter.draft.lines and counter.draft.lines[0].qty == 1)
        before = len(recorder.of(Priced))
        await add_item(pilot, recorder, "tea")
        await pilot.press("f8", "delete")
        await until(pilot, lambda: len(counter.draft.lines) == 1)
        await pilot.press("delete")
        await until(pilot, lambda: counter.draft.empty)
        assert not app.query_one(BasketTable).row_count or counter.quote is None


async def test_enrol_in_a_few_keystrokes(app, demo_path, recorder):
    """A name typed in the member lookup, F4, Enter: enrolled, and at the counter."""
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await pilot.press(*keys("Ann Lee"))
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, EnrolDialog))
        await pilot.press(*keys("555-0199"), "enter")  # the name is filled in, the phone has the focus
        enrolled = await recorder.wait_for(pilot, MemberEnrolled)
        assert enrolled.member_id == "ann-lee"
        priced = await recorder.wait_for(pilot, Priced, lambda m: m.draft.member_id == "ann-lee" and m.status is not None)
        assert priced.status.active and priced.status.tier.name == "CLIMBING"
        db = ledger.connect(demo_path)
        row = db.execute("SELECT name, phone FROM members WHERE member_id = 'ann-lee'").fetchone()
        assert row == ("Ann Lee", "555-0199")
        assert db.execute("SELECT status FROM memberships WHERE member_id = 'ann-lee'").fetchall() == [("active",)]


async def test_a_mistyped_phone_is_said_in_the_enrol_dialog_and_nothing_typed_is_lost(app, demo_path, recorder):
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await pilot.press(*keys("Ann Lee"))
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, EnrolDialog))
        dialog = app.screen
        await pilot.press(*keys("call me"), "enter")
        await until(pilot, lambda: "not a phone number" in str(dialog.query_one("#hint").render()))
        assert app.screen is dialog and dialog.query_one("#name").value == "Ann Lee"
        dialog.query_one("#phone").value = "555-0199"
        await pilot.press("enter")
        enrolled = await recorder.wait_for(pilot, MemberEnrolled)
        assert enrolled.member_id == "ann-lee"
    row = ledger.connect(demo_path).execute("SELECT phone FROM members WHERE member_id = 'ann-lee'").fetchone()
    assert row == ("555-0199",)


async def test_discount_code_and_a_used_one(app, demo_path, recorder):
    """A code takes its percentage off; a used code is refused with a message and dropped, the basket kept."""
    db = ledger.connect(demo_path)
    (code, _), (other, _) = issue_codes(db, 2, NOW, rng=random.Random(7))
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        counter = app.screen
        await add_item(pilot, recorder, "beret")
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, PromptDialog))
        await pilot.press(*keys(code.lower()), "enter")
        priced = await recorder.wait_for(pilot, Priced, lambda m: m.draft.code == code and m.quote is not None)
        (line,) = priced.quote.lines
        assert [d.reason for d in line.discounts] == ["code"]
        await pilot.press("f9")
        done = await recorder.wait_for(pilot, CheckedOut)
        assert db.execute("SELECT sale_id FROM code_redemptions WHERE code = ?", [code]).fetchone() == (done.receipt.sale_id,)
        await pilot.press("escape")

        # The same code again: refused when priced, dropped, the basket stays.
        await add_item(pilot, recorder, "beret")
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, PromptDialog))
        await pilot.press(*keys(code), "enter")
        refused = await recorder.wait_for(pilot, Priced, lambda m: m.code_error is not None)
        assert "already used" in refused.code_error
        await until(pilot, lambda: counter.draft.code is None and counter.quote is not None and not counter.quote.discount_total)
        assert [line.product_id for line in counter.draft.lines] == ["beret"]

        # A good code that another till uses before this one checks out: refused at checkout, basket kept.
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, PromptDialog))
        await pilot.press(*keys(other), "enter")
        await recorder.wait_for(pilot, Priced, lambda m: m.draft.code == other and m.quote is not None
                                and m.quote.discount_total > 0)
        program = ledger.load_program(db)
        ledger.record_sale(db, program, Basket((BasketLine("tea"),)), NOW, "other-till-1", code=other)
        sale_id = counter.sale_id
        await pilot.press("f9")
        failed = await recorder.wait_for(pilot, CheckoutFailed)
        assert failed.code_refused and not failed.busy and "already used" in failed.reason
        await until(pilot, lambda: counter.draft.code is None and counter.quote is not None and counter.quote.lines)
        assert [line.product_id for line in counter.draft.lines] == ["beret"] and counter.sale_id == sale_id
        assert ledger.load_sale(db, sale_id) is None


async def test_a_product_without_a_price_is_named_not_said_to_be_missing(app, demo_path, recorder):
    """Imported history can bring products with no catalogue price: the till says which and why."""
    db = ledger.connect(demo_path)
    with ledger.write(db):
        db.execute("INSERT INTO products (product_id, name) VALUES ('mug', 'Shop mug')")
    async with app.run_test(size=SIZE, message_hook=recorder, notifications=True) as pilot:
        await pilot.press("f3", *keys("mug"), "enter")
        await until(pilot, lambda: any("Shop mug has no price" in str(n.message) for n in app._notifications),
                    what="told the mug has no price")
        await pilot.press(*["backspace"] * 3, *keys("zzz"), "enter")
        await until(pilot, lambda: any("no product matches 'zzz'" in str(n.message) for n in app._notifications),
                    what="told nothing matches")
        assert app.screen.draft.empty


async def test_failed_checkout_keeps_the_basket(app, demo_path, recorder, monkeypatch):
    """The ledger busy: the cashier is told, nothing is written, the basket and its sale id stay; F9 again posts once."""
    real = counter_module.record_sale

    def busy(*args, **kwargs):
        raise LedgerBusy("the ledger is busy with another till; nothing was written, please try again")

    monkeypatch.setattr(counter_module, "record_sale", busy)
    async with app.run_test(size=SIZE, message_hook=recorder, notifications=True) as pilot:
        counter = app.screen
        await find_member(pilot, recorder, "da", "dave")
        await add_item(pilot, recorder, "2*tea")
        sale_id = counter.sale_id
        draft = counter.draft
        await pilot.press("f9")
        failed = await recorder.wait_for(pilot, CheckoutFailed)
        assert failed.busy and "busy" in failed.reason
        assert counter.draft == draft and counter.sale_id == sale_id and not counter.busy
        assert any("Checkout failed" in (n.title or "") for n in app._notifications)
        db = ledger.connect(demo_path)
        assert ledger.load_sale(db, sale_id) is None

        monkeypatch.setattr(counter_module, "record_sale", real)
        await pilot.press("f9")
        done = await recorder.wait_for(pilot, CheckedOut)
        assert done.receipt.sale_id == sale_id
        assert db.execute("SELECT count(*) FROM sales WHERE sale_id = ?", [sale_id]).fetchone()[0] == 1


async def test_receipt_saved_as_text(app, demo_path, recorder, tmp_path):
    """S on the receipt writes exactly the text shown, beside the ledger by default."""
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await find_member(pilot, recorder, "ri", "rick")
        await add_item(pilot, recorder, "ha")
        await pilot.press("f9")
        done = await recorder.wait_for(pilot, CheckedOut)
        await until(pilot, lambda: isinstance(app.screen, ReceiptScreen))
        receipt = app.screen
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, PromptDialog))
        await pilot.press("enter")
        await until(pilot, lambda: receipt.saved_to is not None)
        path = demo_path.parent / "receipts" / f"{done.receipt.sale_id}.txt"
        assert receipt.saved_to == path
        text = path.read_text(encoding="utf-8")
        assert text == receipt.text
        assert "Member: Rick (rick)" in text and "tier: GOLD 10%" in text and "113.40" in text


async def test_command_palette_finds_members_and_products(app, recorder):
    """Ctrl+P, a phone number's digits: the member goes to the counter; a product name adds it."""
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        counter = app.screen
        await pilot.press("ctrl+p")
        await pilot.press(*keys("0104"))
        await until(pilot, lambda: "Rick" in str(app.screen.query("CommandList").first().get_option_at_index(0).prompt)
                    if app.screen.query("CommandList") and app.screen.query("CommandList").first().option_count else False,
                    what="palette hit")
        await pilot.press("enter")
        await until(pilot, lambda: counter.draft.member_id == "rick")
        await pilot.press("ctrl+p", *keys("beret"))
        await until(pilot, lambda: app.screen.query("CommandList") and app.screen.query("CommandList").first().option_count > 0
                    and "Beret" in str(app.screen.query("CommandList").first().get_option_at_index(0).prompt))
        await pilot.press("enter")
        await until(pilot, lambda: [l.product_id for l in counter.draft.lines] == ["beret"])


async def test_escape_backs_out(app, recorder):
    """Escape clears a half-typed lookup, closes dialogs, and leaves the basket for the item entry."""
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        counter = app.screen
        await pilot.press(*keys("ye"))
        await until(pilot, lambda: counter.query_one("#member-lookup").matches_open)
        await pilot.press("escape")  # closes the matches
        assert not counter.query_one("#member-lookup").matches_open
        await pilot.press("escape")  # clears the text
        assert counter.query_one("#member-lookup").value == ""
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, EnrolDialog))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is counter)
        await add_item(pilot, recorder, "tea")
        await pilot.press("f8")
        assert isinstance(app.focused, BasketTable)
        await pilot.press("escape")
        assert app.focused is counter.query_one("#product-lookup").input


def type_ahead(pilot, text: str) -> None:
    """Keys arriving faster than the till answers them, as from a barcode scanner or a quick typist:
    all queued at once, with no pause for lookups ("\\n" is Enter)."""
    names = {" ": "space", "*": "asterisk", "\n": "enter", "\t": "tab", "@": "at", ".": "full_stop", "-": "minus"}
    for ch in text:
        pilot.app.post_message(events.Key(names.get(ch, ch), {"\n": "\r"}.get(ch, ch)))


async def test_enter_never_picks_matches_of_text_typed_before(app, recorder):
    """The matches for "c" are Cat, then Coffee; "offee" and Enter typed before the matches for
    "coffee" arrive ring up coffee, not the Cat still highlighted."""
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        counter = app.screen
        await find_member(pilot, recorder, "ye", "yeva")
        await pilot.press("f3", "c")
        await until(pilot, lambda: counter.query_one("#product-lookup").matches_open, what="matches for c")
        type_ahead(pilot, "offee\n")
        await until(pilot, lambda: not counter.draft.empty, what="an item in the basket")
        await pilot.pause(0.2)
        assert [(line.product_id, line.qty) for line in counter.draft.lines] == [("coffee", 1)]


async def test_items_typed_ahead_are_rung_up_in_order_and_none_is_lost(app, recorder):
    """Member, then items, each ended by Enter before the till has answered the one before: every
    item lands once, in the order typed, and no entry's text runs into the next one's."""
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        counter = app.screen
        await pilot.press("f2")
        type_ahead(pilot, "dave\n2*tea\ncoffee\nbe\n3*cat\n")
        await until(pilot, lambda: len(counter.draft.lines) == 4, what="four lines in the basket")
        await pilot.pause(0.2)
        assert counter.draft.member_id == "dave"
        assert [(line.product_id, line.qty) for line in counter.draft.lines] == [
            ("tea", 2), ("coffee", 1), ("beret", 1), ("cat", 3)
        ]
        assert counter.query_one("#product-lookup").value == ""
        assert counter.query_one("#member-lookup").value == "dave"


async def test_an_entry_that_finds_no_one_thing_is_given_back_to_correct(app, recorder):
    """Enter on a member nobody is, or on items several products match: the text comes back to
    its field (with the matches to choose from), nothing is added."""
    async with app.run_test(size=SIZE, message_hook=recorder, notifications=True) as pilot:
        counter = app.screen
        members = counter.query_one("#member-lookup")
        items = counter.query_one("#product-lookup")
        await pilot.press("f2")
        type_ahead(pilot, "nobody\n")
        await until(pilot, lambda: any("no member matches 'nobody'" in str(n.message) for n in app._notifications),
                    what="told nobody matches")
        await until(pilot, lambda: app.focused is members.input, what="back in the member lookup")
        assert members.value == "nobody" and counter.draft.member_id is None

        await pilot.press("f3")
        type_ahead(pilot, "2*c\n")  # Cat and Coffee
        await until(pilot, lambda: any("several products match 'c'" in str(n.message) for n in app._notifications),
                    what="told several match")
        await until(pilot, lambda: items.matches_open, what="the matches shown")
        assert items.value == "2*c" and counter.draft.empty
        await pilot.press("down", "enter")
        await until(pilot, lambda: not counter.draft.empty, what="an item in the basket")
        assert [(line.product_id, line.qty) for line in counter.draft.lines] == [("coffee", 2)]


async def test_a_return_without_member_or_receipt_picks_from_the_latest_sales(app, demo_path, recorder):
    """No member at the counter and no receipt to scan: F7 lists the tills' latest sales, newest
    first, and Enter loads the one picked."""
    db = ledger.connect(demo_path)
    newest = db.execute("SELECT sale_id FROM sales WHERE kind = 'sale' ORDER BY ts DESC, rowid DESC").fetchall()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, ReturnScreen) and app.screen.query_one("#recent").option_count,
                    what="the latest sales listed")
        options = app.screen.query_one("#recent")
        listed = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert listed == [sale_id for (sale_id,) in newest[: len(listed)]] and len(listed) == min(8, len(newest))
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.sale is not None, what="the sale loaded")
        assert app.screen.sale.sale_id == newest[0][0]


async def test_the_enrol_form_typed_ahead_fills_each_field_with_its_own_text(app, demo_path, recorder):
    """Name, Tab, phone, Tab, e-mail, Enter, all before the till has drawn a key: each field gets
    what was typed for it (Tab is not left to act after the next field's first keys)."""
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, EnrolDialog))
        type_ahead(pilot, "Zoe Quinn\t555-0123\tzoe@example.com\n")
        enrolled = await recorder.wait_for(pilot, MemberEnrolled)
        assert enrolled.member_id == "zoe-quinn"
    row = ledger.connect(demo_path).execute("SELECT name, phone, email FROM members WHERE member_id = 'zoe-quinn'").fetchone()
    assert row == ("Zoe Quinn", "555-0123", "zoe@example.com")
