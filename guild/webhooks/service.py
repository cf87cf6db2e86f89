"""Signed webhooks with an outbox: events are rows written in the causing transaction, sent later.

* ``enqueue`` runs inside the caller's ``write_tx()``: one ``WebhookDelivery`` per active endpoint
  of the given organisations, committed (or rolled back) together with the change it announces.
* ``deliver_due`` claims due deliveries in a short transaction (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, the single IMMEDIATE write lock on SQLite) and leases them by moving
  ``next_attempt_at`` forward, then POSTs them outside any transaction and records the outcome on
  the row: the row is the delivery log.
* Every request carries ``X-Guild-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t." + body)>``;
  receivers check it with ``verify_signature``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import random
import re
import secrets
import socket
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import httpx
from pydantic import Field

from guild import __version__
from guild.domain.canonical import canonical_json
from guild.domain.errors import Conflict, Forbidden, NotFound, invalid
from guild.domain.principal import Principal, Role
from guild.domain.values import In, Out, Text
from guild.infra import audit
from guild.infra.db import engine, is_sqlite, read_tx, write_tx
from guild.infra.settings import get_settings
from guild.infra.tables import WebhookDelivery, WebhookEndpoint
from guild.orgs.service import get_organization_row

# --- events ------------------------------------------------------------------------------------

FINDING_OPENED = "finding.opened"
FINDING_ESCALATED = "finding.escalated"
FINDING_RESOLVED = "finding.resolved"

_EVENT_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

# --- delivery policy ---------------------------------------------------------------------------

SIGNATURE_HEADER = "X-Guild-Signature"
EVENT_HEADER = "X-Guild-Event"
DELIVERY_HEADER = "X-Guild-Delivery"

MAX_ATTEMPTS = 8
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)
JITTER = 0.1  # up to +10 % on every backoff, so retries of one outage do not arrive in lock-step
LEASE = timedelta(minutes=5)  # a claimed delivery is invisible to other deliverers this long
REQUEST_TIMEOUT_S = 10.0
CONCURRENCY = 10  # parallel POSTs per pass; keeps a pass of ``limit`` deliveries well inside the lease
MAX_URL_LENGTH = 2000
_ERROR_SNIPPET = 300


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


# --- API models --------------------------------------------------------------------------------


class EndpointCreate(In):
    url: Text = Field(
        description="https URL that receives POSTed events; http only for loopback hosts (127.0.0.0/8, localhost, ::1)"
    )


class EndpointRead(Out):
    id: UUID
    url: str
    active: bool
    created_at: datetime


class EndpointCreated(EndpointRead):
    secret: str = Field(description="HMAC-SHA256 signing secret; shown only in this response, store it now")


class DeliveryRead(Out):
    id: UUID
    endpoint_id: UUID
    url: str
    event: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


@dataclass
class DeliveryStats:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


# --- signing -----------------------------------------------------------------------------------


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def _mac(secret: str | bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(_key(secret), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The ``X-Guild-Signature`` header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={int(timestamp)},v1={_mac(secret, body, int(timestamp))}"


def verify_signature(
    secret: str | bytes,
    body: bytes,
    header: str | None,
    now: datetime | float | int | None = None,
    tolerance_s: int = 300,
) -> bool:
    """True when ``header`` is a valid signature of ``body`` made within ``tolerance_s`` of ``now``.

    Several ``v1=`` entries are accepted (a sender rotating secrets); each is compared in constant time.
    """
    if not header:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if name == "t":
            if not value.isdigit() or timestamp is not None:
                return False
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if now is None:
        current = time.time()
    elif isinstance(now, datetime):
        current = now.timestamp()
    else:
        current = float(now)
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = _mac(secret, body, timestamp).encode("ascii")
    ok = False
    for candidate in candidates:
        ok |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    return ok


# --- URL rule ----------------------------------------------------------------------------------


_IPV4_NUMBERS = re.compile(r"^[0-9a-fA-FxX.]+$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def host_address(host: str) -> IPAddress | None:
    """The address a numeric host means to the resolver, or None for a name.

    Besides the dotted quad and IPv6, resolvers take every form ``inet_aton`` takes, so ``127.1``,
    ``2130706433``, ``0x7f.0.0.1`` and ``0177.0.0.1`` all mean 127.0.0.1; a trailing dot changes nothing.
    """
    name = host.strip().rstrip(".")
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if name and _IPV4_NUMBERS.match(name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def _embedded(ip: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 address; else the address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def _is_localhost_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")  # RFC 6761: every *.localhost is loopback


def _is_loopback(host: str) -> bool:
    if _is_localhost_name(host):
        return True
    ip = host_address(host)
    return ip is not None and _embedded(ip).is_loopback


def _non_public(address: str | IPAddress) -> bool:
    """Loopback, private, link-local (cloud metadata), shared, reserved, multicast or unspecified."""
    ip = address if not isinstance(address, str) else ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    ip = _embedded(ip)
    return not ip.is_global or ip.is_multicast


def _private_targets_allowed() -> bool:

    return get_settings().webhook_private_targets


def validate_url(url: str) -> str:
    """https, or http to a loopback host; no credentials; at most 2000 characters; unless
    ``GUILD_WEBHOOK_PRIVATE_TARGETS`` allows it, no loopback or other non-public host (in any spelling the
    resolver accepts: ``127.1``, ``2130706433``, ``[::ffff:127.0.0.1]``, ``*.localhost``...). 422 on ``url``."""
    if len(url) > MAX_URL_LENGTH:
        raise invalid(
            "url",
            "max_length",
            f"the URL has {len(url)} characters; at most {MAX_URL_LENGTH} are allowed",
            max_length=MAX_URL_LENGTH,
        )
    if not url or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise invalid("url", "url_format", "the URL must not be empty or contain spaces or control characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a non-numeric or out-of-range port
        host = parts.hostname
    except ValueError as exc:
        raise invalid("url", "url_format", f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise invalid(
            "url",
            "url_scheme",
            f"scheme {scheme or '(none)'!r} is not allowed; use https",
            allowed=["https", "http (loopback only)"],
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise invalid("url", "url_credentials", "the URL must not contain a user name or password")
    if not host:
        raise invalid("url", "url_host", "the URL has no host")
    if scheme == "http" and not _is_loopback(host):
        raise invalid(
            "url",
            "https_required",
            f"http is allowed only for loopback hosts (127.0.0.0/8, localhost, ::1), not {host!r}; use https",
        )
    address = host_address(host)
    if not _private_targets_allowed() and (_is_localhost_name(host) or (address is not None and _non_public(address))):
        shown = f"{host!r}" + (f" ({_embedded(address)})" if address is not None and str(address) != host else "")
        raise invalid(
            "url",
            "public_host",
            f"{shown} is a loopback or other non-public address; webhooks are delivered to public hosts "
            "(a deployment may allow others with GUILD_WEBHOOK_PRIVATE_TARGETS=true)",
        )
    try:
        httpx.URL(url)  # what the deliverer parses (IDNA host names, strict IPv4)
    except httpx.InvalidURL as exc:
        raise invalid("url", "url_format", f"not a valid URL: {exc}") from None
    return url


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
    if not _private_targets_allowed():
        for address in addresses:
            if _non_public(address):
                return [], f"refused: {host} resolves to {address}, a non-public address"
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


# --- authorisation (the controller's guard checks the same; services do not trust their callers) ---


def _require_officer(principal: Principal, slug: str) -> None:
    if principal.is_admin:
        return
    if not principal.is_member_of(slug):
        raise NotFound(f"organization {slug!r} not found")
    if not principal.has_role(slug, Role.officer):
        raise Forbidden(f"needs role officer in organization {slug!r}")


# --- endpoints ---------------------------------------------------------------------------------

_ENDPOINT_COLUMNS = (WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.active, WebhookEndpoint.created_at)


async def create_endpoint(principal: Principal, slug: str, url: str) -> EndpointCreated:
    """Register an endpoint; the response carries its signing secret, which is never shown again."""
    _require_officer(principal, slug)
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


async def list_endpoints(principal: Principal, slug: str) -> list[EndpointRead]:
    _require_officer(principal, slug)
    async with read_tx():
        org = await get_organization_row(slug)
        rows = (
            await WebhookEndpoint.select(*_ENDPOINT_COLUMNS)
            .where(WebhookEndpoint.organization == org["id"])
            .order_by(WebhookEndpoint.created_at)
        )
    return [EndpointRead(**r) for r in rows]


async def deactivate_endpoint(principal: Principal, slug: str, endpoint_id: UUID) -> EndpointRead:
    """Stop sending to an endpoint; its pending deliveries are closed as failed. An endpoint that is
    already inactive is 409: of concurrent requests exactly one deactivates it (a conditional UPDATE)."""
    _require_officer(principal, slug)
    async with write_tx():
        org = await get_organization_row(slug)
        mine = (WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.organization == org["id"])
        changed = (
            await WebhookEndpoint.update({WebhookEndpoint.active: False})
            .where(
                mine & (WebhookEndpoint.active == True)  # noqa: E712
            )
            .returning(*_ENDPOINT_COLUMNS)
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


async def list_deliveries(
    principal: Principal, slug: str, status: DeliveryStatus | None = None, limit: int = 100
) -> list[DeliveryRead]:
    """The delivery log of the organisation's endpoints, newest first."""
    _require_officer(principal, slug)
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
        rows = (
            await query.order_by(WebhookDelivery.created_at, ascending=False)
            .order_by(WebhookDelivery.id, ascending=False)
            .limit(max(1, min(limit, 1000)))
        )
    return [DeliveryRead(**r) for r in rows]


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
        if len(event) > 64 or not _EVENT_RE.match(event):
            raise ValueError(f"event name {event!r} must look like 'finding.opened' (at most 64 characters)")
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
            envelope = {"event": event, "id": str(delivery_id), "created_at": now.isoformat(), "data": data}
            rows.append(
                WebhookDelivery(
                    id=delivery_id,
                    endpoint=endpoint_id,
                    event=event,
                    payload=canonical_json(envelope).decode("utf-8"),
                    status=DeliveryStatus.pending.value,
                    attempts=0,
                    next_attempt_at=now,
                    last_status_code=None,
                    last_error="",
                    created_at=now,
                    delivered_at=None,
                )
            )
    for start in range(0, len(rows), 500):
        await WebhookDelivery.insert(*rows[start : start + 500])
    return len(rows)


# --- deliverer ---------------------------------------------------------------------------------


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Delay after the ``attempts``-th failure: 30 s * 2^(attempts-1), capped at 6 h, plus up to 10 % jitter."""
    base = min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    return base * (1 + (rng or random).uniform(0, JITTER))


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
                text = snippet[:_ERROR_SNIPPET].decode("utf-8", "replace").strip()
                reason = f"HTTP {code}"
                if 300 <= code < 400:
                    reason += " (redirects are not followed)"
                return code, f"{reason}: {text}" if text else reason
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
    if code is not None and 200 <= code < 300:
        values[WebhookDelivery.status] = DeliveryStatus.delivered.value
        values[WebhookDelivery.delivered_at] = at
        values[WebhookDelivery.next_attempt_at] = at
        stats.delivered += 1
    elif attempts >= MAX_ATTEMPTS:
        values[WebhookDelivery.status] = DeliveryStatus.failed.value
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
