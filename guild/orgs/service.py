"""Organisations and memberships (a role per organisation)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from guild.accounts.service import forget_principals
from guild.domain.errors import Conflict, NotFound, invalid
from guild.domain.principal import Role
from guild.infra import audit
from guild.infra.db import write_tx
from guild.infra.tables import Membership, Organization, User
from guild.orgs import queries
from guild.orgs.queries import get_organization_row
from guild.orgs.schemas import MembershipCreate, MembershipRead, OrganizationCreate, OrganizationRead


async def create_organization(data: OrganizationCreate, actor_id: UUID | None) -> OrganizationRead:
    async with write_tx():
        if await Organization.exists().where(Organization.slug == data.slug):
            raise Conflict(f"organization slug {data.slug!r} is taken", field="slug", rule="unique")
        org = Organization(
            id=uuid4(), slug=data.slug, name=data.name, kind=data.kind.value, created_at=datetime.now(UTC)
        )
        await Organization.insert(org)
        await audit.record(actor_id, "organization.created", "organization", org.id, data.model_dump(mode="json"))
    return OrganizationRead(id=org.id, slug=org.slug, name=org.name, kind=data.kind, created_at=org.created_at)


async def add_member(slug: str, data: MembershipCreate, actor_id: UUID | None) -> MembershipRead:
    email = data.email.strip().lower()
    async with write_tx():
        org = await get_organization_row(slug, lock=True)
        user = await User.select(User.id).where(User.email == email).first()
        if user is None:
            raise invalid("email", "user_exists", f"no user account has e-mail {email}")
        if await Membership.exists().where(
            (Membership.organization == org["id"])
            & (Membership.user == user["id"])
            & (Membership.role == data.role.value)
        ):
            raise Conflict(f"{email} already has role {data.role.value} in {slug}", field="role", rule="unique")
        membership = Membership(
            id=uuid4(), organization=org["id"], user=user["id"], role=data.role.value, created_at=datetime.now(UTC)
        )
        await Membership.insert(membership)
        await audit.record(
            actor_id,
            "membership.added",
            "organization",
            org["id"],
            {"user_id": str(user["id"]), "role": data.role.value},
        )
        added = await queries.membership(membership.id)
    forget_principals()
    return added


async def remove_member(slug: str, membership_id: UUID, actor_id: UUID | None) -> None:
    """Remove one membership; never an organisation's last officer. The organisation row is locked first,
    so two officers removed at once are counted one after the other (one of them stays, the other is 409)
    and a membership removed twice at once is removed once (the second finds nothing: 404)."""
    async with write_tx():
        org = await get_organization_row(slug, lock=True)
        row = (
            await Membership.select(Membership.id, Membership.role, Membership.user)
            .where((Membership.id == membership_id) & (Membership.organization == org["id"]))
            .first()
        )
        if row is None:
            raise NotFound(f"membership {membership_id} not found in {slug!r}")
        if row["role"] == Role.officer:
            officers = await Membership.count().where(
                (Membership.organization == org["id"]) & (Membership.role == Role.officer.value)
            )
            if officers <= 1:
                raise Conflict(
                    "an organization must keep at least one officer", rule="last_officer", field="membership_id"
                )
        await Membership.delete().where(Membership.id == membership_id)
        await audit.record(
            actor_id,
            "membership.removed",
            "organization",
            org["id"],
            {"user_id": str(row["user"]), "role": row["role"]},
        )
    forget_principals()
