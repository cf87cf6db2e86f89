"""Users: creation, authentication, password change and reset, the request principal."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from pydantic import TypeAdapter

from guild.accounts.passwords import hash_password, verify_password
from guild.accounts.schemas import MeRead, UserCreate, UserRead
from guild.accounts.tokens import hash_token, new_token
from guild.domain.errors import Conflict, NotFound, Unauthorized, invalid
from guild.domain.principal import Principal
from guild.infra import audit, throttle
from guild.infra.db import Param, Prepared, raw, read_tx, write_tx
from guild.infra.settings import get_settings
from guild.infra.tables import Membership, PasswordResetToken, User
from guild.mail import service as mail


def _normalise_email(email: str) -> str:
    return email.strip().lower()


async def create_user(data: UserCreate, actor_id: UUID | None = None) -> UserRead:
    password_hash = hash_password(data.password)  # outside the transaction: argon2 is slow by design
    async with write_tx():
        return await insert_user(data, password_hash, actor_id)


async def insert_user(data: UserCreate, password_hash: str, actor_id: UUID | None) -> UserRead:
    """Create the account on the caller's write transaction (``password_hash`` made beforehand)."""
    email = _normalise_email(data.email)
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
        credentials_version=0,
    )
    await User.insert(user)
    await audit.record(actor_id, "user.created", "user", user.id, {"email": email, "is_admin": data.is_admin})
    return UserRead(id=user.id, email=email, name=user.name, is_admin=user.is_admin, created_at=user.created_at)


async def get_user(user_id: UUID) -> UserRead:
    async with read_tx():
        row = (
            await User.select(User.id, User.email, User.name, User.is_admin, User.created_at)
            .where(User.id == user_id)
            .first()
        )
    if row is None:
        raise NotFound("no such user")
    return UserRead(**row)


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


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who signed in, and the credentials version their tokens must carry (see ``TokenIssuer.issue``)."""

    user_id: UUID
    credentials_version: int


async def authenticate(email: str, password: str, client: str | None = None) -> UUID:
    """The user's id if e-mail and password match an active account, else 401 (see :func:`sign_in`)."""
    return (await sign_in(email, password, client)).user_id


async def sign_in(email: str, password: str, client: str | None = None) -> SignedIn:
    """The user if e-mail and password match an active account, else 401.

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
        row = (
            await User.select(User.id, User.password_hash, User.is_active, User.credentials_version)
            .where(User.email == email)
            .first()
        )
    ok = verify_password(password, row["password_hash"] if row else None)
    if not ok or row is None or not row["is_active"]:
        raise Unauthorized("e-mail or password is wrong")
    async with write_tx():
        await throttle.reset(per_account, email)
    return SignedIn(row["id"], row["credentials_version"])


# --- password change and reset -------------------------------------------------------------------------------


async def _new_credentials(user_id: UUID, password_hash: str, expected_version: int | None) -> int | None:
    """Store the new password and raise the credentials version (tokens issued before stop working); delete
    every outstanding reset token of the account. ``expected_version``: only if nobody changed it meanwhile.
    The new version, or None when the account is gone, inactive or changed meanwhile."""
    condition = "" if expected_version is None else " AND credentials_version = {}"
    args: list[object] = [password_hash, user_id]
    if expected_version is not None:
        args.append(expected_version)
    rows = await raw(
        "UPDATE guild_user SET password_hash = {}, credentials_version = credentials_version + 1 "
        "WHERE id = {} AND is_active" + condition + " RETURNING credentials_version",
        *args,
    )
    if not rows:
        return None
    await PasswordResetToken.delete().where(PasswordResetToken.user == user_id)
    version: int = rows[0]["credentials_version"]
    return version


async def change_password(user_id: UUID, current_password: str, new_password: str) -> SignedIn:
    """The signed-in user's new password, after the current one is confirmed; tokens issued before stop working
    (in this process at once, in other server processes within ``principal_cache_seconds``).

    Wrong current passwords count against the account's sign-in failure limit (a stolen token cannot be used to
    guess the password faster than signing in could)."""
    _, per_account = signin_limits()
    async with read_tx():
        row = (
            await User.select(User.email, User.password_hash, User.credentials_version)
            .where((User.id == user_id) & (User.is_active == True))  # noqa: E712
            .first()
        )
    if row is None:
        raise Unauthorized("the account is no longer active")
    async with write_tx():
        await throttle.hit(per_account, row["email"])
    if not verify_password(current_password, row["password_hash"]):
        raise invalid("current_password", "matches", "the current password is wrong")
    password_hash = hash_password(new_password)
    async with write_tx():
        version = await _new_credentials(user_id, password_hash, row["credentials_version"])
        if version is None:
            raise Conflict("the password was changed meanwhile; sign in again", rule="concurrent_change")
        await throttle.reset(per_account, row["email"])
        await audit.record(user_id, "user.password_changed", "user", user_id, {})
    forget_principals()
    return SignedIn(user_id, version)


def reset_limits() -> tuple[throttle.Limit, throttle.Limit]:
    """(reset requests per client address, per e-mail address), from the settings."""
    settings = get_settings()
    window = settings.mail_limit_window_seconds
    return (
        throttle.Limit(
            "reset:address",
            settings.reset_requests_per_address,
            window,
            "too many password reset requests from this address; try again later",
        ),
        throttle.Limit(
            "reset:account",
            settings.reset_requests_per_account,
            window,
            "too many password reset requests for this e-mail address; try again later",
        ),
    )


def reset_link(token: str) -> str:
    return f"{get_settings().public_base_url}/reset-password/{token}"


async def request_password_reset(email: str, client: str | None = None) -> None:
    """E-mail a single-use reset link if an active account has ``email``; the same outcome for the caller
    whether or not one does (the same work up to two inserts: a token is made and hashed either way, and both
    limits count the request)."""
    email = _normalise_email(email)
    per_address, per_account = reset_limits()
    settings = get_settings()
    token, token_hash = new_token()
    now = datetime.now(UTC)
    expires_at = now + timedelta(minutes=settings.password_reset_ttl_minutes)
    async with write_tx():
        if client:
            await throttle.hit(per_address, client)
        await throttle.hit(per_account, email)
        row = await User.select(User.id).where((User.email == email) & (User.is_active == True)).first()  # noqa: E712
        # the account's expired tokens go; for an unknown address the same statement finds nothing
        await PasswordResetToken.delete().where(
            (PasswordResetToken.user == (row["id"] if row else uuid4())) & (PasswordResetToken.expires_at <= now)
        )
        if row is None:
            return
        await PasswordResetToken.insert(
            PasswordResetToken(id=uuid4(), user=row["id"], token_hash=token_hash, expires_at=expires_at, created_at=now)
        )
        minutes = settings.password_reset_ttl_minutes
        await mail.enqueue(
            to=email,
            subject="Reset your guild password",
            text=(
                "Someone asked to reset the password of your guild account.\n\n"
                f"To choose a new password, open this link within {minutes} minutes:\n\n{reset_link(token)}\n\n"
                "The link works once. If you did not ask for this, ignore this message: your password stays as it is."
            ),
            kind="password_reset",
        )


async def count_link_use(client: str | None) -> None:
    """A link token presented with a password to hash (reset, invitation accept) counts, committed, against the
    client address's sign-in attempts: the same cap on argon2 work per address as signing in."""
    if client:
        async with write_tx():
            await throttle.hit(signin_limits()[0], client)


async def reset_password(token: str, new_password: str, client: str | None = None) -> None:
    """Set a new password with an e-mailed reset token. The token is used up by a conditional delete, so of two
    concurrent resets with one token exactly one succeeds; every other reset token of the account dies with it,
    and tokens issued before stop working. Unknown, used and expired tokens get the same 404."""
    await count_link_use(client)
    password_hash = hash_password(new_password)  # before the check, so a bad token costs the same
    now = datetime.now(UTC)
    async with write_tx():
        taken = (
            await PasswordResetToken.delete()
            .where((PasswordResetToken.token_hash == hash_token(token)) & (PasswordResetToken.expires_at > now))
            .returning(PasswordResetToken.user)
        )
        version = await _new_credentials(taken[0]["user"], password_hash, None) if taken else None
        if version is None:
            raise NotFound(RESET_LINK_DEAD)
        user_id = taken[0]["user"]
        email = await User.select(User.email).where(User.id == user_id).first()
        if email is not None:
            await throttle.reset(signin_limits()[1], email["email"])
        await audit.record(user_id, "user.password_reset", "user", user_id, {})
    forget_principals()


RESET_LINK_DEAD = "this password reset link is not valid: it is unknown, used, replaced or expired"


class PrincipalCache:
    """Principals of recent requests, kept for ``principal_cache_seconds`` so that a request spends no
    query on who is asking.

    Whoever changes memberships or credentials calls :func:`forget_principals` after committing: this process
    sees the change at once; other processes (more server workers) within the time-to-live. That includes a
    password change or reset: elsewhere a token issued before it keeps working for at most that long. A principal loaded
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
    lambda: User.select(User.id, User.email, User.name, User.is_admin, User.is_active, User.credentials_version).where(
        User.id == Param("user")
    )
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
        credentials_version=user["credentials_version"],
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
