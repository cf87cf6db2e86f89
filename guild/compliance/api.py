from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter

from guild.compliance import views
from guild.params import SlugParam
from guild.productions.service import assert_can_check
from guild.security import Principal

Req = Request[Principal, Any, Any]
Status = Annotated[Literal["open", "resolved"] | None, QueryParameter(required=False)]


class ComplianceController(Controller):
    path = "/api/v1"
    tags = ["compliance"]

    @post(
        "/productions/{production_id:uuid}/compliance-checks",
        summary="Check a production now (its producers and officers)",
    )
    async def check_now(self, request: Req, production_id: FromPath[UUID]) -> views.RunRead:
        from guild.compliance.engine import check_production

        await assert_can_check(request.user, production_id)
        run_id = await check_production(production_id, request.user.id)
        return await views.run_read(run_id)

    @get("/productions/{production_id:uuid}/compliance-checks", summary="Run history of a production")
    async def production_runs(self, request: Req, production_id: FromPath[UUID]) -> list[views.RunRead]:
        return await views.production_runs(request.user, production_id)

    @get("/productions/{production_id:uuid}/findings", summary="Findings of a production")
    async def production_findings(
        self, request: Req, production_id: FromPath[UUID], status: Status = None
    ) -> list[views.FindingRead]:
        return await views.production_findings(request.user, production_id, status)

    @get("/compacts/{slug:str}/findings", summary="Findings under a compact (officers of its parties)")
    async def compact_findings(
        self, request: Req, slug: FromPath[SlugParam], status: Status = None
    ) -> list[views.FindingRead]:
        return await views.compact_findings(request.user, slug, status)

    @get("/compacts/{slug:str}/compliance-runs", summary="Sweeps of a compact (officers of its parties)")
    async def compact_runs(self, request: Req, slug: FromPath[SlugParam]) -> list[views.RunRead]:
        return await views.compact_runs(request.user, slug)
