from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.exceptions import ServiceUnavailableException
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import TypeAdapter

from guild.compacts import examples, queries, service
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
        raises=documented(Forbidden, Conflict),
        summary="Convene a compact: its parties and the first draft of its terms (convening officers)",
        opt={
            "location": "/api/v1/compacts/{slug}",
            "examples": {"A three-party compact with complete terms": examples.COMPACT_CREATE},
        },
        operation_id="createCompact",
    )
    async def create(self, request: Req, data: JSONBody[CompactCreate]) -> CompactRead:
        """Officers of the convening organisation open a compact: its slug and title, the other signatory parties
        and the first draft of its terms (the whole terms document: see `/api/v1/compacts/terms-schema`). Version
        1 starts as a draft that only the parties see. 409 when the slug is taken."""
        return await service.create_compact(request.user, data)

    @get(
        "/",
        response_headers=PAGE_HEADERS,
        summary="Compacts you are party to, and every compact with a proposed or ratified version",
        operation_id="listCompacts",
    )
    async def list_compacts(self, request: Req, page: Page) -> Response[list[CompactRead]]:
        """Compacts the caller's organisations are party to (drafts included), and every compact that has a proposed
        or ratified version."""
        return paged(request, page, await queries.list_compacts(request.user), lambda c: (c.slug,))

    @get("/terms-schema", summary="JSON Schema of the compact terms document", operation_id="getTermsSchema")
    async def terms_schema(self) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) of the terms document of a compact version: each section, field, unit and
        bound. Editors can validate a document against it before sending it; its `examples` holds a complete
        document to start from (every section filled)."""
        return {**terms_json_schema(), "examples": [examples.TERMS]}

    @get("/{slug:str}", summary="One compact and its versions", operation_id="getCompact")
    async def get_compact(self, request: Req, slug: FromPath[SlugParam]) -> CompactRead:
        """A compact with its parties, the version in force (`current_version`), the open draft or proposal
        (`open_version`) and a summary of every version. Drafts are visible to the parties only."""
        return await queries.get_compact(request.user, slug)

    @get(
        "/{slug:str}/versions/{number:int}",
        response_headers=_ETAG,
        summary="One version; the ETag header is what If-Match needs",
        operation_id="getCompactVersion",
    )
    async def get_version(
        self, request: Req, slug: FromPath[SlugParam], number: FromPath[Number]
    ) -> Response[VersionRead]:
        """One version with its full terms, status, decisions and hash. The ETag header is the version's revision:
        send it as If-Match when editing a draft."""
        version, revision = await queries.get_version(request.user, slug, number)
        return encoded(_VERSION_READ, version, {"ETag": revision.tag})

    @put(
        "/{slug:str}/versions/{number:int}",
        raises=documented(Forbidden, Conflict, PreconditionFailed, PreconditionRequired),
        response_headers=_ETAG,
        summary="Edit a draft (If-Match required; 412 when stale)",
        opt={"examples": {"Lower the AI share to 15 %": examples.DRAFT_UPDATE}},
        operation_id="updateDraft",
    )
    async def update_draft(
        self,
        request: Req,
        slug: FromPath[SlugParam],
        number: FromPath[Number],
        data: JSONBody[DraftUpdate],
    ) -> Response[VersionRead]:
        """Replaces the terms (and, optionally, the signatories) of a draft. If-Match must carry the ETag of the
        version as read: 428 without it, 412 when someone changed the draft since. Proposed and ratified versions
        never change (409)."""
        if_match = request.headers.get("if-match")
        expected = None if if_match is None else Revision.from_tag(if_match)
        version, revision = await service.update_draft(request.user, slug, number, data, expected)
        return Response(version, headers={"ETag": revision.tag})

    @post(
        "/{slug:str}/versions/{number:int}/propose",
        status_code=200,
        raises=documented(Forbidden, Conflict),
        summary="Freeze and hash a draft for ratification",
        operation_id="proposeVersion",
    )
    async def propose(self, request: Req, slug: FromPath[SlugParam], number: FromPath[Number]) -> VersionRead:
        """Freezes a draft: its canonical JSON is hashed (SHA-256) and the parties can decide on it. Only drafts can
        be proposed (409)."""
        return await service.propose(request.user, slug, number)

    @post(
        "/{slug:str}/versions/{number:int}/decisions",
        raises=documented(Forbidden, Conflict),
        summary="Approve or reject for a party you are an officer of",
        opt={
            "location": "/api/v1/compacts/{slug}/versions/{number}",
            "examples": {
                "Approve for a party": examples.DECISION_APPROVE,
                "Reject for a party, with the reason": examples.DECISION_REJECT,
            },
        },
        operation_id="decideVersion",
    )
    async def decide(
        self, request: Req, slug: FromPath[SlugParam], number: FromPath[Number], data: JSONBody[DecisionCreate]
    ) -> VersionRead:
        """An officer of a party approves or rejects the proposed version for that party; each party decides once.
        When the quorum (all parties unless the terms set `quorum`) has approved, the version is ratified and the
        one in force superseded; once rejections leave the quorum out of reach, it is rejected."""
        return await service.decide(request.user, slug, number, data)

    @post(
        "/{slug:str}/versions/{number:int}/withdraw",
        status_code=200,
        raises=documented(Forbidden, Conflict),
        summary="Withdraw a draft or proposal",
        opt={"examples": {"Withdraw a proposal": examples.WITHDRAW}},
        operation_id="withdrawVersion",
    )
    async def withdraw(
        self, request: Req, slug: FromPath[SlugParam], number: FromPath[Number], data: JSONBody[WithdrawRequest]
    ) -> VersionRead:
        """Officers of the convening organisation withdraw a draft or a proposal, giving a reason; the version is
        closed and a new amendment can be drafted."""
        return await service.withdraw(request.user, slug, number, data.reason)

    @post(
        "/{slug:str}/versions",
        raises=documented(Forbidden, Conflict),
        summary="Draft an amendment of the version in force",
        opt={
            "location": "/api/v1/compacts/{slug}/versions/{number}",
            "examples": {
                "Amend with new terms": examples.AMENDMENT_CREATE,
                "Start from a copy of the terms in force": examples.AMENDMENT_COPY,
            },
        },
        operation_id="amendCompact",
    )
    async def amend(self, request: Req, slug: FromPath[SlugParam], data: JSONBody[AmendmentCreate]) -> VersionRead:
        """Officers of the convening organisation open a draft amendment of the version in force: with the terms
        given, or as a copy of the current terms to edit. One open version at a time (409)."""
        return await service.amend(request.user, slug, data)

    @get(
        "/{slug:str}/diff",
        summary="Redline between two versions: structured changes and readable text",
        operation_id="diffVersions",
    )
    async def diff(
        self,
        request: Req,
        slug: FromPath[SlugParam],
        from_: Annotated[int, QueryParameter(name="from", ge=1, le=MAX_VERSION_NUMBER)],
        to: Annotated[int, QueryParameter(ge=1, le=MAX_VERSION_NUMBER)],
    ) -> DiffRead:
        """What changed between two versions of the compact (`?from=1&to=2`): each changed term as a structured
        change, and a readable redline."""
        return await queries.diff(request.user, slug, from_, to)

    @get(
        "/{slug:str}/versions/{number:int}/pdf",
        media_type="application/pdf",
        raises=documented(ServiceUnavailableException),
        response_headers=_VERSION_HASH,
        summary="The version as a PDF/A-3 document",
        operation_id="getCompactVersionPdf",
    )
    async def pdf(
        self, request: Req, slug: FromPath[SlugParam], number: FromPath[Number], pdf_renderer: NamedDependency[Any]
    ) -> Response[bytes]:
        """The version as a PDF/A-3 document with its canonical JSON attached; X-Version-SHA256 is the hash of that
        JSON. Rendered once for proposed and ratified versions; 503 with Retry-After when the renderer is busy."""
        data, digest = await service.render_pdf(request.user, slug, number, pdf_renderer)
        return Response(
            data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{slug}-v{number}.pdf"', "X-Version-SHA256": digest},
        )
