"""Calendar arithmetic of shoots and placements: weeks (any part week counts) and working days."""

from __future__ import annotations

import math
from datetime import date, timedelta


def placement_weeks(start: date, end: date) -> int:
    """Placement length in weeks: the days from start to end, both included, divided by 7, rounded up."""
    return math.ceil(((end - start).days + 1) / 7)


def shoot_weeks(start: date, end: date) -> int:
    """Shoot length in weeks: the days from start to end, both included, divided by 7, rounded up."""
    return placement_weeks(start, end)


def add_working_days(day: date, n: int) -> date:
    """``n`` working days (Monday..Friday) after ``day``; negative ``n``: before; 0: ``day`` itself.

    Friday + 1 = Monday, Monday - 1 = Friday, Saturday + 1 = Monday, Saturday - 1 = Friday.
    """
    if n == 0:
        return day
    step = 1 if n > 0 else -1
    # From a weekend day, counting forward is counting from the Friday before; backward, from the
    # Monday after. From a weekday, five working days are exactly one calendar week.
    if day.weekday() >= 5:
        day = day - timedelta(days=day.weekday() - 4) if step > 0 else day + timedelta(days=7 - day.weekday())
    weeks, rest = divmod(abs(n), 5)
    day += timedelta(weeks=step * weeks)
    while rest:
        day += timedelta(days=step)
        if day.weekday() < 5:
            rest -= 1
    return day
