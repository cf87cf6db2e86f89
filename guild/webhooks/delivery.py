"""The deliverer: sends queued webhook deliveries, signed, to checked addresses, and records each outcome.

``deliver_due`` claims due deliveries in a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
the single IMMEDIATE write lock on SQLite) and leases them by moving ``next_attempt_at`` forward, then
POSTs them outside any transaction and records the outcome on the row: the row is the delivery log.
What is refused, how requests are signed and when a delivery is retried: :mod:`guild.webhooks.rules`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx

from guild import __version__
from guild.domain.canonical import canonical_json
from guild.domain.statuses import DeliveryStatus
from guild.infra.db import engine, is_sqlite, write_tx
from guild.infra.settings import get_settings
from guild.infra.tables import WebhookDelivery, WebhookEndpoint
from guild.webhooks.rules import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    backoff,
    failure_reason,
    host_address,
    outcome,
    refused_address,
    sign,
)

LEASE = timedelta(minutes=5)  # a claimed delivery is invisible to other deliverers this long
REQUEST_TIMEOUT_S = 10.0
CONCURRENCY = 10  # parallel POSTs per pass; keeps a pass of ``limit`` deliveries well inside the lease
_ERROR_SNIPPET = 300


@dataclass
class DeliveryStats:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


# --- resolving and pinning ------------------------------------------------------------------------------


async def resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host``, in the system resolver's order: guild's one DNS lookup per delivery."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def checked_addresses(url: str) -> tuple[list[str], str | None]:
    """(addresses to connect to, in order; why not, or None). The host is resolved once; with
    ``GUILD_WEBHOOK_PRIVATE_TARGETS`` off every address must be public, since DNS may have changed since
    registration. The delivery then connects to exactly these addresses (no second lookup)."""
    target = httpx.URL(url)
    host = target.host
    literal = host_address(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = await resolve(target.raw_host.decode("ascii"), target.port or _default_port(target))
        except OSError as exc:
            return [], f"cannot resolve {host}: {exc}"
        if not addresses:
            return [], f"cannot resolve {host}: no addresses"
    refusal = refused_address(host, addresses, private_targets=get_settings().webhook_private_targets)
    if refusal is not None:
        return [], refusal
    return addresses, None


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


def _via_environment_proxy(client: httpx.AsyncClient, url: httpx.URL) -> bool:
    """Whether ``client`` sends ``url`` through a proxy named by HTTP(S)_PROXY / ALL_PROXY (and not NO_PROXY).

    Such a proxy connects by name itself (and a TLS tunnel is verified against the URL's host), so the request
    keeps its host name; egress policy is then the proxy's."""
    if not client.trust_env:
        return False
    proxies = urllib.request.getproxies()
    if not (proxies.get(url.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(url.host)


def _pinned(url: httpx.URL, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """The request URL that connects to ``address``, with the Host header and the TLS server name (SNI, and the
    name the certificate is verified against) of the original host."""
    if host_address(url.host) is not None:
        return url, {}, {}
    pinned = url.copy_with(host=address.split("%", 1)[0], port=url.port or _default_port(url))
    extensions: dict[str, Any] = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
    return pinned, {"Host": url.netloc.decode("ascii")}, extensions


# --- claiming, sending, recording ----------------------------------------------------------------


def _in_transaction() -> bool:
    return engine().current_transaction.get() is not None


@dataclass(frozen=True)
class _Claimed:
    id: UUID
    event: str
    attempts: int
    body: bytes
    url: str | None
    secret: str | None
    active: bool


async def _claim(now: datetime, limit: int) -> list[_Claimed]:
    """Take up to ``limit`` due deliveries and lease them; a concurrent deliverer skips them."""
    async with write_tx():
        query = (
            WebhookDelivery.select(
                WebhookDelivery.id,
                WebhookDelivery.endpoint,
                WebhookDelivery.event,
                WebhookDelivery.attempts,
                WebhookDelivery.payload,
            )
            .where((WebhookDelivery.status == DeliveryStatus.pending.value) & (WebhookDelivery.next_attempt_at <= now))
            .order_by(WebhookDelivery.next_attempt_at)
            .order_by(WebhookDelivery.id)
            .limit(limit)
            .output(load_json=True)
        )
        if not is_sqlite():  # SQLite: the IMMEDIATE transaction already holds the only write lock
            query = query.lock_rows("UPDATE", skip_locked=True, of=(WebhookDelivery,))
        rows = await query
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        await WebhookDelivery.update({WebhookDelivery.next_attempt_at: now + LEASE}).where(
            WebhookDelivery.id.is_in(ids)
        )
        endpoint_ids = list({r["endpoint"] for r in rows})
        endpoints = {
            e["id"]: e
            for e in await WebhookEndpoint.select(
                WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.secret, WebhookEndpoint.active
            ).where(WebhookEndpoint.id.is_in(endpoint_ids))
        }
    claimed = []
    for r in rows:
        endpoint = endpoints.get(r["endpoint"])
        payload = r["payload"] if not isinstance(r["payload"], str) else json.loads(r["payload"])
        claimed.append(
            _Claimed(
                id=r["id"],
                event=r["event"],
                attempts=r["attempts"],
                body=canonical_json(payload),
                url=endpoint["url"] if endpoint else None,
                secret=endpoint["secret"] if endpoint else None,
                active=bool(endpoint and endpoint["active"]),
            )
        )
    return claimed


async def _post(client: httpx.AsyncClient, item: _Claimed) -> tuple[int | None, str]:
    """POST one delivery to the checked addresses of its host; returns (status code or None, error text or "").

    The connection goes to an address that was checked (never to what a second DNS answer says), with the
    original Host header and TLS server name, and is closed after the response, so a connection made for
    one host name is never reused for another that shares its address.
    """
    assert item.url is not None and item.secret is not None
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"guild-webhooks/{__version__}",
        "Connection": "close",
        SIGNATURE_HEADER: sign(item.secret, item.body, int(time.time())),
        EVENT_HEADER: item.event,
        DELIVERY_HEADER: str(item.id),
    }
    addresses, refusal = await checked_addresses(item.url)
    if refusal is not None:
        return None, refusal
    url = httpx.URL(item.url)
    proxied = _via_environment_proxy(client, url)
    error = ""
    for address in addresses[:1] if proxied else addresses:
        target, host_header, extensions = (url, {}, {}) if proxied else _pinned(url, address)
        try:
            async with client.stream(
                "POST",
                target,
                content=item.body,
                headers={**headers, **host_header},
                extensions=extensions,
                timeout=REQUEST_TIMEOUT_S,
                follow_redirects=False,
            ) as response:
                code = response.status_code
                if 200 <= code < 300:
                    return code, ""
                snippet = b""
                async for chunk in response.aiter_bytes():
                    snippet += chunk
                    if len(snippet) >= _ERROR_SNIPPET:
                        break
                return code, failure_reason(code, snippet[:_ERROR_SNIPPET].decode("utf-8", "replace").strip())
        except httpx.ConnectError as exc:  # this address is down or unreachable: the next checked one
            error = f"ConnectError: {exc} ({address})"[:1000]
            continue
        except httpx.TimeoutException as exc:
            return None, f"timeout after {REQUEST_TIMEOUT_S:g} s ({type(exc).__name__})"
        except Exception as exc:  # noqa: BLE001 - one broken endpoint must not stop the pass
            return None, f"{type(exc).__name__}: {exc}"[:1000]
    return None, error


async def _record(item: _Claimed, code: int | None, error: str, at: datetime, stats: DeliveryStats) -> None:
    attempts = item.attempts + 1
    values: dict[Any, Any] = {
        WebhookDelivery.attempts: attempts,
        WebhookDelivery.last_status_code: code,
        WebhookDelivery.last_error: error[:1000],
    }
    status = outcome(attempts, code)
    if status is DeliveryStatus.delivered:
        values[WebhookDelivery.status] = status.value
        values[WebhookDelivery.delivered_at] = at
        values[WebhookDelivery.next_attempt_at] = at
        stats.delivered += 1
    elif status is DeliveryStatus.failed:
        values[WebhookDelivery.status] = status.value
        values[WebhookDelivery.next_attempt_at] = at
        stats.failed += 1
    else:
        values[WebhookDelivery.next_attempt_at] = at + backoff(attempts)
        stats.retrying += 1
    async with write_tx():
        # Only the holder of this claim may write its outcome (attempts did not move meanwhile).
        await WebhookDelivery.update(values).where(
            (WebhookDelivery.id == item.id)
            & (WebhookDelivery.status == DeliveryStatus.pending.value)
            & (WebhookDelivery.attempts == item.attempts)
        )


async def _close_inactive(item: _Claimed, at: datetime, stats: DeliveryStats) -> None:
    async with write_tx():
        await WebhookDelivery.update(
            {
                WebhookDelivery.status: DeliveryStatus.failed.value,
                WebhookDelivery.last_error: "endpoint deactivated",
                WebhookDelivery.next_attempt_at: at,
            }
        ).where((WebhookDelivery.id == item.id) & (WebhookDelivery.status == DeliveryStatus.pending.value))
    stats.failed += 1


async def deliver_due(client: httpx.AsyncClient, now: datetime | None = None, limit: int = 100) -> DeliveryStats:
    """Send every pending delivery whose ``next_attempt_at`` is at or before ``now``.

    ``now`` (default: the current time) is the clock for due-ness, backoff and ``delivered_at``; the
    signature timestamp is always the real send time, which is what receivers check. Must not run
    inside a transaction: HTTP calls never hold a database connection or lock.
    """
    if _in_transaction():
        raise RuntimeError("deliver_due must not run inside a transaction")
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    clock = now or datetime.now(UTC)
    stats = DeliveryStats()
    claimed = await _claim(clock, limit)
    stats.claimed = len(claimed)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(item: _Claimed) -> None:
        async with gate:
            if not item.active or item.url is None:
                await _close_inactive(item, now or datetime.now(UTC), stats)
                return
            code, error = await _post(client, item)
            await _record(item, code, error, now or datetime.now(UTC), stats)

    await asyncio.gather(*(one(item) for item in claimed))
    return stats
