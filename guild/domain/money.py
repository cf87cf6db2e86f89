"""Money: integer minor units of an ISO 4217 currency, converted and formatted in one place.

Exponents (how many minor units make a major one) come from babel's copy of the CLDR/ISO 4217 data,
so JPY has none, KWD three and CLF four; formatting is babel's, with the ISO code before the amount
(``EUR 600.00``) so a figure reads the same in a refusal, a finding, a clause and a PDF.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

# Code, space, grouped amount; negatives keep the code first (``EUR -600.00``).
_PATTERN = "¤¤ #,##0.00;¤¤ -#,##0.00"


def exponent(currency: str) -> int:
    """Digits after the decimal point in the currency's major unit (ISO 4217 minor unit)."""
    return int(get_currency_precision(currency.upper()))


def to_major(amount_minor: int, currency: str) -> Decimal:
    """``to_major(60000, "EUR") == Decimal("600.00")``: exact, never a float."""
    _check_minor(amount_minor)
    return Decimal(amount_minor).scaleb(-exponent(currency))


def to_minor(amount_major: Decimal | int | str, currency: str) -> int:
    """``to_minor("600.5", "EUR") == 60050``; a value finer than the currency's minor unit is refused."""
    value = Decimal(amount_major)
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount_major} {currency} is finer than the currency's minor unit")
    return int(scaled)


def format_money(amount_minor: int, currency: str) -> str:
    """``format_money(60000, "EUR") == "EUR 600.00"``, ``format_money(1500, "JPY") == "JPY 1,500"``."""
    code = currency.upper()
    return str(format_currency(to_major(amount_minor, code), code, format=_PATTERN, locale="en", currency_digits=True))


def _check_minor(amount_minor: int) -> None:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"an amount is an integer number of minor units, got {amount_minor!r}")
