"""Error pages: the page routes answer in HTML (the API keeps its problem documents)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from pydantic import ValidationError

from guild.domain.errors import GuildError
from guild.pages.render import nav
from guild.pages.session import SignInRequired
from guild.web.problems import problem_details_config

_log = structlog.get_logger("guild.pages")

_TITLES = {
    400: "That request could not be understood",
    401: "Please sign in",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    409: "That changed meanwhile",
    413: "Too large",
    422: "Please check what you entered",
    429: "Too many attempts",
}


def error_page(
    status: int, detail: str, headers: dict[str, str] | None = None, request: Request[Any, Any, Any] | None = None
) -> Response[Any]:
    title = _TITLES.get(status, "Something went wrong" if status >= 500 else "That did not work")
    principal = request.state.get("principal") if request is not None else None
    return Template(
        template_name="pages/error.html",
        context={"status": status, "title": title, "detail": detail, "me": principal, "nav": nav(principal)},
        status_code=status,
        headers=headers,
    )


def sign_in_redirect(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    return Redirect(path="/signin?" + urlencode({"next": exc.next_path}), status_code=303)


def problem_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Any error the API turns into a problem document, as a page: the same status and words (a 5xx says
    only that it failed)."""
    mapping = problem_details_config().exception_to_problem_detail_map
    convert = next((mapping[cls] for cls in type(exc).__mro__ if cls in mapping), None)
    problem = convert(exc) if convert is not None else None
    if problem is None or problem.status_code >= 500:
        return unexpected_error_page(request, exc)
    extra = problem.extra if isinstance(problem.extra, dict) else {}
    fields = [
        f"{e.get('field') or e.get('loc') or ''}: {e.get('message') or e.get('msg') or ''}".lstrip(": ")
        for e in extra.get("errors", [])
        if isinstance(e, dict)
    ]
    detail = "; ".join(fields) if fields else str(problem.detail)
    return error_page(problem.status_code, detail, dict(problem.headers or {}) or None, request)


def guild_error_page(request: Request[Any, Any, Any], exc: GuildError) -> Response[Any]:
    # 404 for what the person cannot see, in the same words as the API (nothing about whether it exists).
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return error_page(exc.status_code, exc.detail, headers, request)


def http_error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code >= 500:
        return unexpected_error_page(request, exc)
    detail = exc.detail if exc.status_code != 403 or "CSRF" not in exc.detail else "The form had expired; try again."
    return error_page(exc.status_code, detail, request=request)


def invalid_form_page(request: Request[Any, Any, Any], exc: ValidationError) -> Response[Any]:
    """A form value that breaks the API's own request model: 422, naming the field and the rule."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {str(e['msg']).removeprefix('Value error, ')}"
        for e in exc.errors()
    )
    return error_page(422, problems, request=request)


def unexpected_error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    _log.error("page failed", path=request.url.path, exc_info=exc)
    return error_page(500, "An internal error stopped this page. It has been logged.", request=request)
