"""Shared bases and value types for API models: inputs forbid unknown fields; outputs are plain models.

The value types decide hostile input once, at the edge, for every request model, CSV/JSON import row
and terms document (pure: pydantic and stdlib only):

- :data:`Text` — text without NUL (U+0000): PostgreSQL cannot store it. Every ``str`` field of an input
  model is a ``Text`` (or a type built on it: :data:`Name`, :data:`Password`; a ``pattern`` such as
  :data:`Slug`'s excludes NUL itself). Lone surrogates (not UTF-8) are refused by pydantic itself.
- :data:`Int4` / :data:`Int8` — integers that fit an ``INTEGER`` / ``BIGINT`` column, strict: ``true``,
  ``1.0`` and ``"1"`` are not integers. A field's own ``Field(ge=, le=)`` bounds narrow the range.
- :data:`Real` — a strict float: a number, never ``true`` or ``"1.5"``.
- :data:`Day` — a calendar date from :data:`MIN_DATE` to :data:`MAX_DATE` (years 1900 to 2200) written
  ``YYYY-MM-DD``: due dates are computed from dates, and years far outside leave the calendar.

Constraints of a ``Text`` field go in its ``Field(...)`` (``x: Text = Field(max_length=...)``) or BEFORE
``NoNul`` in an ``Annotated`` (``Annotated[str, Field(max_length=...), NoNul]``); placed after it (in an
outer ``Annotated`` or on ``Text | None``) pydantic checks them with generic rules (``too_long``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    Strict,
    StringConstraints,
    ValidationError,
)
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- text ------------------------------------------------------------------------------------------


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("text_nul", "text must not contain NUL (U+0000) characters")
    return value


NoNul = AfterValidator(_no_nul)
Text = Annotated[str, NoNul]

Name = Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=64)]
Password = Annotated[str, StringConstraints(min_length=12, max_length=256, strip_whitespace=False), NoNul]


# --- numbers ---------------------------------------------------------------------------------------


class Bounds:
    """Bounds an int (or date) field: set on the value's own schema, so a field's ``Field(ge=, le=)`` narrows
    them and keeps pydantic's usual rules. (Annotated ``Field``/``Interval`` bounds in a type would instead
    override the field's own, and Litestar would print date bounds as timestamps.)"""

    def __init__(self, low: Any, high: Any) -> None:
        self.low, self.high = low, high

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = dict(handler(source))
        if schema.get("type") not in ("int", "date"):
            raise TypeError(f"Bounds applies to int and date fields, not {schema.get('type')}")
        schema.setdefault("ge", self.low)
        schema.setdefault("le", self.high)
        return schema


def column_range(bits: int) -> Bounds:
    """The range of a signed database integer column of ``bits`` bits."""
    return Bounds(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


INT4_MAX = 2**31 - 1
MAX_VERSION_NUMBER = 100_000  # compact version numbers; far above any real count
INT8_MAX = 2**63 - 1
Int4 = Annotated[int, Strict(), column_range(32)]
Int8 = Annotated[int, Strict(), column_range(64)]
Real = Annotated[float, Strict()]


# --- dates -----------------------------------------------------------------------------------------

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2200, 12, 31)


def _date_not_number(value: Any) -> Any:
    if isinstance(value, (int, float)):  # pydantic would read a number as seconds since 1970
        raise PydanticCustomError("date_type", "a date is written YYYY-MM-DD")
    return value


Day = Annotated[date, Bounds(MIN_DATE, MAX_DATE), BeforeValidator(_date_not_number)]


# --- errors located at a field ---------------------------------------------------------------------


def fail_at(model: type[BaseModel], problems: list[tuple[tuple[str | int, ...], str, str, Any]]) -> None:
    """Raise one ValidationError with each problem ``(loc, rule, message, input)`` at its field.

    For cross-field rules in model validators: the refusal names the offending field, not the body.
    """
    if problems:
        raise ValidationError.from_exception_data(
            model.__name__,
            [
                InitErrorDetails(type=PydanticCustomError(rule, "{message}", {"message": msg}), loc=loc, input=value)
                for loc, rule, msg, value in problems
            ],
        )
