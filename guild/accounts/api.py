from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.params import JSONBody

from guild.accounts import service
from guild.accounts.schemas import (
    MeRead,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    PasswordResetRequested,
    TokenRequest,
    TokenResponse,
    UserCreate,
    UserRead,
)
from guild.domain.errors import Conflict, NotFound, Unauthorized
from guild.domain.principal import Principal
from guild.web.problems import documented
from guild.web.responses import encoded
from guild.web.security import TokenIssuer, admin_guard


class AuthController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @post(
        "/auth/token",
        opt={"public": True},
        status_code=200,
        raises=documented(Unauthorized, TooManyRequestsException),
        summary="Exchange e-mail and password for a bearer JWT",
    )
    async def token(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TokenRequest],
        token_issuer: NamedDependency[TokenIssuer],
    ) -> TokenResponse:
        client = request.client.host if request.client else None
        signed_in = await service.sign_in(data.email, data.password, client)
        token, expires_at = token_issuer.issue(signed_in.user_id, signed_in.credentials_version)
        return TokenResponse(access_token=token, expires_at=expires_at)

    @post(
        "/me/password",
        status_code=200,
        raises=documented(Conflict, TooManyRequestsException),
        summary="Change my password (the current one confirms it)",
        description="Every token issued before stops working (in other server processes within "
        "GUILD_PRINCIPAL_CACHE_SECONDS); the answer carries a new token. A wrong current password is 422 and counts "
        "against the account's sign-in failure limit.",
    )
    async def change_password(
        self,
        request: Request[Principal, Any, Any],
        data: JSONBody[PasswordChange],
        token_issuer: NamedDependency[TokenIssuer],
    ) -> TokenResponse:
        signed_in = await service.change_password(request.user.id, data.current_password, data.new_password)
        token, expires_at = token_issuer.issue(signed_in.user_id, signed_in.credentials_version)
        return TokenResponse(access_token=token, expires_at=expires_at)

    @post(
        "/auth/password-reset",
        opt={"public": True},
        status_code=202,
        raises=documented(TooManyRequestsException),
        summary="Ask for a password reset link by e-mail",
        description="Always 202 with the same body: the link (single use, expiring) goes to the address only if an "
        "account has it. Limited per e-mail address and per client address (429 with Retry-After).",
    )
    async def request_password_reset(
        self, request: Request[Any, Any, Any], data: JSONBody[PasswordResetRequest]
    ) -> PasswordResetRequested:
        client = request.client.host if request.client else None
        await service.request_password_reset(data.email, client)
        return PasswordResetRequested()

    @post(
        "/auth/password-reset/confirm",
        opt={"public": True},
        status_code=204,
        raises=documented(NotFound, TooManyRequestsException),
        summary="Set a new password with the token of a reset link",
        description="The token works once; the account's other reset links and every token issued before stop "
        "working. An unknown, used, replaced or expired token is 404. Counts against the client address's sign-in "
        "attempts (429 with Retry-After).",
    )
    async def reset_password(self, request: Request[Any, Any, Any], data: JSONBody[PasswordResetConfirm]) -> None:
        client = request.client.host if request.client else None
        await service.reset_password(data.token, data.password, client)

    @get("/me", summary="The signed-in user and their roles per organisation")
    async def me(self, request: Request[Principal, Any, Any]) -> Response[MeRead]:
        return encoded(service.ME_READ, await service.me(request.user.id))

    @post(
        "/users",
        guards=[admin_guard],
        opt={"admin": True},
        raises=documented(Conflict),
        summary="Create a user account (site admin)",
    )
    async def create_user(self, data: JSONBody[UserCreate], request: Request[Principal, Any, Any]) -> UserRead:
        return await service.create_user(data, actor_id=request.user.id)
