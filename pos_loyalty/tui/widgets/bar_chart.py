"""A horizontal bar chart drawn in text (members per tier), scaled to the widget's width."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.text import Text
from textual.widget import Widget

EIGHTHS = " ▏▎▍▌▋▊▉"
"""Partial blocks, so bars differ by an eighth of a cell."""


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    colour: str = "green"
    note: str = ""


def bar_text(value: int, biggest: int, width: int) -> str:
    """A bar of ``value`` against ``biggest`` in ``width`` cells, to an eighth of a cell."""
    if biggest <= 0 or width <= 0:
        return ""
    eighths = value * width * 8 // biggest
    if value > 0 and eighths == 0:
        eighths = 1
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part] if part else "")


class BarChart(Widget, can_focus=False):
    """Labelled bars with their values; set :attr:`bars` (attributes down) and it redraws."""

    def __init__(self, *, id: str | None = None, title: str = "") -> None:
        super().__init__(id=id)
        self.bars: list[Bar] = []
        self.chart_title = title

    def show(self, bars: list[Bar], title: str | None = None) -> None:
        self.bars = list(bars)
        if title is not None:
            self.chart_title = title
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self.bars) * 2 + (2 if self.chart_title else 0) + 1)

    def render(self) -> Group:
        if not self.bars:
            return Group(Text("nothing to show", style="dim"))
        label_width = max(len(bar.label) for bar in self.bars) + 1
        value_width = max(len(f"{bar.value:,}") for bar in self.bars) + 1
        total = sum(bar.value for bar in self.bars)
        room = max(4, self.size.width - label_width - value_width - 10)
        biggest = max(bar.value for bar in self.bars)
        lines: list[Text] = []
        if self.chart_title:
            lines += [Text(self.chart_title, style="bold"), Text("")]
        for bar in self.bars:
            line = Text(bar.label.ljust(label_width), style="bold")
            drawn = bar_text(bar.value, biggest, room)
            line.append(drawn, style=bar.colour)
            line.append(" " * (room - len(drawn) + 1))
            line.append(f"{bar.value:,}".rjust(value_width))
            share = f" {bar.value * 100 / total:5.1f} %" if total else ""
            line.append(share, style="dim")
            lines.append(line)
            lines.append(Text(("  " + bar.note) if bar.note else "", style="dim"))
        lines.append(Text(f"{total:,} in all", style="dim"))
        return Group(*lines)
