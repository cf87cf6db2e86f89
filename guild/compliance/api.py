from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter

from guild.compliance import queries
from guild.compliance.service import check_production
from guild.domain.principal import Principal
from guild.productions.queries import assert_can_check
from guild.web.params import SlugParam

Req = Request[Principal, Any, Any]
Status = Annotated[Literal["open", "resolved"] | None, QueryParameter(required=False)]


class ComplianceController(Controller):
    path = "/api/v1"
    tags = ["compliance"]

    @post(
        "/productions/{production_id:uuid}/compliance-checks",
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
        summary="Run history of a production",
        operation_id="listProductionChecks",
    )
    async def production_runs(self, request: Req, production_id: FromPath[UUID]) -> list[queries.RunRead]:
        """The production's compliance runs (scheduled sweeps and checks on demand), newest first."""
        return await queries.production_runs(request.user, production_id)

    @get(
        "/productions/{production_id:uuid}/findings",
        summary="Findings of a production",
        operation_id="listProductionFindings",
    )
    async def production_findings(
        self, request: Req, production_id: FromPath[UUID], status: Status = None
    ) -> list[queries.FindingRead]:
        """What the compliance checks found on the production: each term broken, its severity and due date;
        `?status=open` or `resolved`."""
        return await queries.production_findings(request.user, production_id, status)

    @get(
        "/compacts/{slug:str}/findings",
        summary="Findings under a compact (officers of its parties)",
        operation_id="listCompactFindings",
    )
    async def compact_findings(
        self, request: Req, slug: FromPath[SlugParam], status: Status = None
    ) -> list[queries.FindingRead]:
        """Findings on every production bound to the compact, for the officers of its parties; `?status=open` or
        `resolved`."""
        return await queries.compact_findings(request.user, slug, status)

    @get(
        "/compacts/{slug:str}/compliance-runs",
        summary="Sweeps of a compact (officers of its parties)",
        operation_id="listCompactSweeps",
    )
    async def compact_runs(self, request: Req, slug: FromPath[SlugParam]) -> list[queries.RunRead]:
        """The scheduled sweeps of the compact's bound productions (the terms' compliance cron), newest first."""
        return await queries.compact_runs(request.user, slug)
