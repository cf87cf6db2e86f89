"""Structured logs (structlog) with a request id on every line and every response."""

from __future__ import annotations

import logging
import re
from uuid import uuid4

import structlog
from litestar.enums import ScopeType
from litestar.logging.config import StructLoggingConfig
from litestar.middleware.logging import LoggingMiddlewareConfig
from litestar.plugins.structlog import StructlogConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Take a well-formed ``X-Request-ID`` from the client or make one; bind it to every log line."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware


_FEED_TOKEN = re.compile(r"(/calendar/)[^/?#\s\"]+")


class RedactFeedTokens(logging.Filter):
    """The server's own access log (uvicorn) prints request paths; a calendar feed's path carries the
    member's secret token. Replace it before the line is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_FEED_TOKEN.sub(r"\1[redacted]", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _FEED_TOKEN.sub(r"\1[redacted]", record.msg)
        return True


def redact_access_log() -> None:
    """Install :class:`RedactFeedTokens` on uvicorn's access logger (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactFeedTokens) for f in access.filters):
        access.addFilter(RedactFeedTokens())


def structlog_config(level: str) -> StructlogConfig:
    logging.getLogger("piccolo").setLevel(logging.WARNING)  # not the engine version on every start
    redact_access_log()
    return StructlogConfig(
        structlog_logging_config=StructLoggingConfig(
            wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
            log_exceptions="always",
            # client errors are expected traffic: log them as one line, keep stack traces for 5xx
            disable_stack_trace={400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 428, 503},
            pretty_print_tty=False,
        ),
        middleware_logging_config=LoggingMiddlewareConfig(
            exclude_opt_key="skip_request_log",  # routes whose path carries a secret (calendar feed tokens)
            request_log_fields=["method", "path", "query"],
            response_log_fields=["status_code"],
        ),
    )
