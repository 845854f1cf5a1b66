"""The basket as a till slip: each line's list amount, its discounts with their reasons under it; keys to change it."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message

from ...engine import Program, Quote
from ...views import money
from .rows import Column, RowTable

COLUMNS = (
    Column("Item", "item", flex=True),
    Column("Qty", "qty", 3, "right"),
    Column("Price", "price", 7, "right"),
    Column("Amount", "amount", 9, "right"),
)
"""The item column takes what the fixed-width number columns leave."""
NARROW_ITEM = 20
"""Below this item width the Price column goes (the amount and quantity say it)."""


def discount_reason(reason: str, detail: str) -> str:
    """A discount as the basket shows it, short: ``free (coffee card)``, ``tier SILVER 5%``, ``code LSEMJ50 20%``."""
    if reason == "stamp":
        card = detail.split(":", 1)[0] if detail else "stamp card"
        return f"free ({card})"
    if reason == "points":
        return detail or "points"
    return f"{reason} {detail}".strip()


class BasketTable(RowTable):
    """Priced basket lines; posts :class:`ChangeLine` / :class:`EditLine` for the screen to apply.

    A row is one priced line: the item and its list amount, then one line per discount with its
    reason and amount, so the Amount column adds up to the total. Free units given by a stamp
    card or an offer sit on a row of their own right under the paid row they come from; both
    belong to the same basket line.
    """

    BINDINGS = [
        Binding("enter", "edit_line", "Qty", tooltip="Set the quantity of this line"),
        Binding("plus,equals_sign", "change_line(1)", "+1", key_display="+"),
        Binding("minus", "change_line(-1)", "-1", key_display="-"),
        Binding("delete,backspace", "remove_line", "Remove", key_display="Del"),
    ]

    class ChangeLine(Message):
        """Change a basket line's quantity by ``delta`` (None removes the line)."""

        def __init__(self, index: int, delta: int | None) -> None:
            super().__init__()
            self.index = index
            self.delta = delta

    class EditLine(Message):
        """Ask for a new quantity for a basket line."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id)
        self.owners: list[int] = []
        """For each row, the index of the basket line it shows."""
        self._shown: tuple[Program, Quote | None, list[int]] | None = None

    @property
    def with_price(self) -> bool:
        return any(column.key == "price" for column in self.columns)

    def on_resize(self, event: events.Resize) -> None:
        fixed = sum(column.width + 2 for column in COLUMNS if column.width)
        with_price = self.scrollable_content_region.width - fixed - 2 >= NARROW_ITEM
        if with_price != self.with_price:
            self.set_columns([c for c in COLUMNS if with_price or c.key != "price"])
            if self._shown is not None:
                self.show(*self._shown)

    def show(self, program: Program, priced: Quote | None, owners: list[int]) -> None:
        """Redraw from a quote, keeping the cursor on the same basket line where possible."""
        self._shown = (program, priced, owners)
        keep = self._owner()
        self.owners = list(owners) if priced is not None else []
        rows = []
        for line in priced.lines if priced is not None else ():
            name = line.name + (" (free)" if line.free_units else "")
            item = Text(name, style="green" if line.free_units else "")
            amounts = Text(money(program, line.subtotal))
            for d in line.discounts:
                item.append(f"\n  {discount_reason(d.reason, d.detail)}", style="green")
                amounts.append(f"\n-{money(program, d.amount)}", style="green")
            cells = [item, Text(str(line.qty))]
            if self.with_price:
                cells.append(Text(money(program, line.unit_price)))
            rows.append((*cells, amounts))
        if keep is not None and keep in self.owners:
            cursor = self.owners.index(keep)
        else:
            cursor = len(rows) - 1
        self.set_rows(rows, cursor=max(0, cursor))

    def _owner(self) -> int | None:
        if not self.owners or not 0 <= self.cursor_row < len(self.owners):
            return None
        return self.owners[self.cursor_row]

    def action_change_line(self, delta: int) -> None:
        index = self._owner()
        if index is not None:
            self.post_message(self.ChangeLine(index, delta))

    def action_remove_line(self) -> None:
        index = self._owner()
        if index is not None:
            self.post_message(self.ChangeLine(index, None))

    def action_edit_line(self) -> None:
        index = self._owner()
        if index is not None:
            self.post_message(self.EditLine(index))
