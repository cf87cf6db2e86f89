"""A producer's pages: productions, one production (bindings, roster, findings, commitments, contracts), a check."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field

from contracts import service as contracts
from contracts.schemas import VoidRequest
from guild.compacts import queries as compacts
from guild.compliance import queries as compliance
from guild.compliance.service import check_production
from guild.domain.errors import NotFound
from guild.domain.values import Text
from guild.pages.render import page
from guild.pages.session import require_principal
from guild.productions import service as productions
from guild.productions.commitments import list_commitments, mark_done
from guild.productions.queries import assert_can_check
from guild.productions.schemas import BindingCreate


class BindForm(BaseModel):
    version: Text = Field(default="", max_length=200)


class VoidForm(BaseModel):
    reason: Text = Field(default="", max_length=4000)


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
            disclosures=await productions.list_disclosures(principal, production_id),
            findings=await compliance.production_findings(principal, production_id, None),
            commitments=await list_commitments(principal, production_id),
            contracts=await contracts.list_for_production(principal, production_id, None),
            runs=(await compliance.production_runs(principal, production_id))[:5],
            bindable=[
                c
                for c in await compacts.list_compacts(principal)
                if c.current_version and all(b.compact != c.slug for b in production.bindings)
            ],
        )

    @post("/{production_id:uuid}/bindings", status_code=303)
    async def bind(
        self,
        request: Request[Any, Any, Any],
        production_id: FromPath[UUID],
        data: Annotated[BindForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """Bind to a ratified compact version, chosen as ``slug@number`` from the form's list."""
        principal = await require_principal(request)
        slug, _, number = data.version.rpartition("@")
        binding = BindingCreate.model_validate({"compact": slug, "version": number}, strict=False)
        await productions.bind(principal, production_id, binding)
        return Redirect(path=f"/productions/{production_id}#h-bindings", status_code=303)

    @post("/{production_id:uuid}/commitments/{commitment_id:uuid}/done", status_code=303)
    async def commitment_done(
        self, request: Request[Any, Any, Any], production_id: FromPath[UUID], commitment_id: FromPath[UUID]
    ) -> Redirect:
        await mark_done(await require_principal(request), production_id, commitment_id)
        return Redirect(path=f"/productions/{production_id}#h-commitments", status_code=303)

    @post("/{production_id:uuid}/contracts/{contract_id:uuid}/void", status_code=303)
    async def void(
        self,
        request: Request[Any, Any, Any],
        production_id: FromPath[UUID],
        contract_id: FromPath[UUID],
        data: Annotated[VoidForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        principal = await require_principal(request)
        contract = await contracts.get_contract(principal, contract_id)
        if contract.production_id != production_id:
            raise NotFound(f"contract {contract_id} not found")
        await contracts.void(principal, contract_id, VoidRequest(reason=data.reason).reason)
        return Redirect(path=f"/productions/{production_id}#h-contracts", status_code=303)

    @post("/{production_id:uuid}/check", status_code=303)
    async def check(self, request: Request[Any, Any, Any], production_id: FromPath[UUID]) -> Redirect:
        principal = await require_principal(request)
        await assert_can_check(principal, production_id)  # the API's rule for who may check
        await check_production(production_id, principal.id)
        return Redirect(path=f"/productions/{production_id}#findings", status_code=303)
