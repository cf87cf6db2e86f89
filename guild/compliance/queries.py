"""Reading compliance results: runs and findings, with who-sees-what.

Producers and officers of the production company see all findings of their productions; officers of a
compact's parties see the findings that compact cites (``finding_citation``: one finding per obligation
cites every compact requiring it) of every production bound to it; nobody else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from piccolo.columns.combination import WhereRaw
from pydantic import Field

from guild.domain.errors import NotFound
from guild.domain.principal import Principal, Role
from guild.domain.values import Out
from guild.infra.db import in_list, read_tx
from guild.infra.paging import keyset
from guild.infra.tables import Compact, CompactParty, ComplianceRun, Finding, ProductionBinding
from guild.productions.queries import production_row


class FindingRead(Out):
    id: UUID
    production_id: UUID
    production_title: str
    compact: str
    version_number: int
    rule: str
    subject: str
    severity: str
    status: str
    evidence: dict[str, Any]
    remediation: str
    first_seen_at: datetime
    last_seen_at: datetime
    due_at: datetime
    escalated_at: datetime | None
    resolved_at: datetime | None


class RunRead(Out):
    id: UUID
    trigger: str
    job_id: str | None
    slot: datetime | None
    status: str
    productions_checked: int
    findings_opened: int
    findings_resolved: int
    started_at: datetime
    finished_at: datetime | None
    error: str = Field(default="")


_FINDING_COLUMNS = (
    Finding.id,
    Finding.production.as_alias("production_id"),
    Finding.production.title.as_alias("production_title"),
    Finding.compact.slug.as_alias("compact"),
    Finding.version.number.as_alias("version_number"),
    Finding.rule,
    Finding.subject,
    Finding.severity,
    Finding.status,
    Finding.evidence,
    Finding.remediation,
    Finding.first_seen_at,
    Finding.last_seen_at,
    Finding.due_at,
    Finding.escalated_at,
    Finding.resolved_at,
)


async def _compacts_where_party_officer(principal: Principal) -> list[UUID]:
    orgs = principal.orgs_with_role(Role.officer)
    if not orgs:
        return []
    rows = await CompactParty.select(CompactParty.compact).where(CompactParty.organization.is_in(orgs))
    return sorted({r["compact"] for r in rows})


def _cited_by(compacts: list[UUID]) -> WhereRaw:
    """Findings that one of these compacts cites."""
    return WhereRaw(
        '"finding"."id" IN (SELECT c.finding FROM finding_citation c WHERE {})', in_list("c.compact", compacts)
    )


@dataclass(frozen=True)
class FindingFilter:
    """What a list of findings may be narrowed to (each unset: any)."""

    status: str | None = None
    severity: str | None = None
    rule: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    after: tuple[datetime, UUID] | None = None  # keyset paging on (first_seen_at, id): limit + 1 rows
    limit: int | None = None

    def apply(self, query: Any) -> Any:
        if self.status:
            query = query.where(Finding.status == self.status)
        if self.severity:
            query = query.where(Finding.severity == self.severity)
        if self.rule:
            query = query.where(Finding.rule == self.rule)
        if self.due_before is not None:
            query = query.where(Finding.due_at < self.due_before)
        if self.due_after is not None:
            query = query.where(Finding.due_at > self.due_after)
        if self.limit is None:
            return query.order_by(Finding.first_seen_at)
        return keyset(query, Finding.first_seen_at, Finding.id, self.after, self.limit, descending=False)


def _filter_of(status: str | FindingFilter | None) -> FindingFilter:
    return status if isinstance(status, FindingFilter) else FindingFilter(status=status)


async def production_findings(
    principal: Principal, production_id: UUID, status: str | FindingFilter | None
) -> list[FindingRead]:
    async with read_tx():
        query = Finding.select(*_FINDING_COLUMNS).where(Finding.production == production_id)
        try:
            await production_row(principal, production_id)
        except NotFound:
            bound = [
                b["compact"]
                for b in await ProductionBinding.select(ProductionBinding.compact).where(
                    ProductionBinding.production == production_id
                )
            ]
            visible = sorted(set(bound) & set(await _compacts_where_party_officer(principal)))
            if not visible:
                raise
            query = query.where(_cited_by(visible))
        query = _filter_of(status).apply(query)
        rows = await query.output(load_json=True)
    return [FindingRead(**r) for r in rows]


async def _compact_for_party_officer(principal: Principal, slug: str) -> dict[str, Any]:
    compact = await Compact.select(Compact.id).where(Compact.slug == slug).first()
    if compact is None or not (principal.is_admin or compact["id"] in await _compacts_where_party_officer(principal)):
        raise NotFound(f"compact {slug!r} not found")
    return compact


async def compact_findings(principal: Principal, slug: str, status: str | FindingFilter | None) -> list[FindingRead]:
    async with read_tx():
        compact = await _compact_for_party_officer(principal, slug)
        query = Finding.select(*_FINDING_COLUMNS).where(_cited_by([compact["id"]]))
        query = _filter_of(status).apply(query)
        rows = await query.output(load_json=True)
    return [FindingRead(**r) for r in rows]


_RUN_COLUMNS = (
    ComplianceRun.id,
    ComplianceRun.trigger,
    ComplianceRun.job_id,
    ComplianceRun.slot,
    ComplianceRun.status,
    ComplianceRun.productions_checked,
    ComplianceRun.findings_opened,
    ComplianceRun.findings_resolved,
    ComplianceRun.started_at,
    ComplianceRun.finished_at,
    ComplianceRun.error,
)


async def production_runs(principal: Principal, production_id: UUID) -> list[RunRead]:
    async with read_tx():
        await production_row(principal, production_id)
        bound = [
            b["compact"]
            for b in await ProductionBinding.select(ProductionBinding.compact).where(
                ProductionBinding.production == production_id
            )
        ]
        condition: Any = ComplianceRun.production == production_id
        if bound:
            condition = condition | ComplianceRun.compact.is_in(bound)
        rows = (
            await ComplianceRun.select(*_RUN_COLUMNS)
            .where(condition)
            .order_by(ComplianceRun.started_at, ascending=False)
        )
    return [RunRead(**r) for r in rows]


async def production_run(principal: Principal, production_id: UUID, run_id: UUID) -> RunRead:
    """One run of a production's history (404 when not in it, or the production is not the caller's)."""
    for run in await production_runs(principal, production_id):
        if run.id == run_id:
            return run
    raise NotFound(f"compliance run {run_id} not found")


async def compact_runs(principal: Principal, slug: str) -> list[RunRead]:
    async with read_tx():
        compact = await _compact_for_party_officer(principal, slug)
        rows = (
            await ComplianceRun.select(*_RUN_COLUMNS)
            .where(ComplianceRun.compact == compact["id"])
            .order_by(ComplianceRun.started_at, ascending=False)
        )
    return [RunRead(**r) for r in rows]


async def run_read(run_id: UUID) -> RunRead:
    async with read_tx():
        row = await ComplianceRun.select(*_RUN_COLUMNS).where(ComplianceRun.id == run_id).first()
    if row is None:
        raise NotFound(f"compliance run {run_id} not found")
    return RunRead(**row)


async def list_all_findings(
    compact_slug: str | None, production_id: str | None, status: str | None
) -> list[FindingRead]:
    """For the operator CLI: every finding, filtered."""
    async with read_tx():
        query = Finding.select(*_FINDING_COLUMNS)
        if compact_slug:
            compact = await Compact.select(Compact.id).where(Compact.slug == compact_slug).first()
            query = query.where(_cited_by([compact["id"]] if compact else []))
        if production_id:
            query = query.where(Finding.production == UUID(production_id))
        if status:
            query = query.where(Finding.status == status)
        rows = await query.order_by(Finding.first_seen_at).output(load_json=True)
    return [FindingRead(**r) for r in rows]
