"""Roles offered by e-mail: an officer invites an address, the account with that address accepts.

Adding a member by e-mail used to tell officers whether an account had that e-mail (a 422 "no user
account" for the others), and adding it at once would still tell them through the members list. An
invitation answers the same for every address (202 with the pending invitation) and becomes a
membership only when the person signs in and accepts it; until then nobody learns whether the
address has an account. (E-mail notifications and sign-up links for new addresses: issue 14.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from guild.accounts.service import forget_principals
from guild.domain.errors import Conflict, NotFound
from guild.domain.principal import Principal
from guild.infra import audit
from guild.infra.db import is_unique_violation, read_tx, write_tx
from guild.infra.tables import Membership, MembershipInvitation
from guild.orgs import queries
from guild.orgs.queries import get_organization_row
from guild.orgs.schemas import InvitationRead, MembershipCreate, MembershipRead

_COLUMNS = (
    MembershipInvitation.id,
    MembershipInvitation.organization.slug.as_alias("organization"),
    MembershipInvitation.organization.name.as_alias("organization_name"),
    MembershipInvitation.email,
    MembershipInvitation.role,
    MembershipInvitation.created_at,
)


def _email(email: str) -> str:
    return email.strip().lower()


async def _pending(org_id: UUID, email: str, role: str) -> dict[str, Any] | None:
    return (
        await MembershipInvitation.select(*_COLUMNS)
        .where(
            (MembershipInvitation.organization == org_id)
            & (MembershipInvitation.email == email)
            & (MembershipInvitation.role == role)
        )
        .first()
    )


async def invite(slug: str, data: MembershipCreate, actor_id: UUID | None) -> InvitationRead:
    """Offer ``data.role`` in ``slug`` to whoever has ``data.email``; idempotent while pending.

    409 only when that address already holds the role here, which the officer sees in the members list anyway.
    """
    email, role = _email(data.email), data.role.value
    try:
        async with write_tx():
            org = await get_organization_row(slug)
            if await Membership.exists().where(
                (Membership.organization == org["id"]) & (Membership.user.email == email) & (Membership.role == role)
            ):
                raise Conflict(f"{email} already has role {role} in {slug}", field="role", rule="unique")
            existing = await _pending(org["id"], email, role)
            if existing is not None:
                return InvitationRead(**existing)
            invitation_id = uuid4()
            await MembershipInvitation.insert(
                MembershipInvitation(
                    id=invitation_id,
                    organization=org["id"],
                    email=email,
                    role=role,
                    invited_by=str(actor_id) if actor_id else None,
                    created_at=datetime.now(UTC),
                )
            )
            await audit.record(
                actor_id,
                "membership.invited",
                "organization",
                org["id"],
                {"invitation_id": str(invitation_id), "email": email, "role": role},
            )
            created = await _pending(org["id"], email, role)
            if created is None:  # cannot happen: inserted above, in this transaction
                raise Conflict(f"the invitation of {email} changed meanwhile; try again", rule="concurrent_change")
            return InvitationRead(**created)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    async with read_tx():  # a concurrent request made the same invitation first
        org = await get_organization_row(slug)
        row = await _pending(org["id"], email, role)
    if row is None:
        raise Conflict(f"the invitation of {email} changed meanwhile; try again", rule="concurrent_change")
    return InvitationRead(**row)


async def list_for_organization(slug: str) -> list[InvitationRead]:
    async with read_tx():
        org = await get_organization_row(slug)
        rows = (
            await MembershipInvitation.select(*_COLUMNS)
            .where(MembershipInvitation.organization == org["id"])
            .order_by(MembershipInvitation.created_at)
        )
    return [InvitationRead(**r) for r in rows]


async def withdraw(slug: str, invitation_id: UUID, actor_id: UUID | None) -> None:
    async with write_tx():
        org = await get_organization_row(slug)
        gone = (
            await MembershipInvitation.delete()
            .where((MembershipInvitation.id == invitation_id) & (MembershipInvitation.organization == org["id"]))
            .returning(MembershipInvitation.email, MembershipInvitation.role)
        )
        if not gone:
            raise NotFound(f"invitation {invitation_id} not found in {slug!r}")
        await audit.record(
            actor_id,
            "membership.invitation_withdrawn",
            "organization",
            org["id"],
            {"invitation_id": str(invitation_id), **gone[0]},
        )


async def list_mine(principal: Principal) -> list[InvitationRead]:
    async with read_tx():
        rows = (
            await MembershipInvitation.select(*_COLUMNS)
            .where(MembershipInvitation.email == _email(principal.email))
            .order_by(MembershipInvitation.created_at)
        )
    return [InvitationRead(**r) for r in rows]


async def _take(principal: Principal, invitation_id: UUID) -> dict[str, Any]:
    """Delete the caller's invitation and return it: of two concurrent answers, one gets it, the other 404."""
    gone = (
        await MembershipInvitation.delete()
        .where((MembershipInvitation.id == invitation_id) & (MembershipInvitation.email == _email(principal.email)))
        .returning(MembershipInvitation.organization, MembershipInvitation.role)
    )
    if not gone:
        raise NotFound(f"invitation {invitation_id} not found")
    taken: dict[str, Any] = gone[0]
    return taken


async def accept(principal: Principal, invitation_id: UUID) -> MembershipRead:
    """The invited account takes the role (if it already holds it, the invitation is simply used up)."""
    async with write_tx():
        invitation = await _take(principal, invitation_id)
        org_id, role = invitation["organization"], invitation["role"]
        existing = (
            await Membership.select(Membership.id)
            .where((Membership.organization == org_id) & (Membership.user == principal.id) & (Membership.role == role))
            .first()
        )
        if existing is not None:
            membership_id = existing["id"]
            await audit.record(
                principal.id,
                "membership.invitation_used_up",
                "organization",
                org_id,
                {"invitation_id": str(invitation_id), "user_id": str(principal.id), "role": role},
            )
        else:
            membership_id = uuid4()
            await Membership.insert(
                Membership(
                    id=membership_id, organization=org_id, user=principal.id, role=role, created_at=datetime.now(UTC)
                )
            )
            await audit.record(
                principal.id,
                "membership.added",
                "organization",
                org_id,
                {"user_id": str(principal.id), "role": role, "invitation_id": str(invitation_id)},
            )
        accepted = await queries.membership(membership_id)
    forget_principals()
    return accepted


async def decline(principal: Principal, invitation_id: UUID) -> None:
    async with write_tx():
        invitation = await _take(principal, invitation_id)
        await audit.record(
            principal.id,
            "membership.invitation_declined",
            "organization",
            invitation["organization"],
            {"invitation_id": str(invitation_id), "user_id": str(principal.id), "role": invitation["role"]},
        )
