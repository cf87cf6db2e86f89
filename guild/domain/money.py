"""Money: integer minor units of an ISO 4217 currency, converted and formatted in one place.

Exponents (how many minor units make a major one) come from babel's copy of the CLDR/ISO 4217 data,
so JPY has none, KWD three and CLF four; formatting is babel's, with the ISO code before the amount
(``EUR 600.00``) so a figure reads the same in a refusal, a finding, a clause and a PDF.
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, ClassVar

from babel.core import get_global
from babel.numbers import format_currency, get_currency_precision, get_territory_currencies
from pydantic import BaseModel, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from guild.domain.values import fail_at

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


@cache
def currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today (CLDR's territory data, via babel): ``EUR``,
    ``JPY``, ``KWD``...; not withdrawn ones (``DEM``) nor codes that were never assigned (``XYZ``)."""
    today = date.today()
    territories = get_global("territory_currencies")
    return frozenset(c for t in territories for c in get_territory_currencies(t, today, tender=True))


def known_currency(code: str) -> bool:
    return code in currencies_in_use()


MajorPairs = dict[str, tuple[str, str]]  # major-unit field -> (minor-unit field, currency field)


class MajorUnits(BaseModel):
    """A model whose amounts may also be given in major units, in the fields its ``major_units`` names.

    ``major_units = {"rate_per_week": ("rate_minor_per_week", "currency")}``: a body may give
    ``"rate_per_week": "1800.00"`` (a decimal string or a JSON number) instead of
    ``"rate_minor_per_week": 180000``; it is converted by the currency's ISO 4217 exponent. Giving both,
    a value finer than the currency's minor unit, or no usable currency is refused at the major field.
    The JSON schema lists the major-unit fields beside the minor ones.
    """

    major_units: ClassVar[MajorPairs] = {}

    @model_validator(mode="before")
    @classmethod
    def _from_major_units(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not any(major in data for major in cls.major_units):
            return data
        out = dict(data)
        problems: list[tuple[tuple[str | int, ...], str, str, Any]] = []
        for major, (minor, currency_field) in cls.major_units.items():
            if major not in out:
                continue
            value = out.pop(major)
            currency = out.get(currency_field)
            if isinstance(currency, str) and not known_currency(currency):
                message = f"{currency} is not an ISO 4217 currency in use (e.g. EUR, GBP, USD)"
                problems.append(((currency_field,), "currency_unknown", message, currency))
                continue
            problem = _major_problem(major, minor, currency_field, value, out)
            if problem is not None:
                problems.append(((major,), *problem, value))
                continue
            out[minor] = to_minor(parse_major(value), out[currency_field])
        fail_at(cls, problems)
        return out

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core))
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        for major, (minor, currency_field) in cls.major_units.items():
            if minor in required:  # one of the two is required
                required.remove(minor)
            properties[major] = {
                "type": ["string", "number"],
                "description": f"the same amount as {minor}, in major units of {currency_field} "
                "(e.g. euros, not cents); give one of the two",
                "examples": ["1800.00"],
            }
        return schema


def _major_problem(
    major: str, minor: str, currency_field: str, value: Any, data: dict[str, Any]
) -> tuple[str, str] | None:
    if minor in data:
        return "one_amount", f"give {major} (major units) or {minor} (minor units), not both"
    currency = data.get(currency_field)
    if not isinstance(currency, str) or not known_currency(currency):
        return "amount_currency", f"{major} needs an ISO 4217 currency in use in {currency_field}"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return "decimal_type", f'{major} must be a decimal string or a number, e.g. "1800.00"'
    try:
        amount = parse_major(value)  # the one reading of an amount a person writes
    except ValueError as exc:
        return "decimal_amount", str(exc)
    if amount >= 10**15:
        return "less_than_equal", f"{major} must be below 10^15"
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        return "money_precision", f"{currency} amounts have {decimals_word(currency)}; {value} has more"
    return None


# --- amounts as people write them ----------------------------------------------------------------------

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
            'an amount in major units is written like "1800.00": digits and a decimal point, '
            f"got {text[:MAX_MAJOR_TEXT]!r}"
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
