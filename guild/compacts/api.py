from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.exceptions import ServiceUnavailableException
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import TypeAdapter

from guild.compacts import queries, service
from guild.compacts.lifecycle import Revision
from guild.compacts.schemas import (
    AmendmentCreate,
    CompactCreate,
    CompactRead,
    DecisionCreate,
    DiffRead,
    DraftUpdate,
    VersionRead,
    WithdrawRequest,
)
from guild.compacts.terms import terms_json_schema
from guild.domain.errors import Conflict, Forbidden, PreconditionFailed, PreconditionRequired
from guild.domain.principal import Principal
from guild.web.paging import PAGE_HEADERS, Page, paged
from guild.web.params import MAX_VERSION_NUMBER, SlugParam, VersionNumber
from guild.web.problems import documented
from guild.web.responses import encoded

_VERSION_READ = TypeAdapter(VersionRead)

Req = Request[Principal, Any, Any]
Number = VersionNumber
_ETAG = [
    ResponseHeader(
        name="ETag",
        value='"<hash>"',
        documentation_only=True,
        required=True,
        description="the version's current tag: send it in If-Match to edit the draft",
    )
]
_VERSION_HASH = [
    ResponseHeader(
        name="X-Version-SHA256",
        value="<hex>",
        documentation_only=True,
        required=True,
        description="SHA-256 of the version's canonical JSON (empty for a draft)",
    )
]


class CompactController(Controller):
    path = "/api/v1/compacts"
    tags = ["compacts"]

    @post(
        "/",
        opt={"location": "/api/v1/compacts/{slug}"},
        raises=documented(Forbidden, Conflict),
        summary="Convene a compact: its parties and the first draft of its terms (convening officers)",
    )
    async def create(self, request: Req, data: JSONBody[CompactCreate]) -> CompactRead:
        return await service.create_compact(request.user, data)

    @get(
        "/",
        response_headers=PAGE_HEADERS,
        summary="Compacts you are party to, and every compact with a proposed or ratified version",
    )
    async def list_compacts(self, request: Req, page: Page) -> Response[list[CompactRead]]:
        return paged(request, page, await queries.list_compacts(request.user), lambda c: (c.slug,))

    @get("/terms-schema", summary="JSON Schema of the compact terms document")
    async def terms_schema(self) -> dict[str, Any]:
        return terms_json_schema()

    @get("/{slug:str}", summary="One compact and its versions")
    async def get_compact(self, request: Req, slug: FromPath[SlugParam]) -> CompactRead:
        return await queries.get_compact(request.user, slug)

    @get(
        "/{slug:str}/versions/{number:int}",
        response_headers=_ETAG,
        summary="One version; the ETag header is what If-Match needs",
    )
    async def get_version(
        self, request: Req, slug: FromPath[SlugParam], number: FromPath[Number]
    ) -> Response[VersionRead]:
        version, revision = await queries.get_version(request.user, slug, number)
        return encoded(_VERSION_READ, version, {"ETag": revision.tag})

    @put(
        "/{slug:str}/versions/{number:int}",
        raises=documented(Forbidden, Conflict, PreconditionFailed, PreconditionRequired),
        response_headers=_ETAG,
        summary="Edit a draft (If-Match required; 412 when stale)",
    )
    async def update_draft(
        self,
        request: Req,
        slug: FromPath[SlugParam],
        number: FromPath[Number],
        data: JSONBody[DraftUpdate],
    ) -> Response[VersionRead]:
        if_match = request.headers.get("if-match")
        expected = None if if_match is None else Revision.from_tag(if_match)
        version, revision = await service.update_draft(request.user, slug, number, data, expected)
        return Response(version, headers={"ETag": revision.tag})

    @post(
        "/{slug:str}/versions/{number:int}/propose",
        status_code=200,
        raises=documented(Forbidden, Conflict),
        summary="Freeze and hash a draft for ratification",
    )
    async def propose(self, request: Req, slug: FromPath[SlugParam], number: FromPath[Number]) -> VersionRead:
        return await service.propose(request.user, slug, number)

    @post(
        "/{slug:str}/versions/{number:int}/decisions",
        opt={"location": "/api/v1/compacts/{slug}/versions/{number}"},
        raises=documented(Forbidden, Conflict),
        summary="Approve or reject for a party you are an officer of",
    )
    async def decide(
        self, request: Req, slug: FromPath[SlugParam], number: FromPath[Number], data: JSONBody[DecisionCreate]
    ) -> VersionRead:
        return await service.decide(request.user, slug, number, data)

    @post(
        "/{slug:str}/versions/{number:int}/withdraw",
        status_code=200,
        raises=documented(Forbidden, Conflict),
        summary="Withdraw a draft or proposal",
    )
    async def withdraw(
        self, request: Req, slug: FromPath[SlugParam], number: FromPath[Number], data: JSONBody[WithdrawRequest]
    ) -> VersionRead:
        return await service.withdraw(request.user, slug, number, data.reason)

    @post(
        "/{slug:str}/versions",
        opt={"location": "/api/v1/compacts/{slug}/versions/{number}"},
        raises=documented(Forbidden, Conflict),
        summary="Draft an amendment of the version in force",
    )
    async def amend(self, request: Req, slug: FromPath[SlugParam], data: JSONBody[AmendmentCreate]) -> VersionRead:
        return await service.amend(request.user, slug, data)

    @get("/{slug:str}/diff", summary="Redline between two versions: structured changes and readable text")
    async def diff(
        self,
        request: Req,
        slug: FromPath[SlugParam],
        from_: Annotated[int, QueryParameter(name="from", ge=1, le=MAX_VERSION_NUMBER)],
        to: Annotated[int, QueryParameter(ge=1, le=MAX_VERSION_NUMBER)],
    ) -> DiffRead:
        return await queries.diff(request.user, slug, from_, to)

    @get(
        "/{slug:str}/versions/{number:int}/pdf",
        media_type="application/pdf",
        raises=documented(ServiceUnavailableException),
        response_headers=_VERSION_HASH,
        summary="The version as a PDF/A-3 document",
    )
    async def pdf(
        self, request: Req, slug: FromPath[SlugParam], number: FromPath[Number], pdf_renderer: NamedDependency[Any]
    ) -> Response[bytes]:
        data, digest = await service.render_pdf(request.user, slug, number, pdf_renderer)
        return Response(
            data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{slug}-v{number}.pdf"', "X-Version-SHA256": digest},
        )
