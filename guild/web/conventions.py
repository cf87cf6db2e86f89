"""HTTP conventions every route follows, applied once here rather than in each handler.

- :func:`conditional_get` wraps the whole application (outside routing): ``HEAD`` is answered as ``GET``
  without the body; every ``200`` answer to ``GET``/``HEAD`` carries an ``ETag`` (the handler's own, such
  as a compact version's revision tag, or a weak tag of the body's SHA-256), and ``If-None-Match``
  matching it answers ``304 Not Modified`` without a body.
- :func:`conventions_middleware` runs after routing, on the API (``/api/`` and ``/health``): a query
  parameter the handler does not declare is a 400 naming it; a JSON-body operation sent a body of another
  content type is a 415 (a request without a Content-Type is read as JSON, as before); a
  ``201 Created`` answer carries ``Location`` built from the handler's ``opt["location"]`` template (filled
  from the created resource's fields and the path parameters), absolute from ``public_base_url``.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from litestar.routes import HTTPRoute

from guild.domain.errors import GuildError, field_error

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope

_CHECKED_PREFIXES = ("/api/", "/health")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class UnsupportedMediaType(GuildError):
    status_code, slug, default_title = 415, "unsupported-media-type", "Unsupported media type"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _tags(header: str) -> set[str]:
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


def conditional_get(app: ASGIApp) -> ASGIApp:
    """HEAD as GET without a body; ETag on 200 answers to GET; If-None-Match → 304."""

    async def wrapped(scope: Any, receive: Receive, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:  # a copy: the access log around this keeps seeing HEAD
            scope = {**scope, "method": "GET"}
        if_none_match = _header(scope, b"if-none-match")
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def buffered(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(bytes(message.get("body", b"")))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            status = int(start["status"])
            headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", ())]
            if status == 200:
                etag = next((v.decode("latin-1") for k, v in headers if k.lower() == b"etag"), None)
                if etag is None:
                    etag = 'W/"' + hashlib.sha256(body).hexdigest()[:40] + '"'
                    headers.append((b"etag", etag.encode()))
                if if_none_match is not None and (
                    if_none_match.strip() == "*" or etag.removeprefix("W/") in _tags(if_none_match)
                ):
                    kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
                    await send({"type": "http.response.start", "status": 304, "headers": kept})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            if not any(k.lower() == b"content-length" for k, _ in headers):
                headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if head else body, "more_body": False})

        await app(scope, receive, buffered)

    return wrapped


class _Declared:
    """Per route handler: the query parameters it declares and whether it decodes a JSON body."""

    def __init__(self) -> None:
        self.by_handler: dict[int, tuple[frozenset[str], bool]] | None = None

    def of(self, app: Any, handler: Any) -> tuple[frozenset[str], bool] | None:
        if self.by_handler is None:
            found: dict[int, tuple[frozenset[str], bool]] = {}
            for route in app.routes:
                if isinstance(route, HTTPRoute):
                    for route_handler, kwargs_model in route.route_handler_map.values():
                        names = frozenset(p.field_alias for p in kwargs_model.expected_query_params)
                        json_body = "data" in kwargs_model.expected_reserved_kwargs and (
                            kwargs_model.expected_form_data is None
                        )
                        found[id(route_handler)] = (names, json_body)
            self.by_handler = found
        return self.by_handler.get(id(handler))


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _location(template: str, body: bytes, path_params: dict[str, Any]) -> str | None:
    try:
        resource = json.loads(body)
    except ValueError:
        return None
    if not isinstance(resource, dict):
        return None
    values = {k: quote(str(v), safe="") for k, v in {**path_params, **resource}.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return None


def conventions_middleware(app: ASGIApp) -> ASGIApp:
    declared = _Declared()

    async def middleware(scope: Any, receive: Receive, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_CHECKED_PREFIXES):
            await app(scope, receive, send)
            return
        handler = scope.get("route_handler")
        known = declared.of(scope["app"], handler)
        if known is not None:
            names, json_body = known
            query = scope.get("query_string", b"").decode("latin-1")
            unknown = sorted({k for k, _ in parse_qsl(query, keep_blank_values=True)} - names)
            if unknown:
                raise GuildError(
                    "unknown query parameter(s): " + ", ".join(unknown),
                    title="Unknown query parameter",
                    errors=[
                        field_error(name, "unknown_parameter", f"{name!r} is not a parameter of this operation")
                        for name in unknown
                    ],
                )
            if json_body and scope["method"] in _BODY_METHODS:
                content_type = _header(scope, b"content-type")
                if content_type is not None and not _is_json(content_type):
                    raise UnsupportedMediaType(
                        f"this operation takes application/json, not {content_type}",
                        errors=[field_error("Content-Type", "media_type", "send Content-Type: application/json")],
                    )
        template = getattr(handler, "opt", {}).get("location") if handler is not None else None
        if template is None or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        path_params = dict(scope.get("path_params", {}))

        async def with_location(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                if int(message["status"]) != 201:
                    await send(message)
                return
            if int(start.get("status", 0)) != 201 or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(bytes(message.get("body", b"")))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = list(start.get("headers", ()))
            location = _location(str(template), body, path_params)
            if location is not None:
                base = str(scope["app"].state.get("public_base_url", "")).rstrip("/")
                headers.append((b"location", (base + location).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await app(scope, receive, with_location)

    return middleware
