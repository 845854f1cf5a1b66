"""The counter: find or enrol the member, ring up items, codes and points, check out, start a return.

Every change to the draft re-prices it in a thread worker (``quote_for``, the same code path as
``pos-loyalty sell``) and the answer comes back as a :class:`~pos_loyalty.tui.messages.Priced`
message that redraws the basket and the member panel.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.widgets import Footer, Input, Label, Static

from ...engine import MemberStatus, Quote, member_status
from ...ledger import (
    LedgerBusy,
    LedgerError,
    Receipt,
    ReturnReceipt,
    load_member_facts,
    new_sale_id,
    quote_for,
    record_sale,
)
from ...ledger.browse import search_members, search_products, unpriced_product
from ...views import money
from ..dialogs.confirm import ConfirmDialog
from ..dialogs.prompt import PromptDialog
from ..draft import Draft, line_owners
from ..messages import CheckedOut, CheckoutFailed, MemberEnrolled, MembersFound, Priced, ProductsFound
from ..text import receipt_text, return_text
from ..till import LEDGER_PROBLEMS
from ..widgets.basket import BasketTable
from ..widgets.lookup import Lookup
from ..widgets.member_panel import MemberPanel, totals_text
from ..widgets.readout import Readout
from .base import TillScreen

QTY_PREFIX = re.compile(r"^\s*(\d+)\s*[*x×]\s*(.+)$", re.IGNORECASE)
"""``3*coffee`` or ``3 x cof``: a quantity typed in front of the product."""


def split_quantity(text: str) -> tuple[int | None, str]:
    """``"3*cof"`` → ``(3, "cof")``; text without a quantity → ``(None, text)``."""
    match = QTY_PREFIX.match(text)
    if match:
        return int(match.group(1)), match.group(2).strip()
    return None, text.strip()


def price_or_say_why(db, program, draft: Draft, at) -> tuple[Quote, tuple[str, ...], str | None]:
    """Price the draft; when the code or the points are refused, price it without them and say why.

    Returns the quote, what was left out (``"code"``, ``"points"``), and the ledger's reason.
    Anything else wrong with the basket raises :class:`LedgerError`.
    """
    attempts: list[tuple[Draft, tuple[str, ...]]] = [(draft, ())]
    if draft.code:
        attempts.append((replace(draft, code=None), ("code",)))
    if draft.redeem_points:
        attempts.append((replace(draft, redeem_points=0), ("points",)))
    if draft.code and draft.redeem_points:
        attempts.append((replace(draft, code=None, redeem_points=0), ("code", "points")))
    refusal: str | None = None
    for candidate, dropped in attempts:
        try:
            return quote_for(db, program, candidate.basket(), at, code=candidate.code), dropped, refusal
        except LedgerError as exc:
            refusal = refusal or str(exc)
    raise LedgerError(refusal or "the basket cannot be priced")


@dataclass(frozen=True, slots=True)
class ItemEntry:
    """An item entered (Enter) and not yet in the basket: what was typed, and its product once known."""

    typed: str
    text: str
    """The product part of what was typed (no quantity)."""
    qty: int
    product_id: str | None


class CounterScreen(TillScreen):
    """The cashier's screen: the basket on the left, the member on the right."""

    BINDINGS = [
        # F2 and F3 only move to a field: the fields' own labels show them, which leaves the footer
        # room for every action at 80 columns.
        Binding("f2", "find_member", "Member", show=False, tooltip="Find a member by id, name, phone or e-mail"),
        Binding("f3", "add_item", "Item", show=False, tooltip="Add a product by id or name (3*coffee for three)"),
        Binding("f4", "enrol", "Enrol", tooltip="Enrol a new member"),
        Binding("f5", "code", "Code", tooltip="Enter a discount code"),
        Binding("f6", "redeem", "Points", tooltip="Redeem points on this basket"),
        Binding("f7", "return_items", "Return", tooltip="Return items of an earlier sale"),
        Binding("f8", "edit_basket", "Lines", tooltip="Change or remove basket lines"),
        Binding("down", "edit_basket", "Lines", show=False),
        Binding("f9", "checkout", "Pay", tooltip="Check out and print the receipt"),
        Binding("f10", "back_office", "Office", tooltip="Manager's back office"),
        Binding("ctrl+n", "new_sale", "New", tooltip="Start a new sale (drops the basket and the member)"),
        Binding("escape", "back_out", "Back", show=False),
    ]

    draft: var[Draft] = var(Draft, init=False)
    """The basket being rung up, with its member, code and points to redeem."""
    status: var[MemberStatus | None] = var(None, init=False)
    """The member's status before this basket (None: no member)."""
    quote: var[Quote | None] = var(None, init=False)
    """The draft priced by the engine (None: empty basket)."""
    sale_id: var[str | None] = var(None, init=False)
    """Chosen when the basket opens, so a retried checkout cannot post twice."""
    busy: var[bool] = var(False, init=False)
    """A checkout is being written."""
    _keys_decided_on: tuple | None = None
    """What the footer's enabled keys were last drawn for (see ``_refresh_keys``)."""
    entries: deque[ItemEntry]
    """Items entered and not yet in the basket, in the order typed: the first may be being looked up."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static(self.program.title, id="shop-title")
            yield Static("", id="sale-info")
            yield Static("", id="clock")
        with Horizontal(id="counter-body"):
            with Vertical(id="till"):
                with Horizontal(classes="entry-row"):
                    yield Label("F2 Member", classes="entry-label")
                    yield Lookup("id, name, phone or e-mail", id="member-lookup")
                with Horizontal(classes="entry-row"):
                    yield Label("F3 Item", classes="entry-label")
                    yield Lookup("id or name · 3*coffee for three", clear_on_enter=True, id="product-lookup")
                    yield Label("Qty", classes="qty-label")
                    yield Input("1", restrict=r"\d*", max_length=4, id="qty", compact=True)
                yield BasketTable(id="basket")
                yield Readout(id="totals")
            yield MemberPanel(id="member-panel")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.entries = deque()
        members = self.query_one("#member-lookup", Lookup)
        members.advance_to = self.query_one("#product-lookup", Lookup)
        members.focus()
        self.set_interval(15, self._tick)
        self._tick()
        self.draft = Draft()
        self.price(self.draft)

    def _tick(self) -> None:
        self.query_one("#clock", Static).update(self.till.now().strftime("%a %d %b %H:%M"))

    # -- state ----------------------------------------------------------------------------

    def watch_draft(self, old: Draft, new: Draft) -> None:
        if new.lines and self.sale_id is None:
            self.sale_id = new_sale_id(self.till.now())
        self.price(new)

    def watch_sale_id(self, sale_id: str | None) -> None:
        self.query_one("#sale-info", Static).update(f"sale {sale_id}" if sale_id else "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "redeem" and self.program.points is None:
            return False
        if action in ("checkout", "edit_basket") and (self.draft.empty or self.busy):
            return None
        if action == "new_sale" and self.draft.empty and self.draft.member_id is None:
            return None
        return True

    # -- pricing ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="price")
    def price(self, draft: Draft) -> None:
        """Price the draft (or read the member's status when the basket is empty)."""
        started = time.perf_counter()
        till = self.till
        at = till.now()
        status = quote = None
        code_error = points_error = error = None
        with till.ledger() as db:
            try:
                if draft.lines:
                    quote, dropped, refusal = price_or_say_why(db, till.program, draft, at)
                    code_error = refusal if "code" in dropped else None
                    points_error = refusal if "points" in dropped else None
                    status = quote.status_before
                elif draft.member_id is not None:
                    facts = load_member_facts(db, draft.member_id)
                    if facts is None:
                        raise LedgerError(f"unknown member {draft.member_id!r}")
                    status = member_status(till.program, facts, at)
            except LEDGER_PROBLEMS as exc:
                error = str(exc)
        elapsed = (time.perf_counter() - started) * 1000
        self.post_message(
            Priced(draft, status, quote, code_error=code_error, points_error=points_error, error=error, elapsed_ms=elapsed)
        )

    @on(Priced)
    def priced(self, message: Priced) -> None:
        if message.draft != self.draft:
            return  # an answer for a basket that has changed since
        if message.code_error:
            self.notify(message.code_error, title="Discount code refused", severity="error", timeout=8)
            self.draft = replace(self.draft, code=None)
            return
        if message.points_error:
            self.notify(message.points_error, title="Points not redeemed", severity="warning", timeout=8)
            self.draft = replace(self.draft, redeem_points=0)
            return
        if message.error:
            self.notify(message.error, title="Cannot price the basket", severity="error", timeout=8)
            if message.draft.member_id is not None and message.status is None and not message.draft.lines:
                self.draft = self.draft.with_member(None)
            return
        self.status = message.status
        self.quote = message.quote
        self._render_sale()

    def _render_sale(self) -> None:
        program = self.program
        draft = self.draft
        owners = line_owners(draft, self.quote) if self.quote is not None else []
        self.query_one(BasketTable).show(program, self.quote, owners)
        self.query_one("#totals", Readout).show(totals_text(program, self.quote, draft.code, draft.redeem_points))
        self.query_one(MemberPanel).show(program, self.status, self.quote)
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        """Redraw the footer's keys only when what ``check_action`` decides on has changed.

        The footer rebuilds all its keys on every refresh; doing that on each basket change was a
        good part of the panel's redraw time.
        """
        decides = (self.draft.empty, self.busy, self.draft.member_id is None)
        if decides != self._keys_decided_on:
            self._keys_decided_on = decides
            self.refresh_bindings()

    # -- member lookup ------------------------------------------------------------------------

    @on(Lookup.Query, "#member-lookup")
    def member_query(self, message: Lookup.Query) -> None:
        if message.text:
            self.find_members(message.text)

    @work(thread=True, exclusive=True, group="member-search")
    def find_members(self, text: str) -> None:
        with self.till.ledger() as db:
            hits = search_members(db, text)
        self.post_message(MembersFound(text, hits))

    @on(MembersFound)
    def members_found(self, message: MembersFound) -> None:
        lookup = self.query_one("#member-lookup", Lookup)
        lookup.show_matches(message.query, [(hit.member_id, hit.label) for hit in message.hits])

    @on(Lookup.Picked, "#member-lookup")
    def member_picked(self, message: Lookup.Picked) -> None:
        if message.value:
            self.choose_member(message.value)
        elif message.text:
            self.resolve_member(message.text)

    @work(thread=True, exclusive=True, group="member-resolve")
    def resolve_member(self, text: str) -> None:
        """Enter before the matches arrived: take the exact id or the only match. Its own group, so
        that a type-ahead search still on its way does not cancel it."""
        with self.till.ledger() as db:
            hits = search_members(db, text, limit=2)
        exact = [hit for hit in hits if hit.member_id == text]
        chosen = exact[0] if exact else (hits[0] if len(hits) == 1 else None)
        self.app.call_from_thread(self._resolved_member, text, chosen.member_id if chosen else None, len(hits))

    def _resolved_member(self, text: str, member_id: str | None, count: int) -> None:
        if member_id is not None:
            self.choose_member(member_id)
            return
        # Enter moved on to the items; back to the member, unless items are being typed already.
        members = self.query_one("#member-lookup", Lookup)
        if not self.query_one("#product-lookup", Lookup).value and not self.entries:
            members.focus()
        if count:
            self.notify(f"several members match {text!r}: pick one from the list", severity="warning")
            self.find_members(text)
        else:
            self.notify(f"no member matches {text!r} · F4 enrols a new member", severity="warning")

    def choose_member(self, member_id: str) -> None:
        """Put a member at the counter and move on to the items."""
        lookup = self.query_one("#member-lookup", Lookup)
        lookup.set_text(member_id)
        lookup.close()
        self.draft = self.draft.with_member(member_id)
        self.query_one("#product-lookup", Lookup).focus()

    # -- products -----------------------------------------------------------------------------

    @on(Lookup.Query, "#product-lookup")
    def product_query(self, message: Lookup.Query) -> None:
        _, text = split_quantity(message.text)
        if text:
            self.find_products(message.text, text)

    @work(thread=True, exclusive=True, group="product-search")
    def find_products(self, typed: str, text: str) -> None:
        till = self.till
        with till.ledger() as db:
            products = search_products(db, text, till.now())
        self.post_message(ProductsFound(typed, products))

    @on(ProductsFound)
    def products_found(self, message: ProductsFound) -> None:
        lookup = self.query_one("#product-lookup", Lookup)
        options = [(p.product_id, f"{p.name} · {p.product_id} · {money(self.program, p.price)}") for p in message.products]
        lookup.show_matches(message.query, options)

    @on(Lookup.Picked, "#product-lookup")
    def product_picked(self, message: Lookup.Picked) -> None:
        """Enter in the item entry (already emptied for the next item): queue what was typed."""
        qty, text = split_quantity(message.text)
        if message.value or text:
            self._enter_item(ItemEntry(message.text, text, self._take_qty(qty), message.value))
        elif not self.draft.empty:
            self.action_checkout_hint()

    def add_product(self, product_id: str, qty: int | None = None) -> None:
        """Add units of a product (the quantity given, else the Qty box, else 1), after any items
        entered before it, and go back to the item entry."""
        self._enter_item(ItemEntry(product_id, product_id, self._take_qty(qty), product_id))
        lookup = self.query_one("#product-lookup", Lookup)
        lookup.clear()
        lookup.focus()

    def _take_qty(self, typed: int | None) -> int:
        """The quantity for an item just entered: the one typed, else the Qty box's (which goes back to 1)."""
        box = self.query_one("#qty", Input)
        qty = typed if typed is not None else (int(box.value) if box.value.isdigit() and int(box.value) > 0 else 1)
        box.value = "1"
        return qty

    def _enter_item(self, entry: ItemEntry) -> None:
        self.entries.append(entry)
        if len(self.entries) == 1:
            self._ring_up()

    def _ring_up(self) -> None:
        """Move entered items into the basket in the order typed, up to the first that must be looked up."""
        entries = self.entries
        while entries:
            entry = entries[0]
            if entry.product_id is None:
                self.resolve_product(entry)
                return
            entries.popleft()
            self.draft = self.draft.add(entry.product_id, entry.qty)

    @work(thread=True, group="product-resolve")
    def resolve_product(self, entry: ItemEntry) -> None:
        """Enter before the matches arrived: take the exact id or the only match. Its own group, so
        that the type-ahead search for the next item does not cancel it."""
        till = self.till
        text = entry.text
        problem = unpriced = None
        products = []
        try:
            with till.ledger() as db:
                products = search_products(db, text, till.now(), limit=2)
                unpriced = None if products else unpriced_product(db, text, till.now())
        except LEDGER_PROBLEMS as exc:
            problem = str(exc)
        exact = [p for p in products if p.product_id == text]
        chosen = exact[0] if exact else (products[0] if len(products) == 1 else None)
        self.app.call_from_thread(
            self._resolved_product, entry, chosen.product_id if chosen else None, len(products), unpriced, problem
        )

    def _resolved_product(
        self, entry: ItemEntry, product_id: str | None, count: int, unpriced: str | None, problem: str | None
    ) -> None:
        entries = self.entries
        if not entries or entries[0] is not entry:
            return  # the sale was dropped meanwhile
        entries.popleft()
        if product_id is not None:
            self.draft = self.draft.add(product_id, entry.qty)
        else:
            self._unresolved(entry, count, unpriced, problem)
        self._ring_up()

    def _unresolved(self, entry: ItemEntry, count: int, unpriced: str | None, problem: str | None) -> None:
        """Say why an entered item is not in the basket; if nothing was typed since, give the text back."""
        lookup = self.query_one("#product-lookup", Lookup)
        if len(self.entries) == 0 and not lookup.value and lookup.input.has_focus:
            lookup.set_text(entry.typed)
            if count:
                self.find_products(entry.typed, entry.text)
        text = entry.text
        if problem:
            self.notify(problem, title="Item not added", severity="error")
        elif count:
            self.notify(f"several products match {text!r}: pick one from the list", severity="warning")
        elif unpriced:
            self.notify(f"{unpriced} has no price yet, so it cannot be sold: the manager gives it one "
                        "(pos-loyalty import products, with a price column)", severity="warning")
        else:
            self.notify(f"no product matches {text!r}", severity="warning")

    @on(Input.Submitted, "#qty")
    def qty_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#product-lookup", Lookup).focus()

    def action_checkout_hint(self) -> None:
        self.notify("F9 checks out the basket", timeout=3)

    # -- basket lines ------------------------------------------------------------------------

    @on(BasketTable.ChangeLine)
    def change_line(self, message: BasketTable.ChangeLine) -> None:
        draft = self.draft
        if not 0 <= message.index < len(draft.lines):
            return
        if message.delta is None:
            self.draft = draft.remove(message.index)
        else:
            self.draft = draft.set_qty(message.index, draft.lines[message.index].qty + message.delta)
        if self.draft.empty:
            self.query_one("#product-lookup", Lookup).focus()

    @on(BasketTable.EditLine)
    def edit_line(self, message: BasketTable.EditLine) -> None:
        index = message.index
        line = self.draft.lines[index]

        def apply(answer: str | None) -> None:
            if answer is None or not answer.isdigit():
                return
            if 0 <= index < len(self.draft.lines) and self.draft.lines[index].product_id == line.product_id:
                self.draft = self.draft.set_qty(index, int(answer))

        self.app.push_screen(
            PromptDialog(
                "Quantity", f"How many {line.product_id}?", value=str(line.qty), restrict=r"\d*", hint="0 removes the line"
            ),
            apply,
        )

    # -- actions ------------------------------------------------------------------------------

    def action_find_member(self) -> None:
        lookup = self.query_one("#member-lookup", Lookup)
        lookup.focus()
        lookup.input.select_all()

    def action_add_item(self) -> None:
        self.query_one("#product-lookup", Lookup).focus()

    def action_edit_basket(self) -> None:
        table = self.query_one(BasketTable)
        if table.row_count:
            table.focus()

    def action_back_out(self) -> None:
        """Escape: leave the basket for the item entry, or clear what is half typed."""
        focused = self.focused
        if isinstance(focused, BasketTable):
            self.query_one("#product-lookup", Lookup).focus()
            return
        for lookup in self.query(Lookup):
            if lookup.input is focused and lookup.value:
                if lookup.id == "member-lookup" and self.draft.member_id and lookup.value == self.draft.member_id:
                    return
                lookup.clear()
                return

    def action_new_sale(self) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                self.reset()

        if self.draft.empty:
            self.reset()
        else:
            self.app.push_screen(ConfirmDialog("New sale", "Drop this basket and start a new sale?"), confirmed)

    def reset(self) -> None:
        """A fresh sale: no member, empty basket, a new sale id when the first item goes in."""
        self.entries.clear()
        self.sale_id = None
        self.draft = Draft()
        for lookup in self.query(Lookup):
            lookup.clear()
        self.query_one("#member-lookup", Lookup).focus()

    def action_enrol(self) -> None:
        typed = self.query_one("#member-lookup", Lookup).value
        if self.draft.member_id and typed == self.draft.member_id:
            typed = ""

        self.ask_to_enrol(typed)

    @on(MemberEnrolled)
    def enrolled(self, message: MemberEnrolled) -> None:
        self.notify(f"{message.name or message.member_id} is a member now (id {message.member_id})", title="Enrolled")
        self.choose_member(message.member_id)

    def action_code(self) -> None:
        def apply(code: str | None) -> None:
            if code is None:
                return
            self.draft = replace(self.draft, code=code.strip().upper() or None)
            if code.strip() and self.draft.empty:
                self.notify("the code is checked when the first item goes in", timeout=4)

        self.app.push_screen(
            PromptDialog(
                "Discount code",
                "Code from the scratch card",
                value=self.draft.code or "",
                placeholder="e.g. LSEMJ50",
                hint="empty removes the code",
                allow_empty=True,
            ),
            apply,
        )

    def action_redeem(self) -> None:
        program = self.program
        status = self.status
        if program.points is None:
            return
        if status is None or not status.active or status.points is None:
            self.notify("only an active member can redeem points: find the member first (F2)", severity="warning")
            return
        balance = max(0, status.points.balance)
        hint = f"balance {balance} points; {program.points.redeem_points} points = 1.00 {program.currency}"
        if self.quote is not None:
            worth = -(-(self.quote.total + sum(
                d.amount for line in self.quote.lines for d in line.discounts if d.reason == "points"
            )) * program.points.redeem_points // 10**program.decimals)
            hint += f"; at most {min(balance, worth)} on this basket"

        def apply(answer: str | None) -> None:
            if answer is None or not answer.isdigit():
                return
            self.draft = replace(self.draft, redeem_points=int(answer))

        self.app.push_screen(
            PromptDialog(
                "Redeem points",
                "Points to spend on this basket (0 for none)",
                value=str(self.draft.redeem_points or ""),
                restrict=r"\d*",
                hint=hint,
            ),
            apply,
        )

    # -- checkout -------------------------------------------------------------------------------

    def action_checkout(self) -> None:
        if self.entries:
            self.notify(f"still adding {self.entries[0].text!r}: F9 again once it is in the basket", severity="warning")
            return
        if self.draft.empty:
            self.notify("the basket is empty", severity="warning")
            return
        if self.busy:
            return
        if self.sale_id is None:
            self.sale_id = new_sale_id(self.till.now())
        self.busy = True
        self.query_one("#totals", Readout).show("Checking out…")
        self.checkout(self.draft, self.sale_id)

    @work(thread=True, exclusive=True, group="checkout")
    def checkout(self, draft: Draft, sale_id: str) -> None:
        till = self.till
        try:
            with till.ledger() as db:
                try:
                    receipt = record_sale(db, till.program, draft.basket(), till.now(), sale_id, code=draft.code)
                except LEDGER_PROBLEMS as exc:
                    code_refused = False
                    if draft.code and isinstance(exc, LedgerError) and not isinstance(exc, LedgerBusy):
                        try:
                            quote_for(db, till.program, draft.basket(), till.now(), code=draft.code)
                        except LedgerError:
                            code_refused = True
                    busy = isinstance(exc, LedgerBusy) or not isinstance(exc, LedgerError)
                    raise CheckoutProblem(str(exc), busy, code_refused) from None
                name = ""
                if receipt.member_id:
                    row = db.execute("SELECT name FROM members WHERE member_id = ?", [receipt.member_id]).fetchone()
                    name = (row[0] or "") if row else ""
        except CheckoutProblem as problem:
            self.post_message(CheckoutFailed(draft, problem.reason, busy=problem.busy, code_refused=problem.code_refused))
            return
        self.post_message(CheckedOut(receipt, name))

    @on(CheckoutFailed)
    def checkout_failed(self, message: CheckoutFailed) -> None:
        self.busy = False
        hint = "The basket is kept: F9 tries again." if message.busy else "The basket is kept."
        self.notify(f"{message.reason}. {hint}", title="Checkout failed", severity="error", timeout=10)
        if message.code_refused and self.draft.code:
            self.draft = replace(self.draft, code=None)
        else:
            self._render_sale()

    @on(CheckedOut)
    def checked_out(self, message: CheckedOut) -> None:
        self.busy = False
        receipt = message.receipt
        self.reset()
        self.show_receipt(receipt, message.member_name)

    def show_receipt(self, receipt: Receipt, member_name: str = "") -> None:
        from .receipt import ReceiptScreen

        def after(choice: str | None) -> None:
            if choice == "return":
                self.start_return(sale_id=receipt.sale_id, member_id=receipt.member_id)

        text = receipt_text(self.program, receipt, member_name)
        self.app.push_screen(
            ReceiptScreen(f"Receipt {receipt.sale_id}", text, receipt.sale_id, can_return=True),
            after,
        )

    # -- returns --------------------------------------------------------------------------------

    def action_return_items(self) -> None:
        self.start_return(member_id=self.draft.member_id)

    def start_return(self, *, sale_id: str | None = None, member_id: str | None = None) -> None:
        from .returns import ReturnScreen

        def done(result: tuple[ReturnReceipt, str, dict[str, str]] | None) -> None:
            if result is None:
                return
            returned, name, names = result
            member = returned.status_after.member_id if returned.status_after else None
            self.notify(
                f"refund {money(self.program, returned.refund_total)} {self.program.currency}",
                title=f"Return {returned.return_id} recorded",
            )
            if member and self.draft.empty and self.draft.member_id != member:
                self.choose_member(member)
            else:
                self.price(self.draft)
            self._show_return_slip(returned, name, names)

        self.app.push_screen(ReturnScreen(sale_id=sale_id, member_id=member_id), done)

    def _show_return_slip(self, returned: ReturnReceipt, name: str, names: dict[str, str]) -> None:
        from .receipt import ReceiptScreen

        text = return_text(self.program, returned, name, names)
        self.app.push_screen(ReceiptScreen(f"Return {returned.return_id}", text, returned.return_id, can_return=False))

    # -- back office ----------------------------------------------------------------------------

    def action_back_office(self) -> None:
        self.app.action_back_office()  # type: ignore[attr-defined]


class CheckoutProblem(Exception):
    """Carries a refused checkout out of the ledger's lock to the message."""

    def __init__(self, reason: str, busy: bool, code_refused: bool):
        super().__init__(reason)
        self.reason = reason
        self.busy = busy
        self.code_refused = code_refused
