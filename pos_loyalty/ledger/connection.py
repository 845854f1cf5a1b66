"""Opening a ledger file: WAL, foreign keys, owner-only permissions, and write transactions that wait."""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from .schema import migrations

BUSY_TIMEOUT_S = 30.0
"""How long one attempt waits on another till's write before retrying."""
BUSY_ATTEMPTS = 20


class LedgerError(Exception):
    """A ledger operation refused for a reason the user can act on (one clear line)."""


class LedgerBusy(LedgerError):
    """Another process held the ledger for longer than we are willing to wait."""


def connect(path: str | Path, *, durable: bool = True) -> Database:
    """Open (creating if needed) a ledger and bring its schema up to date.

    The file is created readable by its owner only: it holds personal data.
    """
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    db = Database(conn)
    db.execute("PRAGMA foreign_keys = ON")
    # Erased personal data is overwritten in the file, not just unlinked from the b-tree.
    db.execute("PRAGMA secure_delete = ON")
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise LedgerError(f"{path}: could not switch the ledger to WAL mode (got {mode})")
    db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
    _migrate(db)
    return db


def memory() -> Database:
    """An in-memory ledger with the full schema, for tests and scratch work."""
    db = Database(memory=True)
    db.execute("PRAGMA foreign_keys = ON")
    _migrate(db)
    return db


def _migrate(db: Database) -> None:
    if not migrations.pending(db):
        return
    with write(db):
        # apply() re-checks what is pending under the write lock, so two processes opening
        # a new file at once migrate it once; its per-migration atomic() nests as savepoints.
        migrations.apply(db)


@contextmanager
def write(db: Database) -> Iterator[Database]:
    """One write transaction, taken with BEGIN IMMEDIATE so tills queue instead of failing.

    Inside it, sqlite-utils' own ``atomic()`` blocks become savepoints. If another process
    holds the write lock past the busy timeout, the attempt is retried with jitter; only
    after every attempt fails does :class:`LedgerBusy` reach the caller.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    for attempt in range(BUSY_ATTEMPTS):
        try:
            db.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    else:
        raise LedgerBusy("the ledger is busy with another till; nothing was written, please try again")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    else:
        _commit(db)


def _commit(db: Database) -> None:
    for attempt in range(BUSY_ATTEMPTS):
        try:
            db.execute("COMMIT")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                db.execute("ROLLBACK")
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    db.execute("ROLLBACK")
    raise LedgerBusy("the ledger stayed busy while saving; nothing was written, please try again")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text
