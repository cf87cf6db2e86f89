"""RFC 9457 problem responses: every error a request can meet becomes ``application/problem+json`` here,
in one place. Domain errors (:mod:`guild.domain.errors`) carry their kind and extension members; the
framework's own errors (validation, HTTP) and the infrastructure's (a constraint refused a write, the
PDF renderer is busy) are translated alongside them."""

from __future__ import annotations

import sqlite3
from typing import Any, cast

from asyncpg.exceptions import IntegrityConstraintViolationError
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException

from guild.domain.errors import PROBLEM_BASE, GuildError, ServiceUnavailable
from guild.infra.pdf_pool import PdfTooLarge, PdfUnavailable


def documented(*errors: type[GuildError] | type[HTTPException]) -> list[type[HTTPException]]:
    """The errors a handler declares (``raises=documented(Conflict, ...)``) for the OpenAPI document, which
    reads only their ``status_code``; Litestar types the list as HTTP exceptions."""
    return cast(list[type[HTTPException]], list(errors))


# RFC 9110 §15.5.2 / RFC 6750 §3: every 401 names the scheme that would succeed
WWW_AUTHENTICATE = 'Bearer realm="guild"'


def _guild_to_problem(exc: GuildError) -> ProblemDetailsException:
    retry_after = exc.retry_after
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    return ProblemDetailsException(
        detail=exc.detail,
        status_code=exc.status_code,
        title=exc.title,
        type_=exc.type,
        headers=headers or None,
        extra=exc.extra or None,
    )


def _validation_to_problem(exc: ValidationException) -> ProblemDetailsException:
    """Request validation: one entry per field with the pydantic rule that failed."""
    errors: list[dict[str, Any]] = []
    cause = exc.__cause__
    raw = getattr(cause, "errors", None)
    if isinstance(raw, list) and raw and isinstance(raw[0], dict) and "loc" in raw[0]:
        for item in raw:
            loc = [str(p) for p in item.get("loc", ())]
            ctx = {k: v for k, v in (item.get("ctx") or {}).items() if isinstance(v, (int, float, str, bool))}
            errors.append(
                {
                    "field": ".".join(loc) or "body",
                    "rule": item.get("type", "invalid"),
                    "message": item.get("msg", "invalid value"),
                    "source": "body",
                    **({"constraint": ctx} if ctx else {}),
                }
            )
    elif isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict):
                field, rule, message = str(item.get("key", "body")), "invalid", item.get("message", "invalid value")
                if field == "data":  # Litestar's name for the request body
                    field = "body"
                    if "missing required field `data`" in str(cause):
                        rule, message = "missing", "a request body is required"
                elif item.get("source") in ("path", "query"):
                    field = field.removesuffix("_")  # a parameter named like a Python keyword: from_ is ?from=
                elif item.get("source") in ("header", "cookie"):
                    field = "-".join(part.capitalize() for part in field.split("_"))  # idempotency_key: Idempotency-Key
                errors.append({"field": field, "rule": rule, "message": message, "source": item.get("source", "body")})
    status = 422 if errors else 400
    return ProblemDetailsException(
        status_code=status,
        type_=PROBLEM_BASE + ("validation" if errors else "bad-request"),
        title="Validation failed" if errors else "Bad request",
        detail=exc.detail if not errors else f"{len(errors)} invalid field(s)",
        extra={"errors": errors} if errors else None,
    )


_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
}


def _http_to_problem(exc: HTTPException) -> ProblemDetailsException:
    status = exc.status_code
    if status >= 500:
        return ProblemDetailsException(
            status_code=status, type_=PROBLEM_BASE + "server-error", title="Server error", detail="Internal error"
        )
    return ProblemDetailsException(
        status_code=status,
        type_=PROBLEM_BASE + _HTTP_SLUGS.get(status, "http-error"),
        title=exc.detail,
        detail=exc.detail,
        headers={**(exc.headers or {}), "WWW-Authenticate": WWW_AUTHENTICATE} if status == 401 else exc.headers,
        extra=exc.extra if isinstance(exc.extra, dict) else None,
    )


def _unexpected_to_problem(exc: Exception) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=500, type_=PROBLEM_BASE + "server-error", title="Server error", detail="Internal error"
    )


def _integrity_to_problem(exc: Exception) -> ProblemDetailsException:
    """A database constraint refused a write that passed the service's checks: a concurrent change."""
    return ProblemDetailsException(
        status_code=409,
        type_=PROBLEM_BASE + "conflict",
        title="Conflict",
        detail="a concurrent change conflicts with this request; reload and try again",
    )


_PDF_TITLES = {
    "pdf_queue_full": "PDF renderer busy",
    "pdf_render_timeout": "PDF rendering took too long",
    "pdf_unavailable": "PDF rendering unavailable",
}


def _pdf_unavailable_to_problem(exc: Exception) -> ProblemDetailsException:
    """The renderer refused (queue full), stopped (timeout) or cannot run: 503 with Retry-After."""
    rule = getattr(exc, "rule", "pdf_unavailable")
    return _guild_to_problem(
        ServiceUnavailable(
            str(exc),
            title=_PDF_TITLES.get(rule, _PDF_TITLES["pdf_unavailable"]),
            retry_after=getattr(exc, "retry_after", 5),
            rule=rule,
            component="pdf",
        )
    )


def _pdf_too_large_to_problem(exc: Exception) -> ProblemDetailsException:
    limit = getattr(exc, "limit", None)
    return ProblemDetailsException(
        status_code=413,
        type_=PROBLEM_BASE + "payload-too-large",
        title="Document too large",
        detail=str(exc),
        extra={"rule": "pdf_document_size", **({"limit": limit} if limit is not None else {})},
    )


def problem_details_config() -> ProblemDetailsConfig:
    return ProblemDetailsConfig(
        exception_to_problem_detail_map={
            GuildError: _guild_to_problem,
            PdfUnavailable: _pdf_unavailable_to_problem,
            PdfTooLarge: _pdf_too_large_to_problem,
            sqlite3.IntegrityError: _integrity_to_problem,
            IntegrityConstraintViolationError: _integrity_to_problem,
            HTTPException: _http_to_problem,
            ValidationException: _validation_to_problem,
            Exception: _unexpected_to_problem,
        }
    )
