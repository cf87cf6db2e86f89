from __future__ import annotations

from uuid import UUID

from litestar.params import FromPath, FromQuery, JSONBody
from litestar import Controller, Request, delete, get, post

from guild.errors import Conflict
from guild.orgs import service
from guild.orgs.schemas import MembershipCreate, MembershipRead, OrganizationCreate, OrganizationRead, OrgKind
from guild.security import Principal, Role, admin_guard, org_role_guard


class OrganizationController(Controller):
    path = "/api/v1/organizations"
    tags = ["organizations"]
    guards = [admin_guard, org_role_guard]

    @post("/", opt={"admin": True}, raises=[Conflict], summary="Create an organisation (site admin)")
    async def create(self, data: JSONBody[OrganizationCreate], request: Request[Principal, object, object]) -> OrganizationRead:
        return await service.create_organization(data, actor_id=request.user.id)

    @get("/", summary="List organisations")
    async def list_organizations(self, kind: FromQuery[OrgKind | None] = None) -> list[OrganizationRead]:
        return await service.list_organizations(kind.value if kind else None)

    @get("/{slug:str}", summary="One organisation")
    async def get_organization(self, slug: FromPath[str]) -> OrganizationRead:
        return await service.get_organization(slug)

    @get("/{slug:str}/members", opt={"org_roles": tuple(Role)}, summary="Members of an organisation (its members)")
    async def members(self, slug: FromPath[str]) -> list[MembershipRead]:
        return await service.list_members(slug)

    @post("/{slug:str}/members", opt={"org_roles": (Role.officer,)}, raises=[Conflict],
          summary="Give a user a role (officers)")
    async def add_member(
        self, slug: FromPath[str], data: JSONBody[MembershipCreate], request: Request[Principal, object, object]
    ) -> MembershipRead:
        return await service.add_member(slug, data, actor_id=request.user.id)

    @delete(
        "/{slug:str}/members/{membership_id:uuid}", opt={"org_roles": (Role.officer,)}, raises=[Conflict],
        summary="Remove a role (officers)",
    )
    async def remove_member(self, slug: FromPath[str], membership_id: FromPath[UUID], request: Request[Principal, object, object]) -> None:
        await service.remove_member(slug, membership_id, actor_id=request.user.id)
