"""The Textual app and its factory: ``make_app(db_path)`` for the CLI and the tests alike."""

from __future__ import annotations

import gc
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from ..ledger import LedgerError, connect, expire_all_lapsed
from ..ledger.access import pin_is_set
from .commands import LedgerCommands
from .screens.counter import CounterScreen
from .till import LEDGER_PROBLEMS, Till


class LoyaltyApp(App[None]):
    """The counter first; the back office behind F10 (and the manager PIN when one is set)."""

    CSS_PATH = "app.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-normal"), (130, "-wide")]
    TITLE = "pos-loyalty"
    COMMANDS = App.COMMANDS | {LedgerCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
        Binding(
            "ctrl+p", "command_palette", "Find", priority=True, tooltip="Find a member, a product or an action"
        ),
    ]
    HOUSEKEEPING_AFTER_S = 3.0
    """Seconds after launch before the points that lapsed are booked (the counter is up by then)."""

    def __init__(self, till: Till) -> None:
        super().__init__()
        self.till = till
        """The ledger, the programme and the clock every screen works through."""
        self.title = till.program.title
        self.sub_title = str(till.path)

    def get_key_display(self, binding: Binding) -> str:
        """Function keys as printed on the keyboard: F2, not f2."""
        display = super().get_key_display(binding)
        return display.upper() if re.fullmatch(r"f\d+", display) else display

    def get_default_screen(self) -> Screen:
        return CounterScreen()

    def on_mount(self) -> None:
        # Once the counter is up, load the back office's code in the background so F10 is quick
        # without the counter waiting for it at launch.
        self.set_timer(1.0, self._warm_up)
        if self.till.program.points is not None:
            self.set_timer(self.HOUSEKEEPING_AFTER_S, self._book_lapsed_points)

    @work(thread=True, group="warm-up")
    def _warm_up(self) -> None:
        from .screens import member, office, receipt, returns  # noqa: F401

        # What is alive now (Textual, Rich, our modules, the screens) lives as long as the app.
        # Frozen, the collector's full passes stop walking it: those passes were 50-90 ms stalls
        # in the middle of a keystroke's redraw (bench/tui.py's worst search keystroke).
        gc.freeze()

    @work(thread=True, group="housekeeping")
    def _book_lapsed_points(self) -> None:
        """What ``pos-loyalty points expire`` does nightly, once a launch: a shop that runs no
        nightly job still sees live points in the member list. On a connection of its own, a
        hundred members a transaction, so the counter waits for no more than one of them."""
        try:
            db = connect(self.till.path)
            try:
                expire_all_lapsed(db, self.till.program, self.till.now())
            finally:
                db.conn.close()
        except LEDGER_PROBLEMS as exc:
            self.call_from_thread(
                self.notify, f"Lapsed points were not booked ({exc}); they will be next time.", severity="warning"
            )

    def on_unmount(self) -> None:
        self.till.close()

    @property
    def counter(self) -> CounterScreen:
        """The counter screen (always at the bottom of the stack)."""
        screen = self.screen_stack[0]
        assert isinstance(screen, CounterScreen)
        return screen

    def _to_counter(self) -> CounterScreen:
        while len(self.screen_stack) > 1:
            self.pop_screen()
        return self.counter

    # -- actions the command palette and the counter share ----------------------------------

    def action_back_office(self) -> None:
        """Open the back office, asking for the manager PIN first when one is set."""
        # Imported here: the back office (Markdown, reports) is not needed to open the counter.
        from .screens.office import BackOfficeScreen

        if any(isinstance(screen, BackOfficeScreen) for screen in self.screen_stack):
            return
        self._open_back_office()

    @work(thread=True, exclusive=True, group="office")
    def _open_back_office(self) -> None:
        from .screens.office import FIRST_SORT, fetch_page

        with self.till.ledger() as db:
            needs_pin = pin_is_set(db)
        # The first page is read here, before the screen is built, rather than while it draws.
        first = None if needs_pin else fetch_page(self.till, "", *FIRST_SORT, 0)
        self.call_from_thread(self._back_office_gate, needs_pin, first)

    def _back_office_gate(self, needs_pin: bool, first_page=None) -> None:
        from .dialogs.pin import PinDialog
        from .screens.office import BackOfficeScreen

        def opened(ok: bool | None) -> None:
            if ok:
                self.push_screen(BackOfficeScreen(first_page))

        if needs_pin:
            self.push_screen(PinDialog(), opened)
        else:
            opened(True)

    def action_new_sale(self) -> None:
        self._to_counter().action_new_sale()

    def action_return_items(self) -> None:
        self._to_counter().action_return_items()

    def pick_member(self, member_id: str) -> None:
        """Put a member at the counter (from the command palette)."""
        self._to_counter().choose_member(member_id)

    def add_product(self, product_id: str) -> None:
        """Add one of a product to the basket (from the command palette)."""
        self._to_counter().add_product(product_id, 1)


def make_app(db_path: Path, *, clock: Callable[[], datetime] | None = None) -> LoyaltyApp:
    """The TUI over the ledger at ``db_path``; ``clock`` gives the time (tests pass a fixed one).

    Raises:
        LedgerError: there is no ledger at ``db_path``, or it has no programme yet.
    """
    path = Path(db_path)
    if not path.exists():
        raise LedgerError(f"no ledger at {path}: create one with `pos-loyalty init` (or try `pos-loyalty demo`)")
    return LoyaltyApp(Till(path, clock))


def run(db_path: Path) -> None:
    """Open the TUI on a ledger and run it until the cashier quits."""
    make_app(db_path).run()
