"""The manager PIN: a salted scrypt hash in ``settings``, and a lock-out after repeated wrong tries.

The PIN itself is never stored. Wrong attempts are counted in ``settings`` too, so the lock-out
holds across restarts of the till and across tills sharing one ledger. Time is passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlite_utils import Database

from .connection import LedgerError, write
from .timestamps import parse_ts, ts_text

PIN_KEY = "manager_pin"
FAILURES_KEY = "manager_pin_failures"
LOCKED_UNTIL_KEY = "manager_pin_locked_until"

FREE_ATTEMPTS = 3
"""Wrong PINs allowed before the lock-out starts."""
FIRST_LOCK = timedelta(seconds=30)
"""The first lock-out; each further wrong PIN doubles it, up to ``MAX_LOCK``."""
MAX_LOCK = timedelta(minutes=15)

MIN_LENGTH = 4
MAX_LENGTH = 12

# scrypt cost: ~16 MiB and a few tens of milliseconds per check on a till, which is what makes a
# stolen ledger file's hash expensive to brute-force even for a short numeric PIN.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_LEN = 32


class PinLocked(LedgerError):
    """Too many wrong PINs: no check is made until ``until``."""

    def __init__(self, until: datetime, at: datetime):
        self.until = until
        wait = max(1, int((until - at).total_seconds() + 0.999))
        super().__init__(f"too many wrong PINs: try again in {wait} s")


def _setting(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def _put(db: Database, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def _hash(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=64 * 1024 * 1024)


def validate_pin(pin: str) -> str:
    """A PIN is 4 to 12 digits; returns it stripped, or raises LedgerError saying what is wrong."""
    pin = pin.strip()
    if not pin.isdigit() or not pin.isascii():
        raise LedgerError("a manager PIN is digits only")
    if not MIN_LENGTH <= len(pin) <= MAX_LENGTH:
        raise LedgerError(f"a manager PIN has {MIN_LENGTH} to {MAX_LENGTH} digits")
    return pin


def pin_is_set(db: Database) -> bool:
    """Whether the back office asks for a PIN."""
    return _setting(db, PIN_KEY) is not None


def set_pin(db: Database, pin: str) -> None:
    """Set (or replace) the manager PIN: stored as ``scrypt$n$r$p$salt$hash``, never as text."""
    pin = validate_pin(pin)
    salt = secrets.token_bytes(16)
    digest = _hash(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN)
    stored = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"
    with write(db):
        _put(db, PIN_KEY, stored)
        _put(db, FAILURES_KEY, "0")
        db.execute("DELETE FROM settings WHERE key = ?", [LOCKED_UNTIL_KEY])


def clear_pin(db: Database) -> None:
    """Remove the PIN: the back office opens without one."""
    with write(db):
        db.execute("DELETE FROM settings WHERE key IN (?, ?, ?)", [PIN_KEY, FAILURES_KEY, LOCKED_UNTIL_KEY])


def locked_until(db: Database, at: datetime) -> datetime | None:
    """When the current lock-out ends, or None when a PIN may be tried now."""
    text = _setting(db, LOCKED_UNTIL_KEY)
    if text is None:
        return None
    until = parse_ts(text)
    return until if until > at else None


def check_pin(db: Database, pin: str, at: datetime) -> bool:
    """Whether ``pin`` is the manager PIN (True when none is set).

    A wrong PIN is counted; after ``FREE_ATTEMPTS`` of them each further one locks checking for
    30 s, doubling up to 15 min, and a locked check raises :class:`PinLocked` without looking
    at the PIN. The right PIN resets the count.
    """
    with write(db):
        stored = _setting(db, PIN_KEY)
        if stored is None:
            return True
        until = locked_until(db, at)
        if until is not None:
            raise PinLocked(until, at)
        try:
            scheme, n, r, p, salt, digest = stored.split("$")
            expected = bytes.fromhex(digest)
            if scheme != "scrypt":
                raise ValueError(scheme)
            actual = _hash(pin.strip(), bytes.fromhex(salt), int(n), int(r), int(p), len(expected))
        except ValueError:
            raise LedgerError("the stored manager PIN is unreadable: set it again") from None
        if hmac.compare_digest(actual, expected):
            _put(db, FAILURES_KEY, "0")
            db.execute("DELETE FROM settings WHERE key = ?", [LOCKED_UNTIL_KEY])
            return True
        failures = int(_setting(db, FAILURES_KEY) or 0) + 1
        _put(db, FAILURES_KEY, str(failures))
        if failures >= FREE_ATTEMPTS:
            lock = min(MAX_LOCK, FIRST_LOCK * 2 ** (failures - FREE_ATTEMPTS))
            _put(db, LOCKED_UNTIL_KEY, ts_text(at + lock))
        return False


def failed_attempts(db: Database) -> int:
    """Wrong PINs since the last right one."""
    return int(_setting(db, FAILURES_KEY) or 0)
