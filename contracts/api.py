from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.exceptions import ServiceUnavailableException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, Parameter, QueryParameter

from contracts import examples, service
from contracts.rules import ComplianceReport
from contracts.schemas import (
    ClauseInfo,
    ClauseReviewCreate,
    ClauseReviewRead,
    ContractRead,
    ContractRequest,
    CustomClauseCreate,
    CustomClauseRead,
    PdfVerification,
    VoidRequest,
)
from guild.domain.errors import Conflict, Forbidden
from guild.domain.paging import ident, instant
from guild.domain.principal import Principal, Role
from guild.domain.statuses import ContractStatus
from guild.web.paging import PAGE_HEADERS, Page, paged
from guild.web.params import IdempotencyKey, SlugParam
from guild.web.problems import documented
from guild.web.security import org_role_guard

Req = Request[Principal, Any, Any]
StatusFilter = Annotated[ContractStatus | None, QueryParameter(description="only contracts of this status")]
PersonFilter = Annotated[
    UUID | None, QueryParameter(required=False, description="only contracts engaging this person (their user id)")
]
EngagementFilter = Annotated[
    UUID | None, QueryParameter(required=False, description="only contracts of this engagement")
]


def _by_issue(contract: ContractRead) -> tuple[int, str]:
    return (instant(contract.issued_at), ident(contract.id))


def _pdf_response(data: bytes, digest: str, name: str) -> Response[bytes]:
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"', "X-PDF-SHA256": digest},
    )


class ContractController(Controller):
    path = "/api/v1"
    tags = ["contracts"]

    @get(
        "/clauses",
        response_headers=PAGE_HEADERS,
        summary="The clause library: each clause, its versions and its parameter schema",
        operation_id="listClauseLibrary",
    )
    async def clause_library(self, request: Req, page: Page) -> Response[list[ClauseInfo]]:
        """The clause library contracts are built from: each clause, its versions, and the JSON Schema of each
        version's parameters."""
        return paged(request, page, service.library(), lambda c: (c.key, c.version))

    @post(
        "/organizations/{slug:str}/clauses",
        guards=[org_role_guard],
        opt={
            "org_roles": (Role.officer,),
            "location": "/api/v1/organizations/{organization}/clauses/{key}/versions/{version}",
            "examples": {
                "A guild's clause: transport after night shoots": examples.CUSTOM_CLAUSE,
                "A company's side letter on scan days": examples.SIDE_LETTER,
            },
        },
        raises=documented(Conflict),
        summary="Add a plain-text clause of your organisation (officers)",
        operation_id="addCustomClause",
    )
    async def add_custom_clause(
        self, request: Req, slug: FromPath[SlugParam], data: JSONBody[CustomClauseCreate]
    ) -> CustomClauseRead:
        """An officer adds a plain-text clause of the organisation (key `custom.<name>`); adding a key again makes a
        new version. Clauses that touch restricted terms need a review before contracts can carry them."""
        return await service.create_custom_clause(request.user, slug, data)

    @get(
        "/organizations/{slug:str}/clauses",
        response_headers=PAGE_HEADERS,
        summary="An organisation's plain-text clauses: for its members, and for the parties (and bound productions' "
        "companies) of compacts it convened or approved; production companies' clauses for their members only",
        operation_id="listCustomClauses",
    )
    async def custom_clauses(
        self, request: Req, slug: FromPath[SlugParam], page: Page
    ) -> Response[list[CustomClauseRead]]:
        """An organisation's plain-text clauses, every version. Its members see them; so do the parties of compacts
        it convened or approved and the companies of productions bound to those. A production company's clauses are
        for its own members only."""
        rows = await service.list_custom_clauses(request.user, slug)
        return paged(request, page, rows, lambda c: (c.key, c.version))

    @get(
        "/organizations/{slug:str}/clauses/{key:str}/versions/{version:int}",
        summary="One version of an organisation's plain-text clause (whoever may read its clauses)",
        operation_id="getCustomClause",
    )
    async def custom_clause(
        self,
        request: Req,
        slug: FromPath[SlugParam],
        key: Annotated[str, Parameter(max_length=100, description="the clause's key")],
        version: Annotated[int, Parameter(ge=1, le=2**31 - 1, description="the clause's version")],
    ) -> CustomClauseRead:
        """One version of an organisation's plain-text clause (where a new clause's Location points), for whoever
        may read the organisation's clauses."""
        return await service.get_custom_clause(request.user, slug, key, version)

    @post(
        "/compacts/{slug:str}/versions/{number:int}/clause-reviews",
        status_code=200,
        raises=documented(Forbidden, Conflict),
        summary="Review a plain-text clause against the terms of this version it touches (officers of a party)",
        description="A custom clause that touches a term the version restricts (a likeness use, consent as a "
        "condition of hire, training data, required AI tools) holds every contract carrying it until an officer "
        "of one of the compact's parties has reviewed it against that term. The contract refusal lists the "
        "term paths; name them here. Returns the clause's reviews under this version.",
        opt={"examples": {"Review a side letter on scan days": examples.CLAUSE_REVIEW}},
        operation_id="reviewCustomClause",
    )
    async def review_clause(
        self, request: Req, slug: FromPath[SlugParam], number: FromPath[int], data: JSONBody[ClauseReviewCreate]
    ) -> list[ClauseReviewRead]:
        return await service.review_custom_clause(request.user, slug, number, data)

    @get(
        "/compacts/{slug:str}/versions/{number:int}/clause-reviews",
        response_headers=PAGE_HEADERS,
        summary="Custom clauses reviewed against this version's terms",
        operation_id="listClauseReviews",
    )
    async def clause_reviews(
        self, request: Req, slug: FromPath[SlugParam], number: FromPath[int], page: Page
    ) -> Response[list[ClauseReviewRead]]:
        """The reviews of custom clauses against this compact version's terms: which clause, which term, by whom and
        with what note."""
        rows = await service.list_clause_reviews(request.user, slug, number)
        return paged(request, page, rows, lambda r: (r.organization, r.key, r.version, r.term_path))

    @post(
        "/productions/{production_id:uuid}/contracts/preview",
        status_code=200,
        raises=documented(Forbidden),
        summary="The compliance report of a contract, without issuing it",
        opt={"examples": {"A performer contract with replica consent": examples.CONTRACT_REQUEST}},
        operation_id="previewContract",
    )
    async def preview(
        self, request: Req, production_id: FromPath[UUID], data: JSONBody[ContractRequest]
    ) -> ComplianceReport:
        """Checks a contract against the compacts the production is bound to without issuing it: the report lists
        every violation (term path, rule, the compact's limit) and conflict, the same the issue call would refuse
        with."""
        return await service.preview(request.user, production_id, data)

    @post(
        "/productions/{production_id:uuid}/contracts",
        raises=documented(Forbidden, Conflict, ServiceUnavailableException),
        responses={
            200: ResponseSpec(ContractRead, description="Already issued under this Idempotency-Key: that contract")
        },
        summary="Issue a compliant contract (422 itemises every violation); Idempotency-Key makes retries safe",
        opt={
            "location": "/api/v1/contracts/{id}",
            "examples": {"A performer contract with replica consent": examples.CONTRACT_REQUEST},
        },
        operation_id="issueContract",
    )
    async def issue(
        self,
        request: Req,
        production_id: FromPath[UUID],
        data: JSONBody[ContractRequest],
        pdf_renderer: NamedDependency[Any],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ContractRead]:
        """Issues a contract for an engagement of the production: the library clauses with their parameters, custom
        clauses, the AI uses planned with this worker. A contract that breaks a bound compact is refused with 422
        listing every violation; a compliant one is rendered once as PDF/A-3 with its canonical JSON attached and
        its SHA-256 recorded. With an Idempotency-Key a retry answers the contract already issued (200). To
        replace a live contract, name it in `supersedes`."""
        contract, created = await service.issue(request.user, production_id, data, pdf_renderer, idempotency_key)
        return Response(contract, status_code=201 if created else 200)

    @get(
        "/productions/{production_id:uuid}/contracts",
        response_headers=PAGE_HEADERS,
        summary="The production's contracts: live (issued) and past (void, superseded); ?status= one of them",
        operation_id="listProductionContracts",
    )
    async def production_contracts(
        self,
        request: Req,
        production_id: FromPath[UUID],
        page: Page,
        status: StatusFilter = None,
        person: PersonFilter = None,
        engagement: EngagementFilter = None,
    ) -> Response[list[ContractRead]]:
        """The production's contracts, live (issued) and past (void or superseded), for its company's producers and
        officers; `?status=`, `?person=` (a user id) and `?engagement=` narrow them."""
        rows = await service.list_for_production(
            request.user, production_id, status, person=person, engagement=engagement
        )
        return paged(request, page, rows, _by_issue)

    @get(
        "/me/contracts",
        response_headers=PAGE_HEADERS,
        summary="Contracts that engage you: live and past; ?status= one of them",
        operation_id="listMyContracts",
    )
    async def my_contracts(self, request: Req, page: Page, status: StatusFilter = None) -> Response[list[ContractRead]]:
        """Contracts of the engagements linked to the signed-in account, live and past; `?status=` narrows to one
        status."""
        return paged(request, page, await service.list_mine(request.user, status), _by_issue)

    @get(
        "/contracts/{contract_id:uuid}",
        summary="One contract (its company's producers and officers, and the engaged member)",
        operation_id="getContract",
    )
    async def get_contract(self, request: Req, contract_id: FromPath[UUID]) -> ContractRead:
        """One contract: its clauses, the compact versions it complies with, its status and the SHA-256 of its PDF."""
        return await service.get_contract(request.user, contract_id)

    @get(
        "/contracts/{contract_id:uuid}/pdf",
        media_type="application/pdf",
        summary="The stored PDF, byte for byte",
        response_headers=[
            ResponseHeader(
                name="X-PDF-SHA256",
                value="<hex>",
                documentation_only=True,
                required=True,
                description="SHA-256 of the PDF, as recorded at issue",
            )
        ],
        operation_id="getContractPdf",
    )
    async def pdf(self, request: Req, contract_id: FromPath[UUID]) -> Response[bytes]:
        """The PDF stored at issue, byte for byte; X-PDF-SHA256 is its hash as recorded, which anyone can check at
        `/api/v1/verify/contract-pdf/{sha256}`."""
        data, digest = await service.get_pdf(request.user, contract_id)
        return _pdf_response(data, digest, f"contract-{contract_id}")

    @post(
        "/contracts/{contract_id:uuid}/void",
        status_code=200,
        raises=documented(Forbidden, Conflict),
        summary="Void an issued contract (it stays readable)",
        opt={"examples": {"Void a contract that never took effect": examples.VOID}},
        operation_id="voidContract",
    )
    async def void(self, request: Req, contract_id: FromPath[UUID], data: JSONBody[VoidRequest]) -> ContractRead:
        """Voids an issued contract, with a reason; it stays readable (and its PDF verifiable) as void. 409 when it
        is not live."""
        return await service.void(request.user, contract_id, data.reason)

    @get(
        "/verify/contract-pdf/{sha256:str}",
        opt={"public": True, "response_examples": {"An issued contract's PDF": examples.PDF_VERIFIED}},
        summary="Anyone: was a PDF with this SHA-256 issued here?",
        operation_id="verifyContractPdf",
    )
    async def verify(
        self, sha256: FromPath[Annotated[str, Parameter(pattern=r"^[0-9a-fA-F]{64}$")]]
    ) -> PdfVerification:
        """Anyone holding a PDF can ask whether guild issued it: send its SHA-256. The answer says whether it
        matches an issued contract and that contract's status, and nothing else about it."""
        return await service.verify_pdf_hash(sha256)
