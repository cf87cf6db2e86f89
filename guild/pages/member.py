"""A crew member's pages: my contracts (with film and company), my apprenticeships, my calendar link."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from contracts import service as contracts
from guild.apprenticeship import calendar
from guild.apprenticeship import queries as apprenticeship
from guild.infra.settings import get_settings
from guild.pages.queries import production_labels
from guild.pages.render import page
from guild.pages.session import require_principal


class MemberController(Controller):
    path = "/"

    @get("/my/contracts")
    async def my_contracts(self, request: Request[Any, Any, Any]) -> Template:
        principal = await require_principal(request)
        mine = await contracts.list_mine(principal)
        labels = await production_labels(c.production_id for c in mine)
        return page("my_contracts.html", principal, contracts=mine, labels=labels)

    @get("/contracts/{contract_id:uuid}")
    async def contract(self, request: Request[Any, Any, Any], contract_id: FromPath[UUID]) -> Template:
        """One contract: who, which film, the compacts it follows and its compliance, for whoever the API lets read it."""
        principal = await require_principal(request)
        contract = await contracts.get_contract(principal, contract_id)
        labels = await production_labels([contract.production_id])
        return page("contract.html", principal, contract=contract, label=labels.get(contract.production_id, ("", "")))

    @get("/contracts/{contract_id:uuid}/pdf")
    async def contract_pdf(self, request: Request[Any, Any, Any], contract_id: FromPath[UUID]) -> Response[bytes]:
        principal = await require_principal(request)
        data, digest = await contracts.get_pdf(principal, contract_id)  # the API's read rule: 404 if not yours
        return Response(
            data,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="contract-{contract_id}.pdf"',
                "X-Content-SHA256": digest,
            },
        )

    @get("/my/apprenticeships")
    async def my_apprenticeships(self, request: Request[Any, Any, Any]) -> Template:
        principal = await require_principal(request)
        mine = await apprenticeship.my_apprenticeships(principal)
        return page("my_apprenticeships.html", principal, mine=mine, feed=None)

    @post("/my/calendar", status_code=200)
    async def calendar_link(self, request: Request[Any, Any, Any]) -> Template:
        """A new calendar-feed link (the old one stops working); shown once, like the API's token."""
        principal = await require_principal(request)
        feed = await calendar.issue_token(principal, get_settings().public_base_url)
        mine = await apprenticeship.my_apprenticeships(principal)
        return page("my_apprenticeships.html", principal, mine=mine, feed=feed)
