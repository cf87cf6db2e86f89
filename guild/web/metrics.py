"""Prometheus metrics on ``/metrics``: HTTP requests (count and latency by method, route template and
status, from Litestar's Prometheus middleware) and guild's own (:mod:`guild.infra.metrics`: PDF renders,
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
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from guild.infra.settings import Settings


def prometheus_config() -> PrometheusConfig:
    return PrometheusConfig(
        app_name="guild",
        prefix="guild",
        group_path=True,  # label requests by route template (/contracts/{contract_id}), not by URL
        exclude=["^/metrics$"],
    )


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


__all__ = ["metrics_controller", "prometheus_config"]
