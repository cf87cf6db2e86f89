"""An organisation's people: the members list (its members), and for its officers removal, the pending
invitations with withdrawal, and the invite form. The same services and access rules as the API
(guild/orgs/api.py): members may list, officers change; anyone outside the organisation gets 404."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel, EmailStr

from guild.domain.errors import Conflict, Forbidden, NotFound, TooManyRequests
from guild.domain.principal import Principal, Role
from guild.orgs import invitations, queries, service
from guild.orgs.schemas import MembershipCreate
from guild.pages.render import page
from guild.pages.session import require_principal
from guild.web.params import SlugParam


class InviteForm(BaseModel):
    email: EmailStr
    role: Role


def _is_officer(principal: Principal, slug: str) -> bool:
    """Whether the person may change the organisation's people; any role in it may view them (the API's
    listMembers). Outside the organisation: 404, as the API answers."""
    if principal.is_admin:
        return True
    if not principal.is_member_of(slug):
        raise NotFound(f"organization {slug!r} not found")
    return principal.has_role(slug, Role.officer)


def _officer(principal: Principal, slug: str) -> None:
    """Officers (and site administrators) only, as the API's inviteMember, withdrawInvitation and removeMember."""
    if principal.is_admin:
        return
    if not principal.is_member_of(slug):
        raise NotFound(f"organization {slug!r} not found")
    if not principal.has_role(slug, Role.officer):
        raise Forbidden(f"needs role officer in organization {slug!r}")


async def _page(
    principal: Principal,
    slug: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    sent: str | None = None,
    invite_error: str | None = None,
    remove_error: str | None = None,
    form: dict[str, str] | None = None,
) -> Template:
    officer = _is_officer(principal, slug)
    org = await queries.get_organization(slug)
    return page(
        "members.html",
        principal,
        status_code=status_code,
        headers=headers,
        slug=slug,
        org=org,
        officer=officer,
        members=await queries.list_members(slug),
        pending=await invitations.list_for_organization(slug) if officer else [],
        roles=[r.value for r in Role],
        sent=sent,
        invite_error=invite_error,
        remove_error=remove_error,
        form=form or {"email": "", "role": Role.member.value},
    )


def _client(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


class MemberPagesController(Controller):
    path = "/organizations/{slug:str}"

    @get("/members")
    async def members(self, request: Request[Any, Any, Any], slug: FromPath[SlugParam]) -> Template:
        return await _page(await require_principal(request), slug)

    @post("/members/invite", status_code=200)
    async def invite(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[SlugParam],
        data: Annotated[InviteForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        """The same answer for every address (whether it has an account is not told); 409 when it already
        holds the role, 429 with Retry-After over the limits: both beside the form."""
        principal = await require_principal(request)
        _officer(principal, slug)
        form = {"email": str(data.email), "role": data.role.value}
        try:
            await invitations.invite(
                slug, MembershipCreate(email=data.email, role=data.role), actor_id=principal.id, client=_client(request)
            )
        except Conflict as exc:
            return await _page(principal, slug, status_code=409, invite_error=exc.detail, form=form)
        except TooManyRequests as exc:
            retry = exc.retry_after or 60
            return await _page(
                principal,
                slug,
                status_code=429,
                headers={"Retry-After": str(retry)},
                invite_error=f"Too many invitations; try again in {retry} seconds.",
                form=form,
            )
        return await _page(principal, slug, sent=str(data.email))

    @post("/members/{membership_id:uuid}/remove", status_code=303)
    async def remove(
        self, request: Request[Any, Any, Any], slug: FromPath[SlugParam], membership_id: FromPath[UUID]
    ) -> Redirect | Template:
        principal = await require_principal(request)
        _officer(principal, slug)
        try:
            await service.remove_member(slug, membership_id, actor_id=principal.id)
        except Conflict as exc:
            rule = exc.extra.get("rule")
            message = (
                "This is the organisation's last officer; make someone else an officer before removing this role."
                if rule == "last_officer"
                else exc.detail
            )
            return await _page(principal, slug, status_code=409, remove_error=message)
        return Redirect(path=f"/organizations/{slug}/members", status_code=303)

    @post("/invitations/{invitation_id:uuid}/withdraw", status_code=303)
    async def withdraw(
        self, request: Request[Any, Any, Any], slug: FromPath[SlugParam], invitation_id: FromPath[UUID]
    ) -> Redirect:
        principal = await require_principal(request)
        _officer(principal, slug)
        await invitations.withdraw(slug, invitation_id, actor_id=principal.id)
        return Redirect(path=f"/organizations/{slug}/members", status_code=303)
