from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar import Controller, Request, get, post
from litestar.security.jwt import JWTAuth

from guild.accounts import service
from guild.accounts.schemas import MeRead, TokenRequest, TokenResponse, UserCreate, UserRead
from guild.security import Principal, admin_guard


class AuthController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @post("/auth/token", opt={"public": True}, status_code=200, summary="Exchange e-mail and password for a bearer JWT")
    async def token(self, data: TokenRequest, jwt_auth: JWTAuth[Principal]) -> TokenResponse:
        user_id = await service.authenticate(data.email, data.password)
        ttl: timedelta = jwt_auth.default_token_expiration
        expires_at = datetime.now(UTC).replace(microsecond=0) + ttl
        token = jwt_auth.create_token(identifier=str(user_id), token_expiration=ttl)
        return TokenResponse(access_token=token, expires_at=expires_at)

    @get("/me", summary="The signed-in user and their roles per organisation")
    async def me(self, request: Request[Principal, object, object]) -> MeRead:
        return await service.me(request.user.id)

    @post("/users", guards=[admin_guard], opt={"admin": True}, summary="Create a user account (site admin)")
    async def create_user(self, data: UserCreate, request: Request[Principal, object, object]) -> UserRead:
        return await service.create_user(data, actor_id=request.user.id)
