"""The member list as a window onto SQL: one page of rows at a time, paged by the screen.

A table of 100,000 rows takes seconds to build; this one never holds more than a page.
Moving past either end, PageUp/PageDown, Home and End post :class:`PageWanted`; the screen
answers with :meth:`MemberTable.show_page`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from ...engine import Program
from ...views import money
from .rows import Column, RowTable

PAGE_SIZE = 40


@dataclass(frozen=True, slots=True)
class ListedMember:
    """A row as shown: the cached totals and the engine's tier for it."""

    member_id: str
    name: str
    tier: str
    active: bool
    net_spend: int
    points: int
    visits: int
    last_visit: str
    erased: bool = False


COLUMNS = (
    Column("Member", "member_id"),
    Column("Name", "name"),
    Column("Tier", "tier"),
    Column("Net spend", "spend", justify="right"),
    Column("Points", "points", justify="right"),
    Column("Visits", "visits", justify="right"),
    Column("Last visit", "last"),
)


class MemberTable(RowTable, inherit_bindings=False):
    """One page of the member list; Enter opens the member."""

    BINDINGS = [
        Binding("enter", "open", "Open"),
        Binding("down", "down", "Down", show=False),
        Binding("up", "up", "Up", show=False),
        Binding("pagedown", "page(1)", "Page ↓", show=False),
        Binding("pageup", "page(-1)", "Page ↑", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    class PageWanted(Message):
        """The screen should fetch the page starting at ``offset`` and put the cursor on ``cursor``."""

        def __init__(self, offset: int, cursor: str) -> None:
            super().__init__()
            self.offset = offset
            self.cursor = cursor
            """first or last: where the cursor lands on the new page."""

    class Opened(Message):
        def __init__(self, member_id: str) -> None:
            super().__init__()
            self.member_id = member_id

    def __init__(self, program: Program, *, id: str | None = None) -> None:
        # Points only where the programme has them: a column of zeros says nothing.
        self.points_shown = program.points is not None
        super().__init__([c for c in COLUMNS if c.key != "points" or self.points_shown], id=id)
        self.first_row = 0
        self.total = 0
        self.members: list[ListedMember] = []

    def show_page(self, program: Program, offset: int, total: int, members: list[ListedMember], cursor: str = "first") -> None:
        """Show one page; ``cursor`` is first, last or a member id to keep it on.

        The same rows as shown already (the next letter of a surname often finds the same
        members) are left as drawn: redrawing a page is most of what a search keystroke costs.
        """
        same = offset == self.first_row and list(members) == self.members and self.row_count == len(members)
        self.first_row = offset
        self.total = total
        self.members = list(members)
        ids = [m.member_id for m in members]
        if cursor == "last":
            row = len(members) - 1
        elif cursor in ids:
            row = ids.index(cursor)
        else:
            row = 0
        if same:
            self.move_cursor(row)
        else:
            self.set_rows([_cells(program, member, self.points_shown) for member in members], cursor=row)

    @property
    def current(self) -> str | None:
        if not self.members or not 0 <= self.cursor_row < len(self.members):
            return None
        return self.members[self.cursor_row].member_id

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Opened(self.current))

    def action_down(self) -> None:
        if self.cursor_row >= len(self.members) - 1:
            if self.first_row + len(self.members) < self.total:
                self.post_message(self.PageWanted(self.first_row + len(self.members), "first"))
            return
        self.action_cursor_down()

    def action_up(self) -> None:
        if self.cursor_row <= 0:
            if self.first_row > 0:
                self.post_message(self.PageWanted(max(0, self.first_row - PAGE_SIZE), "last"))
            return
        self.action_cursor_up()

    def action_page(self, step: int) -> None:
        if step > 0 and self.first_row + len(self.members) < self.total:
            self.post_message(self.PageWanted(self.first_row + PAGE_SIZE, "first"))
        elif step < 0 and self.first_row > 0:
            self.post_message(self.PageWanted(max(0, self.first_row - PAGE_SIZE), "first"))
        elif self.members:
            self.move_cursor(row=len(self.members) - 1 if step > 0 else 0)

    def action_first(self) -> None:
        self.post_message(self.PageWanted(0, "first"))

    def action_last(self) -> None:
        last = max(0, self.total - PAGE_SIZE)
        self.post_message(self.PageWanted(last, "last"))


def _cells(program: Program, member: ListedMember, points: bool) -> tuple[Text | str, ...]:
    return (
        member.member_id,
        Text("(erased)" if member.erased else member.name or "(no name)", style="" if member.name else "dim italic"),
        Text(member.tier or "-", style="bold" if member.active else "dim"),
        money(program, member.net_spend),
        *((str(member.points),) if points else ()),
        str(member.visits),
        member.last_visit or "never",
    )
