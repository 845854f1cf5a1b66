"""Readout: redrawn text that lays the screen out only when its height changes, and always then."""

from __future__ import annotations

from rich.console import Console, Group
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from pos_loyalty.tui.widgets.readout import Readout, lines_needed


def test_lines_needed_counts_wrapped_lines():
    console = Console(width=80)
    assert lines_needed(console, Text("short"), 10) == 1
    assert lines_needed(console, Text("one two three four"), 10) == 2
    assert lines_needed(console, Text("a\nb\nc"), 10) == 3
    assert lines_needed(console, Group(Text("a"), Text(""), Text("one two three four")), 10) == 4
    assert lines_needed(console, "plain text here", 5) == 3


class Host(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Readout(id="r")


async def test_the_widget_grows_and_shrinks_with_its_text():
    app = Host()
    async with app.run_test(size=(20, 10)) as pilot:
        readout = app.query_one(Readout)
        readout.show(Text("one line"))
        await pilot.pause()
        assert readout.size.height == 1
        readout.show(Text("first\nsecond\nthird"))
        await pilot.pause()
        assert readout.size.height == 3
        readout.show(Text("uno\ndos\ntres"))  # the same height: no layout needed, still right
        await pilot.pause()
        assert readout.size.height == 3 and "dos" in readout.render().plain
        readout.show(Text("aaaa bbbb cccc dddd eeee"))  # wraps once at 20 columns
        await pilot.pause()
        assert readout.size.height == 2
