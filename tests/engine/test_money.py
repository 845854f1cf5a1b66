"""Money: exact parsing into minor units, refusal of extra decimals, half-up rounding."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_loyalty.engine.money import AmountError, format_amount, parse_amount, percent_of, round_half_up


class TestParseAmount:
    """Decimal text becomes an exact integer of minor units."""

    @pytest.mark.parametrize(
        ("text", "decimals", "minor"),
        [
            ("324.27", 2, 32427),
            ("0.1", 2, 10),
            ("0.10", 2, 10),
            ("1", 2, 100),
            ("-0.5", 2, -50),
            (" 2.50 ", 2, 250),
            ("500", 0, 500),
            ("1.234", 3, 1234),
            # 0.29 * 100 is 28.999999999999996 in floats: only an exact parser gets 29.
            ("0.29", 2, 29),
            ("1.13", 2, 113),
        ],
    )
    def test_exact(self, text, decimals, minor):
        assert parse_amount(text, decimals) == minor

    @pytest.mark.parametrize(
        ("text", "decimals"),
        [("1.005", 2), ("200.001", 2), ("1.5", 0), ("0.0001", 3), ("1.0000", 2)],
    )
    def test_rejects_more_decimals_than_the_currency_has(self, text, decimals):
        with pytest.raises(AmountError, match="decimals"):
            parse_amount(text, decimals)

    @pytest.mark.parametrize("text", ["", "abc", "1e3", ".5", "1,00", "12.3.4", "--1", "nan"])
    def test_rejects_what_is_not_an_amount(self, text):
        with pytest.raises(AmountError):
            parse_amount(text)

    decimal_texts = st.builds(
        lambda pad, sign, whole, dot, frac: f"{pad}{sign}{whole}{dot}{frac}{pad}",
        st.sampled_from(["", " "]),
        st.sampled_from(["", "+", "-"]),
        st.text(alphabet="0123456789", min_size=1, max_size=6),
        st.sampled_from(["", "."]),
        st.text(alphabet="0123456789", max_size=4),
    )

    @given(decimal_texts, st.integers(min_value=0, max_value=3))
    def test_decimal_text_is_read_as_decimal_reads_it(self, text: str, decimals: int):
        """The fast path for plain digits and the general one agree with an independent reading."""
        _, _, frac = text.strip().lstrip("+-").partition(".")
        if len(frac) > decimals:
            with pytest.raises(AmountError, match="decimals"):
                parse_amount(text, decimals)
        else:
            assert parse_amount(text, decimals) == int(Decimal(text.strip().rstrip(".") or "0") * 10**decimals)

    @given(st.text(alphabet="0123456789.+- \u00b2\u0663x", max_size=8), st.integers(min_value=0, max_value=3))
    def test_other_text_is_an_amount_or_refused(self, text: str, decimals: int):
        """Unicode digits, stray signs and dots: an exact amount or an AmountError, nothing else."""
        try:
            minor = parse_amount(text, decimals)
        except AmountError:
            return
        assert minor == int(Decimal(text.strip().rstrip(".")) * 10**decimals)

    def test_refuses_a_float(self):
        with pytest.raises(AmountError):
            parse_amount(20.0)  # type: ignore[arg-type]

    @given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
    def test_any_two_place_decimal_is_exact(self, value: Decimal):
        assert parse_amount(f"{value:.2f}") == int(value * 100)

    @given(st.integers(min_value=-10**12, max_value=10**12), st.integers(min_value=0, max_value=4))
    def test_format_then_parse_is_the_identity(self, minor: int, decimals: int):
        assert parse_amount(format_amount(minor, decimals), decimals) == minor


class TestRounding:
    """Half-up: halves go away from zero, everything else to the nearest."""

    @pytest.mark.parametrize(
        ("value", "rounded"),
        [
            (Fraction(5, 2), 3),
            (Fraction(3, 2), 2),
            (Fraction(-5, 2), -3),
            (Fraction(249, 100), 2),
            (Fraction(251, 100), 3),
            (Fraction(1, 3), 0),
            (Fraction(2, 3), 1),
        ],
    )
    def test_round_half_up(self, value, rounded):
        assert round_half_up(value) == rounded

    @pytest.mark.parametrize(
        ("amount", "percent", "cut"),
        [
            (1, Fraction(50), 1),  # half a cent rounds up
            (12182, Fraction(25), 3046),  # 30.455 -> 30.46
            (999, Fraction(10), 100),  # 0.999 -> 1.00
            (1371, Fraction(10), 137),  # 1.371 -> 1.37
            (1, Fraction(49), 0),
        ],
    )
    def test_percent_of_rounds_half_up_to_the_cent(self, amount, percent, cut):
        assert percent_of(amount, percent) == cut

    @given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=100))
    def test_percent_of_is_within_half_a_cent(self, amount: int, percent: int):
        exact = Fraction(amount * percent, 100)
        cut = percent_of(amount, Fraction(percent))
        assert -Fraction(1, 2) < cut - exact <= Fraction(1, 2)


@pytest.mark.parametrize(
    ("minor", "decimals", "text"),
    [(32427, 2, "324.27"), (-5, 2, "-0.05"), (5, 0, "5"), (7, 3, "0.007"), (100, 2, "1.00")],
)
def test_format_amount(minor, decimals, text):
    assert format_amount(minor, decimals) == text
