"""The basket as priced lines: each line's discounts with their reasons; keys to change or remove a line."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from ...engine import Program, Quote
from ...views import money


class BasketTable(DataTable, inherit_bindings=False):
    """Priced basket lines; posts :class:`ChangeLine` / :class:`EditLine` for the screen to apply.

    Free units given by a stamp card or an offer sit on a line of their own, right under the
    paid line they come from; both belong to the same basket line.
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
        """Change a basket line's quantity by ``delta`` (to 0 removes it)."""

        def __init__(self, index: int, delta: int | None) -> None:
            super().__init__()
            self.index = index
            self.delta = delta
            """None: remove the line."""

    class EditLine(Message):
        """Ask for a new quantity for a basket line."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.owners: list[int] = []
        """For each row, the index of the basket line it shows."""

    def on_mount(self) -> None:
        self.add_column("Item", key="item")
        self.add_column("Qty", key="qty")
        self.add_column("Price", key="price")
        self.add_column("Discount", key="discount")
        self.add_column("Total", key="total")

    def show(self, program: Program, priced: Quote | None, owners: list[int]) -> None:
        """Redraw from a quote, keeping the cursor on the same basket line where possible."""
        keep = self.owners[self.cursor_row] if self.owners and 0 <= self.cursor_row < len(self.owners) else None
        self.clear()
        self.owners = list(owners) if priced is not None else []
        if priced is None:
            return
        for row, line in enumerate(priced.lines):
            name = Text(line.name)
            if line.free_units:
                name = Text(f"  {line.name} (free)", style="green")
            discount = Text()
            for d in line.discounts:
                if discount:
                    discount.append("; ")
                discount.append(f"{d.reason} -{money(program, d.amount)}", style="green")
                if d.detail and d.reason != "stamp":
                    discount.append(f" {d.detail}", style="dim")
            self.add_row(
                name,
                Text(str(line.qty), justify="right"),
                Text(money(program, line.unit_price), justify="right"),
                discount,
                Text(money(program, line.total), justify="right", style="bold"),
                key=str(row),
            )
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
