from __future__ import annotations

from litestar import get
from litestar.types import ControllerRouterHandler


@get("/health", opt={"public": True}, tags=["meta"], summary="Liveness and database reachability")
async def health() -> dict[str, str]:
    from guild.db import raw

    await raw("SELECT 1")
    return {"status": "ok"}


def route_handlers() -> list[ControllerRouterHandler]:
    from guild.accounts.api import AuthController
    from guild.apprenticeship.api import ApprenticeshipPreviewController
    from guild.apprenticeship.member_api import ApprenticeshipController
    from guild.compacts.api import CompactController
    from guild.compliance.api import ComplianceController
    from guild.contracting.api import ContractController
    from guild.orgs.api import MyInvitationController, OrganizationController
    from guild.productions.api import ProductionController
    from guild.webhooks.api import WebhookController

    return [
        health, AuthController, OrganizationController, CompactController, ProductionController, ContractController,
        WebhookController, ComplianceController, ApprenticeshipPreviewController, ApprenticeshipController,
        MyInvitationController,
    ]
