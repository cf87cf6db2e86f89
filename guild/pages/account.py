"""Pages for the links guild e-mails and for one's own password: accept an invitation (making the account
when the address has none), ask for a password reset, set a new password from the reset link, change the
password when signed in. Each calls the API's own service, so the same single use, expiry, limits and
"nothing reveals whether an address has an account" hold."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template
from pydantic import BaseModel, Field, ValidationError

from guild.accounts import service as accounts
from guild.accounts.schemas import PasswordChange, PasswordResetRequest, PasswordResetRequested
from guild.domain.errors import GuildError, NotFound, TooManyRequests
from guild.domain.principal import Principal
from guild.domain.values import Text
from guild.orgs import invitations
from guild.orgs.schemas import InvitationAccept, InvitationPreview
from guild.pages.render import page
from guild.pages.session import require_principal, start_session
from guild.web.params import LinkToken

Req = Request[Any, Any, Any]
FieldErrors = dict[str, str]


class NewPasswordForm(BaseModel):
    name: Text = Field(default="", max_length=400)
    password: Text = Field(default="", max_length=1024)
    password_again: Text = Field(default="", max_length=1024)


class ResetRequestForm(BaseModel):
    email: Text = Field(default="", max_length=400)


class ChangeForm(BaseModel):
    current_password: Text = Field(default="", max_length=1024)
    new_password: Text = Field(default="", max_length=1024)
    new_password_again: Text = Field(default="", max_length=1024)


def _client(request: Req) -> str | None:
    return request.client.host if request.client else None


def _pydantic_errors(exc: ValidationError, rename: dict[str, str] | None = None) -> FieldErrors:
    """The first message per form field, worded for people."""
    errors: FieldErrors = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "form"
        field = (rename or {}).get(field, field)
        errors.setdefault(field, str(error["msg"]).removeprefix("Value error, "))
    return errors


def _domain_errors(exc: GuildError, rename: dict[str, str] | None = None) -> FieldErrors:
    listed = exc.extra.get("errors") or []
    errors: FieldErrors = {}
    for error in listed:
        field = (rename or {}).get(str(error.get("field", "form")), str(error.get("field", "form")))
        errors.setdefault(field, str(error.get("message", exc.detail)))
    return errors or {"form": exc.detail}


def _mismatch(first: str, second: str, field: str) -> FieldErrors:
    return {} if first == second else {field: "the two passwords differ"}


class AccountPagesController(Controller):
    path = "/"

    # --- invitation links ---------------------------------------------------------------------------------

    @get("/invitations/{invitation_token:str}")
    async def invitation(self, invitation_token: LinkToken) -> Template:
        preview = await invitations.preview(invitation_token)
        return _invitation_page(invitation_token, preview)

    @post("/invitations/{invitation_token:str}", status_code=200)
    async def accept_invitation(
        self,
        request: Req,
        invitation_token: LinkToken,
        data: Annotated[NewPasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        preview = await invitations.preview(invitation_token)
        errors: FieldErrors = {}
        accept = InvitationAccept()
        if preview.needs_password:
            errors = _mismatch(data.password, data.password_again, "password_again")
            try:
                accept = InvitationAccept(name=data.name, password=data.password)
            except ValidationError as exc:
                errors = {**_pydantic_errors(exc), **errors}
        if errors:
            return _invitation_page(invitation_token, preview, name=data.name, errors=errors, status_code=422)
        try:
            await invitations.accept_link(invitation_token, accept, _client(request))
        except NotFound:
            raise
        except GuildError as exc:
            status = exc.status_code
            headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
            return _invitation_page(
                invitation_token,
                preview,
                name=data.name,
                errors=_domain_errors(exc),
                status_code=status,
                headers=headers,
            )
        return page("account_done.html", None, title="Welcome", message=_welcome(preview))

    # --- password reset -----------------------------------------------------------------------------------

    @get("/reset-password")
    async def reset_request_form(self) -> Template:
        return page("reset_request.html", None, email="", errors={})

    @post("/reset-password", status_code=200)
    async def request_reset(
        self, request: Req, data: Annotated[ResetRequestForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
    ) -> Template:
        try:
            wanted = PasswordResetRequest(email=data.email)
        except ValidationError as exc:
            return page("reset_request.html", None, status_code=422, email=data.email, errors=_pydantic_errors(exc))
        try:
            await accounts.request_password_reset(str(wanted.email), _client(request))
        except TooManyRequests as exc:
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
            return page(
                "reset_request.html",
                None,
                status_code=429,
                headers=headers,
                email=data.email,
                errors={"form": exc.detail},
            )
        return page("account_done.html", None, title="Check your e-mail", message=PasswordResetRequested().detail)

    @get("/reset-password/{reset_token:str}")
    async def reset_form(self, reset_token: LinkToken) -> Template:
        return page("reset_password.html", None, token=reset_token, errors={})

    @post("/reset-password/{reset_token:str}", status_code=200)
    async def reset(
        self,
        request: Req,
        reset_token: LinkToken,
        data: Annotated[NewPasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        errors = _mismatch(data.password, data.password_again, "password_again")
        try:
            InvitationAccept(password=data.password)  # the same password policy, checked before the token is spent
        except ValidationError as exc:
            errors = {**_pydantic_errors(exc), **errors}
        if errors:
            return page("reset_password.html", None, status_code=422, token=reset_token, errors=errors)
        try:
            await accounts.reset_password(reset_token, data.password, _client(request))
        except NotFound:
            raise
        except GuildError as exc:
            headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
            return page(
                "reset_password.html",
                None,
                status_code=exc.status_code,
                headers=headers,
                token=reset_token,
                errors=_domain_errors(exc),
            )
        return page(
            "account_done.html",
            None,
            title="Password changed",
            message="Your new password is set. Every earlier sign-in of this account has ended; sign in again.",
        )

    # --- change (signed in) -------------------------------------------------------------------------------

    @get("/account/password")
    async def change_form(self, request: Req) -> Template:
        principal = await require_principal(request)
        return page("change_password.html", principal, errors={})

    @post("/account/password", status_code=200)
    async def change(
        self, request: Req, data: Annotated[ChangeForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
    ) -> Template:
        principal = await require_principal(request)
        errors = _mismatch(data.new_password, data.new_password_again, "new_password_again")
        try:
            change = PasswordChange(current_password=data.current_password, new_password=data.new_password)
        except ValidationError as exc:
            errors = {**_pydantic_errors(exc), **errors}
        if errors:
            return page("change_password.html", principal, status_code=422, errors=errors)
        try:
            signed_in = await accounts.change_password(principal.id, change.current_password, change.new_password)
        except GuildError as exc:
            headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
            return page(
                "change_password.html",
                principal,
                status_code=exc.status_code,
                headers=headers,
                errors=_domain_errors(exc),
            )
        await start_session(request, signed_in.user_id, credentials_version=signed_in.credentials_version)
        return _changed(principal)


def _changed(principal: Principal) -> Template:
    return page(
        "account_done.html",
        principal,
        title="Password changed",
        message="Your new password is set. Your other sign-ins (other browsers, API tokens) have ended; "
        "this one goes on.",
    )


def _welcome(preview: InvitationPreview) -> str:
    return f"You are now {preview.role.value} of {preview.organization_name}. Sign in with {preview.email} to start."


def _invitation_page(
    token: str,
    preview: InvitationPreview,
    *,
    name: str = "",
    errors: FieldErrors | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    return page(
        "invitation.html",
        None,
        status_code=status_code,
        headers=headers,
        token=token,
        invitation=preview,
        name=name,
        errors=errors or {},
    )
