from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from guild.compliance import queries
from guild.compliance.rules import Rule, Severity
from guild.compliance.service import check_production
from guild.domain.paging import ident, instant
from guild.domain.principal import Principal
from guild.productions.queries import assert_can_check
from guild.web.paging import PAGE_HEADERS, Page, paged
from guild.web.params import SlugParam

Req = Request[Principal, Any, Any]
Status = Annotated[Literal["open", "resolved"] | None, QueryParameter(required=False)]
SeverityFilter = Annotated[
    Severity | None, QueryParameter(required=False, description="only findings of this severity")
]
RuleFilter = Annotated[Rule | None, QueryParameter(required=False, description="only findings of this rule")]
DueBefore = Annotated[
    datetime | None, QueryParameter(name="due_before", required=False, description="only findings due before this")
]
DueAfter = Annotated[
    datetime | None, QueryParameter(name="due_after", required=False, description="only findings due after this")
]


def _finding_key(f: queries.FindingRead) -> tuple[int, str]:
    return (instant(f.first_seen_at), ident(f.id))


def _run_key(r: queries.RunRead) -> tuple[int, str]:
    return (instant(r.started_at), ident(r.id))


def _findings_filter(
    status: str | None,
    severity: Severity | None,
    rule: Rule | None,
    due_before: datetime | None,
    due_after: datetime | None,
    page: Page,
) -> queries.FindingFilter:
    return queries.FindingFilter(
        after=page.after_time_id(),
        limit=page.limit,
        status=status,
        severity=severity.value if severity else None,
        rule=rule.value if rule else None,
        due_before=due_before,
        due_after=due_after,
    )


class ComplianceController(Controller):
    path = "/api/v1"
    tags = ["compliance"]

    @post(
        "/productions/{production_id:uuid}/compliance-checks",
        opt={"location": "/api/v1/productions/{production_id}/compliance-checks/{id}"},
        summary="Check a production now (its producers and officers)",
        operation_id="checkProduction",
    )
    async def check_now(self, request: Req, production_id: FromPath[UUID]) -> queries.RunRead:
        """Checks the production against the compacts it is bound to now, rather than at the next scheduled sweep,
        and answers the run: productions checked, findings opened and resolved."""

        await assert_can_check(request.user, production_id)
        run_id = await check_production(production_id, request.user.id)
        return await queries.run_read(run_id)

    @get(
        "/productions/{production_id:uuid}/compliance-checks",
        response_headers=PAGE_HEADERS,
        summary="Run history of a production",
        operation_id="listProductionChecks",
    )
    async def production_runs(
        self, request: Req, production_id: FromPath[UUID], page: Page
    ) -> Response[list[queries.RunRead]]:
        """The production's compliance runs (scheduled sweeps and checks on demand), newest first."""
        runs = await queries.production_runs(request.user, production_id)
        return paged(request, page, runs, _run_key, descending=True)

    @get(
        "/productions/{production_id:uuid}/compliance-checks/{run_id:uuid}",
        summary="One run of a production",
        operation_id="getProductionCheck",
    )
    async def production_run(
        self, request: Req, production_id: FromPath[UUID], run_id: FromPath[UUID]
    ) -> queries.RunRead:
        """One compliance run of the production's history (where a new check's Location points)."""
        return await queries.production_run(request.user, production_id, run_id)

    @get(
        "/productions/{production_id:uuid}/findings",
        response_headers=PAGE_HEADERS,
        summary="Findings of a production",
        operation_id="listProductionFindings",
    )
    async def production_findings(
        self,
        request: Req,
        production_id: FromPath[UUID],
        page: Page,
        status: Status = None,
        severity: SeverityFilter = None,
        rule: RuleFilter = None,
        due_before: DueBefore = None,
        due_after: DueAfter = None,
    ) -> Response[list[queries.FindingRead]]:
        """What the compliance checks found on the production: each term broken, its severity and due date;
        filtered by `status` (open or resolved), `severity`, `rule`, `due_before` and `due_after`."""
        wanted = _findings_filter(status, severity, rule, due_before, due_after, page)
        rows = await queries.production_findings(request.user, production_id, wanted)
        return paged(request, page.first(), rows, _finding_key)

    @get(
        "/compacts/{slug:str}/findings",
        response_headers=PAGE_HEADERS,
        summary="Findings under a compact (officers of its parties)",
        operation_id="listCompactFindings",
    )
    async def compact_findings(
        self,
        request: Req,
        slug: FromPath[SlugParam],
        page: Page,
        status: Status = None,
        severity: SeverityFilter = None,
        rule: RuleFilter = None,
        due_before: DueBefore = None,
        due_after: DueAfter = None,
    ) -> Response[list[queries.FindingRead]]:
        """Findings on every production bound to the compact, for the officers of its parties; filtered as a
        production's findings are."""
        wanted = _findings_filter(status, severity, rule, due_before, due_after, page)
        return paged(request, page.first(), await queries.compact_findings(request.user, slug, wanted), _finding_key)

    @get(
        "/compacts/{slug:str}/compliance-runs",
        response_headers=PAGE_HEADERS,
        summary="Sweeps of a compact (officers of its parties)",
        operation_id="listCompactSweeps",
    )
    async def compact_runs(
        self, request: Req, slug: FromPath[SlugParam], page: Page
    ) -> Response[list[queries.RunRead]]:
        """The scheduled sweeps of the compact's bound productions (the terms' compliance cron), newest first."""
        return paged(request, page, await queries.compact_runs(request.user, slug), _run_key, descending=True)
