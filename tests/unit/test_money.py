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


# --- currencies in use and amounts as people write them -----------------------------------------------


def test_only_currencies_in_use_are_known() -> None:
    from guild.domain.money import currencies_in_use, known_currency

    assert all(known_currency(c) for c in ("EUR", "USD", "GBP", "JPY", "KWD", "ISK", "CHF"))
    # made up, withdrawn (Deutsche Mark, Croatian kuna since 2023), a unit of account, gold, lower case
    assert not any(known_currency(c) for c in ("XYZ", "DEM", "HRK", "CLF", "XAU", "eur", ""))
    assert 140 < len(currencies_in_use()) < 200


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("1800.00", Decimal("1800.00")),
        ("1800", Decimal("1800")),
        (" 0.5 ", Decimal("0.5")),
        (1800, Decimal("1800")),
        (1800.5, Decimal("1800.5")),
        (0.1, Decimal("0.1")),  # the decimal a person wrote, not the binary fraction nearest to it
        (1e16, Decimal("10000000000000000")),
        (Decimal("12.30"), Decimal("12.30")),
    ],
)
def test_major_amounts_are_read_as_written(written: object, amount: Decimal) -> None:
    from guild.domain.money import parse_major

    parsed = parse_major(written)  # type: ignore[arg-type]
    assert parsed == amount and str(parsed) == str(amount)


@pytest.mark.parametrize(
    "written",
    ["1,800.00", "-1", "1e3", "NaN", "Infinity", ".5", "5.", "EUR 5", "", "1" * 41, True, -0.5, float("nan")],
)
def test_anything_but_plain_decimal_digits_is_refused(written: object) -> None:
    from guild.domain.money import parse_major

    with pytest.raises(ValueError, match="amount"):
        parse_major(written)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("written", "currency", "minor"),
    [
        ("1800.00", "EUR", 180_000),
        ("1800", "EUR", 180_000),
        ("1800.5", "EUR", 180_050),
        ("1500", "JPY", 1_500),
        ("1500.0", "JPY", 1_500),
    ]
    + [("1.234", "KWD", 1_234), ("0.001", "BHD", 1), ("1.50", "JPY", None), ("1.5", "JPY", None)]
    + [("0.005", "EUR", None), ("12.3456", "KWD", None)],
)
def test_major_to_minor_by_the_currency_exponent(written: str, currency: str, minor: int | None) -> None:
    """A zero after the currency's last decimal is harmless (JPY "1500.0" is 1500); anything finer is refused."""
    from guild.domain.money import parse_major

    if minor is None:
        with pytest.raises(ValueError, match="minor unit"):
            to_minor(parse_major(written), currency)
    else:
        assert to_minor(parse_major(written), currency) == minor


def test_major_text_has_the_currency_decimals_and_reads_back() -> None:
    from guild.domain.money import decimals_word, major_text, parse_major

    assert [major_text(180_000, "EUR"), major_text(1_500, "JPY"), major_text(5, "KWD")] == ["1800.00", "1500", "0.005"]
    assert major_text(10**15, "EUR") == "10000000000000.00"  # never an exponent
    assert to_minor(parse_major(major_text(123_456_789, "USD")), "USD") == 123_456_789
    assert [decimals_word(c) for c in ("EUR", "JPY", "KWD")] == ["2 decimals", "no decimals", "3 decimals"]
