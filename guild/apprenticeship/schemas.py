"""The apprenticeship planning preview's request and answer.

Bad input is a 422 naming the field and the rule: a roster row that ends before it starts
(``dates_in_order``), a mentor not in the roster or named by several rows (``mentor_in_roster``), the row
itself (``mentor_not_self``), from another department (``mentor_same_department``) or below journey level
(``mentor_journey_or_above``), shoot dates out of order (``dates_in_order``), more than 2000 rows
(``too_long``), unknown fields (``extra_forbidden``). The roster is the whole plan: a mentor must be one
of its rows.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from guild.apprenticeship.rules import QuotaResult
from guild.compacts.terms import CurrencyCode, Department
from guild.domain.values import Day, In, Name, Out
from guild.domain.work import Level, mentor_fit
from guild.productions.rules import CommitmentDue
from guild.productions.schemas import MinorAmount

MAX_ROSTER = 2000


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
