"""A manager's points correction: how many (signed) and why (the reason is recorded)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class AdjustPointsDialog(ModalScreen[tuple[int, str] | None]):
    """Points (e.g. 50 or -20) and a reason; both are required."""

    BINDINGS = [Binding("escape", "cancel", "Back", key_display="Esc")]

    def __init__(self, member_id: str, balance: int | None) -> None:
        super().__init__()
        self.member_id = member_id
        self.balance = balance

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = f"Adjust points of {self.member_id}"
            if self.balance is not None:
                yield Static(f"Balance now: {self.balance} points")
            yield Label("Points (negative takes points away)")
            yield Input(placeholder="e.g. 50 or -20", restrict=r"[-+]?\d*", id="points", compact=True)
            yield Label("Reason (recorded in the audit trail)")
            yield Input(placeholder="e.g. goodwill for a late order", id="reason", compact=True)
            yield Static("", classes="hint", id="hint")
            yield Static("Enter save · Tab next field · Esc back", classes="keys")

    def on_mount(self) -> None:
        self.query_one("#points", Input).focus()

    def _problem(self, text: str) -> None:
        hint = self.query_one("#hint", Static)
        hint.update(text)
        hint.add_class("problem")

    @on(Input.Submitted)
    def save(self, event: Input.Submitted) -> None:
        event.stop()
        raw = self.query_one("#points", Input).value.strip()
        reason = self.query_one("#reason", Input).value.strip()
        try:
            points = int(raw)
        except ValueError:
            self._problem("points must be a whole number such as 50 or -20")
            self.query_one("#points", Input).focus()
            return
        if points == 0:
            self._problem("an adjustment of 0 changes nothing")
            return
        if not reason:
            if event.input.id == "points":
                self.query_one("#reason", Input).focus()
            else:
                self._problem("say why: the reason is recorded with the points")
            return
        self.dismiss((points, reason))

    def action_cancel(self) -> None:
        self.dismiss(None)
