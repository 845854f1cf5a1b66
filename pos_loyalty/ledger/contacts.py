"""A member's e-mail and phone as the ledger accepts them: checked where they come in, kept as given.

The checks are for typing mistakes at the counter or in a file (a name in the e-mail box, a
phone number with no digits), not a verification: the shop still never writes to anyone
without the member's say-so.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_PHONE = re.compile(r"\+?[0-9(][0-9 ()./-]*")
PHONE_DIGITS = (5, 15)
"""A phone number has between these many digits (ITU E.164 allows at most 15)."""


class ContactError(ValueError):
    """Text that is not an e-mail address or a phone number."""


def email_address(text: str | None) -> str | None:
    """``text`` stripped, None when blank; refused unless it looks like name@example.com."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if not _EMAIL.fullmatch(text):
        raise ContactError(f"{text!r} is not an e-mail address (expected e.g. name@example.com)")
    return text


def phone_number(text: str | None) -> str | None:
    """``text`` stripped, None when blank; refused unless it is digits with the usual separators."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    digits = sum(ch.isdigit() for ch in text)
    if not _PHONE.fullmatch(text) or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        raise ContactError(f"{text!r} is not a phone number (expected e.g. +44 20 7946 0000)")
    return text
