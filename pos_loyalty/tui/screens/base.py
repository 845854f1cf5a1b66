"""What every screen that talks to the ledger shares: the till (connection, programme, clock)."""

from __future__ import annotations

from textual.screen import Screen

from ...engine import Program
from ..till import Till


class TillMixin:
    """Screens reach the ledger only through ``self.till``, and only in thread workers."""

    @property
    def till(self) -> Till:
        return self.app.till  # type: ignore[attr-defined]

    @property
    def program(self) -> Program:
        return self.till.program


class TillScreen(TillMixin, Screen):
    """A full screen over the ledger."""
