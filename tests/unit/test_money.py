"""The one money module: ISO 4217 exponents, exact conversion, one format."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guild.domain.money import exponent, format_money, to_major, to_minor


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (60_000, "EUR", "EUR 600.00"),
        (123_456_705, "USD", "USD 1,234,567.05"),
        (1_500, "JPY", "JPY 1,500"),
        (1_234, "BHD", "BHD 1.234"),
        (1_234_567, "KWD", "KWD 1,234.567"),
        (5, "CLF", "CLF 0.0005"),
        (0, "EUR", "EUR 0.00"),
        (-60_000, "EUR", "EUR -600.00"),
        (250_00, "gbp", "GBP 250.00"),
    ],
)
def test_format_money(minor: int, currency: str, shown: str) -> None:
    assert format_money(minor, currency) == shown


def test_exponents_follow_iso_4217() -> None:
    assert [exponent(c) for c in ("EUR", "JPY", "KWD", "CLF", "ISK")] == [2, 0, 3, 4, 0]


def test_conversion_is_exact_and_refuses_sub_minor_amounts() -> None:
    assert to_major(60_050, "EUR") == Decimal("600.50")
    assert to_minor("600.5", "EUR") == 60_050
    assert to_minor(Decimal("1500"), "JPY") == 1_500
    with pytest.raises(ValueError, match="minor unit"):
        to_minor("0.001", "EUR")
    with pytest.raises(ValueError, match="minor unit"):
        to_minor("1.5", "JPY")


def test_amounts_are_integers() -> None:
    with pytest.raises(TypeError):
        format_money(2.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_money(True, "EUR")


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["EUR", "JPY", "KWD", "CLF", "USD"]))
def test_round_trip(minor: int, currency: str) -> None:
    assert to_minor(to_major(minor, currency), currency) == minor
