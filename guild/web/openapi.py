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
- examples of the request body: ``opt={"examples": {summary: value, ...}}`` (the values live in each feature's
  ``examples`` module, so the document and the tests that send them use the same objects); of the success
  response: ``opt={"response_examples": {summary: value}}``;
- a body the handler reads itself (the CSV imports): ``opt={"request_body": csv_import_body(...)}``;
- and every status the handler declares with Litestar's ``raises=documented(...)``: guild errors (Conflict,
  PreconditionFailed, ...) or Litestar's HTTP exceptions (TooManyRequestsException,
  ServiceUnavailableException). 429 and 503 carry ``Retry-After``.

Every operation has an ``operation_id=`` (camelCase verb and noun: ``listProductions``) and a description
(its handler's docstring, or ``description=``); the problem responses carry one example each
(:data:`PROBLEM_EXAMPLES`). tests/integration/test_openapi_examples.py checks all of it, validates every
example against its schema and sends the request examples to the API.

A handler's own ``responses={...}`` win over the rules. The API fuzz test (schemathesis with status
code, content type, schema and header conformance checks) keeps the rules and declarations true.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Example,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    RequestBody,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.security.base import AbstractSecurityConfig
from pydantic import BaseModel, ConfigDict, Field

from guild.domain.errors import PROBLEM_BASE

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


class FieldSource(StrEnum):
    """Where in the request a wrong value was."""

    body = "body"
    query = "query"
    path = "path"
    header = "header"
    cookie = "cookie"


class FieldProblem(BaseModel):
    """One field (or parameter, or header, or imported row) that is wrong, and the rule it breaks."""

    model_config = ConfigDict(extra="allow", title="FieldProblem")

    field: str = Field(description="dotted path of the field, or the parameter or header name")
    rule: str = Field(description="machine-readable name of the rule, e.g. string_too_short, unique")
    message: str = Field(description="human-readable explanation")
    source: FieldSource | None = Field(default=None, description="where the value was (request validation)")
    constraint: dict[str, Any] | None = Field(
        default=None, description='the bound the value missed, e.g. {"max_length": 200}'
    )
    row: int | None = Field(default=None, description="imports: 1-based data row of the file (0: the header)")


class Problem(BaseModel):
    """An RFC 9457 problem document. Rule violations add extension members: ``errors`` (one entry per
    field and rule), ``violations`` and ``conflicts`` (a contract the bound compacts refuse), ``rule``
    (the one rule broken), ``retry_after`` (429/503, as the Retry-After header), ``components`` (readiness)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="URI of the problem type: urn:guild:problem:<slug>")
    title: str = Field(description="short summary of the problem type")
    status: int = Field(ge=400, le=599, description="the HTTP status code")
    detail: str = Field(description="explanation of this occurrence")
    errors: list[FieldProblem] = Field(
        default_factory=list, description="validation failures: one entry per field and rule"
    )
    rule: str | None = Field(default=None, description="machine-readable name of the rule broken, where one is")
    field: str | None = Field(default=None, description="the field the rule concerns, where one does")
    expected_header: str | None = Field(default=None, description="imports: the CSV header the file should have")
    current_etag: str | None = Field(default=None, description="412: the current ETag, to reload against")
    header: str | None = Field(default=None, description="428: the request header that is required")
    violations: list[dict[str, Any]] | None = Field(
        default=None, description="a refused contract: each term of a bound compact it breaks (term path, rule, limit)"
    )
    conflicts: list[dict[str, Any]] | None = Field(
        default=None, description="a refused contract: terms of two bound compacts it cannot satisfy at once"
    )
    retry_after: int | None = Field(default=None, ge=0, description="seconds to wait (as the Retry-After header)")
    component: str | None = Field(default=None, description="503: the part that cannot serve now, e.g. pdf")
    components: dict[str, Any] | None = Field(
        default=None, description="readiness (/health): each component's status, e.g. database, pdf"
    )


def _problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extra}


# One realistic problem per status, as guild.web.problems sends it (the example test validates each).
PROBLEM_EXAMPLES: dict[int, dict[str, Any]] = {
    400: _problem(
        400,
        "bad-request",
        "Malformed request body",
        "Input data was truncated",
        errors=[{"field": "body", "rule": "json", "message": "Input data was truncated"}],
    ),
    401: _problem(401, "unauthorized", "No JWT token found in request header", "No JWT token found in request header"),
    403: _problem(403, "forbidden", "Not allowed", "only producers of blue-harbor-pictures may do this"),
    404: _problem(404, "not-found", "Not found", "production 5d0c9e8a-1f2b-4c3d-8e7f-6a5b4c3d2e1f not found"),
    409: _problem(
        409,
        "conflict",
        "Conflict",
        "compact slug 'ai-and-apprenticeship-2027' is not available; choose another",
        field="slug",
        rule="unique",
    ),
    412: _problem(
        412,
        "precondition-failed",
        "Precondition failed",
        "the draft changed since you read it; reload it and apply your edit again",
        current_etag='"7b560e45-f8f6-4b69-aaac-3ef59f764876.3"',
    ),
    413: _problem(413, "payload-too-large", "Request Entity Too Large", "Request Entity Too Large"),
    415: _problem(415, "unsupported-media-type", "Unsupported Media Type", "send application/json"),
    422: _problem(
        422,
        "validation",
        "Validation failed",
        "2 invalid field(s)",
        errors=[
            {
                "field": "title",
                "rule": "string_too_short",
                "message": "String should have at least 1 character",
                "source": "body",
                "constraint": {"min_length": 1},
            },
            {"field": "currency", "rule": "missing", "message": "Field required", "source": "body"},
        ],
    ),
    428: _problem(
        428,
        "precondition-required",
        "Precondition required",
        "send If-Match with the version's ETag to edit a draft",
        header="If-Match",
    ),
    429: _problem(
        429,
        "too-many-requests",
        "Too many requests",
        "too many sign-in attempts from this address; try again later",
        retry_after=60,
    ),
    503: _problem(
        503,
        "unavailable",
        "PDF renderer busy",
        "the PDF queue is full",
        retry_after=5,
        rule="pdf_queue_full",
        component="pdf",
    ),
}


def problem_response(status: int, description: str | None = None) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_MEDIA_TYPE,
        description=description or DESCRIPTIONS.get(status, "Problem"),
        generate_examples=False,
        examples=[
            Example(
                id=example_name(PROBLEM_EXAMPLES[status]["title"]),
                summary=PROBLEM_EXAMPLES[status]["title"],
                value=PROBLEM_EXAMPLES[status],
            )
        ]
        if status in PROBLEM_EXAMPLES
        else None,
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


def example_name(summary: str) -> str:
    """The key of a named example: its summary in kebab case."""
    return re.sub(r"[^a-z0-9]+", "-", summary.lower()).strip("-")[:60] or "example"


def named_examples(examples: dict[str, Any]) -> dict[str, Example | Any]:
    """Named OpenAPI examples. Litestar drops null members (at any depth) when it writes the document, so an
    example states no nulls: a model with a required nullable field gets no example (the example test fails)."""
    return {example_name(summary): Example(summary=summary, value=value) for summary, value in examples.items()}


@dataclass(frozen=True)
class RawBody:
    """A request body the handler reads itself (after its access check), so Litestar cannot document it:
    ``content`` maps each media type to its schema and its examples (summary: value)."""

    description: str
    content: dict[str, tuple[Schema, dict[str, Any]]]

    def request_body(self) -> RequestBody:
        return RequestBody(
            required=True,
            description=self.description,
            content={
                media_type: OpenAPIMediaType(schema=schema, examples=named_examples(examples))
                for media_type, (schema, examples) in self.content.items()
            },
        )


def csv_import_body(
    what: str,
    row: type[BaseModel],
    columns: dict[str, str],
    csv_examples: dict[str, str],
    json_examples: dict[str, Any],
    max_rows: int,
) -> RawBody:
    """A CSV file (a header row naming ``columns``) or the same rows as a JSON array of objects: ``columns``
    says what each column means, the row model which ones are required."""
    lines = [
        f"- `{name}`{' (required)' if row.model_fields[name].is_required() else ''}: {text}"
        for name, text in columns.items()
    ]
    description = (
        f"{what}: a CSV file (`text/csv`, UTF-8) whose first row names the columns, in any order (optional "
        "columns may be left out; an empty cell is no value), or the same rows as a JSON array of objects "
        f"(`application/json`); at most {max_rows} rows. Columns:\n" + "\n".join(lines)
    )
    item = Schema(
        type=OpenAPIType.OBJECT,
        properties={name: Schema(description=text) for name, text in columns.items()},
        required=[name for name in columns if row.model_fields[name].is_required()],
    )
    return RawBody(
        description=description,
        content={
            "text/csv": (
                Schema(type=OpenAPIType.STRING, description="CSV with the header: " + ",".join(columns)),
                csv_examples,
            ),
            "application/json": (Schema(type=OpenAPIType.ARRAY, items=item, min_items=1), json_examples),
        },
    )


def _documented_operation(
    base: type[Operation], *, public: bool, opt: dict[str, Any], conventions: _Conventions = _Conventions()
) -> type[Operation]:
    """An Operation class that marks public routes as such, documents Retry-After, and adds the examples and
    the other media types the handler's ``opt`` gives (see the module docstring)."""

    @dataclass
    class DocumentedOperation(base):  # type: ignore[valid-type,misc]  # the handler's class, known at run time
        def __post_init__(self) -> None:
            parent = getattr(super(), "__post_init__", None)
            if parent is not None:
                parent()
            _document(self, public=public, opt=opt)
            _document_conventions(self, conventions)

    DocumentedOperation.__name__ = DocumentedOperation.__qualname__ = f"Documented{base.__name__}"
    return DocumentedOperation


def _document(operation: Operation, *, public: bool, opt: dict[str, Any]) -> None:
    """Public: no security requirement; request body: its examples, or the body the handler reads itself;
    2xx: the other media types and examples; 429/503: the Retry-After header."""
    also_returns: dict[str, str] = dict(opt.get("also_returns") or {})
    if public:
        operation.security = []  # overrides the document-wide bearer requirement
    raw = opt.get("request_body")
    if isinstance(raw, RawBody):
        operation.request_body = raw.request_body()
    elif opt.get("examples") and isinstance(operation.request_body, RequestBody):
        for media in operation.request_body.content.values():
            media.examples = named_examples(opt["examples"])
    for status, response in (operation.responses or {}).items():
        if status.startswith("2") and isinstance(response, OpenAPIResponse):
            if opt.get("response_examples") and response.content and "application/json" in response.content:
                response.content["application/json"].examples = named_examples(opt["response_examples"])
            if also_returns:
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
                body=bool({"data", "body"} & set(reserved)) or "request_body" in handler.opt,
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
                opt=handler.opt,
                conventions=_Conventions(get="GET" in handler.http_methods, location="location" in handler.opt),
            )
