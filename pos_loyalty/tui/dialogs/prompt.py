"""A one-line question: a quantity, a discount code, points to redeem, where to save a receipt."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class PromptDialog(ModalScreen[str | None]):
    """Ask for one value; Enter answers it, Escape backs out (None)."""

    BINDINGS = [Binding("escape", "cancel", "Back", key_display="Esc")]

    def __init__(
        self,
        title: str,
        question: str,
        *,
        value: str = "",
        placeholder: str = "",
        hint: str = "",
        restrict: str | None = None,
        password: bool = False,
        allow_empty: bool = False,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.initial = value
        self.placeholder = placeholder
        self.hint = hint
        self.restrict = restrict
        self.password = password
        self.allow_empty = allow_empty

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text
            yield Label(self.question)
            yield Input(
                value=self.initial,
                placeholder=self.placeholder,
                restrict=self.restrict,
                password=self.password,
                id="answer",
            )
            yield Static(self.hint, classes="hint", id="hint")
            yield Static("Enter OK · Esc back", classes="keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def show_problem(self, text: str) -> None:
        """Keep the dialog open and say what is wrong."""
        hint = self.query_one("#hint", Static)
        hint.update(text)
        hint.add_class("problem")

    @on(Input.Submitted)
    def answer(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value and not self.allow_empty:
            self.show_problem("please type something, or Esc to go back")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
