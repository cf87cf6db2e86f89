"""Jinja filters: dates, instants and money as people read them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.dates import format_date
from jinja2 import Environment

from guild.domain.money import format_money


def day(value: date | datetime | None) -> str:
    """``1 Mar 2027``; an empty string for no date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return str(format_date(value, format="d MMM y", locale="en"))


def instant(value: datetime | None) -> str:
    """``1 Mar 2027, 14:05 UTC``."""
    if value is None:
        return ""
    at = value.astimezone(UTC)
    return f"{day(at)}, {at:%H:%M} UTC"


def money(amount_minor: int | None, currency: str) -> str:
    return "" if amount_minor is None else format_money(amount_minor, currency)


def words(value: object) -> str:
    """A machine word (``pre_production``, ``ai-disclosure``) for people: ``pre production``."""
    return str(value).replace("_", " ").replace("-", " ")


def install(env: Environment) -> None:
    env.filters.update(day=day, instant=instant, money=money, words=words)
