"""Prometheus metrics on ``/metrics``: HTTP requests (count and latency by method, route template and
status) and guild's own (:mod:`guild.infra.metrics`: PDF renders,
sweep durations, findings opened).

Who may read them: with ``GUILD_METRICS_TOKEN`` set, a client sending ``Authorization: Bearer <token>``;
without it, clients on the loopback interface only (a Prometheus on the same host, or a sidecar).
Each process serves its own counters; Prometheus scrapes every instance.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusController
from litestar.types import Scope
from prometheus_client import Counter, Histogram

from guild.infra.settings import Settings

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # no route: one label value, whatever paths clients try

HTTP_REQUESTS = Counter(
    "guild_http_requests_total",
    "HTTP requests answered, by method, route template (<unmatched> when no route) and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "guild_http_request_duration_seconds",
    "Time to answer an HTTP request (until the response is sent), by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def observe_request(scope: Scope, status: int, seconds: float) -> None:
    """Count one answered request. Called by the access-log middleware, which wraps the whole application:
    requests refused before a route runs (the authentication middleware's 401, no such route) count too,
    with the status they got. Labels are bounded: unknown methods are ``OTHER``, unrouted paths one value."""
    method = scope.get("method", "")
    method = method if method in HTTP_METHODS else "OTHER"
    route = scope.get("path_template") or UNMATCHED  # the router writes the matched template into the scope
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_SECONDS.labels(method, route).observe(seconds)


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def metrics_guard(settings: Settings) -> Any:
    token = settings.metrics_token

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if token:
            sent = connection.headers.get("authorization", "")
            scheme, _sep, value = sent.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
                raise NotAuthorizedException(
                    "metrics need the bearer token GUILD_METRICS_TOKEN",
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
            return
        if not _is_loopback(connection.client.host if connection.client else None):
            raise PermissionDeniedException(
                "metrics are served to loopback clients only; set GUILD_METRICS_TOKEN to scrape from elsewhere"
            )

    return guard


def metrics_controller(settings: Settings) -> type[PrometheusController]:
    class MetricsController(PrometheusController):
        path = "/metrics"
        include_in_schema = False
        opt = {"public": True}  # not a user's JWT: the guard checks the metrics token or a loopback client
        guards = [metrics_guard(settings)]

    return MetricsController


__all__ = ["metrics_controller", "observe_request"]
