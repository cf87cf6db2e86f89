"""Domain errors: what went wrong, in the vocabulary of guild, knowing nothing of HTTP frameworks.

Each error has a kind (its ``status_code``, the RFC 9110 number for that kind, which is how the edge and
the OpenAPI document classify it), a stable ``slug`` and title, a human ``detail`` and machine-readable
extension members (``errors``, ``rule``, ``field`` ...). :mod:`guild.web.problems` turns them into
RFC 9457 responses in one place.
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "urn:guild:problem:"


class GuildError(Exception):
    status_code = 400
    slug = "bad-request"
    default_title = "Bad request"

    def __init__(self, detail: str, *, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.title = title or self.default_title
        self.extra: dict[str, Any] = extra

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug

    @property
    def retry_after(self) -> int | None:
        """Seconds after which trying again may succeed, where the error says so."""
        value = self.extra.get("retry_after")
        return value if isinstance(value, int) else None


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


class TooLarge(GuildError):
    status_code, slug, default_title = 413, "payload-too-large", "Too large"


class TooManyRequests(GuildError):
    """Too many attempts; ``retry_after`` says in how many seconds to try again."""

    status_code, slug, default_title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)


class ServiceUnavailable(GuildError):
    """A component (e.g. PDF rendering) cannot serve this now; ``retry_after`` says when to retry."""

    status_code, slug, default_title = 503, "unavailable", "Temporarily unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)


class Unprocessable(GuildError):
    """The request is well-formed but breaks a rule; ``errors``/``violations`` say which."""

    status_code, slug, default_title = 422, "unprocessable", "Rule violated"


def field_error(field: str, rule: str, message: str, **ctx: Any) -> dict[str, Any]:
    return {"field": field, "rule": rule, "message": message, **ctx}


def invalid(field: str, rule: str, message: str, **ctx: Any) -> Unprocessable:
    """A single-field validation failure, shaped like request validation errors."""
    return Unprocessable(message, title="Validation failed", errors=[field_error(field, rule, message, **ctx)])
