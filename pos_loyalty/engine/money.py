"""Money as integer minor units: exact parsing, half-up rounding, formatting at the edge."""

from __future__ import annotations

import re
from fractions import Fraction

_AMOUNT = re.compile(r"^([+-]?)([0-9]+)(?:\.([0-9]*))?$")
_NUMBER = re.compile(r"^([+-]?)([0-9]+)(?:\.([0-9]+))?$")


class AmountError(ValueError):
    """Text that is not an exact amount of the currency."""


def parse_amount(text: str, decimals: int = 2) -> int:
    """Parse decimal text such as ``"324.27"`` into minor units, refusing extra decimals.

    No float ever touches the value: ``"0.1"`` is exactly 10 cents.
    """
    if not isinstance(text, str):
        raise AmountError(f"expected an amount as text, got {type(text).__name__}")
    whole, _, frac = text.strip().partition(".")
    if whole.isascii() and whole.isdigit() and len(frac) <= decimals and (not frac or (frac.isascii() and frac.isdigit())):
        # The common case (an import parses one per line), without the regex: same result.
        return int(whole) * 10**decimals + (int(frac) * 10 ** (decimals - len(frac)) if frac else 0)
    match = _AMOUNT.match(text.strip())
    if not match:
        raise AmountError(f"{text!r} is not an amount")
    sign, whole, frac = match.groups()
    frac = frac or ""
    if len(frac) > decimals:
        raise AmountError(f"{text!r} has more than {decimals} decimals")
    minor = int(whole) * 10**decimals + int((frac + "0" * decimals)[:decimals] or 0)
    return -minor if sign == "-" else minor


def parse_number(text: str) -> Fraction:
    """Parse a decimal such as ``"12.5"`` exactly (percentages, multipliers)."""
    return Fraction(*decimal_parts(text))


def decimal_parts(text: str) -> tuple[int, int]:
    """A decimal as (integer, power of ten): ``"0.001" -> (1, 1000)``; exact, and cheap."""
    text = str(text).strip()
    whole, dot, frac = text.partition(".")
    if whole.isascii() and whole.isdigit() and (not dot or (frac.isascii() and frac.isdigit())):
        return int(whole + frac), 10 ** len(frac)  # the common case, without the regex
    match = _NUMBER.match(text)
    if not match:
        raise AmountError(f"{text!r} is not a decimal number")
    sign, whole, frac = match.groups()
    value = int(whole + (frac or ""))
    return (-value if sign == "-" else value), 10 ** len(frac or "")


def round_half_up(value: Fraction | int) -> int:
    """Round to the nearest integer, halves away from zero (the shop's rounding)."""
    return divide_half_up(value.numerator, value.denominator)


def divide_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero, in integers only (it is on hot paths)."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def percent_of(amount: int, percent: Fraction) -> int:
    """``percent`` % of ``amount`` minor units, rounded half-up to the minor unit."""
    if not isinstance(percent, Fraction):  # programmes hold Fractions; Fraction(a Fraction) is a copy at Python speed
        percent = Fraction(percent)
    return divide_half_up(amount * percent.numerator, 100 * percent.denominator)


def share(total: int, part: int, whole: int) -> int:
    """The part/whole share of ``total``, rounded half-up; shares of all parts sum to total."""
    if whole <= 0:
        raise ValueError("whole must be positive")
    return divide_half_up(total * part, whole)


def format_amount(minor: int, decimals: int = 2) -> str:
    """Format minor units as decimal text: ``32427 -> "324.27"``."""
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    if decimals == 0:
        return f"{sign}{minor}"
    whole, frac = divmod(minor, 10**decimals)
    return f"{sign}{whole}.{frac:0{decimals}d}"


def format_number(value: Fraction) -> str:
    """Format an exact decimal fraction without trailing zeros: ``Fraction(25, 2) -> "12.5"``."""
    if value.denominator == 1:
        return str(value.numerator)
    for places in range(1, 7):
        scaled = value * 10**places
        if scaled.denominator == 1:
            text = format_amount(scaled.numerator, places)
            return text
    return format_amount(round_half_up(value * 10**6), 6).rstrip("0")
