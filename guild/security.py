"""Passwords (argon2 via pwdlib), bearer JWTs (Litestar JWTAuth), the request principal and role guards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token
from pwdlib import PasswordHash

from guild.errors import Forbidden, NotFound
from guild.settings import Settings

_hasher = PasswordHash.recommended()
# Verified against when the e-mail is unknown, so both paths cost one argon2 verification.
_DUMMY_HASH = _hasher.hash("guild-timing-equaliser")


class Role(StrEnum):
    officer = "officer"
    producer = "producer"
    member = "member"
    reviewer = "reviewer"
    licensee = "licensee"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


@dataclass(frozen=True)
class Principal:
    """The authenticated user of one request, with roles per organisation (keyed by organisation slug)."""

    id: UUID
    email: str
    name: str
    is_admin: bool
    roles: dict[str, frozenset[str]] = field(default_factory=dict)
    org_ids: dict[str, UUID] = field(default_factory=dict)

    def has_role(self, org_slug: str, *roles: str) -> bool:
        return bool(self.roles.get(org_slug, frozenset()) & set(roles))

    def is_member_of(self, org_slug: str) -> bool:
        return org_slug in self.roles

    def orgs_with_role(self, *roles: str) -> list[UUID]:
        return [self.org_ids[slug] for slug, have in self.roles.items() if have & set(roles)]


async def _retrieve_principal(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    from guild.accounts.service import load_principal

    try:
        user_id = UUID(token.sub)
    except ValueError:
        return None
    return await load_principal(user_id)


def make_jwt_auth(settings: Settings) -> JWTAuth[Principal]:
    return JWTAuth[Principal](
        retrieve_user_handler=_retrieve_principal,
        token_secret=settings.jwt_secret(),
        default_token_expiration=timedelta(minutes=settings.token_ttl_minutes),
        exclude_opt_key="public",
        exclude=["^/schema", "^/health"],
        openapi_security_scheme_name="BearerToken",
    )


class TokenIssuer:
    """Issues bearer tokens with the app's JWT settings (a plain class, injectable as a dependency)."""

    def __init__(self, jwt_auth: JWTAuth[Principal]) -> None:
        self._jwt_auth = jwt_auth
        self.ttl: timedelta = jwt_auth.default_token_expiration

    def issue(self, user_id: UUID) -> tuple[str, datetime]:
        expires_at = datetime.now(UTC).replace(microsecond=0) + self.ttl
        token = self._jwt_auth.create_token(identifier=str(user_id), token_expiration=self.ttl)
        return token, expires_at


# --- guards: the needed role comes from the route's ``opt`` ---------------------------------------


async def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if handler.opt.get("admin") and not connection.user.is_admin:
        raise Forbidden("site administrators only")


async def org_role_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """``opt={"org_roles": (...)}``: the user needs one of these roles in the organisation ``{slug}``.

    Someone outside the organisation gets 404 (its private resources do not exist for them); a
    member without the role gets 403.
    """
    needed = handler.opt.get("org_roles")
    if not needed:
        return
    principal: Principal = connection.user
    if principal.is_admin:
        return
    slug = connection.path_params.get("slug", "")
    if not principal.is_member_of(slug):
        raise NotFound(f"organization {slug!r} not found")
    if not principal.has_role(slug, *needed):
        raise Forbidden(f"needs role {' or '.join(needed)} in organization {slug!r}")
