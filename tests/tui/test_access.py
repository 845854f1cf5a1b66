"""The manager PIN: a salted scrypt hash in settings, never the PIN; wrong tries counted and locked out."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pos_loyalty import ledger
from pos_loyalty.ledger import LedgerError
from pos_loyalty.ledger.access import (
    PIN_KEY,
    PinLocked,
    check_pin,
    clear_pin,
    failed_attempts,
    locked_until,
    pin_is_set,
    set_pin,
)

AT = datetime(2026, 3, 3, 9, 0)


@pytest.fixture
def db():
    return ledger.memory()


def test_no_pin_means_open(db):
    assert not pin_is_set(db)
    assert check_pin(db, "anything", AT)


def test_stored_as_a_salted_hash(db):
    set_pin(db, "4321")
    stored = db.execute("SELECT value FROM settings WHERE key = ?", [PIN_KEY]).fetchone()[0]
    assert "4321" not in stored
    scheme, n, r, p, salt, digest = stored.split("$")
    assert scheme == "scrypt" and int(n) >= 2**14 and len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(digest)) == 32
    set_pin(db, "4321")
    again = db.execute("SELECT value FROM settings WHERE key = ?", [PIN_KEY]).fetchone()[0]
    assert again != stored  # a fresh salt each time
    assert check_pin(db, "4321", AT) and not check_pin(db, "1234", AT)


@pytest.mark.parametrize("bad", ["12", "abcd", "12 34", "1234567890123", "١٢٣٤"])
def test_pin_must_be_4_to_12_digits(db, bad):
    with pytest.raises(LedgerError):
        set_pin(db, bad)
    assert not pin_is_set(db)


def test_wrong_tries_lock_out_and_double(db):
    set_pin(db, "4321")
    assert not check_pin(db, "0000", AT)
    assert not check_pin(db, "0000", AT)
    assert locked_until(db, AT) is None
    assert not check_pin(db, "0000", AT)  # the third wrong one locks for 30 s
    assert locked_until(db, AT) == AT + timedelta(seconds=30)
    with pytest.raises(PinLocked, match="try again in 29 s"):
        check_pin(db, "4321", AT + timedelta(seconds=1))  # even the right PIN waits
    assert failed_attempts(db) == 3
    assert not check_pin(db, "0000", AT + timedelta(seconds=30))
    assert locked_until(db, AT + timedelta(seconds=30)) == AT + timedelta(seconds=90)  # doubled
    assert check_pin(db, "4321", AT + timedelta(seconds=90))
    assert failed_attempts(db) == 0 and locked_until(db, AT + timedelta(seconds=90)) is None


def test_lock_is_capped(db):
    set_pin(db, "4321")
    moment = AT
    for _ in range(12):
        until = locked_until(db, moment)
        moment = until or moment
        check_pin(db, "0000", moment)
    assert locked_until(db, moment) - moment <= timedelta(minutes=15)


def test_clear_pin(db):
    set_pin(db, "4321")
    clear_pin(db)
    assert not pin_is_set(db) and check_pin(db, "", AT)
