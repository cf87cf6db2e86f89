"""The home page: a dashboard of what this person can do, by role; a welcome for visitors."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from contracts import service as contracts
from guild.compacts import queries as compacts
from guild.pages.render import is_officer, is_producer, page
from guild.pages.session import current_principal
from guild.productions import service as productions


class HomeController(Controller):
    path = "/"

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        principal = await current_principal(request)
        if principal is None:
            return page("welcome.html", None)
        officer, producer = is_officer(principal), is_producer(principal)
        return page(
            "home.html",
            principal,
            officer=officer,
            producer=producer,
            compacts=await compacts.list_compacts(principal) if officer else [],
            productions=await productions.list_productions(principal) if producer else [],
            contracts=await contracts.list_mine(principal),
            officer_of=sorted(slug for slug, roles in principal.roles.items() if "officer" in roles),
        )
