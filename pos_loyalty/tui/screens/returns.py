"""Returns against a receipt: pick the sale (the member's recent ones, or type its id), choose what comes back.

The ledger's ``record_return`` takes products and quantities and puts them on the sale's lines
itself (paid units before free ones), so the screen shows one row per product of the sale.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ...engine import BasketLine
from ...engine.money import share
from ...ledger import ReturnReceipt, SaleRecord, load_catalogue, load_sale, record_return, ts_text
from ...ledger.browse import SaleSummary, recent_sales
from ...views import money
from ..messages import LedgerFailed, Returned
from ..till import LEDGER_PROBLEMS
from .base import TillMixin


@dataclass(frozen=True, slots=True)
class ReturnRow:
    """One product of the sale: what was bought, what is already back, what can still come back."""

    product_id: str
    name: str
    bought: int
    returned: int

    @property
    def left(self) -> int:
        return self.bought - self.returned


def return_rows(sale: SaleRecord, names: dict[str, str]) -> list[ReturnRow]:
    rows: dict[str, ReturnRow] = {}
    for line in sale.lines:
        row = rows.get(line.product_id) or ReturnRow(line.product_id, names.get(line.product_id, line.product_id), 0, 0)
        rows[line.product_id] = ReturnRow(row.product_id, row.name, row.bought + line.qty, row.returned + line.returned_qty)
    return list(rows.values())


def refund_preview(sale: SaleRecord, chosen: dict[str, int]) -> int:
    """What the ledger will refund for ``chosen`` units: paid lines first, each unit's share of what was paid."""
    total = 0
    for product_id, qty in chosen.items():
        need = qty
        lines = sorted((l for l in sale.lines if l.product_id == product_id), key=lambda l: (l.free_units > 0, l.line_no))
        for line in lines:
            take = min(need, line.returnable)
            if take:
                total += share(line.total, line.returned_qty + take, line.qty) - share(line.total, line.returned_qty, line.qty)
                need -= take
    return total


class SaleLoaded(Message):
    def __init__(self, sale: SaleRecord, names: dict[str, str], member_name: str) -> None:
        super().__init__()
        self.sale = sale
        self.names = names
        self.member_name = member_name


class RecentSales(Message):
    def __init__(self, member_id: str | None, sales: list[SaleSummary]) -> None:
        super().__init__()
        self.member_id = member_id
        self.sales = sales


class ReturnScreen(TillMixin, ModalScreen[tuple[ReturnReceipt, str, dict[str, str]] | None]):
    """Choose a sale, set the quantities coming back, F9 refunds; Escape backs out."""

    BINDINGS = [
        Binding("escape", "cancel", "Back", key_display="Esc"),
        Binding("f9", "refund", "Refund"),
        Binding("plus,equals_sign", "change(1)", "+1", key_display="+"),
        Binding("minus", "change(-1)", "-1", key_display="-"),
        Binding("a", "all", "All of it"),
    ]

    def __init__(self, *, sale_id: str | None = None, member_id: str | None = None) -> None:
        super().__init__()
        self.sale_id = sale_id
        self.member_id = member_id
        self.sale: SaleRecord | None = None
        self.rows: list[ReturnRow] = []
        self.chosen: dict[str, int] = {}
        self.member_name = ""
        self.names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="return-box") as box:
            box.border_title = "Return items"
            with Horizontal(classes="entry-row"):
                yield Label("Sale", classes="entry-label")
                yield Input(placeholder="sale id, or pick one below", id="sale-id", compact=True)
            yield Label("", id="recent-label")
            yield OptionList(id="recent")
            yield Static("", id="sale-head")
            yield DataTable(id="return-lines", cursor_type="row", zebra_stripes=True)
            yield Static("", id="refund-total")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one("#return-lines", DataTable)
        for label, key in (("Item", "item"), ("Bought", "bought"), ("Back", "back"), ("Left", "left"), ("Return", "qty")):
            table.add_column(label, key=key)
        self.query_one("#recent", OptionList).display = False
        table.display = False
        if self.sale_id:
            self.query_one("#sale-id", Input).value = self.sale_id
            self.load(self.sale_id)
        else:
            # The member's latest sales, or with no member (no receipt, paid anonymously) the tills'.
            self.load_recent(self.member_id)
            self.query_one("#sale-id", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("change", "all"):
            return self.sale is not None and not isinstance(self.focused, Input)
        if action == "refund":
            return None if not any(self.chosen.values()) else True
        return True

    # -- picking the sale ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="recent")
    def load_recent(self, member_id: str | None) -> None:
        with self.till.ledger() as db:
            sales = recent_sales(db, member_id, limit=8, returnable_only=True)
        self.post_message(RecentSales(member_id, sales))

    @on(RecentSales)
    def recent_loaded(self, message: RecentSales) -> None:
        options = self.query_one("#recent", OptionList)
        label = self.query_one("#recent-label", Label)
        whose = f"{message.member_id} has" if message.member_id else "the tills have"
        if not message.sales:
            label.update(f"{whose} no sales with items left to return: type a sale id")
            return
        label.update(f"Recent sales of {message.member_id} (Enter picks one)" if message.member_id
                     else "The latest sales at the tills (Enter picks one)")
        options.set_options(
            Option(
                # One line at 80 columns, a till's 23-character sale id included.
                f"{sale.ts:%Y-%m-%d %H:%M}  {sale.sale_id:<23} {f'{sale.returnable}/{sale.units} left':>10}"
                f"{money(self.program, sale.total):>10}",
                id=sale.sale_id,
            )
            for sale in message.sales
        )
        options.display = True
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected, "#recent")
    def recent_picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.query_one("#sale-id", Input).value = event.option.id
            self.load(event.option.id)

    @on(Input.Submitted, "#sale-id")
    def sale_typed(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.load(event.value.strip())

    @work(thread=True, exclusive=True, group="sale")
    def load(self, sale_id: str) -> None:
        till = self.till
        with till.ledger() as db:
            sale = load_sale(db, sale_id)
            if sale is None:
                self.post_message(LedgerFailed("find the sale", f"no sale {sale_id!r} in the ledger"))
                return
            if sale.kind != "sale":
                self.post_message(LedgerFailed("use that receipt", f"{sale_id} is a return, not a sale"))
                return
            catalogue = load_catalogue(db, sale.ts, [line.product_id for line in sale.lines])
            name = ""
            if sale.member_id:
                row = db.execute("SELECT name FROM members WHERE member_id = ?", [sale.member_id]).fetchone()
                name = (row[0] or "") if row else ""
        self.post_message(SaleLoaded(sale, {pid: p.name for pid, p in catalogue.items()}, name))

    @on(SaleLoaded)
    def sale_loaded(self, message: SaleLoaded) -> None:
        sale = message.sale
        self.sale = sale
        self.member_name = message.member_name
        self.names = message.names
        self.rows = return_rows(sale, message.names)
        self.chosen = {}
        who = f"{message.member_name or sale.member_id} ({sale.member_id})" if sale.member_id else "no member"
        self.query_one("#sale-head", Static).update(
            f"Sale {sale.sale_id} · {ts_text(sale.ts).replace('T', ' ')} · {who} · "
            f"paid {money(self.program, sale.total)} {self.program.currency}"
        )
        self.query_one("#recent", OptionList).display = False
        self.query_one("#recent-label", Label).update("")
        table = self.query_one("#return-lines", DataTable)
        table.display = True
        if len(self.rows) == 1 and self.rows[0].left > 0:
            self.chosen[self.rows[0].product_id] = self.rows[0].left
        self._redraw()
        table.focus()
        if not any(row.left for row in self.rows):
            self.notify("everything on this sale has been returned already", severity="warning")

    def _redraw(self) -> None:
        table = self.query_one("#return-lines", DataTable)
        keep = table.cursor_row
        table.clear()
        for row in self.rows:
            qty = self.chosen.get(row.product_id, 0)
            style = "dim" if not row.left else ""
            table.add_row(
                Text(row.name, style=style),
                Text(str(row.bought), justify="right"),
                Text(str(row.returned), justify="right"),
                Text(str(row.left), justify="right"),
                Text(str(qty), justify="right", style="bold yellow" if qty else "dim"),
                key=row.product_id,
            )
        if self.rows:
            table.move_cursor(row=min(max(keep, 0), len(self.rows) - 1))
        refund = refund_preview(self.sale, self.chosen) if self.sale else 0
        units = sum(self.chosen.values())
        text = (
            f"Refund {money(self.program, refund)} {self.program.currency} for {units} item(s) · F9 refunds"
            if units
            else "Choose what comes back: +/- on a line, A for all of it"
        )
        self.query_one("#refund-total", Static).update(text)
        self.refresh_bindings()

    def _current(self) -> ReturnRow | None:
        table = self.query_one("#return-lines", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_change(self, delta: int) -> None:
        row = self._current()
        if row is None:
            return
        qty = min(row.left, max(0, self.chosen.get(row.product_id, 0) + delta))
        self.chosen[row.product_id] = qty
        self._redraw()

    def action_all(self) -> None:
        row = self._current()
        if row is None:
            return
        self.chosen[row.product_id] = row.left
        self._redraw()

    # -- refund -------------------------------------------------------------------------------

    def action_refund(self) -> None:
        if self.sale is None or not any(self.chosen.values()):
            self.notify("choose at least one item to return", severity="warning")
            return
        items = [BasketLine(pid, qty) for pid, qty in self.chosen.items() if qty]
        self.refund(self.sale.sale_id, items)

    @work(thread=True, exclusive=True, group="refund")
    def refund(self, sale_id: str, items: list[BasketLine]) -> None:
        till = self.till
        try:
            with till.ledger() as db:
                receipt = record_return(db, till.program, sale_id, items, till.now())
        except LEDGER_PROBLEMS as exc:
            self.post_message(LedgerFailed("record the return", str(exc)))
            return
        self.post_message(Returned(receipt, self.member_name))

    @on(Returned)
    def returned(self, message: Returned) -> None:
        self.dismiss((message.receipt, message.member_name, self.names))

    @on(LedgerFailed)
    def failed(self, message: LedgerFailed) -> None:
        self.notify(message.reason, title=f"Could not {message.action}", severity="error", timeout=8)

    def action_cancel(self) -> None:
        self.dismiss(None)
