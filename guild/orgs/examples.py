"""Realistic request bodies of the organisations API (shown in the OpenAPI document, sent by its tests)."""

from __future__ import annotations

from typing import Any

ORGANIZATION_GUILD: dict[str, Any] = {
    "slug": "screen-performers-guild",
    "name": "Screen Performers Guild",
    "kind": "guild",
}
ORGANIZATION_COMPANY: dict[str, Any] = {
    "slug": "blue-harbor-pictures",
    "name": "Blue Harbor Pictures Ltd",
    "kind": "production_company",
}

MEMBERSHIP_OFFICER: dict[str, Any] = {"email": "aoife.byrne@screen-performers.example", "role": "officer"}
MEMBERSHIP_MEMBER: dict[str, Any] = {"email": "hana.ito@performers.example", "role": "member"}

# --- responses --------------------------------------------------------------------------------------

INVITATION: dict[str, Any] = {
    "id": "a7b6c5d4-e3f2-4a1b-9c8d-7e6f5a4b3c2d",
    "organization": "screen-performers-guild",
    "organization_name": "Screen Performers Guild",
    "email": "hana.ito@performers.example",
    "role": "member",
    "status": "pending",
    "created_at": "2027-01-14T11:30:00Z",
}

INVITATION_ACCEPT_NEW_ACCOUNT: dict[str, Any] = {"name": "Luca Ferri", "password": "rushes at the lab by nine"}
INVITATION_ACCEPT_EXISTING_ACCOUNT: dict[str, Any] = {}

INVITATION_PREVIEW: dict[str, Any] = {
    "organization": "screen-performers-guild",
    "organization_name": "Screen Performers Guild",
    "email": "hana.ito@performers.example",
    "role": "member",
    "expires_at": "2027-01-21T11:30:00Z",
    "needs_password": False,
}
