from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.params import JSONBody

from guild.accounts import examples, service
from guild.accounts.schemas import MeRead, TokenRequest, TokenResponse, UserCreate, UserRead
from guild.domain.errors import Conflict, Unauthorized
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
        user_id = await service.authenticate(data.email, data.password, client)
        token, expires_at = token_issuer.issue(user_id)
        return TokenResponse(access_token=token, expires_at=expires_at)

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
        opt={"admin": True, "examples": {"An account for a guild officer": examples.USER_CREATE}},
        raises=documented(Conflict),
        summary="Create a user account (site admin)",
        operation_id="createUser",
    )
    async def create_user(self, data: JSONBody[UserCreate], request: Request[Principal, Any, Any]) -> UserRead:
        """A site admin creates an account with an initial password. 409 when the e-mail address already has an
        account."""
        return await service.create_user(data, actor_id=request.user.id)
