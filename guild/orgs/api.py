from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath, FromQuery, JSONBody

from guild.domain.errors import Conflict, NotFound
from guild.domain.principal import Principal, Role
from guild.orgs import invitations, queries, service
from guild.orgs.schemas import (
    InvitationAccept,
    InvitationPreview,
    InvitationRead,
    MembershipCreate,
    MembershipRead,
    OrganizationCreate,
    OrganizationRead,
    OrgKind,
)
from guild.web.params import LinkToken, SlugParam
from guild.web.problems import documented
from guild.web.security import admin_guard, org_role_guard

Req = Request[Principal, Any, Any]


class OrganizationController(Controller):
    path = "/api/v1/organizations"
    tags = ["organizations"]
    guards = [admin_guard, org_role_guard]

    @post("/", opt={"admin": True}, raises=documented(Conflict), summary="Create an organisation (site admin)")
    async def create(self, data: JSONBody[OrganizationCreate], request: Req) -> OrganizationRead:
        return await service.create_organization(data, actor_id=request.user.id)

    @get("/", summary="List organisations")
    async def list_organizations(self, kind: FromQuery[OrgKind | None] = None) -> list[OrganizationRead]:
        return await queries.list_organizations(kind)

    @get("/{slug:str}", summary="One organisation")
    async def get_organization(self, slug: FromPath[SlugParam]) -> OrganizationRead:
        return await queries.get_organization(slug)

    @get("/{slug:str}/members", opt={"org_roles": tuple(Role)}, summary="Members of an organisation (its members)")
    async def members(self, slug: FromPath[SlugParam]) -> list[MembershipRead]:
        return await queries.list_members(slug)

    @post(
        "/{slug:str}/members",
        opt={"org_roles": (Role.officer,)},
        status_code=202,
        raises=documented(Conflict, TooManyRequestsException),
        summary="Invite an e-mail address to a role (officers); it becomes a membership when accepted",
        description="The answer is the same whether or not an account has the address: 202 with the pending "
        "invitation (the same one again while its link is live). The address is e-mailed a single-use, expiring "
        "link (GUILD_INVITATION_TTL_HOURS) to {public_base_url}/invitations/{token}, accepted at "
        "POST /api/v1/invitations/{token}/accept (creating the account if the address has none); a signed-in "
        "account may also accept at POST /api/v1/me/invitations/{id}/accept. Inviting again after the link expired "
        "sends a new link. 409 when the address already holds the role here; 429 with Retry-After over the "
        "per-officer or per-client-address limit.",
    )
    async def add_member(
        self, slug: FromPath[SlugParam], data: JSONBody[MembershipCreate], request: Req
    ) -> InvitationRead:
        client = request.client.host if request.client else None
        return await invitations.invite(slug, data, actor_id=request.user.id, client=client)

    @get("/{slug:str}/invitations", opt={"org_roles": (Role.officer,)}, summary="Pending invitations (officers)")
    async def list_invitations(self, slug: FromPath[SlugParam]) -> list[InvitationRead]:
        return await invitations.list_for_organization(slug)

    @delete(
        "/{slug:str}/invitations/{invitation_id:uuid}",
        opt={"org_roles": (Role.officer,)},
        summary="Withdraw a pending invitation (officers): its e-mailed link stops working",
    )
    async def withdraw_invitation(self, slug: FromPath[SlugParam], invitation_id: FromPath[UUID], request: Req) -> None:
        await invitations.withdraw(slug, invitation_id, actor_id=request.user.id)

    @delete(
        "/{slug:str}/members/{membership_id:uuid}",
        opt={"org_roles": (Role.officer,)},
        raises=documented(Conflict),
        summary="Remove a role (officers)",
    )
    async def remove_member(self, slug: FromPath[SlugParam], membership_id: FromPath[UUID], request: Req) -> None:
        await service.remove_member(slug, membership_id, actor_id=request.user.id)


class MyInvitationController(Controller):
    """The signed-in user's pending invitations: roles offered to their account's e-mail address."""

    path = "/api/v1/me/invitations"
    tags = ["organizations"]

    @get("/", summary="Roles offered to my e-mail address, pending my answer")
    async def mine(self, request: Req) -> list[InvitationRead]:
        return await invitations.list_mine(request.user)

    @post("/{invitation_id:uuid}/accept", summary="Accept an invitation: the role becomes a membership")
    async def accept(self, invitation_id: FromPath[UUID], request: Req) -> MembershipRead:
        return await invitations.accept(request.user, invitation_id)

    @delete("/{invitation_id:uuid}", summary="Decline an invitation")
    async def decline(self, invitation_id: FromPath[UUID], request: Req) -> None:
        await invitations.decline(request.user, invitation_id)


class InvitationLinkController(Controller):
    """Invitation links (public: the token in the e-mailed link is the credential)."""

    path = "/api/v1/invitations"
    tags = ["organizations"]

    @get(
        "/{invitation_token:str}",
        opt={"public": True},
        raises=documented(NotFound),
        summary="What an invitation link offers",
        description="The organisation, role and address of a live link, and whether accepting needs a name and "
        "password (no account has the address yet). Unknown, used, withdrawn and expired links: the same 404.",
    )
    async def preview(self, invitation_token: FromPath[LinkToken]) -> InvitationPreview:
        return await invitations.preview(invitation_token)

    @post(
        "/{invitation_token:str}/accept",
        opt={"public": True},
        status_code=200,
        raises=documented(NotFound, Conflict, TooManyRequestsException),
        summary="Accept an invitation link: the role becomes a membership",
        description="Works once. When no account has the address, `name` and `password` (the password policy of "
        "new accounts) make one, which can then sign in; otherwise the role is added to the existing account and "
        "both are ignored. Unknown, used, withdrawn and expired links: the same 404. A password sent counts against the "
        "client address's sign-in attempts (429 with Retry-After).",
    )
    async def accept(
        self, invitation_token: FromPath[LinkToken], data: JSONBody[InvitationAccept], request: Request[Any, Any, Any]
    ) -> MembershipRead:
        client = request.client.host if request.client else None
        return await invitations.accept_link(invitation_token, data, client)
