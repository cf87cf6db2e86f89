from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath, JSONBody

from guild.accounts import examples, service
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
        opt={
            "public": True,
            "examples": {"An officer signs in": examples.TOKEN_REQUEST},
            "response_examples": {"A token for eight hours": examples.TOKEN_RESPONSE},
        },
        status_code=200,
        raises=documented(Unauthorized, TooManyRequestsException),
        summary="Exchange e-mail and password for a bearer JWT",
        operation_id="issueToken",
    )
    async def token(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TokenRequest],
        token_issuer: NamedDependency[TokenIssuer],
    ) -> TokenResponse:
        """Signs in with an e-mail address and password and returns a bearer JWT to send as `Authorization: Bearer
        <token>` until `expires_at`. Wrong credentials answer 401 without saying whether the e-mail has an
        account; repeated failures answer 429 with Retry-After."""
        client = request.client.host if request.client else None
        signed_in = await service.sign_in(data.email, data.password, client)
        token, expires_at = token_issuer.issue(signed_in.user_id, signed_in.credentials_version)
        return TokenResponse(access_token=token, expires_at=expires_at)

    @post(
        "/me/password",
        status_code=200,
        opt={
            "examples": {"Change a password": examples.PASSWORD_CHANGE},
            "response_examples": {"A new token": examples.TOKEN_RESPONSE},
        },
        operation_id="changePassword",
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
        opt={
            "public": True,
            "examples": {"Ask for a reset link": examples.PASSWORD_RESET_REQUEST},
            "response_examples": {"The same answer for every address": examples.PASSWORD_RESET_REQUESTED},
        },
        operation_id="requestPasswordReset",
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
        opt={"public": True, "examples": {"A new password with the link's token": examples.PASSWORD_RESET_CONFIRM}},
        operation_id="resetPassword",
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

    @get(
        "/me",
        summary="The signed-in user and their roles per organisation",
        opt={"response_examples": {"An officer of a guild": examples.ME}},
        operation_id="getMe",
    )
    async def me(self, request: Request[Principal, Any, Any]) -> Response[MeRead]:
        """The account behind the bearer token: e-mail, name, whether it is a site admin, and every organisation it
        belongs to with its role there (one entry per role)."""
        return encoded(service.ME_READ, await service.me(request.user.id))

    @post(
        "/users",
        guards=[admin_guard],
        opt={
            "admin": True,
            "examples": {"An account for a guild officer": examples.USER_CREATE},
            "location": "/api/v1/users/{id}",
        },
        raises=documented(Conflict),
        summary="Create a user account (site admin)",
        operation_id="createUser",
    )
    async def create_user(self, data: JSONBody[UserCreate], request: Request[Principal, Any, Any]) -> UserRead:
        """A site admin creates an account with an initial password. 409 when the e-mail address already has an
        account."""
        return await service.create_user(data, actor_id=request.user.id)

    @get(
        "/users/{user_id:uuid}",
        guards=[admin_guard],
        opt={"admin": True},
        raises=documented(NotFound),
        summary="One user account (site admin)",
        operation_id="getUser",
    )
    async def get_user(self, user_id: FromPath[UUID]) -> UserRead:
        """A site admin reads one account (no password, no memberships); 404 when there is none."""
        return await service.get_user(user_id)
