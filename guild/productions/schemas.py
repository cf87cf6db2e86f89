from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import EmailStr, Field, model_validator

from contracts.clauses import Level
from guild.compacts.terms import MAX_MINOR, CurrencyCode, Department
from guild.schemas import In, Name, Out, Slug

MinorAmount = Annotated[int, Field(ge=0, le=MAX_MINOR, description="integer minor units (e.g. cents)")]


class ProductionStatus(StrEnum):
    development = "development"
    pre_production = "pre_production"
    shooting = "shooting"
    post_production = "post_production"
    released = "released"


def _dates_in_order(start: date | None, end: date | None, field: str = "end_date") -> None:
    if start and end and end < start:
        raise ValueError(f"{field} must not be before start_date")


class ProductionCreate(In):
    company: Slug = Field(description="slug of the production company that owns the production")
    title: Name
    budget_minor: MinorAmount
    currency: CurrencyCode
    start_date: date | None = None
    end_date: date | None = None
    status: ProductionStatus = ProductionStatus.development

    @model_validator(mode="after")
    def _order(self) -> ProductionCreate:
        _dates_in_order(self.start_date, self.end_date)
        return self


class BindingCreate(In):
    compact: Slug
    version: int = Field(ge=1, description="a ratified version number of that compact")


class BindingRead(Out):
    compact: str
    version_number: int
    version_hash: str
    bound_at: datetime


class ProductionRead(Out):
    id: UUID
    company: str
    title: str
    budget_minor: int
    currency: str
    start_date: date | None
    end_date: date | None
    status: ProductionStatus
    bindings: list[BindingRead]
    created_at: datetime


class EngagementCreate(In):
    person_name: Name
    email: EmailStr | None = Field(default=None, max_length=254, description="links the engagement to a member account")
    department: Department
    role: Name
    level: Level
    rate_minor_per_week: MinorAmount
    currency: CurrencyCode
    start_date: date
    end_date: date
    mentor_engagement_id: UUID | None = Field(
        default=None, description="an engagement of the same production, journey level or above, same department"
    )

    @model_validator(mode="after")
    def _order(self) -> EngagementCreate:
        _dates_in_order(self.start_date, self.end_date)
        return self


class EngagementRead(Out):
    id: UUID
    production_id: UUID
    person_name: str
    user_id: UUID | None
    department: Department
    role: str
    level: Level
    rate_minor_per_week: int
    currency: str
    start_date: date
    end_date: date
    mentor_engagement_id: UUID | None
    created_at: datetime
