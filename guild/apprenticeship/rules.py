"""Apprenticeship quotas and commitment due dates: the pure rules.

Pure: stdlib, pydantic, the compact terms and the contract helpers (``contracts.clauses``); no
database, no web framework. The same functions answer the producer's planning preview and the
scheduled compliance sweep (:mod:`guild.compliance.rules` calls :func:`quota_report`), so "how many
apprentices does this production need, and which of them count" has one source of truth.

Quotas
------
A compact version's ``terms.apprenticeship`` is a list of :class:`~guild.compacts.terms.QuotaRule`,
each for one department and one budget band ``[budget_min_minor, budget_max_minor)`` in one
currency: the lower bound is IN the band, the upper bound is NOT (it is the next band's floor), a
null upper bound has no ceiling. A department with no band holding the budget (e.g. below the first
band's floor, or a budget in another currency) has no quota. The terms forbid overlapping bands, so
at most one rule applies per department.

For the rule that applies::

    required = max(min_apprentices, ratio requirement)

**Ratio schedule.** Number the department's journey-level workers (levels journey, senior and head)
1, 2, 3, ... A step ``RatioStep(first_journey=k, per_journey=n)`` covers the workers numbered ``k``
up to the worker before the next step's ``first_journey`` (the last step: up to the last worker);
it asks one apprentice per ``n`` workers it covers, **partial groups rounded UP**:
``ceil(covered / n)``. The ratio requirement is the sum over the steps. With the schedule
``[RatioStep(1, 1), RatioStep(2, 3)]`` ("one apprentice for the first journey worker, then one per
three after that"): 0 workers → 0; 1 → 1; 2 → 1 + ceil(1/3) = 2; 3 → 2; 4 → 1 + ceil(3/3) = 2;
5 → 1 + ceil(4/3) = 3; 7 → 1 + ceil(6/3) = 3.

**Counting placements.** Only entry-level engagements (apprentice, trainee) of the department are
placements. A placement counts unless it fails one of :data:`PLACEMENT_CHECKS`: paid in another
currency than the rule's, paid below ``min_rate_minor_per_week``, shorter than ``min_weeks`` or
longer than ``max_weeks`` (length = :func:`placement_weeks`), and — when ``mentor_required`` — no
mentor, a mentor below journey level, or a mentor from another department (the one qualified-mentor
rule, :func:`guild.domain.work.mentor_fit`). Every not-counted
placement is listed with every check it fails. A placement paid below the minimum rate is listed
as ``underpaid`` as well (the sweep reports it as its own finding).

**Caps.** Where a scheme sets ``max_reimbursed_placements``, the counted placements are taken in
order of start date (ties: in roster order) and those beyond the cap are reported as NOT
reimbursable; they still count toward the quota.

Commitments
-----------
:func:`commitment_due_dates` turns ``terms.apprenticeship_commitments`` into due dates from the shoot
dates: ``offset_working_days`` counts Monday..Friday only (:func:`add_working_days`),
``offset_weeks`` counts calendar weeks; a rule applies only to shoots of ``min_shoot_weeks`` to
``max_shoot_weeks`` weeks, the shoot length being :func:`shoot_weeks` (days from start to end, both
included, divided by 7, rounded up).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from guild.compacts.terms import (
    MAX_MINOR,
    CurrencyCode,
    Department,
    QuotaRule,
    RatioStep,
    Terms,
    applicable_quota_rules,
)
from guild.domain.dates import add_working_days, placement_weeks, shoot_weeks
from guild.domain.money import format_money
from guild.domain.work import ENTRY_LEVELS, JOURNEY_LEVELS, Level, MentorFit, is_journey_level, mentor_fit
from guild.productions.rules import (
    CommitmentDue,
    DueDateOutOfRange,
    commitment_due_dates,
    commitment_schedule,
)

__all__ = [
    "JOURNEY_LEVELS",
    "PLACEMENT_CHECKS",
    "CommitmentDue",
    "DueDateOutOfRange",
    "NotCounted",
    "Placement",
    "PlannedEngagement",
    "QuotaBand",
    "QuotaResult",
    "RatioStepResult",
    "Underpaid",
    "add_working_days",
    "commitment_due_dates",
    "commitment_schedule",
    "is_journey_level",
    "placement_weeks",
    "quota_report",
    "ratio_requirement",
    "shoot_weeks",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --- input ---------------------------------------------------------------------------------------


class PlannedEngagement(_Model):
    """One roster row, planned (preview) or engaged (sweep)."""

    ref: str = Field(
        min_length=1,
        max_length=120,
        description="what the explanation calls this row: the engagement id, or roster[i] in a preview",
    )
    person_name: str = Field(min_length=1, max_length=200)
    department: Department
    level: Level
    rate_minor_per_week: int = Field(ge=0, le=MAX_MINOR, description="pay, in integer minor units per week")
    currency: CurrencyCode
    start_date: date
    end_date: date
    mentor_level: Level | None = Field(default=None, description="the named mentor's level; null = no mentor")
    mentor_department: Department | None = Field(default=None, description="the named mentor's department")


class Placement(Protocol):
    """What the quota engine reads of a roster row: a :class:`PlannedEngagement`, or the compliance
    sweep's engagement facts (which it reads as they are, without a copy per row)."""

    @property
    def ref(self) -> str: ...
    @property
    def person_name(self) -> str: ...
    @property
    def department(self) -> Department | str: ...
    @property
    def level(self) -> Level | str: ...
    @property
    def rate_minor_per_week(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def start_date(self) -> date: ...
    @property
    def end_date(self) -> date: ...
    @property
    def mentor_level(self) -> Level | str | None: ...
    @property
    def mentor_department(self) -> Department | str | None: ...


# --- output --------------------------------------------------------------------------------------


class QuotaBand(_Model):
    budget_min_minor: int = Field(description="inclusive")
    budget_max_minor: int | None = Field(description="exclusive; null = no ceiling")


class RatioStepResult(_Model):
    first_journey: int
    last_journey: int | None = Field(description="the last journey-level worker the step covers; null = open-ended")
    per_journey: int
    journey_in_step: int = Field(description="journey-level workers of the roster this step covers")
    apprentices: int = Field(description="ceil(journey_in_step / per_journey)")


class NotCounted(_Model):
    engagement: str = Field(description="the engagement's ref")
    person_name: str
    reason: str = Field(description="the first check it fails, in PLACEMENT_CHECKS order")
    detail: str
    reasons: list[str] = Field(description="every check it fails")
    details: list[str]


class Underpaid(_Model):
    engagement: str
    person_name: str
    rate_minor_per_week: int
    min_rate_minor_per_week: int
    currency: str
    shortfall_minor_per_week: int


class QuotaResult(_Model):
    """One quota rule applied to one roster: the explanation of its verdict, field by field."""

    label: str = Field(description="the compact version, e.g. screen-guild v2")
    term_path: str = Field(description="apprenticeship[i] in the version's terms")
    rule: QuotaRule = Field(description="the rule applied, as the terms state it")
    department: Department
    budget_minor: int
    currency: str
    band: QuotaBand
    min_apprentices: int
    journey_level: int = Field(description="journey-level workers (journey, senior, head) in the department")
    ratio_steps: list[RatioStepResult]
    ratio_required: int
    required: int = Field(description="max(min_apprentices, ratio_required)")
    required_by: Literal["min_apprentices", "ratio_schedule"]
    counted: int
    counted_engagements: list[str]
    not_counted: list[NotCounted]
    underpaid: list[Underpaid]
    max_reimbursed_placements: int | None
    reimbursable: list[str]
    not_reimbursable: list[str] = Field(description="counted placements beyond the cap: they still count")
    met: bool
    missing: int = Field(description="required - counted, at least 0")
    explanation: str


# --- lengths and working days --------------------------------------------------------------------


# --- commitments ---------------------------------------------------------------------------------


# --- ratio ---------------------------------------------------------------------------------------


def ratio_requirement(journey_level: int, schedule: list[RatioStep]) -> tuple[int, list[RatioStepResult]]:
    """Apprentices the ratio schedule asks for ``journey_level`` journey-level workers (module doc)."""
    results = []
    for i, step in enumerate(schedule):
        last = schedule[i + 1].first_journey - 1 if i + 1 < len(schedule) else None
        top = journey_level if last is None else min(journey_level, last)
        covered = max(0, top - step.first_journey + 1)
        results.append(
            RatioStepResult(
                first_journey=step.first_journey,
                last_journey=last,
                per_journey=step.per_journey,
                journey_in_step=covered,
                apprentices=-(-covered // step.per_journey),
            )
        )
    return sum(r.apprentices for r in results), results


# --- placement checks ----------------------------------------------------------------------------

_PlacementCheck = Callable[[Placement, QuotaRule], str | None]  # a reason's detail, or None when met


def _currency(e: Placement, r: QuotaRule) -> str | None:
    return None if e.currency == r.currency else f"paid in {e.currency}; the quota's minimum rate is in {r.currency}"


def _rate(e: Placement, r: QuotaRule) -> str | None:
    if e.currency != r.currency or e.rate_minor_per_week >= r.min_rate_minor_per_week:
        return None
    return f"paid {e.rate_minor_per_week} per week; at least {r.min_rate_minor_per_week} required"


def _short(e: Placement, r: QuotaRule) -> str | None:
    weeks = placement_weeks(e.start_date, e.end_date)
    return None if weeks >= r.min_weeks else f"{weeks} week(s); at least {r.min_weeks} required"


def _long(e: Placement, r: QuotaRule) -> str | None:
    weeks = placement_weeks(e.start_date, e.end_date)
    return None if r.max_weeks is None or weeks <= r.max_weeks else f"{weeks} week(s); at most {r.max_weeks} allowed"


def _mentor(e: Placement, r: QuotaRule) -> str | None:
    return "no mentor named" if r.mentor_required and not _fit(e).named else None


def _mentor_level(e: Placement, r: QuotaRule) -> str | None:
    fit = _fit(e)
    if not r.mentor_required or not fit.named or fit.journey_or_above:
        return None
    return f"the mentor is {e.mentor_level} level; journey level or above required"


def _mentor_department(e: Placement, r: QuotaRule) -> str | None:
    fit = _fit(e)
    if not r.mentor_required or not fit.named or fit.same_department:
        return None
    return f"the mentor works in {e.mentor_department}, not {e.department}"


def _fit(e: Placement) -> MentorFit:
    return mentor_fit(e.department, e.mentor_level, e.mentor_department)


# Why a placement does not count, in this order; ``reason`` is the first that fails.
PLACEMENT_CHECKS: tuple[tuple[str, _PlacementCheck], ...] = (
    ("wrong_currency", _currency),
    ("below_min_rate", _rate),
    ("too_short", _short),
    ("too_long", _long),
    ("no_mentor", _mentor),
    ("mentor_below_journey", _mentor_level),
    ("mentor_other_department", _mentor_department),
)


def _not_counted(e: Placement, r: QuotaRule) -> NotCounted | None:
    failed = [(reason, detail) for reason, check in PLACEMENT_CHECKS if (detail := check(e, r)) is not None]
    if not failed:
        return None
    return NotCounted(
        engagement=e.ref,
        person_name=e.person_name,
        reason=failed[0][0],
        detail=failed[0][1],
        reasons=[f[0] for f in failed],
        details=[f[1] for f in failed],
    )


# --- the report ----------------------------------------------------------------------------------


def _names(items: Iterable[str]) -> str:
    return ", ".join(items)


def _band_text(r: QuotaRule) -> str:
    upper = "no ceiling" if r.budget_max_minor is None else format_money(r.budget_max_minor, r.currency) + " excluded"
    return f"budget band from {format_money(r.budget_min_minor, r.currency)} included to {upper}"


def _how_required(r: QuotaRule, journey: int, ratio: int, steps: list[RatioStepResult], required: int) -> str:
    if not steps:
        return f"{required} required: min_apprentices is {r.min_apprentices} and the rule has no ratio schedule"
    parts = []
    for s in steps:
        span = (
            f"workers {s.first_journey}+" if s.last_journey is None else f"workers {s.first_journey}-{s.last_journey}"
        )
        parts.append(f"{span}: {s.journey_in_step} at one per {s.per_journey} = {s.apprentices}")
    bigger = "the ratio" if ratio > r.min_apprentices else "min_apprentices"
    return (
        f"{required} required = max(min_apprentices {r.min_apprentices}, ratio {ratio}); the ratio schedule gives "
        f"{ratio} for {journey} journey-level worker(s) ({'; '.join(parts)}; partial groups rounded up), "
        f"so {bigger} decides"
    )


def _evaluate(
    index: int,
    rule: QuotaRule,
    budget_minor: int,
    currency: str,
    roster: Sequence[Placement],
    label: str,
    problems_only: bool = False,
) -> QuotaResult | None:
    dept = [e for e in roster if e.department == rule.department]
    journey = sum(1 for e in dept if is_journey_level(e.level))
    ratio, steps = ratio_requirement(journey, rule.ratio_schedule)
    required = max(rule.min_apprentices, ratio)
    placements = [e for e in dept if e.level in ENTRY_LEVELS]
    verdicts = [(e, _not_counted(e, rule)) for e in placements]
    counted = [e for e, why in verdicts if why is None]
    not_counted = [why for _, why in verdicts if why is not None]
    underpaid = [
        Underpaid(
            engagement=e.ref,
            person_name=e.person_name,
            rate_minor_per_week=e.rate_minor_per_week,
            min_rate_minor_per_week=rule.min_rate_minor_per_week,
            currency=rule.currency,
            shortfall_minor_per_week=rule.min_rate_minor_per_week - e.rate_minor_per_week,
        )
        for e, why in verdicts
        if why is not None and "below_min_rate" in why.reasons
    ]
    cap = rule.max_reimbursed_placements
    in_order = sorted(counted, key=lambda e: e.start_date)  # stable: ties keep roster order
    reimbursable = in_order if cap is None else in_order[:cap]
    beyond = [] if cap is None else in_order[cap:]
    missing = max(0, required - len(counted))
    if problems_only and missing == 0 and not underpaid:
        return None

    text = [
        f"{label}, {rule.department}, {_band_text(rule)} (apprenticeship[{index}]) applies to a budget of "
        f"{format_money(budget_minor, currency)}.",
        _how_required(rule, journey, ratio, steps, required) + ".",
        f"{len(counted)} placement(s) counted" + (f": {_names(e.person_name for e in counted)}." if counted else "."),
    ]
    if not_counted:
        text.append("Not counted: " + "; ".join(f"{n.person_name} ({', '.join(n.details)})" for n in not_counted) + ".")
    if underpaid:
        text.append(
            f"Paid below the minimum of {format_money(rule.min_rate_minor_per_week, rule.currency)} per week: "
            + _names(u.person_name for u in underpaid)
            + "."
        )
    if cap is not None:
        text.append(
            f"The scheme reimburses at most {cap} placement(s)"
            + (
                f"; {_names(e.person_name for e in beyond)} beyond the cap are not reimbursable "
                "but still count toward the quota."
                if beyond
                else "; every counted placement is reimbursable."
            )
        )
    text.append("The quota is met." if missing == 0 else f"The quota is NOT met: {missing} more placement(s) needed.")

    return QuotaResult(
        label=label,
        term_path=f"apprenticeship[{index}]",
        rule=rule,
        department=rule.department,
        budget_minor=budget_minor,
        currency=currency,
        band=QuotaBand(budget_min_minor=rule.budget_min_minor, budget_max_minor=rule.budget_max_minor),
        min_apprentices=rule.min_apprentices,
        journey_level=journey,
        ratio_steps=steps,
        ratio_required=ratio,
        required=required,
        required_by="ratio_schedule" if ratio > rule.min_apprentices else "min_apprentices",
        counted=len(counted),
        counted_engagements=[e.ref for e in counted],
        not_counted=not_counted,
        underpaid=underpaid,
        max_reimbursed_placements=cap,
        reimbursable=[e.ref for e in reimbursable],
        not_reimbursable=[e.ref for e in beyond],
        met=missing == 0,
        missing=missing,
        explanation=" ".join(text),
    )


def quota_report(
    budget_minor: int,
    currency: str,
    roster: Sequence[Placement],
    terms: Terms,
    label: str,
    problems_only: bool = False,
) -> list[QuotaResult]:
    """One explained :class:`QuotaResult` per department whose quota band holds the budget (in the
    budget's currency), in department order. Departments without such a band have no quota and no
    result. ``problems_only``: only the departments whose quota is not met or that have a placement
    paid below the minimum (the compliance sweep explains only what becomes a finding)."""
    out = []
    for dept in Department:
        # the terms forbid overlapping bands per department and currency: at most one rule applies
        for index, rule in applicable_quota_rules(terms, dept, budget_minor, currency)[:1]:
            result = _evaluate(index, rule, budget_minor, currency, roster, label, problems_only)
            if result is not None:
                out.append(result)
    return out
