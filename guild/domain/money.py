"""Money: integer minor units of an ISO 4217 currency, converted and formatted in one place.

Exponents (how many minor units make a major one) come from babel's copy of the CLDR/ISO 4217 data,
so JPY has none, KWD three and CLF four; formatting is babel's, with the ISO code before the amount
(``EUR 600.00``) so a figure reads the same in a refusal, a finding, a clause and a PDF.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal

from babel.core import get_global
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


# --- currencies in use and amounts as people write them -----------------------------------------------


@functools.cache
def currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes that are legal tender in some territory today (CLDR's territory data, via babel):
    EUR, JPY, KWD ... but neither withdrawn ones (DEM, HRK) nor units of account, funds or metals (CLF, XAU)."""
    return frozenset(
        code
        for currencies in get_global("territory_currencies").values()
        for code, _start, end, tender in currencies
        if end is None and tender
    )


def is_currency_in_use(code: str) -> bool:
    """``is_currency_in_use("EUR")`` is true; ``"XYZ"``, ``"DEM"`` and lower-case ``"eur"`` are not."""
    return code in currencies_in_use()


MAX_MAJOR_TEXT = 40  # characters of a written amount: far above any real figure (and MAX_MINOR)
_MAJOR = re.compile(r"\d+(\.\d+)?")


def parse_major(value: str | int | float | Decimal) -> Decimal:
    """An amount in major units as a person or a JSON number writes it: ``"1800.00"``, ``"1800"``, ``1800``,
    ``1800.5``. Plain digits with an optional decimal point only: no sign, exponent, grouping, currency or
    NaN. Raises ``ValueError`` saying what is expected. (A float is read as its shortest decimal form:
    ``0.1`` is ``Decimal("0.1")``, not the binary fraction nearest to it.)"""
    if isinstance(value, bool):
        raise ValueError("an amount is a number, not true/false")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("an amount is a finite number")
        text = repr(value)
        if "e" in text or "E" in text:  # 1e+16 or 1e-05: written out without the exponent
            text = format(Decimal(text), "f")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("an amount is a finite number")
        text = format(value, "f")
    else:
        text = str(value).strip()
    if len(text) > MAX_MAJOR_TEXT or not _MAJOR.fullmatch(text):
        raise ValueError(
            f'an amount in major units is written like "1800.00": digits and a decimal point, got {text[:MAX_MAJOR_TEXT]!r}'
        )
    return Decimal(text)


def major_text(amount_minor: int, currency: str) -> str:
    """The amount in major units with the currency's own decimals, no grouping: ``major_text(180000, "EUR")
    == "1800.00"``, ``major_text(1500, "JPY") == "1500"``; it reads back through :func:`parse_major`."""
    return format(to_major(amount_minor, currency), "f")


def decimals_word(currency: str) -> str:
    """``"2 decimals"``, ``"no decimals"``: how finely amounts of the currency may be written."""
    digits = exponent(currency)
    return "no decimals" if digits == 0 else f"{digits} decimal{'s' if digits != 1 else ''}"
