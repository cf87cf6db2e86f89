"""Webhook use cases: officers register and deactivate endpoints; features queue events (the outbox).

``enqueue`` runs inside the caller's ``write_tx()``: one ``WebhookDelivery`` per active endpoint of the
given organisations, committed (or rolled back) together with the change it announces; the deliverer
(:mod:`guild.webhooks.delivery`) sends them later.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx

from guild.domain.canonical import canonical_json
from guild.domain.errors import Conflict, NotFound, invalid
from guild.domain.principal import Principal
from guild.domain.statuses import DeliveryStatus
from guild.infra import audit
from guild.infra.db import engine, write_tx
from guild.infra.settings import get_settings
from guild.infra.tables import WebhookDelivery, WebhookEndpoint
from guild.orgs.queries import get_organization_row
from guild.webhooks.queries import ENDPOINT_COLUMNS
from guild.webhooks.rules import check_event_name, check_url, envelope, require_officer
from guild.webhooks.schemas import EndpointCreated, EndpointRead

_INSERT_CHUNK = 500


def validate_url(url: str) -> str:
    """:func:`guild.webhooks.rules.check_url` under this deployment's ``GUILD_WEBHOOK_PRIVATE_TARGETS``, then
    the parse the deliverer makes (IDNA host names, strict IPv4). 422 on ``url``."""
    check_url(url, private_targets=get_settings().webhook_private_targets)
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise invalid("url", "url_format", f"not a valid URL: {exc}") from None
    return url


# --- endpoints ---------------------------------------------------------------------------------


async def create_endpoint(principal: Principal, slug: str, url: str) -> EndpointCreated:
    """Register an endpoint; the response carries its signing secret, which is never shown again."""
    require_officer(principal, slug)
    url = validate_url(url.strip())
    secret = secrets.token_urlsafe(32)
    endpoint_id, created_at = uuid4(), datetime.now(UTC)
    async with write_tx():
        org = await get_organization_row(slug)
        await WebhookEndpoint.insert(
            WebhookEndpoint(
                id=endpoint_id, organization=org["id"], url=url, secret=secret, active=True, created_at=created_at
            )
        )
        await audit.record(
            principal.id,
            "webhook_endpoint.created",
            "organization",
            org["id"],
            {"endpoint_id": str(endpoint_id), "url": url},
        )
    return EndpointCreated(id=endpoint_id, url=url, active=True, created_at=created_at, secret=secret)


async def deactivate_endpoint(principal: Principal, slug: str, endpoint_id: UUID) -> EndpointRead:
    """Stop sending to an endpoint; its pending deliveries are closed as failed. An endpoint that is
    already inactive is 409: of concurrent requests exactly one deactivates it (a conditional UPDATE)."""
    require_officer(principal, slug)
    async with write_tx():
        org = await get_organization_row(slug)
        mine = (WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.organization == org["id"])
        changed = (
            await WebhookEndpoint.update({WebhookEndpoint.active: False})
            .where(
                mine & (WebhookEndpoint.active == True)  # noqa: E712
            )
            .returning(*ENDPOINT_COLUMNS)
        )
        if not changed:
            if not await WebhookEndpoint.exists().where(mine):
                raise NotFound(f"webhook endpoint {endpoint_id} not found in {slug!r}")
            raise Conflict(
                f"webhook endpoint {endpoint_id} is already inactive", rule="already_inactive", field="endpoint_id"
            )
        await WebhookDelivery.update(
            {WebhookDelivery.status: DeliveryStatus.failed.value, WebhookDelivery.last_error: "endpoint deactivated"}
        ).where((WebhookDelivery.endpoint == endpoint_id) & (WebhookDelivery.status == DeliveryStatus.pending.value))
        await audit.record(
            principal.id, "webhook_endpoint.deactivated", "organization", org["id"], {"endpoint_id": str(endpoint_id)}
        )
    return EndpointRead(**changed[0])


# --- outbox ------------------------------------------------------------------------------------


def _in_transaction() -> bool:
    return engine().current_transaction.get() is not None


async def enqueue(org_ids: list[UUID], event: str, payload: dict[str, Any]) -> int:
    """Queue ``event`` for every active endpoint of ``org_ids``; returns the number of deliveries queued.

    Must run inside the caller's ``write_tx()`` so the deliveries commit (or roll back) with the
    change they announce. ``payload`` becomes ``data`` of the envelope
    ``{"event", "id" (the delivery id), "created_at", "data"}``.
    """
    return await enqueue_many([(org_ids, event, payload)])


async def enqueue_many(
    events: list[tuple[list[UUID], str, dict[str, Any] | Callable[[], dict[str, Any]]]],
) -> int:
    """:func:`enqueue` for many events at once: one endpoint lookup, bulk inserts (sweeps use this).
    A payload may be a function that builds it: it is called only when an endpoint will receive it."""
    if not _in_transaction():
        raise RuntimeError("webhooks.enqueue must run inside the caller's write_tx()")
    for _, event, _ in events:
        check_event_name(event)
    all_orgs = list(dict.fromkeys(o for orgs, _, _ in events for o in orgs))
    if not all_orgs:
        return 0
    endpoints = (
        await WebhookEndpoint.select(WebhookEndpoint.id, WebhookEndpoint.organization)
        .where(WebhookEndpoint.organization.is_in(all_orgs) & (WebhookEndpoint.active == True))  # noqa: E712
        .order_by(WebhookEndpoint.created_at)
    )
    if not endpoints:
        return 0
    by_org: dict[UUID, list[UUID]] = {}
    for endpoint in endpoints:
        by_org.setdefault(endpoint["organization"], []).append(endpoint["id"])
    now = datetime.now(UTC)
    rows = []
    for org_ids, event, payload in events:
        targets = list(dict.fromkeys(e for o in dict.fromkeys(org_ids) for e in by_org.get(o, [])))
        if not targets:
            continue
        built = payload() if callable(payload) else payload
        data = json.loads(canonical_json(built))  # fail here, not in the deliverer, on what JSON cannot carry
        for endpoint_id in targets:
            delivery_id = uuid4()
            rows.append(
                WebhookDelivery(
                    id=delivery_id,
                    endpoint=endpoint_id,
                    event=event,
                    payload=canonical_json(envelope(event, delivery_id, now, data)).decode("utf-8"),
                    status=DeliveryStatus.pending.value,
                    attempts=0,
                    next_attempt_at=now,
                    last_status_code=None,
                    last_error="",
                    created_at=now,
                    delivered_at=None,
                )
            )
    for start in range(0, len(rows), _INSERT_CHUNK):
        await WebhookDelivery.insert(*rows[start : start + _INSERT_CHUNK])
    return len(rows)
