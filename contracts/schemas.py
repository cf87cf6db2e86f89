from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from contracts.clauses import CustomClauseText
from contracts.rules import ClauseChoice, ComplianceReport
from guild.compacts.terms import AIUse
from guild.domain.statuses import ContractStatus
from guild.domain.values import In, Int4, Out, Slug, Text
from guild.domain.work import ContractType


class CustomClauseRef(In):
    organization: Slug
    key: Text = Field(max_length=80)
    version: Int4 = Field(ge=1, le=10_000)


class ContractRequest(In):
    engagement_id: UUID
    contract_type: ContractType
    clauses: list[ClauseChoice] = Field(max_length=50, description="library clauses with their parameters")
    custom_clauses: list[CustomClauseRef] = Field(default_factory=list, max_length=20)
    planned_ai_uses: list[AIUse] = Field(
        default_factory=list, max_length=20, description="AI uses involving this worker"
    )
    notes: Text = Field(default="", max_length=20_000, description="free text; printed literally in the PDF")
    supersedes: UUID | None = Field(
        default=None,
        description="the engagement's live contract that this one replaces (it becomes superseded); required when "
        "the engagement has a live contract, refused (409) when the named one is not it",
    )


class CompactRef(Out):
    slug: str
    title: str
    version: int
    hash: str


class ContractRead(Out):
    id: UUID
    production_id: UUID
    engagement_id: UUID
    contract_type: ContractType
    status: ContractStatus
    document_sha256: str = Field(description="SHA-256 of the contract's canonical JSON (printed on every PDF page)")
    pdf_sha256: str
    compacts: list[CompactRef]
    compliance: ComplianceReport
    issued_at: datetime
    voided_at: datetime | None
    void_reason: str
    supersedes: UUID | None = Field(description="the contract this one replaced, if any")
    superseded_by: UUID | None = Field(description="the contract that replaced this one (status superseded)")
    superseded_at: datetime | None


class VoidRequest(In):
    reason: Text = Field(min_length=1, max_length=4000)


class CustomClauseCreate(CustomClauseText):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}


class CustomClauseRead(Out):
    organization: str
    key: str
    version: int
    title: str
    text: str
    created_at: datetime


class ClauseReviewCreate(In):
    """An officer of a party reviews a custom clause against terms of this compact version it touches."""

    organization: Slug = Field(description="the organisation that owns the custom clause")
    key: Text = Field(max_length=80, examples=["custom.scan_schedule"])
    version: Int4 = Field(ge=1, le=10_000)
    party: Slug = Field(description="the compact party the reviewing officer acts for")
    term_paths: list[Text] = Field(
        min_length=1,
        max_length=20,
        description="terms of this version the clause touches (as a contract refusal lists them)",
        examples=[["ai_uses.performer_digital_replica.consent_may_be_condition_of_hire"]],
    )
    note: Text = Field(default="", max_length=4000, description="what the officer checked")


class ClauseReviewRead(Out):
    organization: str
    key: str
    version: int
    compact: str
    compact_version: int
    term_path: str
    party: str
    reviewer: str
    note: str
    reviewed_at: datetime


class ClauseInfo(Out):
    key: str
    version: int
    title: str
    applies_to: list[ContractType]
    levels: list[str] | None
    params_schema: dict[str, Any]


class PdfVerification(Out):
    pdf_sha256: str
    contract_id: UUID
    status: str
    issued_at: datetime
    document_sha256: str
