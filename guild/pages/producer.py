"""A producer's pages: productions, one production (bindings, roster, findings, commitments, contracts), a check."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from contracts import service as contracts
from guild.compliance import queries as compliance
from guild.compliance.service import check_production
from guild.pages.render import page
from guild.pages.session import require_principal
from guild.productions import service as productions
from guild.productions.commitments import list_commitments
from guild.productions.queries import assert_can_check


class ProducerController(Controller):
    path = "/productions"

    @get("/")
    async def list_productions(self, request: Request[Any, Any, Any]) -> Template:
        principal = await require_principal(request)
        return page("productions.html", principal, productions=await productions.list_productions(principal))

    @get("/{production_id:uuid}")
    async def production(self, request: Request[Any, Any, Any], production_id: FromPath[UUID]) -> Template:
        principal = await require_principal(request)
        production = await productions.get_production(principal, production_id)  # 404 unless theirs
        return page(
            "production.html",
            principal,
            production=production,
            roster=await productions.list_engagements(principal, production_id),
            findings=await compliance.production_findings(principal, production_id, None),
            commitments=await list_commitments(principal, production_id),
            contracts=await contracts.list_for_production(principal, production_id, None),
            runs=(await compliance.production_runs(principal, production_id))[:5],
        )

    @post("/{production_id:uuid}/check", status_code=303)
    async def check(self, request: Request[Any, Any, Any], production_id: FromPath[UUID]) -> Redirect:
        principal = await require_principal(request)
        await assert_can_check(principal, production_id)  # the API's rule for who may check
        await check_production(production_id, principal.id)
        return Redirect(path=f"/productions/{production_id}#findings", status_code=303)
