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
    )
    async def check_now(self, request: Req, production_id: FromPath[UUID]) -> queries.RunRead:

        await assert_can_check(request.user, production_id)
        run_id = await check_production(production_id, request.user.id)
        return await queries.run_read(run_id)

    @get("/productions/{production_id:uuid}/compliance-checks", summary="Run history of a production")
    async def production_runs(self, request: Req, production_id: FromPath[UUID]) -> list[queries.RunRead]:
        return await queries.production_runs(request.user, production_id)

    @get("/productions/{production_id:uuid}/findings", summary="Findings of a production")
    async def production_findings(
        self, request: Req, production_id: FromPath[UUID], status: Status = None
    ) -> list[queries.FindingRead]:
        return await queries.production_findings(request.user, production_id, status)

    @get("/compacts/{slug:str}/findings", summary="Findings under a compact (officers of its parties)")
    async def compact_findings(
        self, request: Req, slug: FromPath[SlugParam], status: Status = None
    ) -> list[queries.FindingRead]:
        return await queries.compact_findings(request.user, slug, status)

    @get("/compacts/{slug:str}/compliance-runs", summary="Sweeps of a compact (officers of its parties)")
    async def compact_runs(self, request: Req, slug: FromPath[SlugParam]) -> list[queries.RunRead]:
        return await queries.compact_runs(request.user, slug)
