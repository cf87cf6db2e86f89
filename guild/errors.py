"""Domain exceptions, each an RFC 9457 problem; one mapping turns every error into problem+json."""

from __future__ import annotations

from typing import Any

from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException

PROBLEM_BASE = "urn:guild:problem:"


class GuildError(ProblemDetailsException):
    status_code = 400
    slug = "bad-request"
    default_title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(
            detail=detail,
            status_code=self.status_code,
            title=title or self.default_title,
            type_=PROBLEM_BASE + self.slug,
            headers=headers,
            extra=extra or None,
        )


class Unauthorized(GuildError):
    status_code, slug, default_title = 401, "unauthorized", "Authentication required"


class Forbidden(GuildError):
    status_code, slug, default_title = 403, "forbidden", "Not allowed"


class NotFound(GuildError):
    status_code, slug, default_title = 404, "not-found", "Not found"


class Conflict(GuildError):
    status_code, slug, default_title = 409, "conflict", "Conflict"


class PreconditionFailed(GuildError):
    status_code, slug, default_title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(GuildError):
    status_code, slug, default_title = 428, "precondition-required", "Precondition required"


class TooManyRequests(GuildError):
    """Too many attempts; ``Retry-After`` says in how many seconds to try again."""

    status_code, slug, default_title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, retry_after=retry_after, **extra)


class ServiceUnavailable(GuildError):
    """A component (e.g. PDF rendering) cannot serve this now; ``Retry-After`` says when to retry."""

    status_code, slug, default_title = 503, "unavailable", "Temporarily unavailable"


class Unprocessable(GuildError):
    """The request is well-formed but breaks a rule; ``errors``/``violations`` say which."""

    status_code, slug, default_title = 422, "unprocessable", "Rule violated"


def field_error(field: str, rule: str, message: str, **ctx: Any) -> dict[str, Any]:
    return {"field": field, "rule": rule, "message": message, **ctx}


def invalid(field: str, rule: str, message: str, **ctx: Any) -> Unprocessable:
    """A single-field validation failure, shaped like request validation errors."""
    return Unprocessable(message, title="Validation failed", errors=[field_error(field, rule, message, **ctx)])


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
        headers=exc.headers,
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
    return ServiceUnavailable(
        str(exc),
        title=_PDF_TITLES.get(rule, _PDF_TITLES["pdf_unavailable"]),
        headers={"Retry-After": str(getattr(exc, "retry_after", 5))},
        rule=rule,
        component="pdf",
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
    import sqlite3

    from asyncpg.exceptions import IntegrityConstraintViolationError

    from contracts.pdf_pool import PdfTooLarge, PdfUnavailable

    return ProblemDetailsConfig(
        exception_to_problem_detail_map={
            PdfUnavailable: _pdf_unavailable_to_problem,
            PdfTooLarge: _pdf_too_large_to_problem,
            sqlite3.IntegrityError: _integrity_to_problem,
            IntegrityConstraintViolationError: _integrity_to_problem,
            HTTPException: _http_to_problem,
            ValidationException: _validation_to_problem,
            Exception: _unexpected_to_problem,
        }
    )
