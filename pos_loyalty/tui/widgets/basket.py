"""The basket as a till slip: each line's list amount, its discounts with their reasons under it; keys to change it."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from ...engine import Program, Quote
from ...views import money

NUMBER_COLUMNS = (("Qty", "qty", 3), ("Price", "price", 7), ("Amount", "amount", 9))
"""The fixed-width columns; the item column takes the rest of the width."""
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


class BasketTable(DataTable, inherit_bindings=False):
    """Priced basket lines; posts :class:`ChangeLine` / :class:`EditLine` for the screen to apply.

    A row is one priced line: the item and its list amount, then one line per discount with its
    reason and amount, so the Amount column adds up to the total. Free units given by a stamp
    card or an offer sit on a row of their own right under the paid row they come from; both
    belong to the same basket line.
    """

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
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
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.owners: list[int] = []
        """For each row, the index of the basket line it shows."""
        self._shown: tuple[Program, Quote | None, list[int]] | None = None
        self._item_width = 0

    def on_mount(self) -> None:
        self._columns(self._width_for_items())

    def _number_columns(self, with_price: bool) -> tuple[tuple[str, str, int], ...]:
        return tuple(c for c in NUMBER_COLUMNS if with_price or c[1] != "price")

    def _width_for_items(self) -> int:
        def room(columns) -> int:
            fixed = sum(width + 2 * self.cell_padding for _, _, width in columns)
            return self.scrollable_content_region.width - fixed - 2 * self.cell_padding - 1

        wide = room(self._number_columns(True))
        return max(10, wide if wide >= NARROW_ITEM else room(self._number_columns(False)))

    @property
    def with_price(self) -> bool:
        return "price" in self.columns

    def _columns(self, item_width: int) -> None:
        self._item_width = item_width
        self.clear(columns=True)
        self.add_column("Item", key="item", width=item_width)
        full = self.scrollable_content_region.width - item_width >= sum(w + 2 for _, _, w in NUMBER_COLUMNS) + 3
        for label, key, width in self._number_columns(full):
            self.add_column(Text(label, justify="right"), key=key, width=width)

    def on_resize(self, event: events.Resize) -> None:
        width = self._width_for_items()
        if width != self._item_width:
            self._columns(width)
            if self._shown is not None:
                self.show(*self._shown)

    def show(self, program: Program, priced: Quote | None, owners: list[int]) -> None:
        """Redraw from a quote, keeping the cursor on the same basket line where possible."""
        self._shown = (program, priced, owners)
        keep = self.owners[self.cursor_row] if self.owners and 0 <= self.cursor_row < len(self.owners) else None
        self.clear()
        self.owners = list(owners) if priced is not None else []
        if priced is None:
            return
        width = self._item_width
        for row, line in enumerate(priced.lines):
            name = line.name + (" (free)" if line.free_units else "")
            item = Text(name, style="green" if line.free_units else "", no_wrap=True, overflow="ellipsis")
            amounts = Text(money(program, line.subtotal), justify="right")
            for d in line.discounts:
                reason = discount_reason(d.reason, d.detail)
                room = max(1, width - 2)
                if len(reason) > room:
                    reason = reason[: room - 1] + "…"
                item.append(f"\n  {reason}", style="green")
                amounts.append(f"\n-{money(program, d.amount)}", style="green")
            cells = [item, Text(str(line.qty), justify="right")]
            if self.with_price:
                cells.append(Text(money(program, line.unit_price), justify="right"))
            self.add_row(*cells, amounts, key=str(row), height=1 + len(line.discounts))
        if keep is not None and keep in self.owners:
            self.move_cursor(row=self.owners.index(keep))
        elif self.row_count:
            self.move_cursor(row=self.row_count - 1)

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
