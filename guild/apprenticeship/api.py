"""The producers' apprenticeship planning preview.

``POST /api/v1/productions/{production_id}/apprenticeship/preview`` takes a planned roster (and,
optionally, another budget or other shoot dates than the production's) and answers, for every
compact version the production is bound to, the explained quota results of
:func:`guild.apprenticeship.rules.quota_report` — the function the compliance sweep uses — and the
commitments' due dates. Nothing is written.

Only producers and officers of the production's company may preview (anyone else: 404). Bad input
is a 422 naming the field and the rule: a roster row that ends before it starts (``dates_in_order``),
a mentor not in the roster or named by several rows (``mentor_in_roster``), from another department
(``mentor_same_department``) or below journey level (``mentor_journey_or_above``), shoot dates out of
order (``dates_in_order``), dates outside 1900-01-01..2200-12-31 (``greater_than_equal``,
``less_than_equal``: no due date can leave the calendar; ``due_date_in_calendar`` stays as a guard),
another currency without a budget in it (``budget_with_currency``), more than 2000 rows (``too_long``),
unknown fields (``extra_forbidden``).
The roster is the whole plan: a mentor must be one of its rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Controller, Request, post
from litestar.params import FromPath, JSONBody
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from guild.apprenticeship.rules import PlannedEngagement, QuotaResult, quota_report
from guild.compacts.terms import CurrencyCode, Department
from guild.domain.dates import shoot_weeks
from guild.domain.errors import invalid
from guild.domain.principal import Principal
from guild.domain.values import Day, In, Name, Out
from guild.domain.work import Level, mentor_fit
from guild.infra.db import read_tx
from guild.productions.queries import bound_versions, production_row
from guild.productions.rules import CommitmentDue, DueDateOutOfRange, commitment_schedule
from guild.productions.schemas import MinorAmount

__all__ = [
    "MAX_ROSTER",
    "ApprenticeshipPreviewController",
    "PreviewRead",
    "PreviewRequest",
    "RosterRow",
    "VersionPreview",
    "preview",
]

Req = Request[Principal, Any, Any]
MAX_ROSTER = 2000
PREVIEW_MAX_BYTES = 4 * 1024 * 1024  # 2000 rows of the longest names still fit


def _dates_error(field: str, start: date, end: date) -> PydanticCustomError:
    return PydanticCustomError(
        "dates_in_order",
        "{field} ({end}) must not be before {start_field} ({start})",
        {
            "field": field,
            "end": end.isoformat(),
            "start_field": field.replace("end", "start"),
            "start": start.isoformat(),
        },
    )


class RosterRow(In):
    """One planned engagement; ``mentor_person_name`` names another row of the same roster."""

    person_name: Name
    department: Department
    level: Level
    rate_minor_per_week: MinorAmount
    currency: CurrencyCode
    start_date: Day
    end_date: Day
    mentor_person_name: Name | None = Field(
        default=None, description="a journey-level (or above) row of the same department"
    )

    @field_validator("end_date")
    @classmethod
    def _in_order(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and value < start:
            raise _dates_error("end_date", start, value)
        return value


class PreviewRequest(In):
    budget_minor: MinorAmount | None = Field(default=None, description="default: the production's budget")
    currency: CurrencyCode | None = Field(default=None, description="default: the production's currency")
    shoot_start: Day | None = Field(default=None, description="default: the production's start_date")
    shoot_end: Day | None = Field(default=None, description="default: the production's end_date")
    roster: list[RosterRow] = Field(max_length=MAX_ROSTER, description=f"the planned roster, at most {MAX_ROSTER} rows")

    @field_validator("shoot_end")
    @classmethod
    def _shoot_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("shoot_start")
        if start is not None and value is not None and value < start:
            raise _dates_error("shoot_end", start, value)
        return value

    @model_validator(mode="after")
    def _mentors(self) -> PreviewRequest:
        by_name: dict[str, list[RosterRow]] = {}
        for row in self.roster:
            by_name.setdefault(row.person_name, []).append(row)
        problems: list[InitErrorDetails] = []

        def problem(i: int, rule: str, message: str, value: str) -> None:
            problems.append(
                InitErrorDetails(
                    type=PydanticCustomError(rule, "{message}", {"message": message}),
                    loc=("roster", i, "mentor_person_name"),
                    input=value,
                )
            )

        for i, row in enumerate(self.roster):
            name = row.mentor_person_name
            if name is None:
                continue
            found = by_name.get(name, [])
            if len(found) != 1:
                problem(
                    i,
                    "mentor_in_roster",
                    f"{len(found)} roster rows are named {name!r}; the mentor must be exactly one row of the roster",
                    name,
                )
            elif found[0] is row:
                problem(i, "mentor_not_self", f"{name!r} cannot mentor themselves", name)
            elif not (fit := mentor_fit(row.department, found[0].level, found[0].department)).same_department:
                problem(
                    i,
                    "mentor_same_department",
                    f"the mentor {name!r} works in {found[0].department}, not {row.department}",
                    name,
                )
            elif not fit.journey_or_above:
                problem(
                    i,
                    "mentor_journey_or_above",
                    f"the mentor {name!r} is {found[0].level} level; a mentor must be journey level or above",
                    name,
                )
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    def planned(self) -> list[PlannedEngagement]:
        """The rows as the quota engine reads them: ``roster[i]`` refs, mentors resolved."""
        by_name = {r.person_name: r for r in self.roster}
        out = []
        for i, r in enumerate(self.roster):
            mentor = by_name.get(r.mentor_person_name) if r.mentor_person_name else None
            out.append(
                PlannedEngagement(
                    ref=f"roster[{i}]",
                    person_name=r.person_name,
                    department=r.department,
                    level=r.level,
                    rate_minor_per_week=r.rate_minor_per_week,
                    currency=r.currency,
                    start_date=r.start_date,
                    end_date=r.end_date,
                    mentor_level=mentor.level if mentor else None,
                    mentor_department=mentor.department if mentor else None,
                )
            )
        return out


class VersionPreview(Out):
    compact: str
    compact_title: str
    version_number: int
    version_hash: str
    label: str
    quotas_met: bool = Field(description="every quota of this version is met by the roster")
    quotas: list[QuotaResult] = Field(description="one per department whose budget band holds the budget")
    commitments: list[CommitmentDue] = Field(
        description="every commitment rule: its due date, or why it does not apply"
    )


class PreviewRead(Out):
    production_id: UUID
    budget_minor: int
    currency: str
    shoot_start: date | None
    shoot_end: date | None
    shoot_weeks: int | None
    roster_rows: int
    versions: list[VersionPreview]
    notes: list[str]


async def preview(principal: Principal, production_id: UUID, data: PreviewRequest) -> PreviewRead:

    async with read_tx():
        production = await production_row(principal, production_id)
        bindings = await bound_versions(production_id)

    if data.currency is not None and data.budget_minor is None and data.currency != production["currency"]:
        raise invalid(
            "budget_minor",
            "budget_with_currency",
            f"the production's budget is in {production['currency']}; give budget_minor in {data.currency}",
        )
    budget = production["budget_minor"] if data.budget_minor is None else data.budget_minor
    currency = data.currency or production["currency"]
    start = data.shoot_start or production["start_date"]
    end = data.shoot_end or production["end_date"]
    if start is not None and end is not None and end < start:
        field = "shoot_end" if data.shoot_end is not None else "shoot_start"
        raise invalid(
            field,
            "dates_in_order",
            f"the shoot ends ({end}) before it starts ({start})",
            shoot_start=start.isoformat(),
            shoot_end=end.isoformat(),
        )
    notes = []
    if start is None or end is None:
        notes.append("no commitment due dates: give shoot_start and shoot_end (the production has no shoot dates)")
    if not bindings:
        notes.append("the production is not bound to any compact version: no quota or commitment applies")

    roster = data.planned()
    versions = []
    for b in bindings:
        terms, label = b.terms, b.label
        quotas = quota_report(budget, currency, roster, terms, label)
        try:
            schedule = (
                []
                if start is None or end is None
                else commitment_schedule(list(terms.apprenticeship_commitments), start, end)
            )
        except DueDateOutOfRange as exc:
            field = str(exc.rule.anchor)
            raise invalid(field, "due_date_in_calendar", f"{exc} (under {label})", commitment=exc.rule.key) from None
        versions.append(
            VersionPreview(
                compact=b.compact_slug,
                compact_title=b.compact_title,
                version_number=b.version_number,
                version_hash=b.version_hash,
                label=label,
                quotas_met=all(q.met for q in quotas),
                quotas=quotas,
                commitments=schedule,
            )
        )
    return PreviewRead(
        production_id=production_id,
        budget_minor=budget,
        currency=currency,
        shoot_start=start,
        shoot_end=end,
        shoot_weeks=None if start is None or end is None else shoot_weeks(start, end),
        roster_rows=len(roster),
        versions=versions,
        notes=notes,
    )


class ApprenticeshipPreviewController(Controller):
    path = "/api/v1/productions"
    tags = ["apprenticeship"]

    @post(
        "/{production_id:uuid}/apprenticeship/preview",
        status_code=200,
        request_max_body_size=PREVIEW_MAX_BYTES,
        summary="Preview apprenticeship quotas and commitment due dates for a planned roster (producers and officers)",
    )
    async def preview(self, request: Req, production_id: FromPath[UUID], data: JSONBody[PreviewRequest]) -> PreviewRead:
        return await preview(request.user, production_id, data)
