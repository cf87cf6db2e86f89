from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath, FromQuery, JSONBody

from guild.domain.errors import Conflict, NotFound
from guild.domain.paging import ident, instant
from guild.domain.principal import Principal, Role
from guild.orgs import examples, invitations, queries, service
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
from guild.web.paging import PAGE_HEADERS, Page, paged
from guild.web.params import LinkToken, SlugParam
from guild.web.problems import documented
from guild.web.security import admin_guard, org_role_guard

Req = Request[Principal, Any, Any]


def _by_created(row: Any) -> tuple[int, str]:
    """Oldest first: the order of lists of rows with a creation time and an id."""
    return (instant(row.created_at), ident(row.id))


class OrganizationController(Controller):
    path = "/api/v1/organizations"
    tags = ["organizations"]
    guards = [admin_guard, org_role_guard]

    @post(
        "/",
        opt={
            "admin": True,
            "location": "/api/v1/organizations/{slug}",
            "examples": {
                "A performers' guild": examples.ORGANIZATION_GUILD,
                "A production company": examples.ORGANIZATION_COMPANY,
            },
        },
        raises=documented(Conflict),
        summary="Create an organisation (site admin)",
        operation_id="createOrganization",
    )
    async def create(self, data: JSONBody[OrganizationCreate], request: Req) -> OrganizationRead:
        """A site admin registers a guild, union, festival, film fund, production company or AI licensee. The slug
        is its permanent URL name; 409 when it is taken. Roles in it are then offered by invitation."""
        return await service.create_organization(data, actor_id=request.user.id)

    @get("/", response_headers=PAGE_HEADERS, summary="List organisations", operation_id="listOrganizations")
    async def list_organizations(
        self, request: Req, page: Page, kind: FromQuery[OrgKind | None] = None
    ) -> Response[list[OrganizationRead]]:
        """Every organisation, optionally only those of one kind (`?kind=production_company`). Organisations are
        public facts: any signed-in account may list them."""
        return paged(request, page, await queries.list_organizations(kind), lambda o: (o.slug,))

    @get("/{slug:str}", summary="One organisation", operation_id="getOrganization")
    async def get_organization(self, slug: FromPath[SlugParam]) -> OrganizationRead:
        """One organisation by its slug; 404 when there is none."""
        return await queries.get_organization(slug)

    @get(
        "/{slug:str}/members",
        opt={"org_roles": tuple(Role)},
        response_headers=PAGE_HEADERS,
        summary="Members of an organisation (its members)",
        operation_id="listMembers",
    )
    async def members(
        self, request: Req, slug: FromPath[SlugParam], page: Page, role: FromQuery[Role | None] = None
    ) -> Response[list[MembershipRead]]:
        """Everyone holding a role in the organisation, one entry per person and role (`?role=` one role). Only its
        members see them; anyone else gets 404."""
        rows = [m for m in await queries.list_members(slug) if role is None or m.role == role]
        return paged(request, page, rows, _by_created)

    @post(
        "/{slug:str}/members",
        opt={
            "org_roles": (Role.officer,),
            "examples": {
                "Offer the officer role": examples.MEMBERSHIP_OFFICER,
                "Offer membership to a performer": examples.MEMBERSHIP_MEMBER,
            },
            "response_examples": {"A pending invitation": examples.INVITATION},
        },
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
        operation_id="inviteMember",
    )
    async def add_member(
        self, slug: FromPath[SlugParam], data: JSONBody[MembershipCreate], request: Req
    ) -> InvitationRead:
        client = request.client.host if request.client else None
        return await invitations.invite(slug, data, actor_id=request.user.id, client=client)

    @get(
        "/{slug:str}/invitations",
        opt={"org_roles": (Role.officer,)},
        response_headers=PAGE_HEADERS,
        summary="Pending invitations (officers)",
        operation_id="listInvitations",
    )
    async def list_invitations(
        self, request: Req, slug: FromPath[SlugParam], page: Page
    ) -> Response[list[InvitationRead]]:
        """Roles the organisation's officers have offered and nobody has accepted or declined yet."""
        return paged(request, page, await invitations.list_for_organization(slug), _by_created)

    @delete(
        "/{slug:str}/invitations/{invitation_id:uuid}",
        opt={"org_roles": (Role.officer,)},
        summary="Withdraw a pending invitation (officers): its e-mailed link stops working",
        operation_id="withdrawInvitation",
    )
    async def withdraw_invitation(self, slug: FromPath[SlugParam], invitation_id: FromPath[UUID], request: Req) -> None:
        """An officer takes back a pending offer; the invitee can no longer accept it. 404 when it was already
        answered or withdrawn."""
        await invitations.withdraw(slug, invitation_id, actor_id=request.user.id)

    @delete(
        "/{slug:str}/members/{membership_id:uuid}",
        opt={"org_roles": (Role.officer,)},
        raises=documented(Conflict),
        summary="Remove a role (officers)",
        operation_id="removeMember",
    )
    async def remove_member(self, slug: FromPath[SlugParam], membership_id: FromPath[UUID], request: Req) -> None:
        """An officer ends one role of one person (a membership). The organisation always keeps at least one
        officer: removing the last is refused with 409, rule `last_officer`."""
        await service.remove_member(slug, membership_id, actor_id=request.user.id)


class MyInvitationController(Controller):
    """The signed-in user's pending invitations: roles offered to their account's e-mail address."""

    path = "/api/v1/me/invitations"
    tags = ["organizations"]

    @get(
        "/",
        response_headers=PAGE_HEADERS,
        summary="Roles offered to my e-mail address, pending my answer",
        operation_id="listMyInvitations",
    )
    async def mine(self, request: Req, page: Page) -> Response[list[InvitationRead]]:
        """Roles organisations have offered to the e-mail address of the signed-in account, waiting for its answer."""
        return paged(request, page, await invitations.list_mine(request.user), _by_created)

    @post(
        "/{invitation_id:uuid}/accept",
        summary="Accept an invitation: the role becomes a membership",
        operation_id="acceptInvitation",
    )
    async def accept(self, invitation_id: FromPath[UUID], request: Req) -> MembershipRead:
        """Accepts an offered role: it becomes a membership of the signed-in account. 404 for an invitation to
        another address or one already answered."""
        return await invitations.accept(request.user, invitation_id)

    @delete("/{invitation_id:uuid}", summary="Decline an invitation", operation_id="declineInvitation")
    async def decline(self, invitation_id: FromPath[UUID], request: Req) -> None:
        """Declines an offered role; the invitation is removed and the officers no longer see it as pending."""
        await invitations.decline(request.user, invitation_id)


class InvitationLinkController(Controller):
    """Invitation links (public: the token in the e-mailed link is the credential)."""

    path = "/api/v1/invitations"
    tags = ["organizations"]

    @get(
        "/{invitation_token:str}",
        opt={"public": True, "response_examples": {"A role for an existing account": examples.INVITATION_PREVIEW}},
        operation_id="showInvitationLink",
        raises=documented(NotFound),
        summary="What an invitation link offers",
        description="The organisation, role and address of a live link, and whether accepting needs a name and "
        "password (no account has the address yet). Unknown, used, withdrawn and expired links: the same 404.",
    )
    async def preview(self, invitation_token: FromPath[LinkToken]) -> InvitationPreview:
        return await invitations.preview(invitation_token)

    @post(
        "/{invitation_token:str}/accept",
        opt={
            "public": True,
            "examples": {
                "A new account with the role": examples.INVITATION_ACCEPT_NEW_ACCOUNT,
                "The role for an existing account": examples.INVITATION_ACCEPT_EXISTING_ACCOUNT,
            },
        },
        operation_id="acceptInvitationLink",
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
