"""A yes/no question for actions that cannot be undone (erasing a member's personal data)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmDialog(ModalScreen[bool]):
    """Y confirms; N or Escape backs out."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No", key_display="N/Esc"),
    ]

    def __init__(self, title: str, question: str, *, danger: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog" + (" danger" if self.danger else "")) as box:
            box.border_title = self.title_text
            yield Static(self.question)
            yield Static("Y yes · N no", classes="keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
