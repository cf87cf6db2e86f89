from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.params import JSONBody

from guild.accounts import service
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
        user_id = await service.authenticate(data.email, data.password, client)
        token, expires_at = token_issuer.issue(user_id)
        return TokenResponse(access_token=token, expires_at=expires_at)

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
