"""A Static for text redrawn on every basket change: the screen is laid out again only when its height changes.

``Static.update`` asks for a layout each time, and a layout redraws every widget on the screen.
The counter's totals and member panel change on every key but rarely change height; skipping
the layout when the height stays took a basket change from 28 / 34 / 50 ms to 18 / 25 / 35 ms
(median / p90 / worst of 120, bench harness on this project's 2-core machine).
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.text import Text
from textual.widgets import Static


def lines_needed(console: Console, content: RenderableType, width: int) -> int:
    """How many lines ``content`` takes at ``width`` (text wrapped as Rich wraps it)."""
    if isinstance(content, Text):
        return len(content.wrap(console, width))
    if isinstance(content, Group):
        return sum(lines_needed(console, part, width) for part in content.renderables)
    if isinstance(content, str):
        return lines_needed(console, Text(content), width)
    return len(console.render_lines(content, console.options.update_width(width), pad=False))


class Readout(Static):
    """Show Rich text; lay the screen out again only when it needs another number of lines."""

    def __init__(self, content: RenderableType = "", *, id: str | None = None) -> None:
        super().__init__(content, id=id)
        self._laid_out: tuple[int, int] | None = None
        """(width, lines) of what was last shown, when it was measured."""

    def show(self, content: RenderableType) -> None:
        width = self.content_size.width
        measured = (width, lines_needed(self.app.console, content, width)) if width > 0 else None
        self.update(content, layout=measured is None or measured != self._laid_out)
        self._laid_out = measured
