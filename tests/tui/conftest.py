"""Fixtures for the TUI tests: a demo ledger in tmp_path, a fixed clock, and a Pilot helper that waits for messages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import Input

from pos_loyalty.demo import build_demo
from pos_loyalty.tui.app import LoyaltyApp, make_app

NOW = datetime(2026, 3, 3, 9, 0, 0)
"""The till's clock in every TUI test: just after the recipe's purchases."""


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture
def demo_path(tmp_path: Path) -> Path:
    """A fresh coffee-shop demo ledger (the recipe's members and purchases)."""
    path = tmp_path / "demo.db"
    db, _ = build_demo(path)
    db.conn.close()
    return path


@pytest.fixture
def points_path(tmp_path: Path) -> Path:
    """The demo's members and purchases under the points programme."""
    path = tmp_path / "points.db"
    db, _ = build_demo(path, program_name="points")
    db.conn.close()
    return path


@pytest.fixture
def app(demo_path: Path) -> LoyaltyApp:
    return make_app(demo_path, clock=fixed_clock)


class Recorder:
    """Every message the app's pumps receive (``run_test(message_hook=...)``), and ways to wait for them."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, message: Message) -> None:
        self.messages.append(message)

    def of(self, kind: type[Message]) -> list:
        seen: list = []
        for message in self.messages:
            if isinstance(message, kind) and not any(message is m for m in seen):
                seen.append(message)
        return seen

    async def wait_for(self, pilot, kind: type[Message], where: Callable[[Message], bool] = lambda m: True,
                       after: int = 0, timeout: float = 10.0):
        """The first message of ``kind`` (after the first ``after`` of them) that satisfies ``where``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            found = [m for m in self.of(kind)[after:] if where(m)]
            if found:
                await pilot.pause()
                return found[0]
            await pilot.pause(0.02)
        raise AssertionError(f"no {kind.__name__} within {timeout} s; saw {[type(m).__name__ for m in self.messages[-15:]]}")


async def until(pilot, condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Let the app run until ``condition()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{what} did not hold within {timeout} s")


def no_blink(app) -> None:
    """Cursor blink off on every input of every screen (snapshots must not depend on timing)."""
    for screen in app.screen_stack:
        for field in screen.query(Input):
            field.cursor_blink = False


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
