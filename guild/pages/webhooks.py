"""An organisation's officers: webhook endpoints (add, deactivate) and the delivery log."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field

from guild.domain.principal import Principal
from guild.domain.values import Text
from guild.pages.render import page
from guild.pages.session import require_principal
from guild.web.params import SlugParam
from guild.webhooks import queries, service
from guild.webhooks.schemas import EndpointCreated


class EndpointForm(BaseModel):
    url: Text = Field(default="", max_length=2000)


async def _page(principal: Principal, slug: str, created: EndpointCreated | None = None) -> Template:
    return page(
        "webhooks.html",
        principal,
        slug=slug,
        endpoints=await queries.list_endpoints(principal, slug),  # officers of the organisation only
        deliveries=await queries.list_deliveries(principal, slug, None, 50),
        created=created,
    )


class WebhookPagesController(Controller):
    path = "/organizations/{slug:str}/webhooks"

    @get("/")
    async def webhooks(self, request: Request[Any, Any, Any], slug: FromPath[SlugParam]) -> Template:
        return await _page(await require_principal(request), slug)

    @post("/", status_code=200)
    async def add(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[SlugParam],
        data: Annotated[EndpointForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        """The signing secret is shown on this answer only, as the API does."""
        principal = await require_principal(request)
        created = await service.create_endpoint(principal, slug, data.url)
        return await _page(principal, slug, created)

    @post("/{endpoint_id:uuid}/deactivate", status_code=303)
    async def deactivate(
        self, request: Request[Any, Any, Any], slug: FromPath[SlugParam], endpoint_id: FromPath[UUID]
    ) -> Redirect:
        await service.deactivate_endpoint(await require_principal(request), slug, endpoint_id)
        return Redirect(path=f"/organizations/{slug}/webhooks", status_code=303)
