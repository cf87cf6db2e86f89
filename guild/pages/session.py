"""The page session: who is signed in, kept server-side; a new session id at every sign-in."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Message, ScopeSession

from guild.accounts.service import load_principal
from guild.domain.principal import Principal

SESSION_COOKIE = "guild_session"
_NEW_ID = "guild_new_session_id"
_USER = "user_id"
_CREDENTIALS = "credentials_version"  # the account's at sign-in: a password change or reset ends the session


class SignInRequired(Exception):
    """The page needs a signed-in person: the page layer answers with a redirect to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class _RotatingBackend(ServerSideSessionBackend):
    """Litestar's server-side backend, but a sign-in gets a fresh session id (no session fixation)."""

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        new_id = connection.scope.get("state", {}).get(_NEW_ID)
        if isinstance(new_id, str):
            return new_id
        return super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        """Nothing stored for a visitor who is not signed in (Litestar would keep an empty session for each)."""
        if not scope_session or scope_session is Empty:
            if connection.cookies.get(self.config.key):
                await super().store_in_message(Empty, message, connection)  # forget it, expire the cookie
            return
        await super().store_in_message(scope_session, message, connection)


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = _RotatingBackend


def session_config(*, secure: bool) -> ServerSideSessionConfig:
    return RotatingSessionConfig(
        key=SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=12 * 60 * 60,
        renew_on_access=True,
        exclude=["^/api/", "^/schema", "^/health", "^/static/"],
    )


async def start_session(
    request: Request[Any, Any, Any], user_id: UUID, session_key: str = SESSION_COOKIE, credentials_version: int = 0
) -> None:
    """Signed in: drop whatever session the browser brought and store the user under a new id."""
    old = request.cookies.get(session_key)
    if old:
        await request.app.stores.get("sessions").delete(old)
    request.scope.setdefault("state", {})[_NEW_ID] = secrets.token_hex(32)
    request.set_session({_USER: str(user_id), _CREDENTIALS: credentials_version})


def end_session(request: Request[Any, Any, Any]) -> None:
    request.clear_session()


async def current_principal(request: Request[Any, Any, Any]) -> Principal | None:
    """The signed-in person (loaded as for a bearer token: inactive accounts are nobody), or None."""
    raw = request.session.get(_USER) if request.scope.get("session") else None
    if not isinstance(raw, str):
        return None
    try:
        user_id = UUID(raw)
    except ValueError:
        return None
    principal = await load_principal(user_id)
    if principal is not None and request.session.get(_CREDENTIALS, 0) != principal.credentials_version:
        principal = None  # the password changed since this session signed in
    request.state.principal = principal  # for an error page of this request (its handlers are synchronous)
    return principal


async def require_principal(request: Request[Any, Any, Any]) -> Principal:
    principal = await current_principal(request)
    if principal is None:
        # after signing in, back to the page asked for; a form posted with an expired session cannot be
        # replayed by a redirect, so that goes home
        raise SignInRequired(request.url.path if request.method == "GET" else "/")
    return principal
