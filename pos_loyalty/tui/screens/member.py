"""One member for the manager: details, status, sales history, the points audit trail, and the actions
(resign, rejoin, erase personal data, adjust points with a reason)."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Label, Static

from ...engine import MemberStatus, member_status
from ...ledger import adjust_points, change_membership, erase_member, load_member_facts, ts_text
from ...ledger.browse import MemberDetails, PointRow, SaleSummary, member_details, membership_history, point_history, recent_sales
from ...views import money
from ..dialogs.adjust import AdjustPointsDialog
from ..dialogs.confirm import ConfirmDialog
from ..messages import LedgerFailed
from ..text import status_summary
from ..till import LEDGER_PROBLEMS
from ..widgets.member_panel import tier_badge
from .base import TillScreen


class MemberLoaded(Message):
    def __init__(
        self,
        details: MemberDetails,
        status: MemberStatus,
        sales: list[SaleSummary],
        points: list[PointRow],
        memberships: list,
    ) -> None:
        super().__init__()
        self.details = details
        self.status = status
        self.sales = sales
        self.points = points
        self.memberships = memberships


class MemberChanged(Message):
    """A manager action was written; ``what`` says which."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what


class MemberScreen(TillScreen):
    """A member's page in the back office; Escape goes back to the list."""

    BINDINGS = [
        Binding("escape", "leave", "Back", key_display="Esc"),
        Binding("a", "adjust", "Adjust points"),
        Binding("r", "resign", "Resign"),
        Binding("j", "rejoin", "Rejoin"),
        Binding("x", "erase", "Erase data"),
        Binding("c", "counter", "At the counter"),
    ]

    def __init__(self, member_id: str) -> None:
        super().__init__()
        self.member_id = member_id
        self.details: MemberDetails | None = None
        self.status: MemberStatus | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static(f"Member {self.member_id}", id="shop-title")
            yield Static("", id="clock")
        with Horizontal(id="member-body"):
            with VerticalScroll(id="member-info"):
                yield Static("loading…", id="member-details")
            with Vertical(id="member-tables"):
                yield Label("Sales and returns", classes="section")
                yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
                yield Label("Point movements", classes="section", id="points-label")
                yield DataTable(id="movements", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        history = self.query_one("#history", DataTable)
        # The sale id last: a till's is 23 characters, and at 80 columns what was bought and paid
        # should show without scrolling.
        for label in ("When", "Kind", "Items", "Total", *(("Points",) if self.program.points else ()), "Sale"):
            history.add_column(label)
        movements = self.query_one("#movements", DataTable)
        for label in ("When", "Kind", "Points", "Reason", "Sale"):
            movements.add_column(label)
        if self.program.points is None:
            movements.display = False
            self.query_one("#points-label").display = False
        self.query_one("#clock", Static).update(self.till.now().strftime("%a %d %b %H:%M"))
        history.focus()
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        status = self.status
        if action == "adjust":
            return self.program.points is not None
        if action == "resign":
            return status is not None and status.active
        if action == "rejoin":
            return status is not None and not status.active
        if action == "erase":
            return self.details is not None and self.details.erased_at is None
        return True

    @work(thread=True, exclusive=True, group="member")
    def load(self) -> None:
        till = self.till
        at = till.now()
        with till.ledger() as db:
            details = member_details(db, self.member_id)
            facts = load_member_facts(db, self.member_id)
            if details is None or facts is None:
                self.post_message(LedgerFailed("open the member", f"unknown member {self.member_id!r}"))
                return
            status = member_status(till.program, facts, at)
            sales = recent_sales(db, self.member_id, limit=200)
            points = point_history(db, self.member_id)
            memberships = membership_history(db, self.member_id)
        self.post_message(MemberLoaded(details, status, sales, points, memberships))

    @on(MemberLoaded)
    def loaded(self, message: MemberLoaded) -> None:
        program = self.program
        self.details = details = message.details
        self.status = status = message.status
        info = Text()
        info.append(details.name or "(personal data erased)", style="bold")
        info.append(f"  {details.member_id}\n", style="dim")
        if status.tier is not None:
            info.append_text(tier_badge(status.tier.name, status.tier.rank))
            info.append("\n")
        for line in status_summary(program, status):
            info.append(f"{line}\n")
        info.append("\n")
        if details.erased_at is None:
            for label, value in (("e-mail", details.email), ("phone", details.phone), ("birthday", details.birthday)):
                if value:
                    info.append(f"{label}: {value}\n")
        else:
            info.append(f"personal data erased {ts_text(details.erased_at).replace('T', ' ')}\n", style="yellow")
        info.append(f"member record since {details.created_at:%Y-%m-%d}\n")
        for ts, state in message.memberships:
            info.append(f"  {ts:%Y-%m-%d} {'joined' if state == 'active' else 'resigned'}\n", style="dim")
        info.append(f"\nvisits {details.visits} · last {details.last_visit:%Y-%m-%d}\n" if details.last_visit else "\nno visits yet\n")
        info.append(f"spent {money(program, details.spend)}, refunded {money(program, details.refunds)} {program.currency}\n")
        self.query_one("#member-details", Static).update(info)
        shown = "(erased)" if details.erased_at is not None else details.name or "(no name)"
        self.query_one("#shop-title", Static).update(f"Member {details.member_id} · {shown}")
        history = self.query_one("#history", DataTable)
        history.clear()
        for sale in message.sales:
            points = (Text(f"+{sale.points_earned}" if sale.points_earned else "", justify="right"),)
            history.add_row(
                f"{sale.ts:%Y-%m-%d %H:%M}",
                sale.kind if sale.kind == "sale" else Text("return", style="yellow"),
                Text(str(sale.units), justify="right"),
                Text(("-" if sale.kind == "return" else "") + money(program, sale.total), justify="right"),
                *(points if program.points else ()),
                sale.sale_id,
            )
        movements = self.query_one("#movements", DataTable)
        movements.clear()
        for move in message.points:
            movements.add_row(
                f"{move.ts:%Y-%m-%d %H:%M}",
                move.kind,
                Text(f"{move.points:+d}", justify="right", style="green" if move.points > 0 else "red"),
                move.reason,
                move.sale_id or "",
            )
        self.refresh_bindings()

    # -- actions --------------------------------------------------------------------------------

    def action_leave(self) -> None:
        self.dismiss(None)

    def action_counter(self) -> None:
        """Back to the counter with this member picked."""
        from .counter import CounterScreen

        member_id = self.member_id
        app = self.app
        while not isinstance(app.screen, CounterScreen) and len(app.screen_stack) > 1:
            app.pop_screen()
        if isinstance(app.screen, CounterScreen):
            app.screen.choose_member(member_id)

    def action_adjust(self) -> None:
        balance = self.status.points.balance if self.status and self.status.points else None

        def apply(answer: tuple[int, str] | None) -> None:
            if answer is not None:
                self.write("adjust", *answer)

        self.app.push_screen(AdjustPointsDialog(self.member_id, balance), apply)

    def action_resign(self) -> None:
        self._confirm("resign", "Resign", f"End {self.member_id}'s membership? They keep their history; their tier goes.")

    def action_rejoin(self) -> None:
        self.write("rejoin")

    def action_erase(self) -> None:
        self._confirm(
            "erase",
            "Erase personal data",
            f"Erase {self.member_id}'s name, e-mail, phone and birthday for good?\n"
            "Sales and points stay (as amounts). This cannot be undone.",
            danger=True,
        )

    def _confirm(self, what: str, title: str, question: str, danger: bool = False) -> None:
        def answer(yes: bool | None) -> None:
            if yes:
                self.write(what)

        self.app.push_screen(ConfirmDialog(title, question, danger=danger), answer)

    @work(thread=True, exclusive=True, group="member-write")
    def write(self, what: str, points: int = 0, reason: str = "") -> None:
        till = self.till
        at = till.now()
        try:
            with till.ledger() as db:
                if what == "adjust":
                    adjust_points(db, till.program, self.member_id, points, reason, at)
                elif what == "resign":
                    change_membership(db, till.program, self.member_id, at, "resigned")
                elif what == "rejoin":
                    change_membership(db, till.program, self.member_id, at, "active")
                elif what == "erase":
                    erase_member(db, self.member_id, at)
        except LEDGER_PROBLEMS as exc:
            self.post_message(LedgerFailed(what, str(exc)))
            return
        self.post_message(MemberChanged(what))

    @on(MemberChanged)
    def changed(self, message: MemberChanged) -> None:
        done = {
            "adjust": "points adjusted",
            "resign": "membership ended",
            "rejoin": "member rejoined",
            "erase": "personal data erased",
        }[message.what]
        self.notify(done, title=self.member_id)
        self.load()

    @on(LedgerFailed)
    def failed(self, message: LedgerFailed) -> None:
        self.notify(message.reason, title=f"Could not {message.action}", severity="error", timeout=8)
