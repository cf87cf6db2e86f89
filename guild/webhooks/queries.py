"""Webhook read models for officers: the organisation's endpoints (never their secrets) and the delivery log."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from guild.domain.errors import NotFound
from guild.domain.principal import Principal
from guild.domain.statuses import DeliveryStatus
from guild.infra.db import read_tx
from guild.infra.paging import keyset
from guild.infra.tables import WebhookDelivery, WebhookEndpoint
from guild.orgs.queries import get_organization_row
from guild.webhooks.rules import require_officer
from guild.webhooks.schemas import DeliveryRead, EndpointRead

ENDPOINT_COLUMNS = (WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.active, WebhookEndpoint.created_at)
MAX_DELIVERIES = 1000


async def list_endpoints(principal: Principal, slug: str) -> list[EndpointRead]:
    require_officer(principal, slug)
    async with read_tx():
        org = await get_organization_row(slug)
        rows = (
            await WebhookEndpoint.select(*ENDPOINT_COLUMNS)
            .where(WebhookEndpoint.organization == org["id"])
            .order_by(WebhookEndpoint.created_at)
        )
    return [EndpointRead(**r) for r in rows]


async def get_endpoint(principal: Principal, slug: str, endpoint_id: UUID) -> EndpointRead:
    """One endpoint of the organisation (officers); 404 when it is not one of its endpoints."""
    for endpoint in await list_endpoints(principal, slug):
        if endpoint.id == endpoint_id:
            return endpoint
    raise NotFound(f"webhook endpoint {endpoint_id} not found")


async def list_deliveries(
    principal: Principal,
    slug: str,
    status: DeliveryStatus | None = None,
    limit: int = 100,
    after: tuple[datetime, UUID] | None = None,
) -> list[DeliveryRead]:
    """The delivery log of the organisation's endpoints, newest first: ``limit + 1`` rows after ``after``."""
    require_officer(principal, slug)
    async with read_tx():
        org = await get_organization_row(slug)
        query = WebhookDelivery.select(
            WebhookDelivery.id,
            WebhookDelivery.endpoint.id.as_alias("endpoint_id"),
            WebhookDelivery.endpoint.url.as_alias("url"),
            WebhookDelivery.event,
            WebhookDelivery.status,
            WebhookDelivery.attempts,
            WebhookDelivery.next_attempt_at,
            WebhookDelivery.last_status_code,
            WebhookDelivery.last_error,
            WebhookDelivery.created_at,
            WebhookDelivery.delivered_at,
        ).where(WebhookDelivery.endpoint.organization == org["id"])
        if status is not None:
            query = query.where(WebhookDelivery.status == status.value)
        limit = max(1, min(limit, MAX_DELIVERIES))
        rows = await keyset(query, WebhookDelivery.created_at, WebhookDelivery.id, after, limit, descending=True)
    return [DeliveryRead(**r) for r in rows]
