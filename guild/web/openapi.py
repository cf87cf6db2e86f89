"""The OpenAPI document describes every response a route really gives, derived by rule at registration.

Litestar documents a route's success response from its return type; the errors come from elsewhere
(the JWT middleware, guards, request parsing, the services) and Litestar documents them as
``application/json`` bodies of its own shape. :class:`ApiDocumentation` receives every route as the
app registers it and gives each operation RFC 9457 problem responses (``application/problem+json``,
schema :class:`Problem`) by rule, from the same facts the framework acts on:

- **401** unless the JWT middleware skips the route (``opt={"public": True}`` or an excluded path);
  skipped routes are documented with an empty security requirement (no token needed);
- **404** for routes with path parameters (an unknown or malformed id, or something the caller may
  not see) and routes behind ``org_role_guard`` (non-members get 404);
- **403** for routes whose ``opt`` asks a guard for a role (``admin``, ``org_roles``);
- **400** and **422** for routes with parameters or a body (Litestar validates them; 422 lists each
  field and rule, 400 when the request cannot be read at all);
- **413** for routes that read a body (``data`` or ``body``): the request body limit;
- **400** for every route (an unknown query parameter, :mod:`guild.web.conventions`), **415** for routes
  that take a JSON body (``data``), **304** for GET routes (``If-None-Match``), with the ``ETag``,
  ``Location`` (201 of routes with ``opt["location"]``) and ``WWW-Authenticate`` (401) headers;
- other media types of the success response: ``opt={"also_returns": {"text/csv": "description"}}``;
- and every status the handler declares with Litestar's ``raises=documented(...)``: guild errors (Conflict,
  PreconditionFailed, ...) or Litestar's HTTP exceptions (TooManyRequestsException,
  ServiceUnavailableException). 429 and 503 carry ``Retry-After``.

A handler's own ``responses={...}`` win over the rules. The API fuzz test (schemathesis with status
code, content type, schema and header conformance checks) keeps the rules and declarations true.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIHeader, OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.security.base import AbstractSecurityConfig
from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"

DESCRIPTIONS: dict[int, str] = {
    400: "The request cannot be read (malformed JSON, a body or parameter of the wrong shape)",
    401: "No valid bearer token (missing, expired or unknown), or wrong credentials",
    403: "Signed in, but without the role this needs",
    404: "No such resource, or one you may not see",
    409: "Conflicts with the current state (already done, taken, or changed concurrently)",
    412: "If-Match does not match the current ETag: reload and apply your change again",
    413: "The request body is larger than the limit",
    415: "Unsupported media type",
    422: "Validation failed: `errors` names each field and the rule it breaks",
    428: "If-Match is required",
    429: "Too many attempts: wait the seconds Retry-After gives",
    503: "Temporarily unavailable: retry after the seconds Retry-After gives",
}
_RETRY_AFTER_STATUSES = ("429", "503")


class FieldProblem(BaseModel):
    """One field (or parameter, or header) that is wrong, and the rule it breaks; some say more: where
    it was (``source``: body, query, path, header), the bound it missed (``constraint``), the ``row``
    of an imported file."""

    model_config = ConfigDict(extra="allow", title="FieldProblem")

    field: str = Field(description="dotted path of the field, or the parameter or header name")
    rule: str = Field(description="machine-readable name of the rule, e.g. string_too_short, unique")
    message: str = Field(description="human-readable explanation")


class Problem(BaseModel):
    """An RFC 9457 problem; rule violations add members such as ``errors`` or ``violations``."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="URI of the problem type: urn:guild:problem:<slug>")
    title: str = Field(description="short summary of the problem type")
    status: int = Field(ge=400, le=599, description="the HTTP status code")
    detail: str = Field(description="explanation of this occurrence")
    errors: list[FieldProblem] = Field(
        default_factory=list, description="validation failures: one entry per field and rule"
    )


def problem_response(status: int, description: str | None = None) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_MEDIA_TYPE,
        description=description or DESCRIPTIONS.get(status, "Problem"),
        generate_examples=False,
    )


@dataclass(frozen=True)
class AuthRule:
    """When the JWT middleware lets a request through without a token (mirrors JWTAuth's settings)."""

    exclude: tuple[str, ...]
    exclude_opt_key: str

    @classmethod
    def of(cls, auth: AbstractSecurityConfig[Any, Any]) -> AuthRule:
        exclude = auth.exclude or ()
        patterns = (exclude,) if isinstance(exclude, str) else tuple(exclude)
        return cls(exclude=patterns, exclude_opt_key=auth.exclude_opt_key)

    def is_public(self, path: str, handler: HTTPRouteHandler) -> bool:
        if handler.opt.get(self.exclude_opt_key):
            return True
        return any(re.search(pattern, path) for pattern in self.exclude)


def _declared_statuses(raises: Iterable[type[Exception]] | None) -> set[int]:
    return {int(status) for exc in raises or () if isinstance(status := getattr(exc, "status_code", None), int)}


def problem_statuses(
    *,
    authenticated: bool,
    path_params: bool,
    parameters: bool,
    body: bool,
    opt: dict[str, Any],
    raises: Iterable[type[Exception]] | None,
    json_body: bool = False,
) -> set[int]:
    """The problem statuses a route can answer with, by the rules in this module's docstring."""
    statuses = _declared_statuses(raises)
    if authenticated:
        statuses.add(401)
    if path_params or opt.get("org_roles"):
        statuses.add(404)
    if opt.get("admin") or opt.get("org_roles"):
        statuses.add(403)
    statuses.add(400)  # an unknown query parameter, on every route
    if path_params or parameters or body:
        statuses.add(422)
    if body:
        statuses.add(413)
    if json_body:
        statuses.add(415)
    return statuses


@dataclass(frozen=True)
class _Conventions:
    """What :mod:`guild.web.conventions` adds to a route's answers."""

    get: bool = False
    location: bool = False


def _header(description: str) -> OpenAPIHeader:
    return OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), description=description)


def _documented_operation(
    base: type[Operation], *, public: bool, also_returns: dict[str, str], conventions: _Conventions = _Conventions()
) -> type[Operation]:
    """An Operation class that marks public routes as such, documents Retry-After, and adds the other
    media types the success response comes in (``opt={"also_returns": {media type: description}}``)."""

    @dataclass
    class DocumentedOperation(base):  # type: ignore[valid-type,misc]  # the handler's class, known at run time
        def __post_init__(self) -> None:
            parent = getattr(super(), "__post_init__", None)
            if parent is not None:
                parent()
            _document(self, public=public, also_returns=also_returns)
            _document_conventions(self, conventions)

    DocumentedOperation.__name__ = DocumentedOperation.__qualname__ = f"Documented{base.__name__}"
    return DocumentedOperation


def _document(operation: Operation, *, public: bool, also_returns: dict[str, str]) -> None:
    """Public: no security requirement; 2xx: the other media types; 429/503: the Retry-After header."""
    if public:
        operation.security = []  # overrides the document-wide bearer requirement
    for status, response in (operation.responses or {}).items():
        if status.startswith("2") and also_returns and isinstance(response, OpenAPIResponse):
            response.content = {
                **(response.content or {}),
                **{
                    media_type: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, description=text))
                    for media_type, text in also_returns.items()
                },
            }
        if status in _RETRY_AFTER_STATUSES and isinstance(response, OpenAPIResponse):
            response.headers = {
                **(response.headers or {}),
                "Retry-After": OpenAPIHeader(
                    schema=Schema(type=OpenAPIType.INTEGER, minimum=0),
                    description="seconds to wait before trying again",
                ),
            }


def _document_conventions(operation: Operation, conventions: _Conventions) -> None:
    responses = operation.responses if operation.responses is not None else {}
    for status, response in responses.items():
        if not isinstance(response, OpenAPIResponse):
            continue
        added: dict[str, Any] = {}
        if status == "200" and conventions.get:
            added["ETag"] = _header("the resource's tag: send it in If-None-Match to get 304 when unchanged")
        if status == "201" and conventions.location:
            added["Location"] = _header("URL of the created resource")
        if status == "401":
            added["WWW-Authenticate"] = _header('the scheme to authenticate with: Bearer realm="guild"')
        if added:
            response.headers = {**added, **(response.headers or {})}
    if conventions.get and "304" not in responses:
        responses["304"] = OpenAPIResponse(
            description="Not modified: If-None-Match names the current ETag (no body)",
            headers={"ETag": _header("the resource's current tag")},
        )
        operation.responses = responses


class ApiDocumentation(ReceiveRoutePlugin):
    """Adds the problem responses and the security requirement of each route as the app registers it."""

    def __init__(self, auth: AuthRule) -> None:
        self.auth = auth

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        seen: set[int] = set()
        for handler, kwargs_model in route.route_handler_map.values():
            if id(handler) in seen or not handler.resolve_include_in_schema():
                continue
            seen.add(id(handler))
            public = self.auth.is_public(route.path, handler)
            reserved = kwargs_model.expected_reserved_kwargs
            statuses = problem_statuses(
                authenticated=not public,
                path_params=bool(route.path_parameters),
                parameters=bool(
                    kwargs_model.expected_query_params
                    or kwargs_model.expected_header_params
                    or kwargs_model.expected_cookie_params
                ),
                body=bool({"data", "body"} & set(reserved)),
                opt=handler.opt,
                raises=handler.raises,
                json_body="data" in reserved and kwargs_model.expected_form_data is None,
            )
            # new objects, never in-place changes: a handler copy may share them with its original
            handler.responses = {
                **{status: problem_response(status) for status in sorted(statuses)},
                **(handler.responses or {}),
            }
            handler.operation_class = _documented_operation(
                handler.operation_class,
                public=public,
                also_returns=dict(handler.opt.get("also_returns") or {}),
                conventions=_Conventions(get="GET" in handler.http_methods, location="location" in handler.opt),
            )
