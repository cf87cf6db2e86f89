"""Reading organisations and their memberships."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from piccolo.query.methods.select import Select

from guild.domain.errors import NotFound
from guild.infra.db import for_update, read_tx
from guild.infra.tables import Membership, Organization
from guild.orgs.schemas import MembershipRead, OrganizationRead, OrgKind

_ORG_COLUMNS = (Organization.id, Organization.slug, Organization.name, Organization.kind, Organization.created_at)


async def get_organization_row(slug: str, *, lock: bool = False) -> dict[str, Any]:
    """The organisation by slug, in the caller's transaction; ``lock``: row-locked until the write transaction
    ends, so membership changes of one organisation run one at a time (their checks and writes see each other)."""
    query = Organization.select(*_ORG_COLUMNS).where(Organization.slug == slug)
    row: dict[str, Any] | None = await (for_update(query, Organization) if lock else query).first()
    if row is None:
        raise NotFound(f"organization {slug!r} not found")
    return row


async def list_organizations(kind: OrgKind | None = None) -> list[OrganizationRead]:
    query = Organization.select(*_ORG_COLUMNS).order_by(Organization.slug)
    if kind:
        query = query.where(Organization.kind == kind.value)
    async with read_tx():
        rows = await query
    return [OrganizationRead(**r) for r in rows]


async def get_organization(slug: str) -> OrganizationRead:
    async with read_tx():
        return OrganizationRead(**await get_organization_row(slug))


def _membership_query() -> Select:
    return Membership.select(
        Membership.id,
        Membership.user.id.as_alias("user_id"),
        Membership.user.email.as_alias("email"),
        Membership.user.name.as_alias("name"),
        Membership.role,
        Membership.created_at,
    )


async def list_members(slug: str) -> list[MembershipRead]:
    async with read_tx():
        org = await get_organization_row(slug)
        rows = await _membership_query().where(Membership.organization == org["id"]).order_by(Membership.created_at)
    return [MembershipRead(**r) for r in rows]


async def membership(membership_id: UUID) -> MembershipRead:
    """One membership as the API shows it, in the caller's transaction (after it was written)."""
    row = await _membership_query().where(Membership.id == membership_id).first()
    if row is None:
        raise NotFound(f"membership {membership_id} not found")
    return MembershipRead(**row)
