"""Apprenticeship commitments of a production: their due dates from the compact's rules and the shoot dates (pure)."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from guild.compacts.terms import CommitmentAnchor, CommitmentRule, WorkingCalendar
from guild.domain.dates import PublicHolidays, add_working_days, public_holidays, shoot_weeks


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class CommitmentDue(_Model):
    """One commitment rule with its due date, or why it does not apply to this shoot."""

    key: str
    title: str
    anchor: CommitmentAnchor
    offset_working_days: int | None
    offset_weeks: int | None
    applies: bool
    due_date: date | None
    reason: str = Field(description="how the due date was computed, or why the rule does not apply")


def _skip_reason(rule: CommitmentRule, weeks: int) -> str | None:
    if rule.min_shoot_weeks is not None and weeks < rule.min_shoot_weeks:
        return f"applies to shoots of at least {rule.min_shoot_weeks} week(s); this shoot is {weeks}"
    if rule.max_shoot_weeks is not None and weeks > rule.max_shoot_weeks:
        return f"applies to shoots of at most {rule.max_shoot_weeks} week(s); this shoot is {weeks}"
    return None


class DueDateOutOfRange(ValueError):
    """A commitment's due date would fall outside the calendar (years 1..9999)."""

    def __init__(self, rule: CommitmentRule, anchor: date) -> None:
        super().__init__(
            f"the due date of {rule.key} ({rule.anchor} {anchor.isoformat()} plus its offset) "
            "falls outside the calendar"
        )
        self.rule = rule
        self.anchor = anchor


def _days_off(calendar: WorkingCalendar | None) -> PublicHolidays | tuple[()]:
    return () if calendar is None else public_holidays(calendar.country, calendar.subdivision)


def _skipped(days_off: PublicHolidays | tuple[()], a: date, b: date) -> str:
    """The public holidays on weekdays between two dates (both included), in words."""
    if not isinstance(days_off, PublicHolidays):
        return ""
    lo, hi = min(a, b), max(a, b)
    days = [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
    named = [f"{d.isoformat()} {days_off.name(d)}" for d in days if d.weekday() < 5 and d in days_off]
    where = days_off.country if days_off.subdivision is None else f"{days_off.country}-{days_off.subdivision}"
    if not named:
        return f"; no public holiday of {where} on a weekday in between"
    return f"; skipping the public holiday(s) of {where}: " + ", ".join(named)


def _due(
    rule: CommitmentRule, shoot_start: date, shoot_end: date, calendar: WorkingCalendar | None = None
) -> tuple[date, str]:
    anchor = shoot_start if rule.anchor is CommitmentAnchor.shoot_start else shoot_end
    name = str(rule.anchor).replace("_", " ")
    try:
        if rule.offset_working_days is not None:
            n = rule.offset_working_days
            way = "after" if n >= 0 else "before"
            days_off = _days_off(calendar)
            due = add_working_days(anchor, n, days_off)
            how = f"{abs(n)} working day(s) {way} the {name} ({anchor.isoformat()})"
            return due, how + _skipped(days_off, anchor, due)
        n = rule.offset_weeks or 0
        way = "after" if n >= 0 else "before"
        return anchor + timedelta(weeks=n), f"{abs(n)} calendar week(s) {way} the {name} ({anchor.isoformat()})"
    except OverflowError:
        raise DueDateOutOfRange(rule, anchor) from None


def _check_shoot(shoot_start: date, shoot_end: date) -> None:
    if shoot_end < shoot_start:
        raise ValueError(f"shoot_end ({shoot_end}) must not be before shoot_start ({shoot_start})")


def commitment_due_dates(
    rules: list[CommitmentRule], shoot_start: date, shoot_end: date, calendar: WorkingCalendar | None = None
) -> list[tuple[CommitmentRule, date]]:
    """(rule, due date) for each rule that applies to a shoot of these dates, in the rules' order.

    Working days skip Saturdays, Sundays and the public holidays of ``calendar`` (the terms'
    ``working_calendar``; None: weekends only).

    Rules outside their ``min_shoot_weeks``/``max_shoot_weeks`` (shoot length :func:`shoot_weeks`)
    are skipped. ValueError when the shoot ends before it starts; :class:`DueDateOutOfRange` (a
    ValueError) when a due date would fall outside the calendar.
    """
    _check_shoot(shoot_start, shoot_end)
    weeks = shoot_weeks(shoot_start, shoot_end)
    return [(r, _due(r, shoot_start, shoot_end, calendar)[0]) for r in rules if _skip_reason(r, weeks) is None]


def commitment_schedule(
    rules: list[CommitmentRule], shoot_start: date, shoot_end: date, calendar: WorkingCalendar | None = None
) -> list[CommitmentDue]:
    """Every rule, explained: its due date and how it was computed (naming the public holidays skipped
    under ``calendar``), or why it does not apply."""
    _check_shoot(shoot_start, shoot_end)
    weeks = shoot_weeks(shoot_start, shoot_end)
    out = []
    for r in rules:
        skip = _skip_reason(r, weeks)
        due, how = (None, skip) if skip is not None else _due(r, shoot_start, shoot_end, calendar)
        out.append(
            CommitmentDue(
                key=r.key,
                title=r.title,
                anchor=r.anchor,
                offset_working_days=r.offset_working_days,
                offset_weeks=r.offset_weeks,
                applies=skip is None,
                due_date=due,
                reason=how or "",
            )
        )
    return out
