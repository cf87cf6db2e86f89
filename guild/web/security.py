"""Bearer JWTs (Litestar JWTAuth) and the role guards; the principal itself is :mod:`guild.domain.principal`."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token
from litestar.security.jwt.token import JWTDecodeOptions

from guild.domain.errors import Forbidden, NotFound
from guild.domain.principal import Principal, Role
from guild.infra.settings import Settings

__all__ = ["Principal", "Role", "TokenIssuer", "admin_guard", "make_jwt_auth", "org_role_guard"]

PrincipalLoader = Callable[[UUID], Awaitable[Principal | None]]

_VERIFIED_MAX = 10_000


class VerifiedToken(Token):
    """Litestar's token, remembering the payloads of tokens whose signature it has verified.

    A client sends the same bearer token with every request until it expires; checking its HMAC again
    (PyJWT first makes sure the secret is no public key, then parses and compares) is the largest
    cost of a cheap read. The payload of a token string verified with a secret is the same every time,
    so it is kept until the token's expiry; ``Token.decode`` still checks the claims each time.
    """

    _verified: dict[tuple[str, str, tuple[str, ...], str], tuple[float, dict[str, Any]]] = {}

    @classmethod
    def decode_payload(
        cls,
        encoded_token: str,
        secret: str,
        algorithms: list[str],
        issuer: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        options: JWTDecodeOptions | None = None,
    ) -> Any:
        key = (encoded_token, secret, tuple(algorithms), repr((issuer, audience, options)))
        hit = cls._verified.get(key)
        if hit is not None and hit[0] > time.time():
            return dict(hit[1])
        payload = super().decode_payload(encoded_token, secret, algorithms, issuer, audience, options)
        exp = payload.get("exp")
        if isinstance(exp, int | float):
            if len(cls._verified) >= _VERIFIED_MAX:
                cls._verified.clear()
            cls._verified[key] = (float(exp), dict(payload))
        return payload


def make_jwt_auth(settings: Settings, load_principal: PrincipalLoader) -> JWTAuth[Principal]:
    """Bearer tokens whose subject is a user id; ``load_principal`` turns it into the request's principal."""

    async def retrieve(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
        try:
            user_id = UUID(token.sub)
        except ValueError:
            return None
        principal = await load_principal(user_id)
        if principal is None or _credentials_version(token) != principal.credentials_version:
            return None  # deactivated, or the password changed since the token was issued
        return principal

    return JWTAuth[Principal](
        retrieve_user_handler=retrieve,
        token_secret=settings.jwt_secret(),
        default_token_expiration=timedelta(minutes=settings.token_ttl_minutes),
        exclude_opt_key="public",
        exclude=["^/schema", "^/health"],
        openapi_security_scheme_name="BearerToken",
        token_cls=VerifiedToken,
    )


CREDENTIALS_CLAIM = "cv"
"""The JWT claim holding the account's credentials version at issue time."""


def _credentials_version(token: Token) -> int:
    value = token.extras.get(CREDENTIALS_CLAIM, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


class TokenIssuer:
    """Issues bearer tokens with the app's JWT settings (a plain class, injectable as a dependency)."""

    def __init__(self, jwt_auth: JWTAuth[Principal]) -> None:
        self._jwt_auth = jwt_auth
        self.ttl: timedelta = jwt_auth.default_token_expiration

    def issue(self, user_id: UUID, credentials_version: int = 0) -> tuple[str, datetime]:
        """A token for ``user_id``; it works while the account's credentials version is ``credentials_version``."""
        expires_at = datetime.now(UTC).replace(microsecond=0) + self.ttl
        token = self._jwt_auth.create_token(
            identifier=str(user_id),
            token_expiration=self.ttl,
            token_extras={CREDENTIALS_CLAIM: credentials_version} if credentials_version else None,
        )
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
