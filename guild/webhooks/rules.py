"""The webhook rules, pure: event names, signatures, which targets are refused, and retries with backoff.

* Every request carries ``X-Guild-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t." + body)>``;
  receivers check it with :func:`verify_signature`.
* An endpoint URL is https, or http to a loopback host; unless a deployment allows private targets, its host
  (in any spelling a resolver accepts) and every address it resolves to must be public.
* A delivery is retried after 30 s * 2^(attempts-1) (at most 6 h, plus up to 10 % jitter) until it is
  delivered or has failed :data:`MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
import re
import socket
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from guild.domain.errors import Forbidden, NotFound, invalid
from guild.domain.principal import Principal, Role
from guild.domain.statuses import DeliveryStatus

# --- events ------------------------------------------------------------------------------------

FINDING_OPENED = "finding.opened"
FINDING_ESCALATED = "finding.escalated"
FINDING_RESOLVED = "finding.resolved"

MAX_EVENT_LENGTH = 64
_EVENT_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def check_event_name(event: str) -> None:
    """ValueError unless ``event`` looks like ``finding.opened`` (dotted lower-case words, at most 64 characters)."""
    if len(event) > MAX_EVENT_LENGTH or not _EVENT_RE.match(event):
        raise ValueError(f"event name {event!r} must look like 'finding.opened' (at most 64 characters)")


def envelope(event: str, delivery_id: UUID, created_at: datetime, data: Any) -> dict[str, Any]:
    """The body every delivery POSTs: ``{"event", "id" (the delivery id), "created_at", "data"}``."""
    return {"event": event, "id": str(delivery_id), "created_at": created_at.isoformat(), "data": data}


# --- signing -----------------------------------------------------------------------------------

SIGNATURE_HEADER = "X-Guild-Signature"
EVENT_HEADER = "X-Guild-Event"
DELIVERY_HEADER = "X-Guild-Delivery"


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


# --- targets -----------------------------------------------------------------------------------

MAX_URL_LENGTH = 2000

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


def embedded(ip: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 address; else the address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def is_localhost_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")  # RFC 6761: every *.localhost is loopback


def is_loopback(host: str) -> bool:
    if is_localhost_name(host):
        return True
    ip = host_address(host)
    return ip is not None and embedded(ip).is_loopback


def non_public(address: str | IPAddress) -> bool:
    """Loopback, private, link-local (cloud metadata), shared, reserved, multicast or unspecified."""
    ip = address if not isinstance(address, str) else ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    ip = embedded(ip)
    return not ip.is_global or ip.is_multicast


def check_url(url: str, *, private_targets: bool) -> str:
    """https, or http to a loopback host; no credentials; at most 2000 characters; unless ``private_targets``
    allows it, no loopback or other non-public host (in any spelling the resolver accepts: ``127.1``,
    ``2130706433``, ``[::ffff:127.0.0.1]``, ``*.localhost``...). Unprocessable on ``url``."""
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
    if scheme == "http" and not is_loopback(host):
        raise invalid(
            "url",
            "https_required",
            f"http is allowed only for loopback hosts (127.0.0.0/8, localhost, ::1), not {host!r}; use https",
        )
    address = host_address(host)
    if not private_targets and (is_localhost_name(host) or (address is not None and non_public(address))):
        shown = f"{host!r}" + (f" ({embedded(address)})" if address is not None and str(address) != host else "")
        raise invalid(
            "url",
            "public_host",
            f"{shown} is a loopback or other non-public address; webhooks are delivered to public hosts "
            "(a deployment may allow others with GUILD_WEBHOOK_PRIVATE_TARGETS=true)",
        )
    return url


def refused_address(host: str, addresses: list[str], *, private_targets: bool) -> str | None:
    """Why a delivery to ``host``, which resolved to ``addresses``, is refused; None when it may go.

    DNS may have changed since the URL was registered, so every address is checked at each delivery."""
    if private_targets:
        return None
    for address in addresses:
        if non_public(address):
            return f"refused: {host} resolves to {address}, a non-public address"
    return None


# --- retries -----------------------------------------------------------------------------------

MAX_ATTEMPTS = 8
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)
JITTER = 0.1  # up to +10 % on every backoff, so retries of one outage do not arrive in lock-step


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Delay after the ``attempts``-th failure: 30 s * 2^(attempts-1), capped at 6 h, plus up to 10 % jitter."""
    factor: int = 2 ** max(attempts - 1, 0)
    base = min(BASE_BACKOFF * factor, MAX_BACKOFF)
    jitter: float = (rng or random).uniform(0, JITTER)
    return base * (1 + jitter)


def succeeded(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


def outcome(attempts: int, status_code: int | None) -> DeliveryStatus:
    """The status after the ``attempts``-th attempt answered ``status_code`` (None: no answer): delivered on a
    2xx, failed once :data:`MAX_ATTEMPTS` attempts have failed, else still pending (retried after :func:`backoff`)."""
    if succeeded(status_code):
        return DeliveryStatus.delivered
    if attempts >= MAX_ATTEMPTS:
        return DeliveryStatus.failed
    return DeliveryStatus.pending


def failure_reason(status_code: int, body_start: str) -> str:
    """The ``last_error`` of a non-2xx answer: its status, and the start of its body when it has one."""
    reason = f"HTTP {status_code}"
    if 300 <= status_code < 400:
        reason += " (redirects are not followed)"
    return f"{reason}: {body_start}" if body_start else reason


# --- who manages endpoints (the controller's guard checks the same; services do not trust their callers) ---


def require_officer(principal: Principal, slug: str) -> None:
    """Officers of the organisation (and site administrators); a non-member gets 404, a member 403."""
    if principal.is_admin:
        return
    if not principal.is_member_of(slug):
        raise NotFound(f"organization {slug!r} not found")
    if not principal.has_role(slug, Role.officer):
        raise Forbidden(f"needs role officer in organization {slug!r}")
