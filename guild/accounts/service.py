"""Users: creation, authentication, the request principal."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import UUID, uuid4

from pydantic import TypeAdapter

from guild.accounts.passwords import hash_password, verify_password
from guild.accounts.schemas import MeRead, UserCreate, UserRead
from guild.domain.errors import Conflict, NotFound, Unauthorized
from guild.domain.principal import Principal
from guild.infra import audit, throttle
from guild.infra.db import Param, Prepared, read_tx, write_tx
from guild.infra.settings import get_settings
from guild.infra.tables import Membership, User


def _normalise_email(email: str) -> str:
    return email.strip().lower()


async def create_user(data: UserCreate, actor_id: UUID | None = None) -> UserRead:
    email = _normalise_email(data.email)
    password_hash = hash_password(data.password)  # outside the transaction: argon2 is slow by design
    async with write_tx():
        if await User.exists().where(User.email == email):
            raise Conflict(f"a user with e-mail {email} already exists", field="email", rule="unique")
        user = User(
            id=uuid4(),
            email=email,
            name=data.name,
            password_hash=password_hash,
            is_admin=data.is_admin,
            is_active=True,
            created_at=datetime.now(UTC),
        )
        await User.insert(user)
        await audit.record(actor_id, "user.created", "user", user.id, {"email": email, "is_admin": data.is_admin})
    return UserRead(id=user.id, email=email, name=user.name, is_admin=user.is_admin, created_at=user.created_at)


def signin_limits() -> tuple[throttle.Limit, throttle.Limit]:
    """(attempts per client address, wrong passwords per account), from the settings."""
    settings = get_settings()
    window = settings.signin_window_seconds
    return (
        throttle.Limit(
            "signin:address",
            settings.signin_attempts_per_address,
            window,
            "too many sign-in attempts from this address; try again later",
        ),
        throttle.Limit(
            "signin:account",
            settings.signin_failures_per_account,
            window,
            "too many failed sign-ins for this account; try again later",
        ),
    )


async def authenticate(email: str, password: str, client: str | None = None) -> UUID:
    """The user's id if e-mail and password match an active account, else 401.

    Throttled before any password is verified (argon2 costs 0.1–0.25 s of CPU): every attempt counts
    against the client address, every attempt against the account until it succeeds; over either limit, 429
    with ``Retry-After``. Unknown e-mails are counted like known ones, so a 429 reveals nothing about
    which e-mails have accounts. A right password clears the account's failures.
    """
    email = _normalise_email(email)
    per_address, per_account = signin_limits()
    async with write_tx():  # counted before verifying, so concurrent guesses cannot overshoot a limit
        if client:
            await throttle.hit(per_address, client)
        await throttle.hit(per_account, email)
        row = await User.select(User.id, User.password_hash, User.is_active).where(User.email == email).first()
    ok = verify_password(password, row["password_hash"] if row else None)
    if not ok or row is None or not row["is_active"]:
        raise Unauthorized("e-mail or password is wrong")
    async with write_tx():
        await throttle.reset(per_account, email)
    user_id: UUID = row["id"]
    return user_id


class PrincipalCache:
    """Principals of recent requests, kept for ``principal_cache_seconds`` so that a request spends no
    query on who is asking.

    Whoever changes memberships calls :func:`forget_principals` after committing: this process sees the
    change at once; other processes (more server workers) within the time-to-live. A principal loaded
    while a change commits is not kept (the generation moved on while it was read), so a forgotten
    principal cannot come back stale.
    """

    def __init__(self) -> None:
        self._entries: dict[UUID, tuple[float, Principal]] = {}
        self._generation = 0

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()

    async def get(self, user_id: UUID, ttl: float) -> Principal | None:
        now = time.monotonic()
        entry = self._entries.get(user_id)
        if entry is not None and entry[0] > now:
            return entry[1]
        generation = self._generation
        principal = await _load_principal(user_id)
        if principal is not None and ttl > 0 and generation == self._generation:
            if len(self._entries) >= _CACHE_MAX:
                self._entries.clear()
            self._entries[user_id] = (now + ttl, principal)
        return principal


_CACHE_MAX = 10_000
_principals = PrincipalCache()


def forget_principals() -> None:
    """Memberships or accounts changed: principals are loaded afresh (call after the commit)."""
    _principals.clear()


async def load_principal(user_id: UUID) -> Principal | None:
    """The active user's principal with roles per organisation, or None (unknown or deactivated)."""
    return await _principals.get(user_id, get_settings().principal_cache_seconds)


_PRINCIPAL_USER = Prepared(
    lambda: User.select(User.id, User.email, User.name, User.is_admin, User.is_active).where(User.id == Param("user"))
)
_PRINCIPAL_ROLES = Prepared(
    lambda: Membership.select(Membership.role, Membership.organization.slug, Membership.organization.id).where(
        Membership.user == Param("user")
    )
)


async def _load_principal(user_id: UUID) -> Principal | None:
    async with read_tx():
        user = await _PRINCIPAL_USER.first(user=user_id)
        if user is None or not user["is_active"]:
            return None
        rows = await _PRINCIPAL_ROLES.rows(user=user_id)
    roles: dict[str, set[str]] = {}
    org_ids: dict[str, UUID] = {}
    for r in rows:
        slug = r["organization.slug"]
        roles.setdefault(slug, set()).add(r["role"])
        org_ids[slug] = r["organization.id"]
    return Principal(
        id=user["id"],
        email=user["email"],
        name=user["name"],
        is_admin=user["is_admin"],
        roles={k: frozenset(v) for k, v in roles.items()},
        org_ids=org_ids,
    )


_ME = Prepared(
    lambda: User.select(User.id, User.email, User.name, User.is_admin, User.created_at).where(User.id == Param("user"))
)
_MY_MEMBERSHIPS = Prepared(
    lambda: (
        Membership.select(
            Membership.organization.id.as_alias("organization_id"),
            Membership.organization.slug.as_alias("organization_slug"),
            Membership.organization.name.as_alias("organization_name"),
            Membership.organization.kind.as_alias("organization_kind"),
            Membership.role,
        )
        .where(Membership.user == Param("user"))
        .order_by(Membership.organization.slug)
    )
)
ME_READ = TypeAdapter(MeRead)


async def me(user_id: UUID) -> MeRead:
    """Stored values parsed by the response model in one call (``Prepared.plain``)."""
    async with read_tx():  # PostgreSQL: both statements on one pooled connection
        found = await _ME.plain(user=user_id)
        if not found:
            raise NotFound(f"user {user_id} not found")
        memberships = await _MY_MEMBERSHIPS.plain(user=user_id)
    return ME_READ.validate_python({**found[0], "memberships": memberships})


async def user_count() -> int:
    async with read_tx():
        count: int = await User.count()
    return count
