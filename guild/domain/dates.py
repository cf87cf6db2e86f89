"""Calendar arithmetic of shoots and placements: weeks (any part week counts) and working days.

Working days are Monday..Friday, less the public holidays of a jurisdiction when one is named
(:func:`public_holidays`, from the maintained ``holidays`` package: pure data, no I/O).
"""

from __future__ import annotations

import math
from collections.abc import Container
from datetime import date, timedelta
from functools import lru_cache

import holidays


def placement_weeks(start: date, end: date) -> int:
    """Placement length in weeks: the days from start to end, both included, divided by 7, rounded up."""
    return math.ceil(((end - start).days + 1) / 7)


def shoot_weeks(start: date, end: date) -> int:
    """Shoot length in weeks: the days from start to end, both included, divided by 7, rounded up."""
    return placement_weeks(start, end)


@lru_cache(maxsize=256)
def _holidays_of_year(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


class PublicHolidays(Container[date]):
    """The public holidays of one country (and subdivision: its regional holidays too), by year on demand.

    ``day in PublicHolidays("IE")`` is true for 17 March (St Patrick's Day). The country and
    subdivision are ISO 3166 codes the ``holidays`` package knows (the terms validate them); its
    observed-on rules apply (a holiday falling on a weekend may give a weekday off instead).
    """

    __slots__ = ("country", "subdivision")

    def __init__(self, country: str, subdivision: str | None = None) -> None:
        self.country = country
        self.subdivision = subdivision

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and day in _holidays_of_year(self.country, self.subdivision, day.year)

    def __repr__(self) -> str:
        where = self.country if self.subdivision is None else f"{self.country}-{self.subdivision}"
        return f"PublicHolidays({where})"

    def name(self, day: date) -> str | None:
        """The holiday's name (English where the package has it), or None when ``day`` is no holiday."""
        if day not in self:
            return None
        found = holidays.country_holidays(self.country, subdiv=self.subdivision, years=day.year).get(day)
        return None if found is None else str(found)


def public_holidays(country: str, subdivision: str | None = None) -> PublicHolidays:
    return PublicHolidays(country, subdivision)


def is_working_day(day: date, days_off: Container[date] = ()) -> bool:
    """Monday..Friday and not in ``days_off`` (e.g. :class:`PublicHolidays`)."""
    return day.weekday() < 5 and day not in days_off


def add_working_days(day: date, n: int, days_off: Container[date] = ()) -> date:
    """``n`` working days after ``day``; negative ``n``: before; 0: ``day`` itself.

    Working days are Monday..Friday not in ``days_off`` (e.g. the public holidays of
    :func:`public_holidays`). Counting steps one calendar day at a time from ``day`` and counts each
    working day it lands on: Friday + 1 = Monday, Monday - 1 = Friday, Saturday + 1 = Monday,
    Saturday - 1 = Friday; under Ireland's calendar Monday 16 March 2026 + 1 = Wednesday 18 March
    (Tuesday 17 March is St Patrick's Day).
    """
    if n == 0:
        return day
    step = 1 if n > 0 else -1
    if not days_off:
        # Weekends only. From a weekend day, counting forward is counting from the Friday before;
        # backward, from the Monday after. From a weekday, five working days are exactly one week.
        if day.weekday() >= 5:
            day = day - timedelta(days=day.weekday() - 4) if step > 0 else day + timedelta(days=7 - day.weekday())
        weeks, rest = divmod(abs(n), 5)
        day += timedelta(weeks=step * weeks)
    else:
        rest = abs(n)
    while rest:
        day += timedelta(days=step)
        if is_working_day(day, days_off):
            rest -= 1
    return day
