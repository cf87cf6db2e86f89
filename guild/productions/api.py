from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from guild.productions import service
from guild.productions.schemas import (
    BindingCreate,
    EngagementCreate,
    EngagementRead,
    ProductionCreate,
    ProductionRead,
)
from guild.security import Principal

Req = Request[Principal, Any, Any]


class ProductionController(Controller):
    path = "/api/v1/productions"
    tags = ["productions"]

    @post("/", summary="Register a production (producers of the company)")
    async def create(self, request: Req, data: JSONBody[ProductionCreate]) -> ProductionRead:
        return await service.create_production(request.user, data)

    @get("/", summary="Productions of the companies you produce for or are an officer of")
    async def list_productions(self, request: Req) -> list[ProductionRead]:
        return await service.list_productions(request.user)

    @get("/{production_id:uuid}", summary="One production")
    async def get_production(self, request: Req, production_id: FromPath[UUID]) -> ProductionRead:
        return await service.get_production(request.user, production_id)

    @post("/{production_id:uuid}/bindings", summary="Bind the production to a ratified compact version")
    async def bind(self, request: Req, production_id: FromPath[UUID], data: JSONBody[BindingCreate]) -> ProductionRead:
        return await service.bind(request.user, production_id, data)

    @post("/{production_id:uuid}/engagements", summary="Add a crew or cast engagement")
    async def add_engagement(
        self, request: Req, production_id: FromPath[UUID], data: JSONBody[EngagementCreate]
    ) -> EngagementRead:
        return await service.add_engagement(request.user, production_id, data)

    @get("/{production_id:uuid}/engagements", summary="The production's engagements")
    async def engagements(self, request: Req, production_id: FromPath[UUID]) -> list[EngagementRead]:
        return await service.list_engagements(request.user, production_id)
