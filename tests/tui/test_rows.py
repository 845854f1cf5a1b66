"""RowTable, the line-by-line table under the basket and the member list, driven in a small app."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from pos_loyalty.tui.widgets.rows import Column, RowTable

COLUMNS = (Column("Item", "item", flex=True), Column("Qty", "qty", 3, "right"), Column("Note", "note"))


class Host(App[None]):
    def __init__(self, rows, size_hint: int = 8) -> None:
        super().__init__()
        self.rows = rows
        self.size_hint = size_hint

    def compose(self) -> ComposeResult:
        table = RowTable(COLUMNS, id="t")
        table.styles.height = self.size_hint
        yield table

    def on_mount(self) -> None:
        self.query_one(RowTable).set_rows(self.rows)
        self.query_one(RowTable).focus()


def screen_lines(app: App) -> list[str]:
    """The table's lines as the terminal shows them (text only)."""
    table = app.query_one(RowTable)
    return [table.render_line(y).text for y in range(table.size.height)]


async def test_columns_fit_and_cut_with_an_ellipsis():
    rows = [(Text("A very long product name that cannot fit"), "2", "ok"), ("Tea", "10", "a note")]
    app = Host(rows)
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        header, first, second = screen_lines(app)[:3]
        assert header.split() == ["Item", "Qty", "Note"]
        # Fixed 3 for Qty, 6 for the widest note: the item gets the rest and ends in "…".
        assert len(first.rstrip()) <= 30 and "…" in first and first.rstrip().endswith("2  ok")
        assert second.split() == ["Tea", "10", "a", "note"]
        assert second.index("10") + 2 == first.index("2") + 1  # numbers are right-aligned


async def test_a_row_of_several_lines_moves_as_one():
    rows = [(Text("Coffee\n  free (card)"), "1", ""), ("Tea", "1", ""), ("Cake", "1", "")]
    app = Host(rows)
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(RowTable)
        assert screen_lines(app)[2].strip() == "free (card)"
        await pilot.press("down")
        assert table.cursor_row == 1
        await pilot.press("down", "down", "down")
        assert table.cursor_row == 2  # stops at the last row
        await pilot.press("up", "up", "up")
        assert table.cursor_row == 0


async def test_the_cursor_stays_in_view_and_a_click_picks_a_row():
    rows = [(f"item {n}", str(n), "") for n in range(30)]
    app = Host(rows, size_hint=6)  # a header and 5 rows show
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(RowTable)
        for _ in range(12):
            await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row == 12
        shown = screen_lines(app)
        assert shown[0].split()[0] == "Item"  # the header does not scroll away
        assert any(line.split()[:2] == ["item", "12"] for line in shown[1:])
        await pilot.click(RowTable, offset=(2, 1))  # the first body line shown
        top = int(shown[1].split()[1])
        assert table.cursor_row == top
        await pilot.press("pageup")
        assert table.cursor_row < top


async def test_new_rows_keep_the_cursor_in_range():
    app = Host([(f"item {n}", str(n), "") for n in range(5)])
    async with app.run_test(size=(30, 10)) as pilot:
        table = app.query_one(RowTable)
        table.move_cursor(4)
        table.set_rows([("only", "1", "")])
        await pilot.pause()
        assert table.cursor_row == 0 and table.row_count == 1
        table.clear()
        await pilot.pause()
        assert table.row_count == 0 and screen_lines(app)[1].strip() == ""
