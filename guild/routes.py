from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.exceptions import ServiceUnavailableException
from litestar.types import ControllerRouterHandler

from contracts.api import ContractController
from guild.accounts.api import AuthController
from guild.apprenticeship.api import ApprenticeshipController, ApprenticeshipPreviewController
from guild.compacts.api import CompactController
from guild.compliance.api import ComplianceController
from guild.domain.errors import PROBLEM_BASE
from guild.infra.db import raw
from guild.orgs.api import InvitationLinkController, MyInvitationController, OrganizationController
from guild.productions.api import ProductionController
from guild.web.problems import documented
from guild.webhooks.api import WebhookController


async def _database_status() -> dict[str, str]:

    try:
        await raw("SELECT 1")
    except Exception:  # noqa: BLE001 - reported as a component down, never as a 500
        return {"status": "down", "detail": "unreachable"}
    return {"status": "ok"}


@get(
    "/health",
    opt={"public": True},
    tags=["meta"],
    summary="Readiness: the database and the PDF renderer",
    description="200 when every component can serve; 503 (a problem document) when one is down, with `components` "
    "saying which "
    "(`database`, `pdf`: e.g. PDF workers that cannot start, or queued work that makes no progress). "
    "For a cheap liveness probe use `/health/live`.",
    raises=documented(ServiceUnavailableException),
    operation_id="getReadiness",
)
async def health(pdf_renderer: NamedDependency[Any]) -> Response[dict[str, Any]]:
    components = {"database": await _database_status(), "pdf": pdf_renderer.health()}
    down = [name for name, c in components.items() if c["status"] != "ok"]
    if not down:
        return Response({"status": "ok", "components": components})
    problem = {  # RFC 9457, with the components as an extension member
        "type": PROBLEM_BASE + "not-ready",
        "title": "Not ready",
        "status": 503,
        "detail": "down: " + ", ".join(down),
        "components": components,
    }
    return Response(problem, status_code=503, media_type="application/problem+json")


@get(
    "/health/live",
    opt={"public": True},
    tags=["meta"],
    summary="Liveness: the process answers (no dependency checked)",
    operation_id="getLiveness",
)
async def live() -> dict[str, str]:
    """Answers 200 as long as the process serves requests; checks nothing else. Use it as a liveness probe;
    `/health` is the readiness probe."""
    return {"status": "ok"}


def route_handlers() -> list[ControllerRouterHandler]:

    return [
        health,
        live,
        AuthController,
        OrganizationController,
        CompactController,
        ProductionController,
        ContractController,
        WebhookController,
        ComplianceController,
        ApprenticeshipPreviewController,
        ApprenticeshipController,
        MyInvitationController,
        InvitationLinkController,
    ]
