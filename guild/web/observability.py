"""Structured logs (structlog) with a request id on every line and every response."""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import structlog
from litestar.enums import ScopeType
from litestar.logging.config import LoggingConfig, StructLoggingConfig, default_structlog_standard_lib_processors
from litestar.plugins.structlog import StructlogConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from guild.web.metrics import observe_request

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


_access = structlog.get_logger("guild.access")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Take a well-formed ``X-Request-ID`` from the client or make one; bind it to every log line; write
    one access-log line per request (method, path with feed tokens redacted, status, duration) and count it
    in the request metrics (:func:`guild.web.metrics.observe_request`).

    One line, written after the response, replaces Litestar's logging middleware (a line for the
    request and one for the response, each extracting the request's data) and uvicorn's access log
    (no request id; see :func:`quiet_server_access_log`).
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value
        request_id = incoming.decode("latin-1") if _SAFE_ID.match(incoming.decode("latin-1")) else uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = [500]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            observe_request(scope, status[0], seconds)
            _access.info(
                "request",
                method=scope["method"],
                path=_FEED_TOKEN.sub(r"\1[redacted]", scope["path"]),
                query=scope["query_string"].decode("latin-1") or None,
                status=status[0],
                duration_ms=round(seconds * 1000, 2),
            )

    return middleware


def quiet_server_access_log() -> None:
    """At start-up (after uvicorn configured its loggers): guild writes the access log itself, and Python
    warnings (Piccolo warns when it cannot connect, for one) become log lines (JSON) instead of raw text."""
    logging.getLogger("uvicorn.access").disabled = True
    logging.captureWarnings(True)


# Secrets carried in paths: a calendar feed's token, an invitation link's and a password-reset link's token
# (API and page routes); an invitation's UUID (``/me/invitations/{id}``) is not a secret and stays.
_FEED_TOKEN = re.compile(
    r"(/calendar/|/invitations/(?![0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-)|/reset-password/)[^/?#\s\"]+"
)


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


def json_formatter() -> logging.Formatter:
    """A formatter writing every standard-library record (uvicorn, Piccolo, APScheduler, asyncio) as one JSON
    line like guild's own: timestamp, level, logger name, the request id when there is one."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.contextvars.merge_contextvars, structlog.stdlib.add_logger_name],
        processors=default_structlog_standard_lib_processors(as_json=True),
    )


def _json_formatter() -> dict[str, Any]:
    return {"()": json_formatter}


UVICORN_LOG_CONFIG_FILE = Path(__file__).with_name("uvicorn_logging.json")
"""The same for uvicorn processes that Litestar's ``run`` starts as a command (``--wc`` above 1, ``--reload``):
``guild`` points uvicorn at it with ``UVICORN_LOG_CONFIG``."""


def server_log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's logging configuration in server mode: its lines ("Started server process", "Application
    startup complete", errors) as JSON lines on stderr; its access log is guild's own (the middleware above)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": _json_formatter()},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["json"], "level": level, "propagate": False},
        },
    }


def use_json_server_logs(level: str = "INFO") -> None:
    """Make ``guild run`` start uvicorn with :func:`server_log_config`.

    Litestar's ``run`` command calls ``uvicorn.run()`` without a ``log_config``, so uvicorn applies its
    module-level default, the dict ``uvicorn.config.LOGGING_CONFIG``; its contents are replaced here, before
    the command runs (there is no other hook between Litestar's CLI and uvicorn's logging set-up)."""
    try:
        from uvicorn.config import LOGGING_CONFIG  # noqa: PLC0415 - only the server needs uvicorn
    except ImportError:  # pragma: no cover - litestar[standard] brings uvicorn
        return
    LOGGING_CONFIG.clear()
    LOGGING_CONFIG.update(server_log_config(level))
    os.environ.setdefault("UVICORN_LOG_CONFIG", str(UVICORN_LOG_CONFIG_FILE))


def structlog_config(level: str) -> StructlogConfig:
    logging.getLogger("piccolo").setLevel(logging.WARNING)  # not the engine version on every start
    redact_access_log()
    return StructlogConfig(
        structlog_logging_config=StructLoggingConfig(
            standard_lib_logging_config=LoggingConfig(
                formatters={"standard": _json_formatter()}, root={"handlers": ["queue_listener"], "level": level}
            ),
            wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
            log_exceptions="always",
            # client errors are expected traffic: log them as one line, keep stack traces for 5xx
            disable_stack_trace={400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 428, 503},
            pretty_print_tty=False,
        ),
        enable_middleware_logging=False,  # the access log is request_id_middleware's one line
    )
