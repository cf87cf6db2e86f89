"""Users: creation, authentication, the request principal."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from guild import audit
from guild.accounts.schemas import MeRead, MyMembership, UserCreate, UserRead
from guild.db import read_tx, write_tx
from guild.errors import Conflict, Unauthorized
from guild.security import Principal, hash_password, verify_password
from guild.tables import Membership, User


def _normalise_email(email: str) -> str:
    return email.strip().lower()


async def create_user(data: UserCreate, actor_id: UUID | None = None) -> UserRead:
    email = _normalise_email(data.email)
    password_hash = hash_password(data.password)  # outside the transaction: argon2 is slow by design
    async with write_tx():
        if await User.exists().where(User.email == email):
            raise Conflict(f"a user with e-mail {email} already exists", field="email", rule="unique")
        user = User(
            id=uuid4(), email=email, name=data.name, password_hash=password_hash, is_admin=data.is_admin,
            is_active=True, created_at=datetime.now(UTC),
        )
        await User.insert(user)
        await audit.record(actor_id, "user.created", "user", user.id, {"email": email, "is_admin": data.is_admin})
    return UserRead(id=user.id, email=email, name=user.name, is_admin=user.is_admin, created_at=user.created_at)


async def authenticate(email: str, password: str) -> UUID:
    async with read_tx():
        row = await User.select(User.id, User.password_hash, User.is_active).where(
            User.email == _normalise_email(email)
        ).first()
    ok = verify_password(password, row["password_hash"] if row else None)
    if not ok or not row["is_active"]:
        raise Unauthorized("e-mail or password is wrong")
    return row["id"]


async def load_principal(user_id: UUID) -> Principal | None:
    async with read_tx():
        user = await User.select(User.id, User.email, User.name, User.is_admin, User.is_active).where(
            User.id == user_id
        ).first()
        if user is None or not user["is_active"]:
            return None
        rows = await Membership.select(
            Membership.role, Membership.organization.slug, Membership.organization.id
        ).where(Membership.user == user_id)
    roles: dict[str, set[str]] = {}
    org_ids: dict[str, UUID] = {}
    for r in rows:
        slug = r["organization.slug"]
        roles.setdefault(slug, set()).add(r["role"])
        org_ids[slug] = r["organization.id"]
    return Principal(
        id=user["id"], email=user["email"], name=user["name"], is_admin=user["is_admin"],
        roles={k: frozenset(v) for k, v in roles.items()}, org_ids=org_ids,
    )


async def me(user_id: UUID) -> MeRead:
    async with read_tx():
        user = await User.select().where(User.id == user_id).first()
        rows = await Membership.select(
            Membership.role,
            Membership.organization.id,
            Membership.organization.slug,
            Membership.organization.name,
            Membership.organization.kind,
        ).where(Membership.user == user_id).order_by(Membership.organization.slug)
    return MeRead(
        id=user["id"], email=user["email"], name=user["name"], is_admin=user["is_admin"],
        created_at=user["created_at"],
        memberships=[
            MyMembership(
                organization_id=r["organization.id"], organization_slug=r["organization.slug"],
                organization_name=r["organization.name"], organization_kind=r["organization.kind"], role=r["role"],
            )
            for r in rows
        ],
    )


async def user_count() -> int:
    async with read_tx():
        return await User.count()
