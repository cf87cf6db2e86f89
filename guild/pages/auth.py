"""Sign in with e-mail and password (the API's authenticate, with its throttle) and sign out."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field

from guild.accounts.service import sign_in
from guild.domain.errors import TooManyRequests, Unauthorized
from guild.domain.values import Text
from guild.pages.render import page
from guild.pages.session import current_principal, end_session, start_session


class SignInForm(BaseModel):
    email: Text = Field(default="", max_length=320)
    password: Text = Field(default="", max_length=1024)
    next: Text = Field(default="/", max_length=2000)


def _safe_next(target: str) -> str:
    """Only a path on this site (``/x``), never ``//evil.example`` or an absolute URL."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


class SignInController(Controller):
    path = "/"

    @get("/signin")
    async def form(
        self, request: Request[Any, Any, Any], next: Annotated[str, QueryParameter(max_length=2000)] = "/"
    ) -> Template | Redirect:
        if await current_principal(request) is not None:
            return Redirect(path=_safe_next(next), status_code=303)
        return page("signin.html", None, next=_safe_next(next), email="", error=None)

    @post("/signin", status_code=303)
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        client = request.client.host if request.client else None
        target = _safe_next(data.next)
        try:
            signed_in = await sign_in(data.email, data.password, client)
        except (Unauthorized, TooManyRequests) as exc:
            wait = exc.retry_after
            return page(
                "signin.html",
                None,
                status_code=exc.status_code,
                headers={"Retry-After": str(wait)} if wait is not None else None,
                next=target,
                email=data.email,
                error=exc.detail,
            )
        await start_session(request, signed_in.user_id, credentials_version=signed_in.credentials_version)
        return Redirect(path=target, status_code=303)

    @post("/signout", status_code=303)
    async def sign_out(self, request: Request[Any, Any, Any]) -> Redirect:
        end_session(request)
        return Redirect(path="/signin", status_code=303)
