"""Roles offered by e-mail: an officer invites an address; a link e-mailed to it accepts the role.

Adding a member by e-mail used to tell officers whether an account had that e-mail (a 422 "no user
account" for the others), and adding it at once would still tell them through the members list. An
invitation answers the same for every address (202 with the pending invitation) and becomes a
membership only when the person accepts it; until then the officer cannot learn whether the address
has an account.

Inviting queues a message (in the same transaction) with a link ``{public_base_url}/invitations/{token}``:
the token is random, stored only as its SHA-256, expires (``invitation_ttl_hours``) and works once. Whoever
holds the link controls the address, so the link may say whether the address has an account: without one,
accepting creates it with the name and password given; with one, the role is added to it. A signed-in
account may also accept the invitations to its own address (``/api/v1/me/invitations``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from guild.accounts.passwords import hash_password
from guild.accounts.schemas import UserCreate
from guild.accounts.service import count_link_use, forget_principals, insert_user
from guild.accounts.tokens import hash_token, new_token
from guild.domain.errors import Conflict, NotFound, Unprocessable, field_error
from guild.domain.principal import Principal
from guild.infra import audit, throttle
from guild.infra.db import is_unique_violation, read_tx, write_tx
from guild.infra.settings import get_settings
from guild.infra.tables import Membership, MembershipInvitation, User
from guild.mail import service as mail
from guild.orgs import queries
from guild.orgs.queries import get_organization_row
from guild.orgs.schemas import InvitationAccept, InvitationPreview, InvitationRead, MembershipCreate, MembershipRead

_COLUMNS = (
    MembershipInvitation.id,
    MembershipInvitation.organization.slug.as_alias("organization"),
    MembershipInvitation.organization.name.as_alias("organization_name"),
    MembershipInvitation.email,
    MembershipInvitation.role,
    MembershipInvitation.created_at,
    MembershipInvitation.expires_at,
)

LINK_DEAD = "this invitation link is not valid: it is unknown, used, withdrawn or expired"


def _email(email: str) -> str:
    return email.strip().lower()


def _live(now: datetime) -> Any:
    """Invitations whose link has not expired (those made before links never expire)."""
    return MembershipInvitation.expires_at.is_null() | (MembershipInvitation.expires_at > now)


def invitation_limits() -> tuple[throttle.Limit, throttle.Limit]:
    """(invitations per client address, per acting officer), from the settings."""
    settings = get_settings()
    window = settings.mail_limit_window_seconds
    return (
        throttle.Limit(
            "invite:address",
            settings.invitations_per_address,
            window,
            "too many invitations from this address; try again later",
        ),
        throttle.Limit(
            "invite:officer", settings.invitations_per_officer, window, "too many invitations sent; try again later"
        ),
    )


def invitation_link(token: str) -> str:
    return f"{get_settings().public_base_url}/invitations/{token}"


async def _pending(org_id: UUID, email: str, role: str) -> dict[str, Any] | None:
    return (
        await MembershipInvitation.select(*_COLUMNS, MembershipInvitation.token_hash)
        .where(
            (MembershipInvitation.organization == org_id)
            & (MembershipInvitation.email == email)
            & (MembershipInvitation.role == role)
        )
        .first()
    )


def _read(row: dict[str, Any]) -> InvitationRead:
    return InvitationRead(**{k: v for k, v in row.items() if k != "token_hash"})


async def _send(
    org: dict[str, Any], email: str, role: str, token: str, expires_at: datetime, actor_id: UUID | None
) -> None:
    inviter = await User.select(User.name).where(User.id == actor_id).first() if actor_id else None
    who = inviter["name"] if inviter else "An officer"
    await mail.enqueue(
        to=email,
        subject=" ".join(f"Invitation to {org['name']} on guild".split())[: mail.MAX_SUBJECT],  # one line
        text=(
            f"{who} invited you to {org['name']} on guild, with the role {role}.\n\n"
            f"To accept, open this link before {expires_at:%Y-%m-%d %H:%M} UTC:\n\n{invitation_link(token)}\n\n"
            "The link works once. If you have no guild account yet, it lets you make one. "
            "If you did not expect this, ignore this message."
        ),
        kind="invitation",
    )


async def invite(slug: str, data: MembershipCreate, actor_id: UUID | None, client: str | None = None) -> InvitationRead:
    """Offer ``data.role`` in ``slug`` to whoever has ``data.email`` and e-mail them the link; idempotent while
    the link is live (the same invitation, no second message). A pending invitation whose link expired (or that
    predates links) gets a new link and message.

    Limited per acting officer and per client address (429 with ``Retry-After``). 409 only when that address
    already holds the role here, which the officer sees in the members list anyway.
    """
    email, role = _email(data.email), data.role.value
    per_address, per_officer = invitation_limits()
    token, token_hash = new_token()
    now = datetime.now(UTC)
    expires_at = now + timedelta(hours=get_settings().invitation_ttl_hours)
    try:
        async with write_tx():
            if client:
                await throttle.hit(per_address, client)
            if actor_id:
                await throttle.hit(per_officer, str(actor_id))
            org = await get_organization_row(slug)
            if await Membership.exists().where(
                (Membership.organization == org["id"]) & (Membership.user.email == email) & (Membership.role == role)
            ):
                raise Conflict(f"{email} already has role {role} in {slug}", field="role", rule="unique")
            existing = await _pending(org["id"], email, role)
            if existing is not None and existing["token_hash"] and existing["expires_at"] > now:
                return _read(existing)
            if existing is not None:
                invitation_id = existing["id"]
                await MembershipInvitation.update(
                    {MembershipInvitation.token_hash: token_hash, MembershipInvitation.expires_at: expires_at}
                ).where(MembershipInvitation.id == invitation_id)
                action = "membership.invitation_renewed"
            else:
                invitation_id = uuid4()
                await MembershipInvitation.insert(
                    MembershipInvitation(
                        id=invitation_id,
                        organization=org["id"],
                        email=email,
                        role=role,
                        invited_by=str(actor_id) if actor_id else None,
                        created_at=now,
                        token_hash=token_hash,
                        expires_at=expires_at,
                    )
                )
                action = "membership.invited"
            await audit.record(
                actor_id,
                action,
                "organization",
                org["id"],
                {"invitation_id": str(invitation_id), "email": email, "role": role},
            )
            await _send(org, email, role, token, expires_at, actor_id)
            created = await _pending(org["id"], email, role)
            if created is None:  # cannot happen: written above, in this transaction
                raise Conflict(f"the invitation of {email} changed meanwhile; try again", rule="concurrent_change")
            return _read(created)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    async with read_tx():  # a concurrent request made the same invitation first
        org = await get_organization_row(slug)
        row = await _pending(org["id"], email, role)
    if row is None:
        raise Conflict(f"the invitation of {email} changed meanwhile; try again", rule="concurrent_change")
    return _read(row)


async def preview(token: str) -> InvitationPreview:
    """What a live link offers; any other token: the same 404, whatever the reason."""
    now = datetime.now(UTC)
    async with read_tx():
        row = (
            await MembershipInvitation.select(*_COLUMNS)
            .where((MembershipInvitation.token_hash == hash_token(token)) & (MembershipInvitation.expires_at > now))
            .first()
        )
        if row is None:
            raise NotFound(LINK_DEAD)
        has_account = await User.exists().where(User.email == row["email"])
    return InvitationPreview(
        organization=row["organization"],
        organization_name=row["organization_name"],
        email=row["email"],
        role=row["role"],
        expires_at=row["expires_at"],
        needs_password=not has_account,
    )


async def _grant(user_id: UUID, org_id: UUID, role: str, invitation_id: UUID) -> UUID:
    """The membership the accepted invitation gives (an existing one when the account already holds the role)."""
    existing = (
        await Membership.select(Membership.id)
        .where((Membership.organization == org_id) & (Membership.user == user_id) & (Membership.role == role))
        .first()
    )
    if existing is not None:
        await audit.record(
            user_id,
            "membership.invitation_used_up",
            "organization",
            org_id,
            {"invitation_id": str(invitation_id), "user_id": str(user_id), "role": role},
        )
        found: UUID = existing["id"]
        return found
    membership_id = uuid4()
    await Membership.insert(
        Membership(id=membership_id, organization=org_id, user=user_id, role=role, created_at=datetime.now(UTC))
    )
    await audit.record(
        user_id,
        "membership.added",
        "organization",
        org_id,
        {"user_id": str(user_id), "role": role, "invitation_id": str(invitation_id)},
    )
    return membership_id


async def accept_link(token: str, data: InvitationAccept, client: str | None = None) -> MembershipRead:
    """Accept by link. The invitation is taken by a conditional delete (live token only), so of two concurrent
    accepts exactly one wins; the other, like any used, withdrawn, expired or unknown token, gets the same 404.
    Without an account at the address, one is made with ``data.name`` and ``data.password``."""
    if data.password is not None:
        await count_link_use(client)
    password_hash = hash_password(data.password) if data.password is not None else None  # argon2: not in the tx
    now = datetime.now(UTC)
    try:
        async with write_tx():
            gone = (
                await MembershipInvitation.delete()
                .where((MembershipInvitation.token_hash == hash_token(token)) & (MembershipInvitation.expires_at > now))
                .returning(
                    MembershipInvitation.id,
                    MembershipInvitation.organization,
                    MembershipInvitation.email,
                    MembershipInvitation.role,
                )
            )
            if not gone:
                raise NotFound(LINK_DEAD)
            invitation = gone[0]
            invitation_id, org_id, email, role = (
                invitation["id"],
                invitation["organization"],
                invitation["email"],
                invitation["role"],
            )
            user = await User.select(User.id).where(User.email == email).first()
            created = False
            if user is None:
                if data.name is None or data.password is None or password_hash is None:
                    missing = [f for f, v in (("name", data.name), ("password", data.password)) if v is None]
                    message = "no account has this address yet: a name and a password make one"
                    raise Unprocessable(
                        message,
                        title="Validation failed",
                        errors=[field_error(f, "required", f"{f} is required to make the account") for f in missing],
                    )
                account = await insert_user(
                    UserCreate(email=email, name=data.name, password=data.password), password_hash, actor_id=None
                )
                user_id, created = account.id, True
            else:
                user_id = user["id"]
            membership_id = await _grant(user_id, org_id, role, invitation_id)
            await audit.record(
                user_id,
                "membership.invitation_accepted",
                "organization",
                org_id,
                {
                    "invitation_id": str(invitation_id),
                    "user_id": str(user_id),
                    "role": role,
                    "account_created": created,
                },
            )
            accepted = await queries.membership(membership_id)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        raise Conflict("the account was changed meanwhile; try again", rule="concurrent_change") from exc
    forget_principals()
    return accepted


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
            .where((MembershipInvitation.email == _email(principal.email)) & _live(datetime.now(UTC)))
            .order_by(MembershipInvitation.created_at)
        )
    return [InvitationRead(**r) for r in rows]


async def _take(principal: Principal, invitation_id: UUID) -> dict[str, Any]:
    """Delete the caller's invitation and return it: of two concurrent answers, one gets it, the other 404."""
    gone = (
        await MembershipInvitation.delete()
        .where(
            (MembershipInvitation.id == invitation_id)
            & (MembershipInvitation.email == _email(principal.email))
            & _live(datetime.now(UTC))
        )
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
        membership_id = await _grant(principal.id, org_id, role, invitation_id)
        await audit.record(
            principal.id,
            "membership.invitation_accepted",
            "organization",
            org_id,
            {"invitation_id": str(invitation_id), "user_id": str(principal.id), "role": role, "account_created": False},
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
