"""Opening a ledger file: WAL, foreign keys, owner-only permissions, and write transactions that wait."""

from __future__ import annotations

import os
import random
import sqlite3
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from .schema import migrations

try:
    import fcntl
except ImportError:  # Windows: the SQLite lock and the retry loop are enough
    fcntl = None

READ_WAIT_S = 30.0
"""SQLite's own wait on a lock for reads and commits (in WAL mode they rarely wait at all)."""
LOCK_WAIT_MS = 2
"""SQLite's own wait for the write lock before handing back to our retry loop: its back-off sleeps
up to 100 ms at a time, which lets one till starve another; short waits and jittered retries are fairer."""
MMAP_BYTES = 1024 * 1024 * 1024
"""How much of the ledger file a one-off whole-file read (``verify``'s integrity check) maps into
memory. Tills and screens read through SQLite's page cache instead: see :func:`connect`."""
WRITE_DEADLINE_S = 60.0
"""How long a write keeps trying for the lock before the cashier is told the ledger is busy."""


# None is bound as NULL either way; the question is how. CPython's sqlite3 (3.11) sends every
# parameter that is not an exact int, float, str or bytearray through its adapter protocol, and
# for None that protocol fails two attribute lookups, one of which formats an AttributeError
# message that is thrown away: ~1,000 instructions per None, 6 % of all the instructions of a big
# sales import (callgrind: pysqlite_microprotocols_adapt). An adapter registered for None's type
# is found first and ends it. ``{}.get`` maps any value to None in C, without a Python frame.
sqlite3.register_adapter(type(None), {}.get)


class LedgerError(Exception):
    """A ledger operation refused for a reason the user can act on (one clear line)."""


class LedgerBusy(LedgerError):
    """Another process held the ledger for longer than we are willing to wait."""


def connect(path: str | Path, *, durable: bool = True) -> Database:
    """Open (creating if needed) a ledger and bring its schema up to date.

    The file is created readable by its owner only: it holds personal data.
    """
    path = Path(path)
    if path.is_dir():
        raise LedgerError(f"{path}: is a folder, not a ledger file")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    try:
        conn = sqlite3.connect(str(path), timeout=READ_WAIT_S, check_same_thread=False)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"{path}: cannot be opened as a ledger ({exc})") from None
    db = Database(conn)
    try:
        _refuse_other_databases(db, path)
    except LedgerError:
        conn.close()
        raise
    db.execute("PRAGMA foreign_keys = ON")
    # Erased personal data is overwritten in the file, not just unlinked from the b-tree.
    db.execute("PRAGMA secure_delete = ON")
    _switch_to_wal(db, path)
    # SQLite commits without waiting for the disk; a durable ledger's write() waits instead, after
    # it has let go of the write lock (see WalSync), so one till's wait overlaps the next's checkout.
    db.execute("PRAGMA synchronous = NORMAL")
    db.wal_sync = WalSync(path) if durable else None
    # Checkpoint every ~40 MB of WAL rather than SQLite's 4 MB: a checkpoint copies each changed
    # page once however often it changed, and checkouts rewrite the same index tails, so rarer
    # checkpoints do less work and stall fewer checkouts (checkout p99 9 ms -> 2.4 ms measured).
    db.execute("PRAGMA wal_autocheckpoint = 10000")
    # No memory-mapped reads. Whenever another till has committed, SQLite starts a connection's next
    # transaction with its cache emptied, and with a mapping it also unmaps the whole file then, so
    # every page touched again costs a page fault (64 per points checkout with two tills) on top
    # of the unmapping itself. Reading pages with pread costs less: with two tills, 1.46-1.60 ms of
    # CPU per points checkout against 1.54-1.91 ms mapped (alternating runs); one till alone is
    # the same either way (1.19-1.30 ms).
    db.execute("PRAGMA mmap_size = 0")
    db.execute(f"PRAGMA journal_size_limit = {64 * 1024 * 1024}")
    db.write_lock = WriteLock(path.with_name(path.name + "-lock"))
    weakref.finalize(db, db.write_lock.close)
    if db.wal_sync is not None:
        weakref.finalize(db, db.wal_sync.close)
    _migrate(db)
    return db


def _refuse_other_databases(db: Database, path: Path) -> None:
    """A file with tables but none of this ledger's migrations belongs to another program: refuse it
    before anything is written, rather than add a ledger's tables (and WAL mode) to its database."""
    tables = [
        name
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
    ]
    if tables and not migrations.applied(db):
        shown = ", ".join(tables[:3]) + (", ..." if len(tables) > 3 else "")
        raise LedgerError(f"{path}: is an SQLite database but not a pos-loyalty ledger (its tables: {shown}); nothing was changed")


def _switch_to_wal(db: Database, path: Path) -> None:
    """Put the file in WAL mode; on a brand-new file several tills may try at the same moment.

    While another connection holds the file, SQLite leaves the mode as it was (or reports busy)
    instead of waiting, so the switch is retried briefly before the till is told.
    """
    deadline = time.monotonic() + 10
    while True:
        try:
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            mode = "busy"
        if mode.lower() == "wal":
            return
        if time.monotonic() > deadline:
            raise LedgerError(f"{path}: could not switch the ledger to WAL mode (got {mode})")
        time.sleep(random.uniform(0.005, 0.03))


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

    Inside it, sqlite-utils' own ``atomic()`` blocks become savepoints. While another till
    holds the write lock we retry with short jittered sleeps; only past the write deadline
    does :class:`LedgerBusy` reach the caller, and then nothing was written.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    lock = getattr(db, "write_lock", None)
    if lock is not None and lock.available:
        # Cooperating tills queue on the lock file, so SQLite's lock is free when we get here.
        with lock:
            _retry_busy(lambda: db.conn.execute("BEGIN IMMEDIATE"), "nothing was written, please try again")
            yield from _transaction(db)
    else:
        db.conn.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
        try:
            _retry_busy(lambda: db.conn.execute("BEGIN IMMEDIATE"), "nothing was written, please try again")
        finally:
            db.conn.execute(f"PRAGMA busy_timeout = {int(READ_WAIT_S * 1000)}")
        yield from _transaction(db)
    # Committed: on a durable ledger, return only once the disk holds it.
    sync = getattr(db, "wal_sync", None)
    if sync is not None:
        sync()


def _transaction(db: Database) -> Iterator[Database]:
    """The body of a write transaction that has begun: commit, or roll back on any error."""
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    else:
        _commit(db)


class WriteLock:
    """An advisory lock file that queues this machine's tills in the kernel instead of polling.

    A till waiting for another's checkout sleeps in ``flock`` and wakes the moment the lock is
    released, so tills take turns promptly; SQLite's own lock still guards the file, and the
    retry loop still covers writers that do not take this lock. Where ``fcntl`` is missing
    (Windows) the lock is not available and the retry loop alone serialises the tills.
    """

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None
        self.available = fcntl is not None

    def __enter__(self) -> "WriteLock":
        if self._fd is None:
            self._fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class WalSync:
    """Group commit for SQLite's write-ahead log: a write is durable before ``write()`` returns.

    SQLite at ``synchronous = FULL`` syncs the log inside COMMIT, while it still holds the write
    lock, so every till's checkout queues behind the previous one's wait for the disk. Instead the
    ledger commits at ``synchronous = NORMAL`` (the frames reach the operating system, not yet the
    disk), lets go of the lock, and then ``fdatasync``s the log file itself before ``write()``
    returns. Another till is meanwhile writing its own checkout, and one sync covers the frames of
    every till that committed before it: the disk's wait is shared instead of queued.

    Why a write is durable when ``write()`` returns: its frames were written to the log before the
    lock was released, and the sync flushes every frame written to the file so far. If a checkpoint
    moved them into the database first, SQLite synced the log before copying and the database
    after, as it always does at ``NORMAL``. The log is never deleted while this connection is open.
    A power cut before the sync can lose only writes whose ``write()`` had not returned yet, and the
    file stays consistent (each frame's checksum chains to the one before), as SQLite promises at
    ``NORMAL``.
    """

    def __init__(self, db_path: Path):
        self.path = Path(str(db_path) + "-wal")
        self._fd: int | None = None

    def __call__(self) -> None:
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDONLY)
                # The log may be new: make its name durable too, once.
                _sync_folder(self.path.parent)
            os.fdatasync(self._fd) if hasattr(os, "fdatasync") else os.fsync(self._fd)
        except OSError as exc:
            raise LedgerError(
                f"the change was saved but the disk did not confirm it ({exc.strerror or exc}); check the disk"
            ) from None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _sync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(db: Database) -> None:
    try:
        _retry_busy(lambda: db.conn.execute("COMMIT"), "the sale was not saved, please try again")
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise


def _retry_busy(step, what: str) -> None:
    """Run ``step`` until it gets the lock: short jittered sleeps, up to the write deadline."""
    deadline = time.monotonic() + WRITE_DEADLINE_S
    pause = 0.0005
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            if time.monotonic() > deadline:
                raise LedgerBusy(f"the ledger stayed busy with another till for {WRITE_DEADLINE_S:.0f} s; {what}") from None
        time.sleep(random.uniform(0, pause))
        pause = min(pause * 2, 0.01)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


_INSERTS: dict[tuple[str, tuple[str, ...]], str] = {}


def insert(db: Database, table: str, rows: dict | Iterable[dict]) -> None:
    """Insert dict rows with one cached statement and ``executemany``.

    The checkout path writes a dozen small inserts per sale; sqlite-utils' ``insert`` re-reads the
    table's schema each time (several extra statements), which costs more than the inserts do.
    Tables are still created and migrated by sqlite-utils.
    """
    if isinstance(rows, dict):
        rows = [rows]
    elif not isinstance(rows, list):
        rows = list(rows)
    if not rows:
        return
    columns = tuple(rows[0])
    key = (table, columns)
    sql = _INSERTS.get(key)
    if sql is None:
        sql = _INSERTS[key] = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
        )
    db.conn.executemany(sql, rows)


def insert_into(db: Database, table: str):
    """``insert_into(db, "sales")(rows)``: :func:`insert`, shaped to take a bare generator."""
    return lambda rows: insert(db, table, rows)


def backup(db: Database, target: str | Path) -> Path:
    """A consistent copy of the ledger while tills keep selling (SQLite's online backup).

    The copy is taken in one step under a read transaction, so it is the ledger as of one
    commit; the target must not exist yet and is created readable by its owner only.
    """
    target = Path(target)
    if target.exists():
        raise LedgerError(f"{target} already exists; a backup never overwrites a file")
    if not target.parent.exists():
        raise LedgerError(f"{target.parent} does not exist")
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    copy = sqlite3.connect(str(target))
    try:
        db.conn.backup(copy)
        copy.execute("PRAGMA journal_mode = WAL")
    finally:
        copy.close()
    return target
