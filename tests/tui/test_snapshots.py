"""Snapshots of the screen states that matter, at 100×30, with a fixed clock, fixed sale ids and no cursor blink.

Review ``snapshot_report.html`` before accepting a change (``pytest --snapshot-update``).
"""

from __future__ import annotations

import itertools

import pytest

from pos_loyalty.tui.app import make_app
from pos_loyalty.tui.screens import counter as counter_module
from pos_loyalty.tui.screens.counter import CounterScreen
from pos_loyalty.tui.screens.office import BackOfficeScreen
from pos_loyalty.tui.screens.receipt import ReceiptScreen
from pos_loyalty.tui.widgets.bar_chart import BarChart

from .conftest import fixed_clock, no_blink, until

SIZE = (100, 30)


@pytest.fixture
def fixed_sale_ids(monkeypatch):
    """Sale ids are random at the till; here they count up so the pictures do not change."""
    numbers = itertools.count(1)
    monkeypatch.setattr(counter_module, "new_sale_id", lambda opened_at=None: f"S{next(numbers):016d}")


async def counter_ready(pilot) -> None:
    """``run_before`` runs as soon as the app starts: wait for the counter to be mounted and drawn."""
    await until(
        pilot,
        lambda: isinstance(pilot.app.screen, CounterScreen)
        and pilot.app.screen.is_mounted
        and bool(pilot.app.screen.query("#member-lookup")),
        what="counter mounted",
    )
    await pilot.pause()


async def ring_up_yeva(pilot) -> CounterScreen:
    """yeva at the counter with two coffees (one free) and a tea."""
    await counter_ready(pilot)
    counter = pilot.app.screen
    counter.choose_member("yeva")
    counter.add_product("coffee", 2)
    counter.add_product("tea", 1)
    await until(pilot, lambda: counter.quote is not None and len(counter.quote.lines) == 3, what="basket priced")
    return counter


class TestCounter:
    """The cashier's screens."""

    def test_counter_with_member_and_basket(self, demo_path, fixed_sale_ids, snap_compare):
        """A SILVER member, the stamp card full, the free coffee on its own line, the totals."""
        app = make_app(demo_path, clock=fixed_clock)

        async def run_before(pilot) -> None:
            await ring_up_yeva(pilot)
            no_blink(pilot.app)

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)

    def test_receipt(self, demo_path, fixed_sale_ids, snap_compare):
        """The receipt after checkout: lines, discounts, total, tier and stamps."""
        app = make_app(demo_path, clock=fixed_clock)

        async def run_before(pilot) -> None:
            await ring_up_yeva(pilot)
            await pilot.press("f9")
            await until(pilot, lambda: isinstance(pilot.app.screen, ReceiptScreen), what="receipt")
            no_blink(pilot.app)

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


class TestBackOffice:
    """The manager's screens."""

    def test_member_list(self, demo_path, snap_compare):
        """The member list sorted by tier, with the engine's tier per row."""
        app = make_app(demo_path, clock=fixed_clock)

        async def run_before(pilot) -> None:
            await counter_ready(pilot)
            await pilot.press("f10")
            await until(pilot, lambda: isinstance(pilot.app.screen, BackOfficeScreen), what="back office")
            await until(pilot, lambda: pilot.app.screen.query_one("MemberTable").row_count == 4, what="rows")
            no_blink(pilot.app)

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)

    def test_segments_chart(self, demo_path, snap_compare):
        """Active members per tier as a bar chart."""
        app = make_app(demo_path, clock=fixed_clock)

        async def run_before(pilot) -> None:
            await counter_ready(pilot)
            await pilot.press("f10")
            await until(pilot, lambda: isinstance(pilot.app.screen, BackOfficeScreen), what="back office")
            await pilot.press("f3")
            await until(pilot, lambda: bool(pilot.app.screen.query_one(BarChart).bars), what="segments")
            no_blink(pilot.app)

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
