"""The manager PIN, asked before the back office opens; wrong tries are counted by the ledger."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ...ledger.access import FREE_ATTEMPTS, check_pin, failed_attempts, locked_until
from ..till import LEDGER_PROBLEMS


class PinDialog(ModalScreen[bool]):
    """Dismisses True on the right PIN, False when backed out of; a wrong PIN keeps it open."""

    BINDINGS = [Binding("escape", "cancel", "Back", key_display="Esc")]

    class Checked(Message):
        """The ledger's answer to a PIN."""

        def __init__(self, ok: bool, problem: str = "") -> None:
            super().__init__()
            self.ok = ok
            self.problem = problem

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Back office"
            yield Label("Manager PIN")
            yield Input(password=True, restrict=r"\d*", max_length=12, id="pin")
            yield Static("", classes="hint", id="hint")
            yield Static("Enter open · Esc back", classes="keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value:
            self.query_one(Input).disabled = True
            self.check(event.value)

    @work(thread=True, exclusive=True, group="pin")
    def check(self, pin: str) -> None:
        till = self.app.till  # type: ignore[attr-defined]
        try:
            at = till.now()
            with till.ledger() as db:
                ok = check_pin(db, pin, at)
                problem = ""
                if not ok:
                    until = locked_until(db, at)
                    left = FREE_ATTEMPTS - failed_attempts(db)
                    if until is not None:
                        problem = f"wrong PIN: the next try waits until {until:%H:%M:%S}"
                    else:
                        problem = f"wrong PIN: {left} more {'try' if left == 1 else 'tries'} before a wait"
            self.post_message(self.Checked(ok, problem))
        except LEDGER_PROBLEMS as exc:
            self.post_message(self.Checked(False, str(exc)))

    @on(Checked)
    def checked(self, message: Checked) -> None:
        if message.ok:
            self.dismiss(True)
            return
        field = self.query_one(Input)
        field.disabled = False
        field.value = ""
        field.focus()
        hint = self.query_one("#hint", Static)
        hint.update(message.problem)
        hint.add_class("problem")

    def action_cancel(self) -> None:
        self.dismiss(False)
