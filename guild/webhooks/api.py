from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, FromQuery, JSONBody

from guild.domain.errors import Conflict
from guild.domain.paging import ident, instant
from guild.domain.principal import Principal, Role
from guild.domain.statuses import DeliveryStatus
from guild.web.paging import PAGE_HEADERS, Page, paged
from guild.web.params import SlugParam
from guild.web.problems import documented
from guild.web.security import org_role_guard
from guild.webhooks import examples, queries, service
from guild.webhooks.schemas import DeliveryRead, EndpointCreate, EndpointCreated, EndpointRead

Req = Request[Principal, Any, Any]
_OFFICERS = {"org_roles": (Role.officer,)}


class WebhookController(Controller):
    path = "/api/v1/organizations/{slug:str}/webhooks"
    tags = ["webhooks"]
    guards = [org_role_guard]

    @post(
        "/",
        opt={
            **_OFFICERS,
            "location": "/api/v1/organizations/{slug}/webhooks/{id}",
            "examples": {"The guild's event receiver": examples.ENDPOINT_CREATE},
            "response_examples": {"The endpoint and its secret, shown once": examples.ENDPOINT_CREATED},
        },
        summary="Register a webhook endpoint (officers); the signing secret is returned only here",
        response_headers=[ResponseHeader(name="Cache-Control", value="no-store")],
        operation_id="createWebhookEndpoint",
    )
    async def create_endpoint(
        self, slug: FromPath[SlugParam], data: JSONBody[EndpointCreate], request: Req
    ) -> EndpointCreated:
        """An officer registers an https URL to which guild POSTs the organisation's events, signed with HMAC-
        SHA256. The signing secret is in this answer only: store it now."""
        return await service.create_endpoint(request.user, slug, data.url)

    @get(
        "/",
        opt=_OFFICERS,
        response_headers=PAGE_HEADERS,
        summary="Webhook endpoints of the organisation (officers; secrets are never listed)",
        operation_id="listWebhookEndpoints",
    )
    async def list_endpoints(self, slug: FromPath[SlugParam], request: Req, page: Page) -> Response[list[EndpointRead]]:
        """The organisation's webhook endpoints, active or not; secrets are never shown again."""
        rows = await queries.list_endpoints(request.user, slug)
        return paged(request, page, rows, lambda e: (instant(e.created_at), ident(e.id)))

    @get(
        "/{endpoint_id:uuid}",
        opt=_OFFICERS,
        summary="One webhook endpoint of the organisation (officers)",
        operation_id="getWebhookEndpoint",
    )
    async def get_endpoint(self, slug: FromPath[SlugParam], endpoint_id: FromPath[UUID], request: Req) -> EndpointRead:
        """One of the organisation's webhook endpoints (where a new endpoint's Location points); never its secret."""
        return await queries.get_endpoint(request.user, slug, endpoint_id)

    @post(
        "/{endpoint_id:uuid}/deactivate",
        opt=_OFFICERS,
        status_code=200,
        raises=documented(Conflict),
        summary="Stop sending to an endpoint (officers); its pending deliveries are closed; 409 when already inactive",
        operation_id="deactivateWebhookEndpoint",
    )
    async def deactivate_endpoint(
        self, slug: FromPath[SlugParam], endpoint_id: FromPath[UUID], request: Req
    ) -> EndpointRead:
        """An officer stops deliveries to an endpoint: it stays listed as inactive and its pending deliveries are
        closed. 409 when it is already inactive."""
        return await service.deactivate_endpoint(request.user, slug, endpoint_id)

    @get(
        "/deliveries",
        opt=_OFFICERS,
        response_headers=PAGE_HEADERS,
        summary="Delivery log of the organisation's endpoints, newest first (officers)",
        operation_id="listWebhookDeliveries",
    )
    async def list_deliveries(
        self,
        slug: FromPath[SlugParam],
        request: Req,
        page: Page,
        status: FromQuery[DeliveryStatus | None] = None,
    ) -> Response[list[DeliveryRead]]:
        """The delivery log of the organisation's endpoints, newest first: event, attempts, next attempt, last HTTP
        status or error; `?status=` narrows it."""
        rows = await queries.list_deliveries(request.user, slug, status, page.limit, page.after_time_id())
        return paged(request, page.first(), rows, lambda d: (instant(d.created_at), ident(d.id)), descending=True)
