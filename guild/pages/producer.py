"""A producer's pages: productions, one production (bindings, roster, findings, commitments, contracts), a check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field, ValidationError

from contracts import service as contracts
from contracts.schemas import VoidRequest
from guild.compacts import queries as compacts
from guild.compacts.term_labels import words
from guild.compacts.terms import AssetCategory
from guild.compliance import queries as compliance
from guild.compliance.service import check_production
from guild.domain.errors import NotFound, Unprocessable
from guild.domain.principal import Principal, Role
from guild.domain.values import Text
from guild.pages.render import page
from guild.pages.session import require_principal
from guild.productions import service as productions
from guild.productions.commitments import list_commitments, mark_done
from guild.productions.queries import assert_can_change, assert_can_check
from guild.productions.schemas import BindingCreate, DisclosureIn, DisclosureRead

_DISCLOSURE_FIELDS = {"total_count": "total", "ai_generated_count": "ai", "tools": "tools", "evidence_notes": "notes"}


@dataclass
class DisclosureRow:
    """One asset category's row of the disclosures form: the values as typed, problems by input."""

    category: str
    total: str = ""
    ai: str = ""
    tools: str = ""
    notes: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return words(self.category)  # "VFX shot"

    def empty(self) -> bool:
        return not (self.total or self.ai or self.tools or self.notes)


def _rows_from(disclosures: list[DisclosureRead]) -> list[DisclosureRow]:
    by_category = {str(d.category): d for d in disclosures}
    rows = []
    for category in AssetCategory:
        d = by_category.get(category.value)
        rows.append(
            DisclosureRow(category.value)
            if d is None
            else DisclosureRow(
                category.value, str(d.total_count), str(d.ai_generated_count), "; ".join(d.tools), d.evidence_notes
            )
        )
    return rows


def _rows_from_form(form: FormMultiDict) -> list[DisclosureRow]:
    def value(name: str) -> str:
        return str(form.get(name) or "").strip()

    return [
        DisclosureRow(
            c.value,
            total=value(f"{c.value}.total"),
            ai=value(f"{c.value}.ai"),
            tools=value(f"{c.value}.tools"),
            notes=value(f"{c.value}.notes"),
        )
        for c in AssetCategory
    ]


def _validated(rows: list[DisclosureRow]) -> list[DisclosureIn]:
    """The filled rows as the API's disclosures; problems go on the rows' inputs (none: all valid)."""
    items: list[DisclosureIn] = []
    for row in rows:
        if row.empty():
            continue  # a category left blank has no disclosure
        data = {
            "category": row.category,
            "total_count": row.total or None,
            "ai_generated_count": row.ai or None,
            "tools": row.tools,
            "evidence_notes": row.notes,
        }
        try:
            items.append(DisclosureIn.model_validate(data, strict=False))  # form fields are text
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else "total_count"
                message = "required" if error["input"] is None else error["msg"]
                row.errors.setdefault(_DISCLOSURE_FIELDS.get(name, "total"), []).append(message)
    return items


def _may_change(principal: Principal, company: str) -> bool:
    return principal.has_role(company, Role.producer)


class BindForm(BaseModel):
    version: Text = Field(default="", max_length=200)


class VoidForm(BaseModel):
    reason: Text = Field(default="", max_length=4000)


class ProducerController(Controller):
    path = "/productions"

    @get("/")
    async def list_productions(self, request: Request[Any, Any, Any]) -> Template:
        principal = await require_principal(request)
        return page("productions.html", principal, productions=await productions.list_productions(principal))

    @get("/{production_id:uuid}")
    async def production(self, request: Request[Any, Any, Any], production_id: FromPath[UUID]) -> Template:
        principal = await require_principal(request)
        production = await productions.get_production(principal, production_id)  # 404 unless theirs
        return page(
            "production.html",
            principal,
            production=production,
            roster=await productions.list_engagements(principal, production_id),
            disclosures=await productions.list_disclosures(principal, production_id),
            may_change=_may_change(principal, production.company),
            findings=await compliance.production_findings(principal, production_id, None),
            commitments=await list_commitments(principal, production_id),
            contracts=await contracts.list_for_production(principal, production_id, None),
            runs=(await compliance.production_runs(principal, production_id))[:5],
            bindable=[
                c
                for c in await compacts.list_compacts(principal)
                if c.current_version and all(b.compact != c.slug for b in production.bindings)
            ],
        )

    @post("/{production_id:uuid}/bindings", status_code=303)
    async def bind(
        self,
        request: Request[Any, Any, Any],
        production_id: FromPath[UUID],
        data: Annotated[BindForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """Bind to a ratified compact version, chosen as ``slug@number`` from the form's list."""
        principal = await require_principal(request)
        slug, _, number = data.version.rpartition("@")
        binding = BindingCreate.model_validate({"compact": slug, "version": number}, strict=False)
        await productions.bind(principal, production_id, binding)
        return Redirect(path=f"/productions/{production_id}#h-bindings", status_code=303)

    @post("/{production_id:uuid}/commitments/{commitment_id:uuid}/done", status_code=303)
    async def commitment_done(
        self, request: Request[Any, Any, Any], production_id: FromPath[UUID], commitment_id: FromPath[UUID]
    ) -> Redirect:
        await mark_done(await require_principal(request), production_id, commitment_id)
        return Redirect(path=f"/productions/{production_id}#h-commitments", status_code=303)

    @post("/{production_id:uuid}/contracts/{contract_id:uuid}/void", status_code=303)
    async def void(
        self,
        request: Request[Any, Any, Any],
        production_id: FromPath[UUID],
        contract_id: FromPath[UUID],
        data: Annotated[VoidForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        principal = await require_principal(request)
        contract = await contracts.get_contract(principal, contract_id)
        if contract.production_id != production_id:
            raise NotFound(f"contract {contract_id} not found")
        await contracts.void(principal, contract_id, VoidRequest(reason=data.reason).reason)
        return Redirect(path=f"/productions/{production_id}#h-contracts", status_code=303)

    @post("/{production_id:uuid}/check", status_code=303)
    async def check(self, request: Request[Any, Any, Any], production_id: FromPath[UUID]) -> Redirect:
        principal = await require_principal(request)
        await assert_can_check(principal, production_id)  # the API's rule for who may check
        await check_production(production_id, principal.id)
        return Redirect(path=f"/productions/{production_id}#findings", status_code=303)

    @get("/{production_id:uuid}/disclosures")
    async def disclosures_form(self, request: Request[Any, Any, Any], production_id: FromPath[UUID]) -> Template:
        """The AI disclosures form: one row per asset category (producers of the company only)."""
        principal = await require_principal(request)
        await assert_can_change(principal, production_id)
        production = await productions.get_production(principal, production_id)
        rows = _rows_from(await productions.list_disclosures(principal, production_id))
        return page("disclosures_form.html", principal, production=production, rows=rows, problem=None)

    @post("/{production_id:uuid}/disclosures", status_code=303)
    async def save_disclosures(
        self, request: Request[Any, Any, Any], production_id: FromPath[UUID]
    ) -> Template | Redirect:
        """Replace the disclosures through the API's service; a refusal shows the form again, as typed."""
        principal = await require_principal(request)
        await assert_can_change(principal, production_id)
        rows = _rows_from_form(await request.form())
        items = _validated(rows)
        problem = None
        if not any(row.errors for row in rows):
            try:
                await productions.set_disclosures(principal, production_id, items)
                return Redirect(path=f"/productions/{production_id}#h-disclosures", status_code=303)
            except Unprocessable as exc:
                problem = exc.detail
        production = await productions.get_production(principal, production_id)
        return page(
            "disclosures_form.html",
            principal,
            status_code=422,
            production=production,
            rows=rows,
            problem=problem or "Some rows need fixing: see the fields marked below.",
        )
