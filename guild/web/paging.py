"""Paged lists: ``?limit=&cursor=`` in, the page as the usual JSON array out, and a ``Link: <...>; rel="next"``
header (RFC 8288) when more rows follow.

The response body of every list stays the JSON array it always was, so clients that read the first page
keep working; a client that wants everything follows ``rel="next"`` until it is absent. The next link is
an absolute URL built from ``public_base_url`` (never the request's Host header) and carries the request's
own filters with the new cursor. A handler takes ``page: Page`` (the app-wide ``page`` dependency
reads ``limit`` and ``cursor``) and returns :func:`paged`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import QueryParameter
from pydantic import TypeAdapter

from guild.domain.paging import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT, Key, PageRequest, take_page

__all__ = ["PAGE_HEADERS", "Page", "PageRequest", "page_request", "paged"]

T = TypeVar("T")
Page = NamedDependency[PageRequest]  # a list handler's ``page`` parameter: the app-wide ``page`` dependency

PAGE_HEADERS = [
    ResponseHeader(
        name="Link",
        value='<https://guild.example.org/api/v1/...?cursor=...>; rel="next"',
        documentation_only=True,
        required=False,
        description="RFC 8288: the next page (absolute URL with the same filters), absent on the last page",
    )
]


def page_request(
    limit: Annotated[
        int,
        QueryParameter(ge=1, le=MAX_LIMIT, description=f"rows per page (1 to {MAX_LIMIT}, default {DEFAULT_LIMIT})"),
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        QueryParameter(
            required=False,
            max_length=MAX_CURSOR_LENGTH,
            description='opaque: where the previous page ended; take it from the Link rel="next" header',
        ),
    ] = None,
) -> PageRequest:
    """The ``page`` dependency of every list handler."""
    return PageRequest(limit=limit, cursor=cursor)


def next_link(request: Request[Any, Any, Any], cursor: str) -> str:
    base = str(request.app.state.get("public_base_url", "")).rstrip("/")
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    query.append(("cursor", cursor))
    return f"{base}{request.url.path}?{urlencode(query)}"


def paged(
    request: Request[Any, Any, Any],
    page: PageRequest,
    rows: Iterable[T],
    key: Callable[[T], Key],
    *,
    descending: bool = False,
    adapter: TypeAdapter[list[T]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[list[T]]:
    """The page of ``rows`` the request asks for, ordered by ``key`` (unique), with its next link."""
    result = take_page(rows, key, page, descending=descending)
    out = dict(headers or {})
    if result.next_cursor is not None:
        out["Link"] = f'<{next_link(request, result.next_cursor)}>; rel="next"'
    if adapter is not None:
        return Response(content=adapter.dump_json(result.items), media_type=MediaType.JSON, headers=out)  # type: ignore[arg-type]
    return Response(result.items, headers=out)
