"""Apprenticeship commitments of a production as a pure lifecycle: where the shoot dates put them.

A production holds at most one commitment per (bound compact version, rule key). Given the
commitments it holds, the commitment rules of each bound version and the shoot dates,
:func:`reschedule` says what changes:

- a rule that applies to the shoot (:func:`due_dates`) and has an **open** commitment due on
  another day → the commitment moves to the new due date;
- a rule that applies and has a **withdrawn** commitment → it reopens, on the new due date;
- a rule that applies and has no commitment → a new open one;
- an **open** commitment whose rule no longer applies (the shoot's length is outside the rule's
  range, or the shoot has no dates) → withdrawn (kept, never deleted);
- a **done** commitment never changes; a withdrawn one whose rule still does not apply stays as it is.

So rescheduling to the dates the commitments already follow changes nothing: applying the changes and
rescheduling again with the same dates is a no-op. Pure: no database; the service loads, calls
:func:`reschedule`, persists the changes and audits them (``guild.productions.commitments``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from guild.compacts.terms import CommitmentRule, WorkingCalendar
from guild.domain.statuses import CommitmentStatus
from guild.productions.rules import commitment_due_dates

__all__ = [
    "DONE",
    "OPEN",
    "WITHDRAWN",
    "Change",
    "Held",
    "Shoot",
    "VersionRules",
    "apply",
    "due_dates",
    "reschedule",
]

OPEN, DONE, WITHDRAWN = CommitmentStatus.open, CommitmentStatus.done, CommitmentStatus.withdrawn


@dataclass(frozen=True, slots=True)
class Shoot:
    """The shoot's first and last day (both included)."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class Held:
    """A commitment the production holds under one bound version."""

    id: UUID
    version_id: UUID
    key: str
    due_date: date
    status: str  # open | done | withdrawn
    title: str = ""


@dataclass(frozen=True, slots=True)
class VersionRules:
    """The commitment rules of one bound compact version (its ``terms.apprenticeship_commitments``) and
    the calendar their working days follow (its ``terms.working_calendar``; None: weekends only)."""

    version_id: UUID
    rules: Sequence[CommitmentRule]
    calendar: WorkingCalendar | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One commitment that moves, reopens, is withdrawn, or is new (``commitment_id`` None)."""

    version_id: UUID
    key: str
    commitment_id: UUID | None
    title: str
    from_date: date | None  # None: new
    to_date: date | None  # None: withdrawn
    status: str  # what it becomes: open | withdrawn

    def audit(self) -> dict[str, str | None]:
        """How the audit log records it."""
        return {
            "key": self.key,
            "from": None if self.from_date is None else self.from_date.isoformat(),
            "to": None if self.to_date is None else self.to_date.isoformat(),
            "status": self.status,
        }


def due_dates(
    rules: Sequence[CommitmentRule], shoot_start: date, shoot_end: date, calendar: WorkingCalendar | None = None
) -> list[tuple[CommitmentRule, date]]:
    """The rules that apply to a shoot of these dates, each with its due date, in the rules' order.

    :func:`guild.productions.rules.commitment_due_dates` decides (working days skip weekends and the
    public holidays of ``calendar``; rules
    outside their ``min_shoot_weeks``/``max_shoot_weeks`` are left out); a key that appears twice
    counts once (the first), as a production holds one commitment per version and key.
    """
    seen: set[str] = set()
    out = []
    for rule, due in commitment_due_dates(list(rules), shoot_start, shoot_end, calendar):
        if rule.key not in seen:
            seen.add(rule.key)
            out.append((rule, due))
    return out


def _wanted(version: VersionRules, shoot: Shoot | None) -> dict[str, tuple[CommitmentRule, date]]:
    if shoot is None:
        return {}
    return {rule.key: (rule, due) for rule, due in due_dates(version.rules, shoot.start, shoot.end, version.calendar)}


def _version_changes(held: Iterable[Held], version: VersionRules, shoot: Shoot | None) -> list[Change]:
    wanted = _wanted(version, shoot)
    mine = {c.key: c for c in held if c.version_id == version.version_id}
    out = []
    for key, c in mine.items():
        if c.status == DONE:
            continue
        if key in wanted:
            due = wanted[key][1]
            if c.status != OPEN or c.due_date != due:
                out.append(Change(version.version_id, key, c.id, c.title, c.due_date, due, OPEN))
        elif c.status == OPEN:
            out.append(Change(version.version_id, key, c.id, c.title, c.due_date, None, WITHDRAWN))
    for key, (rule, due) in wanted.items():
        if key not in mine:
            out.append(Change(version.version_id, key, None, rule.title, None, due, OPEN))
    return out


def reschedule(held: Sequence[Held], versions: Iterable[VersionRules], shoot: Shoot | None) -> list[Change]:
    """What the shoot dates ``shoot`` (None: the shoot has no dates) change in the commitments ``held``
    under the bound ``versions`` (module doc), version by version: the commitments held first (in the
    order given), then the new ones (in the rules' order). Commitments of other versions are left alone.

    ValueError when the shoot ends before it starts (:class:`~guild.productions.rules.DueDateOutOfRange`
    when a due date would leave the calendar)."""
    return [change for version in versions for change in _version_changes(held, version, shoot)]


def apply(held: Sequence[Held], changes: Iterable[Change], new_id: Callable[[], UUID]) -> list[Held]:
    """The commitments after ``changes``: moved, reopened and withdrawn ones updated in place, new ones
    (ids from ``new_id``) appended. What persisting the changes does to the rows, as values."""
    by_id = {c.id: c for c in held}
    added = []
    for ch in changes:
        if ch.commitment_id is None:
            if ch.to_date is not None:
                added.append(Held(new_id(), ch.version_id, ch.key, ch.to_date, OPEN, ch.title))
            continue
        old = by_id[ch.commitment_id]
        if old.status == DONE:  # as the conditional UPDATEs: a done commitment never changes
            continue
        if ch.status == WITHDRAWN or ch.to_date is None:
            by_id[old.id] = replace(old, status=WITHDRAWN)
        else:
            by_id[old.id] = replace(old, status=OPEN, due_date=ch.to_date)
    return [*by_id.values(), *added]
