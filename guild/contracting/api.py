from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.exceptions import ServiceUnavailableException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, Parameter

from contracts.compliance import ComplianceReport
from guild.contracting import service
from guild.contracting.schemas import (
    ClauseInfo,
    ContractRead,
    ContractRequest,
    CustomClauseCreate,
    CustomClauseRead,
    PdfVerification,
    VoidRequest,
)
from guild.errors import Conflict, Forbidden
from guild.security import Principal, Role, org_role_guard

Req = Request[Principal, Any, Any]
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", max_length=200, required=False)]


def _pdf_response(data: bytes, digest: str, name: str) -> Response[bytes]:
    return Response(
        data, media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"', "X-PDF-SHA256": digest},
    )


class ContractController(Controller):
    path = "/api/v1"
    tags = ["contracts"]

    @get("/clauses", summary="The clause library: each clause, its versions and its parameter schema")
    async def clause_library(self) -> list[ClauseInfo]:
        return service.library()

    @post("/organizations/{slug:str}/clauses", guards=[org_role_guard], opt={"org_roles": (Role.officer,)}, raises=[Conflict],
          summary="Add a plain-text clause of your organisation (officers)")
    async def add_custom_clause(self, request: Req, slug: FromPath[str], data: JSONBody[CustomClauseCreate]) -> CustomClauseRead:
        return await service.create_custom_clause(request.user, slug, data)

    @get("/organizations/{slug:str}/clauses", summary="An organisation's own plain-text clauses")
    async def custom_clauses(self, slug: FromPath[str]) -> list[CustomClauseRead]:
        return await service.list_custom_clauses(slug)

    @post("/productions/{production_id:uuid}/contracts/preview", status_code=200, raises=[Forbidden],
          summary="The compliance report of a contract, without issuing it")
    async def preview(self, request: Req, production_id: FromPath[UUID], data: JSONBody[ContractRequest]) -> ComplianceReport:
        return await service.preview(request.user, production_id, data)

    @post("/productions/{production_id:uuid}/contracts", raises=[Forbidden, Conflict, ServiceUnavailableException],
          responses={200: ResponseSpec(ContractRead, description="Already issued under this Idempotency-Key: that contract")},
          summary="Issue a compliant contract (422 itemises every violation); Idempotency-Key makes retries safe")
    async def issue(
        self, request: Req, production_id: FromPath[UUID], data: JSONBody[ContractRequest],
        pdf_renderer: NamedDependency[Any], idempotency_key: IdempotencyKey = None,
    ) -> Response[ContractRead]:
        contract, created = await service.issue(request.user, production_id, data, pdf_renderer, idempotency_key)
        return Response(contract, status_code=201 if created else 200)

    @get("/productions/{production_id:uuid}/contracts", summary="The production's contracts")
    async def production_contracts(self, request: Req, production_id: FromPath[UUID]) -> list[ContractRead]:
        return await service.list_for_production(request.user, production_id)

    @get("/me/contracts", summary="Contracts that engage you")
    async def my_contracts(self, request: Req) -> list[ContractRead]:
        return await service.list_mine(request.user)

    @get("/contracts/{contract_id:uuid}", summary="One contract (its company's producers and officers, and the engaged member)")
    async def get_contract(self, request: Req, contract_id: FromPath[UUID]) -> ContractRead:
        return await service.get_contract(request.user, contract_id)

    @get("/contracts/{contract_id:uuid}/pdf", media_type="application/pdf", summary="The stored PDF, byte for byte",
         response_headers=[ResponseHeader(name="X-PDF-SHA256", value="<hex>", documentation_only=True, required=True,
                                          description="SHA-256 of the PDF, as recorded at issue")])
    async def pdf(self, request: Req, contract_id: FromPath[UUID]) -> Response[bytes]:
        data, digest = await service.get_pdf(request.user, contract_id)
        return _pdf_response(data, digest, f"contract-{contract_id}")

    @post("/contracts/{contract_id:uuid}/void", status_code=200, raises=[Forbidden, Conflict],
          summary="Void an issued contract (it stays readable)")
    async def void(self, request: Req, contract_id: FromPath[UUID], data: JSONBody[VoidRequest]) -> ContractRead:
        return await service.void(request.user, contract_id, data.reason)

    @get("/verify/contract-pdf/{sha256:str}", opt={"public": True}, summary="Anyone: was a PDF with this SHA-256 issued here?")
    async def verify(self, sha256: FromPath[Annotated[str, Parameter(pattern=r"^[0-9a-fA-F]{64}$")]]) -> PdfVerification:
        return await service.verify_pdf_hash(sha256)
