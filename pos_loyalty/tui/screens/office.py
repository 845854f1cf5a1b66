"""The manager's back office: members (search, sort, page), segments per tier, KPIs, codes, the rules.

Each tab loads when first shown, in a thread worker; the member list is paged from SQL so it
opens as fast with 100,000 members as with four.
"""

from __future__ import annotations

import time
from fractions import Fraction

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Markdown, Static, TabbedContent, TabPane

from ...engine import member_status
from ...engine.money import format_number
from ...ledger import load_member_facts
from ...ledger.browse import SORT_LABELS, MemberPage, member_page, sorts_for, tier_basis_order
from ...views import money
from ..messages import MemberEnrolled
from ..text import rules_markdown
from ..widgets.bar_chart import Bar, BarChart
from ..widgets.member_panel import TIER_COLOURS
from ..widgets.member_table import PAGE_SIZE, ListedMember, MemberTable
from ..widgets.readout import Readout
from .base import TillScreen

from ... import reports

TAB_KEYS = Binding.Group("Tabs")
"""F2–F6 switch tabs; the footer shows them as one group, the tabs' titles say which is which."""


class MembersPaged(Message):
    """A page of the member list, with the engine's tier for each row."""

    def __init__(self, page: MemberPage, members: list[ListedMember], cursor: str, elapsed_ms: float) -> None:
        super().__init__()
        self.page = page
        self.members = members
        self.cursor = cursor
        self.elapsed_ms = elapsed_ms


class ReportReady(Message):
    """A report tab's figures (``data`` is what the reports module returned)."""

    def __init__(self, tab: str, data: object) -> None:
        super().__init__()
        self.tab = tab
        self.data = data


def fetch_page(till, search: str, sort: str, descending: bool, offset: int, cursor: str = "first") -> MembersPaged:
    """A page of the member list and the engine's tier for each of its rows (run in a thread worker)."""
    started = time.perf_counter()
    program = till.program
    at = till.now()
    with till.ledger() as db:
        page = member_page(db, program, search=search, sort=sort, descending=descending, offset=offset, limit=PAGE_SIZE)
        members = []
        for row in page.rows:
            tier, active = "", False
            facts = load_member_facts(db, row.member_id)
            if facts is not None:
                status = member_status(program, facts, at)
                active = status.active
                tier = status.tier.name if status.tier else ("resigned" if facts.memberships else "")
            members.append(
                ListedMember(
                    row.member_id,
                    row.name if not row.erased else "",
                    tier,
                    active,
                    row.net_spend,
                    row.points_net,
                    row.visits,
                    row.last_visit.strftime("%Y-%m-%d") if row.last_visit else "",
                    row.erased,
                )
            )
    return MembersPaged(page, members, cursor, (time.perf_counter() - started) * 1000)


FIRST_SORT = ("tier", True)
"""The list opens sorted by tier, highest first."""


class BackOfficeScreen(TillScreen):
    """The manager's screens, one tab each; Escape goes back to the counter."""

    BINDINGS = [
        Binding("escape", "leave", "Counter", key_display="Esc"),
        Binding("f2", "tab('members')", "Members", group=TAB_KEYS),
        Binding("f3", "tab('segments')", "Segments", group=TAB_KEYS),
        Binding("f4", "tab('kpis')", "KPIs", group=TAB_KEYS),
        Binding("f5", "tab('codes')", "Codes", group=TAB_KEYS),
        Binding("f6", "tab('rules')", "Rules", group=TAB_KEYS),
        Binding("f7", "sort", "Sort"),
        Binding("f8", "order", "Order"),
        Binding("f9", "enrol", "Enrol"),
        Binding("ctrl+r", "reload", "Refresh", show=False),
    ]

    def __init__(self, first_page: MembersPaged | None = None) -> None:
        super().__init__()
        self.sort, self.descending = FIRST_SORT
        self.first_page = first_page
        """Fetched before the screen is built, so opening does not wait on SQL while it draws."""
        self.search = ""
        self.shown_search: str | None = None
        """The search the list on show answers (None before the first page)."""
        self._to_list_when_shown = False
        """Enter was pressed in the search before its answer came: move to the list once it shows."""
        self.loaded: set[str] = set()
        self.last_page_ms = 0.0

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static(f"{self.program.title} · back office", id="shop-title")
            yield Static("", id="clock")
        with TabbedContent(initial="members", id="office-tabs"):
            with TabPane("F2 Members", id="members"):
                with Horizontal(classes="entry-row"):
                    yield Input(placeholder="search id, name, e-mail or phone", id="member-search", compact=True)
                    yield Readout(id="list-info")
                yield MemberTable(self.program, id="member-table")
            with TabPane("F3 Segments", id="segments"):
                with VerticalScroll():
                    yield BarChart(id="segments-chart")
            with TabPane("F4 KPIs", id="kpis"):
                with VerticalScroll():
                    yield Static("", id="kpi-table")
            with TabPane("F5 Codes", id="codes"):
                yield Static("Discount codes: orders and averages per percentage", classes="caption")
                yield DataTable(id="code-table", cursor_type="row", zebra_stripes=True)
            with TabPane("F6 Rules", id="rules"):
                # Filled when first shown: parsing Markdown is the slowest part of opening the office.
                yield VerticalScroll(id="rules-scroll")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#clock", Static).update(self.till.now().strftime("%a %d %b %H:%M"))
        table = self.query_one("#code-table", DataTable)
        for label in ("Percent", "Orders", "Avg items", "Avg subtotal", "Avg total", "Avg discount"):
            table.add_column(label)
        self.loaded.add("members")
        if self.first_page is not None:
            self.post_message(self.first_page)
        else:
            self.load_page(0, "first")
        self.query_one("#member-search", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("sort", "order"):
            return self.active_tab == "members"
        return True

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    # -- tabs ---------------------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self._focus_tab(tab)

    def _focus_tab(self, tab: str) -> None:
        if tab == "members":
            self.query_one("#member-search", Input).focus()
        elif tab == "codes":
            self.query_one("#code-table", DataTable).focus()
        else:
            self.query_one(f"#{tab} VerticalScroll").focus()

    @on(TabbedContent.TabActivated)
    def tab_shown(self, event: TabbedContent.TabActivated) -> None:
        tab = event.pane.id or ""
        self.refresh_bindings()
        if tab not in self.loaded:
            self.loaded.add(tab)
            self.load_report(tab)

    def action_reload(self) -> None:
        tab = self.active_tab
        if tab == "members":
            self.load_page(self.query_one(MemberTable).first_row, "first")
        else:
            self.load_report(tab)

    def action_leave(self) -> None:
        self.app.pop_screen()

    # -- member list ---------------------------------------------------------------------------

    @on(Input.Changed, "#member-search")
    def search_changed(self, event: Input.Changed) -> None:
        self.search = event.value.strip()
        self.load_page(0, "first")

    @on(Input.Submitted, "#member-search")
    def search_submitted(self, event: Input.Submitted) -> None:
        # Into the list only once it answers what was typed: on a slow search, a second Enter would
        # otherwise open the first member of the list from before it.
        if self.shown_search == self.search:
            self._to_list()
        else:
            self._to_list_when_shown = True

    def _to_list(self) -> None:
        self._to_list_when_shown = False
        table = self.query_one(MemberTable)
        if table.row_count:
            table.focus()

    def action_sort(self) -> None:
        sorts = sorts_for(self.program)
        self.sort = sorts[(sorts.index(self.sort) + 1) % len(sorts)]
        self.descending = self.sort not in ("name", "member_id")
        self.load_page(0, "first")

    def action_order(self) -> None:
        self.descending = not self.descending
        self.load_page(0, "first")

    @on(MemberTable.PageWanted)
    def page_wanted(self, message: MemberTable.PageWanted) -> None:
        self.load_page(message.offset, message.cursor)

    @work(thread=True, exclusive=True, group="member-page")
    def load_page(self, offset: int, cursor: str = "first") -> None:
        """One page of members from SQL, and the engine's tier for just those rows."""
        self.post_message(fetch_page(self.till, self.search, self.sort, self.descending, offset, cursor))

    @on(MembersPaged)
    def members_paged(self, message: MembersPaged) -> None:
        page = message.page
        if page.search != self.search or page.sort != self.sort or page.descending != self.descending:
            return
        self.last_page_ms = message.elapsed_ms
        table = self.query_one(MemberTable)
        table.show_page(self.program, page.offset, page.total, message.members, message.cursor)
        self.shown_search = page.search
        if self._to_list_when_shown:
            self._to_list()
        arrow = "↓" if page.descending else "↑"
        sort = SORT_LABELS[page.sort]
        if page.sort == "tier":
            sort = f"tier (by {tier_basis_order(self.program)})"
        if page.total:
            shown = f"{page.offset + 1:,}–{page.offset + len(page.rows):,} of {page.total:,}"
        else:
            shown = "no member matches" if page.search else "no members yet"
        # At least as wide as its longest usual text (app.tcss), so a keystroke's new count
        # does not lay the whole screen out again (a third of a search keystroke's time).
        self.query_one("#list-info", Readout).show(f"{shown} · by {sort} {arrow}")

    @on(MemberTable.Opened)
    def open_member(self, message: MemberTable.Opened) -> None:
        self.show_member(message.member_id)

    def show_member(self, member_id: str) -> None:
        from .member import MemberScreen

        def back(_: object = None) -> None:
            self.load_page(self.query_one(MemberTable).first_row, member_id)

        self.app.push_screen(MemberScreen(member_id), back)

    def action_enrol(self) -> None:
        self.ask_to_enrol(self.search)

    @on(MemberEnrolled)
    def enrolled(self, message: MemberEnrolled) -> None:
        self.notify(f"{message.name or message.member_id} enrolled as {message.member_id}", title="Enrolled")
        self.show_member(message.member_id)

    # -- reports -------------------------------------------------------------------------------

    def show_rules(self) -> None:
        scroll = self.query_one("#rules-scroll", VerticalScroll)
        if not scroll.children:
            scroll.mount(Markdown(rules_markdown(self.program), id="rules-text"))

    @work(thread=True, exclusive=False, group="reports")
    def load_report(self, tab: str) -> None:
        if tab == "members":
            return
        if tab == "rules":
            self.app.call_from_thread(self.show_rules)
            return
        till = self.till
        at = till.now()
        try:
            with till.ledger() as db:
                if tab == "segments":
                    data: object = reports.tier_segments(db, till.program, at)
                elif tab == "kpis":
                    data = reports.kpis(db, till.program, at)
                else:
                    data = reports.discount_analysis(db, till.program)
        except Exception as exc:  # noqa: BLE001 - a report that fails must not take the till down with it
            data = f"{tab}: {exc}"
        self.post_message(ReportReady(tab, data))

    @on(ReportReady)
    def report_ready(self, message: ReportReady) -> None:
        program = self.program
        if isinstance(message.data, str):
            self.notify(message.data, title="Report unavailable", severity="warning")
            return
        if message.tab == "segments":
            chart = self.query_one("#segments-chart", BarChart)
            bars = [
                Bar(
                    segment.tier,
                    segment.members,
                    TIER_COLOURS[min(max(segment.rank, 1), len(TIER_COLOURS)) - 1],
                    _tier_note(program, segment.tier),
                )
                for segment in message.data  # type: ignore[attr-defined]
            ]
            chart.show(bars, f"Active members per tier, as of {self.till.now():%Y-%m-%d %H:%M}")
        elif message.tab == "kpis":
            self.query_one("#kpi-table", Static).update(kpi_table(program, message.data))
        elif message.tab == "codes":
            table = self.query_one("#code-table", DataTable)
            table.clear()
            for row in message.data:  # type: ignore[attr-defined]
                table.add_row(
                    f"{format_number(row.percent)} %",
                    Text(str(row.orders), justify="right"),
                    Text(str(row.avg_items), justify="right"),
                    Text(money(program, row.avg_subtotal), justify="right"),
                    Text(money(program, row.avg_total), justify="right"),
                    Text(money(program, row.avg_discount), justify="right"),
                )
            if not table.row_count:
                self.query_one("#codes .caption", Static).update("No discount code has been redeemed yet.")


def _tier_note(program, tier_name: str) -> str:
    tier = program.tier_named(tier_name)
    if tier is None or program.tiers is None:
        return ""
    if tier.threshold is None:
        return "entry tier"
    word = "over" if program.tiers.comparison == "above" else "from"
    if program.tiers.basis == "points":
        return f"{word} {tier.threshold} points"
    return f"{word} {money(program, tier.threshold)} {program.currency}"


def _ratio(value: Fraction | None, percent: bool = False) -> str:
    if value is None:
        return "–"
    if percent:
        return f"{format_number(Fraction(round(value * 1000), 10))} %"
    return format_number(Fraction(round(value * 100), 100))


def kpi_table(program, kpis) -> Table:
    """The KPIs as a two-column table (the points seed's list)."""
    table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("Period", f"{kpis.since:%Y-%m-%d} – {kpis.as_of:%Y-%m-%d}")
    table.add_row("Members", f"{kpis.members:,}")
    table.add_row("Active members (bought in 90 days)", f"{kpis.active_members:,}")
    table.add_row("Repeat rate (bought twice or more, ever)", _ratio(kpis.repeat_rate, percent=True))
    table.add_row("Tier upgrades in the period", str(kpis.upgrades))
    table.add_row("Tier downgrades in the period", str(kpis.downgrades))
    if program.points is not None:
        table.add_row("Points earned", f"{kpis.points_earned:,}")
        table.add_row("Points redeemed", f"{kpis.points_redeemed:,}")
        table.add_row("Points expired", f"{kpis.points_expired:,}")
        table.add_row("Earn-to-burn ratio", _ratio(kpis.earn_to_burn))
        table.add_row("Points outstanding", f"{kpis.outstanding_points:,}")
    if kpis.sign_ups_by_month:
        table.add_row("", "")
        table.add_row("Sign-ups by month", "")
        for month, count in kpis.sign_ups_by_month[-12:]:
            table.add_row(f"  {month}", f"{count:,}")
    return table
