from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from guild.compacts.redline import Change
from guild.compacts.terms import Terms
from guild.domain.statuses import VersionStatus
from guild.domain.values import In, Name, Out, Slug, Text, fail_at

OPEN_STATUSES = (VersionStatus.draft, VersionStatus.proposed)
CONVENING_KINDS = ("guild", "union", "festival", "film_fund")


class CompactCreate(In):
    slug: Slug
    title: Name
    convening_org: Slug = Field(description="slug of the organisation whose officers draft and propose")
    parties: list[Slug] = Field(
        default_factory=list,
        max_length=50,
        description="other signatory organisations (slugs); the convening organisation is always a party",
    )
    terms: Terms


class DraftUpdate(In):
    terms: Terms
    parties: list[Slug] | None = Field(default=None, max_length=50, description="replace the signatories (drafts only)")


class AmendmentCreate(In):
    terms: Terms | None = Field(default=None, description="the amended terms; default: a copy of the current version")


class DecisionCreate(In):
    organization: Slug = Field(description="the party organisation you decide for (you must be its officer)")
    decision: Literal["approve", "reject"]
    reason: Text = Field(default="", max_length=4000)

    @model_validator(mode="after")
    def _reason_for_rejection(self) -> DecisionCreate:
        if self.decision == "reject" and not self.reason.strip():
            fail_at(type(self), [(("reason",), "reason_required", "reason is required when rejecting", self.reason)])
        return self


class WithdrawRequest(In):
    reason: Text = Field(min_length=1, max_length=4000)


class PartyRead(Out):
    slug: str
    name: str
    kind: str


class DecisionRead(Out):
    organization: str
    decision: str
    reason: str
    decided_by: str
    decided_at: datetime


class VersionSummary(Out):
    number: int
    status: VersionStatus
    terms_hash: str | None


class VersionRead(Out):
    compact: str
    number: int
    parent_number: int | None
    status: VersionStatus
    terms: Terms
    terms_hash: str | None = Field(description="SHA-256 of the version's canonical JSON (set when proposed)")
    parties: list[str]
    approvals_required: int
    decisions: list[DecisionRead]
    revision: int
    created_at: datetime
    proposed_at: datetime | None
    ratified_at: datetime | None
    superseded_at: datetime | None
    closed_at: datetime | None
    closed_reason: str


class CompactRead(Out):
    id: UUID
    slug: str
    title: str
    convening_org: str
    parties: list[PartyRead]
    current_version: int | None = Field(description="the ratified version in force, if any")
    open_version: int | None = Field(description="the draft or proposed version, if any")
    versions: list[VersionSummary]
    created_at: datetime


class DiffRead(Out):
    compact: str
    from_number: int
    to_number: int
    from_hash: str | None
    to_hash: str | None
    changes: list[Change]
    text: str
