"""A light table drawn line by line: a fixed header, rows of one or more lines, a row cursor.

Textual's DataTable renders every visible cell through Rich again after any change; on this
project's 2-core machine that was 20-30 ms for a four-line basket and 60-100 ms for a page of
the member list, most of a basket change's and a search keystroke's time. The till redraws the
basket on every key, so this table renders each row's lines once into strips (Textual's Line
API) and only restyles them for the cursor and the zebra stripes: a change costs 1-3 ms.

It does what the till and the member list use: fixed, fitted or flexible column widths, cells
of one or more lines, a row cursor moved by keys or the mouse, scrolling to keep it in view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = Text | str
PADDING = 1
"""Blank cells either side of each column's text."""


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its heading, and a fixed ``width``, or the width of its widest cell, or (``flex``) what is left."""

    label: str
    key: str
    width: int | None = None
    justify: Literal["left", "right"] = "left"
    flex: bool = False


class RowTable(ScrollView, can_focus=True):
    """Rows of cells under a header, with a row cursor; subclasses add the keys that act on rows."""

    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        overflow-x: hidden;
        &:focus {
            background-tint: $foreground 5%;
            & > .rowtable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        &:dark > .rowtable--even-row {
            background: $surface-darken-1 40%;
        }
        & > .rowtable--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .rowtable--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .rowtable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    COMPONENT_CLASSES = {"rowtable--header", "rowtable--even-row", "rowtable--cursor"}

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
    ]

    def __init__(self, columns: Sequence[Column] = (), *, zebra_stripes: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.zebra_stripes = zebra_stripes
        self._columns: list[Column] = list(columns)
        self._rows: list[tuple[Text, ...]] = []
        self._row_lines: list[tuple[list[Text], ...]] = []
        """Each row's cells, split into lines (as many as the row is high)."""
        self._starts: list[int] = []
        """The first body line of each row."""
        self._owner_of_line: list[int] = []
        """For each body line, the row it belongs to."""
        self._widths: list[int] = []
        self._laid_out_for = -1
        self._strips: dict[tuple[int, int], Strip] = {}
        self._header: Strip | None = None
        self._cursor = 0
        self._base = Style()

    # -- contents ---------------------------------------------------------------------------------

    @property
    def columns(self) -> list[Column]:
        return list(self._columns)

    def set_columns(self, columns: Sequence[Column]) -> None:
        self._columns = list(columns)
        self._relayout()

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    def set_rows(self, rows: Sequence[Sequence[Cell]], cursor: int | None = None) -> None:
        """Replace every row (each a cell per column); the cursor goes to ``cursor`` or stays in range."""
        self._rows = [tuple(c if isinstance(c, Text) else Text(str(c)) for c in row) for row in rows]
        self._row_lines = [tuple(cell.split("\n", allow_blank=True) for cell in row) for row in self._rows]
        self._starts, self._owner_of_line = [], []
        for index, cells in enumerate(self._row_lines):
            self._starts.append(len(self._owner_of_line))
            self._owner_of_line += [index] * max((len(lines) for lines in cells), default=1)
        self._cursor = min(max(0, self._cursor if cursor is None else cursor), max(0, len(self._rows) - 1))
        self._relayout()
        self._scroll_to_cursor()

    def clear(self) -> None:
        self.set_rows([], cursor=0)

    def move_cursor(self, row: int) -> None:
        if not self._rows:
            return
        row = min(max(0, row), len(self._rows) - 1)
        if row != self._cursor:
            self._cursor = row
            self.refresh()
        self._scroll_to_cursor()

    # -- keys and mouse -----------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self._row_at(max(0, self._first_line_of(self._cursor) - self._body_height())))

    def action_page_down(self) -> None:
        last = len(self._owner_of_line) - 1
        self.move_cursor(self._row_at(min(last, self._first_line_of(self._cursor) + self._body_height())))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        line = offset.y - 1 + round(self.scroll_y)
        if 0 <= line < len(self._owner_of_line):
            self.move_cursor(self._owner_of_line[line])

    def _row_at(self, line: int) -> int:
        return self._owner_of_line[line] if self._owner_of_line else 0

    def _first_line_of(self, row: int) -> int:
        return self._starts[row] if row < len(self._starts) else 0

    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        if not self._rows:
            return
        first = self._starts[self._cursor]
        end = self._starts[self._cursor + 1] if self._cursor + 1 < len(self._starts) else len(self._owner_of_line)
        top, height = round(self.scroll_y), self._body_height()
        if first < top:
            self.scroll_to(y=first, animate=False, immediate=True)
        elif end > top + height:
            self.scroll_to(y=min(first, end - height), animate=False, immediate=True)

    # -- layout and drawing ---------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._header = None

    def _relayout(self) -> None:
        """Fit the columns to the width, forget the drawn strips, and size the scrollable area."""
        width = self.scrollable_content_region.width
        self._laid_out_for = width
        fitted = []
        for index, column in enumerate(self._columns):
            if column.width is not None:
                fitted.append(column.width)
            else:
                cells = (line.cell_len for row in self._row_lines for line in row[index]) if not column.flex else ()
                fitted.append(max([Text(column.label).cell_len, *cells]))
        flex = [i for i, column in enumerate(self._columns) if column.flex]
        if flex:
            spare = width - sum(w for i, w in enumerate(fitted) if i not in flex) - 2 * PADDING * len(fitted)
            for i in flex:
                fitted[i] = max(1, spare // len(flex))
        self._widths = fitted
        self._strips.clear()
        self._header = None
        self.virtual_size = Size(width, 1 + len(self._owner_of_line))
        self.refresh()

    def _line_strip(self, cells: Sequence[Text], width: int) -> Strip:
        """One screen line from one line of each cell, padded and cut to the column widths."""
        pad = Segment(" " * PADDING)
        segments: list[Segment] = []
        for column, room, cell in zip(self._columns, self._widths, cells):
            segments.append(pad)
            segments += self._cell_segments(cell, room, column.justify)
            segments.append(pad)
        return Strip(segments).adjust_cell_length(width)

    def _cell_segments(self, cell: Text, width: int, justify: str) -> list[Segment]:
        """A cell's line cut or padded to ``width``; plain one-style ASCII text without Rich's help."""
        if cell.spans or not cell.plain.isascii():  # styled parts or wide characters: Rich measures them
            cell = cell.copy()
            cell.truncate(width, overflow="ellipsis")
            cell.align(justify, width)  # type: ignore[arg-type]
            return list(cell.render(self.app.console))
        text = cell.plain
        if len(text) > width:
            text = text[: width - 1] + "…"
        text = text.rjust(width) if justify == "right" else text.ljust(width)
        style = cell.style
        if isinstance(style, str):
            style = self.app.console.get_style(style) if style else None
        return [Segment(text, style)]

    def render_lines(self, crop):
        # The widget's own style walks its ancestors: once per redraw, not once per line.
        self._base = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._laid_out_for:
            self._relayout()
        base = self._base
        if y == 0:
            if self._header is None:
                self._header = self._line_strip([Text(c.label) for c in self._columns], width)
            return self._header.apply_style(base + self.get_component_rich_style("rowtable--header"))
        line = y - 1 + round(self.scroll_y)
        if line >= len(self._owner_of_line):
            return Strip.blank(width, base)
        row = self._owner_of_line[line]
        key = (row, line - self._starts[row])
        strip = self._strips.get(key)
        if strip is None:
            cells = [lines[key[1]] if key[1] < len(lines) else Text() for lines in self._row_lines[row]]
            strip = self._strips[key] = self._line_strip(cells, width)
        if row == self._cursor:
            cursor = self.get_component_rich_style("rowtable--cursor")
            return Strip(Segment.apply_style(strip, base, cursor), strip.cell_length)
        if self.zebra_stripes and not row % 2:
            return strip.apply_style(base + self.get_component_rich_style("rowtable--even-row"))
        return strip.apply_style(base)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1 + len(self._owner_of_line)

