"""The TUI's handle on one ledger: the connection, the programme, the clock, one worker at a time."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from ..engine import Program
from ..ledger import LedgerError, add_member, connect, load_program
from ..ledger import browse


LEDGER_PROBLEMS = (LedgerError, sqlite3.Error)
"""What a ledger call can fail with that the cashier is told about (the screen stays up, nothing half-written)."""


def system_clock() -> datetime:
    """The wall clock: the TUI is the edge where time is read."""
    return datetime.now()


class Till:
    """One ledger connection shared by the screens' thread workers.

    SQLite connections must not be used by two threads at once, and a write transaction
    must not interleave with another worker's statements, so every use goes through
    :meth:`ledger`, which holds a lock. Each use is a few milliseconds.
    """

    def __init__(self, db_path: Path, clock: Callable[[], datetime] | None = None):
        self.path = Path(db_path)
        self.clock = clock or system_clock
        self.db: Database = connect(self.path)
        self.program: Program = load_program(self.db)
        self._lock = threading.Lock()

    @contextmanager
    def ledger(self) -> Iterator[Database]:
        """The ledger, for one worker's reads or one write."""
        with self._lock:
            yield self.db

    def now(self) -> datetime:
        """The current instant, to the second (what the ledger stores)."""
        return self.clock().replace(microsecond=0)

    def enrol(self, member_id: str | None, name: str, email: str | None, phone: str | None) -> str:
        """Enrol a member now; with no id given, one is made from the name, e-mail or phone."""
        with self.ledger() as db:
            member_id = member_id or browse.free_member_id(db, name or (email or "").split("@")[0] or phone or "")
            add_member(db, self.program, member_id, self.now(), name=name, email=email or None, phone=phone or None)
        return member_id

    def reload_program(self) -> Program:
        with self.ledger() as db:
            self.program = load_program(db)
        return self.program

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()
