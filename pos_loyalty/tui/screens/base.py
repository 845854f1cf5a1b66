"""What every screen that talks to the ledger shares: the till (connection, programme, clock),
enrolling a member, and telling the user when the ledger refused something."""

from __future__ import annotations

from textual import on, work
from textual.screen import Screen

from ...engine import Program
from ..dialogs.enrol import EnrolDialog, NewMember
from ..messages import LedgerFailed, MemberEnrolled
from ..till import LEDGER_PROBLEMS, Till


class TillMixin:
    """Screens reach the ledger only through ``self.till``, and only in thread workers."""

    @property
    def till(self) -> Till:
        return self.app.till  # type: ignore[attr-defined]

    @property
    def program(self) -> Program:
        return self.till.program


class TillScreen(TillMixin, Screen):
    """A full screen over the ledger.

    ``ask_to_enrol`` opens the enrol dialog and enrols in a worker; the screen answers
    :class:`MemberEnrolled` in its own way (the counter picks the member, the office opens them).
    """

    def ask_to_enrol(self, typed: str = "") -> None:
        def enrol(member: NewMember | None) -> None:
            if member is not None:
                self.enrol(member)

        self.app.push_screen(EnrolDialog(typed), enrol)

    @work(thread=True, exclusive=True, group="enrol")
    def enrol(self, member: NewMember) -> None:
        try:
            member_id = self.till.enrol(member.member_id, member.name, member.email, member.phone)
        except LEDGER_PROBLEMS as exc:
            self.post_message(LedgerFailed("enrol", str(exc)))
            return
        self.post_message(MemberEnrolled(member_id, member.name))

    @on(LedgerFailed)
    def ledger_failed(self, message: LedgerFailed) -> None:
        self.notify(message.reason, title=f"Could not {message.action}", severity="error", timeout=8)
