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

For the rule that applies, its number is::

    number = max(min_apprentices, ratio requirement)

and its ``direction`` says what the number means: ``minimum`` (the default) — at least ``number``
placements must count (``required``; a finding when short); ``maximum`` — at most ``number``
apprentices (``allowed``; a finding when over).

**Ratio schedule.** Number the department's journey-level workers (levels journey, senior and head)
1, 2, 3, ... A step ``RatioStep(first_journey=k, per_journey=n)`` covers the workers numbered ``k``
up to the worker before the next step's ``first_journey`` (the last step: up to the last worker);
it gives one apprentice per **whole** group of ``n`` workers it covers, ``floor(covered / n)``, as
the schemes count; a step with ``partial_group_counts`` counts a started group too,
``ceil(covered / n)``. The ratio requirement is the sum over the steps. With the schedule "one per
two for the first four, then one per four more" (``[RatioStep(1, 2), RatioStep(5, 4)]``): 0 or 1
workers → 0; 2 or 3 → 1; 4 → 2; 5, 6 or 7 → 2 + floor(3/4) = 2; 8 → 2 + floor(4/4) = 3; 12 → 2 + 2 = 4.
With ``partial_group_counts`` on both steps: 1 → 1; 3 → 2; 5 → 2 + ceil(1/4) = 3; 8 → 3; 9 → 4.
(Before compacts could say so, partial groups were always rounded up.)

**Counting placements.** Only entry-level engagements (apprentice, trainee) of the department are
placements. A placement counts unless it fails one of :data:`PLACEMENT_CHECKS`: paid in another
currency than the rule's, paid below ``min_rate_minor_per_week``, shorter than ``min_weeks`` or
longer than ``max_weeks`` (length = :func:`placement_weeks`), and — when ``mentor_required`` — no
mentor, a mentor below journey level, or a mentor from another department (the one qualified-mentor
rule, :func:`guild.domain.work.mentor_fit`). Every not-counted
placement is listed with every check it fails. A placement paid below the minimum rate is listed
as ``underpaid`` as well, one too short or too long as ``too_short``/``too_long`` (the sweep reports
each as its own finding).

**Maximum.** Under ``direction: maximum`` every placement of the department takes a place, qualifying
or not; in order of start date (ties: in roster order) the first ``allowed`` are within the maximum,
the rest are ``over_maximum``: not counted (reason ``over_maximum``) and not reimbursed.

**Reimbursement caps.** Where a scheme sets ``max_reimbursed_placements``, every placement claimed
uses the cap, qualifying or not, in order of start date (ties: in roster order); those beyond the cap
are ``not_reimbursable`` (a finding per department). ``reimbursable`` are the counted placements
within the cap. Under ``minimum``, placements beyond the reimbursement cap still count toward the
quota: the fund does not pay for them, the production does.

Commitments
-----------
:func:`commitment_due_dates` turns ``terms.apprenticeship_commitments`` into due dates from the shoot
dates: ``offset_working_days`` counts Monday..Friday that are no public holiday of the terms'
``working_calendar`` (:func:`add_working_days`),
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
    QuotaDirection,
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
    "PlacementLength",
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
    partial_group_counts: bool = Field(description="a started group counts (ceil) rather than whole groups (floor)")
    journey_in_step: int = Field(description="journey-level workers of the roster this step covers")
    apprentices: int = Field(
        description="floor(journey_in_step / per_journey); ceil(...) when partial_group_counts",
        examples=[2],
    )


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


class PlacementLength(_Model):
    """A placement shorter than the rule's ``min_weeks`` or longer than its ``max_weeks``."""

    engagement: str
    person_name: str
    start_date: date
    end_date: date
    weeks: int = Field(description="placement length in weeks (days, both ends included, / 7, rounded up)")
    limit_weeks: int = Field(description="min_weeks (too short) or max_weeks (too long)")


class QuotaResult(_Model):
    """One quota rule applied to one roster: the explanation of its verdict, field by field."""

    label: str = Field(description="the compact version, e.g. screen-guild v2")
    term_path: str = Field(description="apprenticeship[i] in the version's terms")
    rule: QuotaRule = Field(description="the rule applied, as the terms state it")
    department: Department
    direction: QuotaDirection = Field(description="minimum: required is a floor; maximum: allowed is a ceiling")
    budget_minor: int
    currency: str
    band: QuotaBand
    min_apprentices: int
    journey_level: int = Field(description="journey-level workers (journey, senior, head) in the department")
    ratio_steps: list[RatioStepResult]
    ratio_required: int = Field(description="the ratio schedule's number, summed over its steps")
    required: int = Field(description="max(min_apprentices, ratio_required) under minimum; 0 under maximum")
    allowed: int | None = Field(description="max(min_apprentices, ratio_required) under maximum; null under minimum")
    required_by: Literal["min_apprentices", "ratio_schedule"] = Field(description="which of the two is larger")
    placements: int = Field(description="entry-level placements of the department, qualifying or not")
    counted: int
    counted_engagements: list[str]
    not_counted: list[NotCounted]
    underpaid: list[Underpaid]
    too_short: list[PlacementLength]
    too_long: list[PlacementLength]
    over_maximum: list[str] = Field(description="placements beyond allowed (maximum): not counted, not reimbursed")
    max_reimbursed_placements: int | None
    reimbursable: list[str] = Field(description="counted placements within the reimbursement cap")
    not_reimbursable: list[str] = Field(
        description="placements beyond the reimbursement cap (every placement claimed uses it, qualifying or not)"
    )
    met: bool = Field(description="minimum: counted >= required; maximum: placements <= allowed")
    missing: int = Field(description="required - counted, at least 0 (minimum)")
    excess: int = Field(description="placements - allowed, at least 0 (maximum)")
    explanation: str


# --- lengths and working days --------------------------------------------------------------------


# --- commitments ---------------------------------------------------------------------------------


# --- ratio ---------------------------------------------------------------------------------------


def ratio_requirement(journey_level: int, schedule: list[RatioStep]) -> tuple[int, list[RatioStepResult]]:
    """Apprentices the ratio schedule gives for ``journey_level`` journey-level workers: per step,
    ``floor(covered / per_journey)`` (whole groups), or ``ceil`` where the step says a started group
    counts; summed (module doc)."""
    results = []
    for i, step in enumerate(schedule):
        last = schedule[i + 1].first_journey - 1 if i + 1 < len(schedule) else None
        top = journey_level if last is None else min(journey_level, last)
        covered = max(0, top - step.first_journey + 1)
        groups = -(-covered // step.per_journey) if step.partial_group_counts else covered // step.per_journey
        results.append(
            RatioStepResult(
                first_journey=step.first_journey,
                last_journey=last,
                per_journey=step.per_journey,
                partial_group_counts=step.partial_group_counts,
                journey_in_step=covered,
                apprentices=groups,
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
    return (
        f"paid {format_money(e.rate_minor_per_week, e.currency)} per week; "
        f"at least {format_money(r.min_rate_minor_per_week, r.currency)} required"
    )


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


OVER_MAXIMUM = "over_maximum"


def _not_counted(e: Placement, r: QuotaRule, over_maximum: bool = False) -> NotCounted | None:
    failed = [(reason, detail) for reason, check in PLACEMENT_CHECKS if (detail := check(e, r)) is not None]
    if over_maximum:
        failed.append((OVER_MAXIMUM, "beyond the maximum number of apprentices"))
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


def _lengths(placements: Iterable[Placement], r: QuotaRule) -> tuple[list[PlacementLength], list[PlacementLength]]:
    """(too short, too long) among the placements, in roster order."""
    short: list[PlacementLength] = []
    long: list[PlacementLength] = []
    for e in placements:
        weeks = placement_weeks(e.start_date, e.end_date)
        if weeks < r.min_weeks:
            into, limit = short, r.min_weeks
        elif r.max_weeks is not None and weeks > r.max_weeks:
            into, limit = long, r.max_weeks
        else:
            continue
        into.append(
            PlacementLength(
                engagement=e.ref,
                person_name=e.person_name,
                start_date=e.start_date,
                end_date=e.end_date,
                weeks=weeks,
                limit_weeks=limit,
            )
        )
    return short, long


# --- the report ----------------------------------------------------------------------------------


def _names(items: Iterable[str]) -> str:
    return ", ".join(items)


def _band_text(r: QuotaRule) -> str:
    upper = "no ceiling" if r.budget_max_minor is None else format_money(r.budget_max_minor, r.currency) + " excluded"
    return f"budget band from {format_money(r.budget_min_minor, r.currency)} included to {upper}"


def _step_text(s: RatioStepResult) -> str:
    span = f"workers {s.first_journey}+" if s.last_journey is None else f"workers {s.first_journey}-{s.last_journey}"
    how = "ceil" if s.partial_group_counts else "floor"
    return f"{span}: {s.journey_in_step} at one per {s.per_journey}, {how}({s.journey_in_step}/{s.per_journey}) = {s.apprentices}"


def _how_stated(r: QuotaRule, journey: int, ratio: int, steps: list[RatioStepResult], number: int) -> str:
    what = "allowed at most" if r.direction is QuotaDirection.maximum else "required"
    if not steps:
        return f"{number} {what}: min_apprentices is {r.min_apprentices} and the rule has no ratio schedule"
    bigger = "the ratio" if ratio > r.min_apprentices else "min_apprentices"
    counting = (
        "a started group counts"
        if all(s.partial_group_counts for s in steps)
        else "whole groups only"
        if not any(s.partial_group_counts for s in steps)
        else "whole groups only, except where a step counts a started group"
    )
    return (
        f"{number} {what} = max(min_apprentices {r.min_apprentices}, ratio {ratio}); the ratio schedule gives "
        f"{ratio} for {journey} journey-level worker(s) ({'; '.join(_step_text(s) for s in steps)}; {counting}), "
        f"so {bigger} decides"
    )


def _by_start(placements: Sequence[Placement]) -> list[Placement]:
    return sorted(placements, key=lambda e: e.start_date)  # stable: ties keep roster order


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
    number = max(rule.min_apprentices, ratio)
    maximum = rule.direction is QuotaDirection.maximum
    placements = [e for e in dept if e.level in ENTRY_LEVELS]
    in_order = _by_start(placements)
    over = {id(e) for e in in_order[number:]} if maximum else set()
    verdicts = [(e, _not_counted(e, rule, id(e) in over)) for e in placements]
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
    too_short, too_long = _lengths(placements, rule)
    over_maximum = [e for e in in_order if id(e) in over]
    cap = rule.max_reimbursed_placements
    counted_ids = {id(e) for e in counted}
    within_cap = in_order if cap is None else in_order[:cap]
    reimbursable = [e for e in within_cap if id(e) in counted_ids]
    beyond = [] if cap is None else in_order[cap:]
    required = 0 if maximum else number
    missing = max(0, required - len(counted))
    excess = max(0, len(placements) - number) if maximum else 0
    if problems_only and not (missing or excess or underpaid or too_short or too_long or beyond):
        return None

    text = [
        f"{label}, {rule.department}, {_band_text(rule)} (apprenticeship[{index}]) applies to a budget of "
        f"{format_money(budget_minor, currency)}.",
        _how_stated(rule, journey, ratio, steps, number) + ".",
    ]
    if maximum:
        text.append(
            f"{len(placements)} apprentice placement(s), qualifying or not"
            + (f": {_names(e.person_name for e in in_order)}." if placements else ".")
        )
        if over_maximum:
            text.append(
                f"Over the maximum, in order of start date, and so neither counted nor reimbursed: "
                f"{_names(e.person_name for e in over_maximum)}."
            )
    text.append(
        f"{len(counted)} placement(s) counted" + (f": {_names(e.person_name for e in counted)}." if counted else ".")
    )
    checks_failed = [n for n in not_counted if n.reasons != [OVER_MAXIMUM]]
    if checks_failed:
        text.append(
            "Not counted: "
            + "; ".join(
                f"{n.person_name} ({', '.join(d for r, d in zip(n.reasons, n.details, strict=True) if r != OVER_MAXIMUM)})"
                for n in checks_failed
            )
            + "."
        )
    if underpaid:
        text.append(
            f"Paid below the minimum of {format_money(rule.min_rate_minor_per_week, rule.currency)} per week: "
            + _names(u.person_name for u in underpaid)
            + "."
        )
    if cap is not None:
        text.append(
            f"The scheme reimburses at most {cap} placement(s), counting every placement claimed, qualifying or "
            "not, in order of start date"
            + (
                f"; {_names(e.person_name for e in beyond)} beyond the cap are not reimbursable"
                + ("." if maximum else " but still count toward the quota if they qualify.")
                if beyond
                else "; no placement is beyond the cap."
            )
        )
    if maximum:
        text.append(
            "The maximum is kept."
            if excess == 0
            else f"The maximum is NOT kept: {excess} placement(s) more than the {number} allowed."
        )
    else:
        text.append(
            "The quota is met." if missing == 0 else f"The quota is NOT met: {missing} more placement(s) needed."
        )

    return QuotaResult(
        label=label,
        term_path=f"apprenticeship[{index}]",
        rule=rule,
        department=rule.department,
        direction=rule.direction,
        budget_minor=budget_minor,
        currency=currency,
        band=QuotaBand(budget_min_minor=rule.budget_min_minor, budget_max_minor=rule.budget_max_minor),
        min_apprentices=rule.min_apprentices,
        journey_level=journey,
        ratio_steps=steps,
        ratio_required=ratio,
        required=required,
        allowed=number if maximum else None,
        required_by="ratio_schedule" if ratio > rule.min_apprentices else "min_apprentices",
        placements=len(placements),
        counted=len(counted),
        counted_engagements=[e.ref for e in counted],
        not_counted=not_counted,
        underpaid=underpaid,
        too_short=too_short,
        too_long=too_long,
        over_maximum=[e.ref for e in over_maximum],
        max_reimbursed_placements=cap,
        reimbursable=[e.ref for e in reimbursable],
        not_reimbursable=[e.ref for e in beyond],
        met=excess == 0 if maximum else missing == 0,
        missing=missing,
        excess=excess,
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
    result. ``problems_only``: only the departments with something that becomes a finding (a minimum not
    met, a maximum exceeded, a placement underpaid, too short or too long, or beyond the reimbursement
    cap): the compliance sweep explains only those."""
    out = []
    for dept in Department:
        # the terms forbid overlapping bands per department and currency: at most one rule applies
        for index, rule in applicable_quota_rules(terms, dept, budget_minor, currency)[:1]:
            result = _evaluate(index, rule, budget_minor, currency, roster, label, problems_only)
            if result is not None:
                out.append(result)
    return out
