"""Enrol a new member in a few keystrokes: a name (or a phone), Enter."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ...ledger.contacts import ContactError, email_address, phone_number
from ..widgets.typeahead import TypeAheadInput


@dataclass(frozen=True, slots=True)
class NewMember:
    """What the cashier typed for a new member; the ledger chooses a free id from it if none is given."""

    name: str
    phone: str = ""
    email: str = ""
    member_id: str = ""


def guess_fields(text: str) -> dict[str, str]:
    """Put what was typed in the member lookup into the field it looks like."""
    text = text.strip()
    if not text:
        return {}
    if "@" in text:
        return {"email": text}
    if sum(ch.isdigit() for ch in text) >= max(3, len(text) // 2):
        return {"phone": text}
    return {"name": text}


class EnrolDialog(ModalScreen[NewMember | None]):
    """Name, phone, e-mail; Enter from any field enrols, Tab moves between them, Escape backs out."""

    BINDINGS = [Binding("escape", "cancel", "Back", key_display="Esc")]

    def __init__(self, typed: str = "") -> None:
        super().__init__()
        self.prefill = guess_fields(typed)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Enrol a new member"
            yield Label("Name")
            yield TypeAheadInput(self.prefill.get("name", ""), placeholder="e.g. Ann Lee", id="name", compact=True)
            yield Label("Phone (optional)")
            yield TypeAheadInput(self.prefill.get("phone", ""), placeholder="+1-555-0199", id="phone", compact=True)
            yield Label("E-mail (optional)")
            yield TypeAheadInput(self.prefill.get("email", ""), placeholder="ann@example.com", id="email", compact=True)
            yield Label("Member id (optional: made from the name)")
            yield TypeAheadInput(placeholder="leave empty", id="member_id", compact=True)
            yield Static("", classes="hint", id="hint")
            yield Static("Enter enrol · Tab next field · Esc back", classes="keys")

    def on_mount(self) -> None:
        first_empty = next(
            (field for field in self.query(Input) if not field.value and field.id != "member_id"),
            self.query_one("#name", Input),
        )
        (self.query_one("#name", Input) if not self.prefill else first_empty).focus()

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    @on(Input.Submitted)
    def enrol(self, event: Input.Submitted) -> None:
        event.stop()
        member = NewMember(self._value("name"), self._value("phone"), self._value("email"), self._value("member_id"))
        if not (member.name or member.phone or member.email):
            hint = self.query_one("#hint", Static)
            hint.update("a new member needs at least a name, a phone or an e-mail")
            hint.add_class("problem")
            return
        try:
            email_address(member.email)
            phone_number(member.phone)
        except ContactError as exc:  # said here, so nothing typed is lost
            hint = self.query_one("#hint", Static)
            hint.update(str(exc))
            hint.add_class("problem")
            return
        self.dismiss(member)

    def action_cancel(self) -> None:
        self.dismiss(None)
