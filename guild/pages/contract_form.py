"""The producer's contract form: one engagement's contract prepared from the clause library, previewed against
the bound compacts by the API's own compliance service, and issued once (an idempotency key per form).

Works without JavaScript: Preview and Issue are ordinary form posts. The clause parameter fields are made
from the clauses' parameter models (money in major units, as people write it); every refusal the preview
itemises is shown beside the clause and, where it names one, the field it concerns.
"""

from __future__ import annotations

import secrets
import types
import typing
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from pydantic import BaseModel

from contracts import service as contracts
from contracts.clauses import CLAUSES, ClauseTemplate, latest
from contracts.rules import ComplianceReport, Violation
from contracts.schemas import ContractRequest
from guild.compacts.terms import AIUse
from guild.domain.errors import NotFound, Unprocessable, invalid
from guild.domain.money import format_money, to_major
from guild.domain.principal import Principal
from guild.domain.work import ContractType
from guild.pages.render import page
from guild.pages.session import require_principal
from guild.productions import service as productions
from guild.productions.schemas import EngagementRead, ProductionRead

_MAX_FORM_FIELDS = 400


@dataclass
class FieldSpec:
    """One input of a clause's parameters."""

    name: str  # the input's name: p.<clause>.<field> (money: its major-unit field)
    param: str  # the parameter it fills
    label: str
    kind: Literal["checkbox", "select", "number", "decimal", "text", "textarea"]
    value: str
    required: bool
    help: str = ""
    options: list[str] = field(default_factory=list)
    minor: str | None = None  # money: the minor-unit parameter it stands for
    currency: str | None = None  # money: the currency its amounts are in
    errors: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)


@dataclass
class ClauseSpec:
    key: str
    version: int
    title: str
    required: bool
    selected: bool
    fields: list[FieldSpec]
    violations: list[Violation] = field(default_factory=list)  # of the clause, not of one field


def _default_type(engagement: EngagementRead) -> ContractType:
    return ContractType.writer if engagement.department == "writing" else ContractType.crew


def _plain(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``None`` (and whether it allowed None); Annotated is unwrapped."""
    optional = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0] if len(args) == 1 else annotation
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation, optional


def _words(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _field_specs(clause: ClauseTemplate, engagement: EngagementRead, values: FormMultiDict | None) -> list[FieldSpec]:
    model: type[BaseModel] = clause.params_model
    money: dict[str, str] = {minor: major for major, (minor, _) in getattr(model, "major_units", {}).items()}
    specs: list[FieldSpec] = []
    for name, info in model.model_fields.items():
        annotation, optional = _plain(info.annotation)
        shown = money.get(name, name)
        input_name = f"p.{clause.key}.{shown}"
        default: Any = None if info.is_required() else info.default
        if name in money:
            value = (
                to_major(engagement.rate_minor_per_week, engagement.currency) if name == "rate_minor_per_week" else ""
            )
            default = str(value)
        elif name == "currency":
            default = engagement.currency
        submitted = values.get(input_name) if values is not None else None
        required = info.is_required() and not optional
        spec = FieldSpec(
            name=input_name,
            param=name,
            label=_words(shown) + (f" ({engagement.currency})" if name in money else ""),
            kind="text",
            value="" if default is None else str(default),
            required=required,
            help=info.description or "",
            minor=name if name in money else None,
        )
        if name in money:
            spec.currency = str(values.get(f"p.{clause.key}.currency") or "") if values is not None else ""
            spec.currency = spec.currency if len(spec.currency) == 3 else engagement.currency
            spec.help = spec.help.replace("in integer minor units", "in units of the currency")
        if annotation is bool:
            spec.kind, spec.required = "checkbox", False
            checked = (values.get(input_name) == "true") if values is not None else bool(default)
            spec.value = "true" if checked else ""
            specs.append(spec)
            continue
        if name in money:
            spec.kind = "decimal"
        elif isinstance(annotation, type) and issubclass(annotation, Enum):
            spec.kind, spec.options = "select", [str(m.value) for m in annotation]
        elif typing.get_origin(annotation) is Literal:
            spec.kind, spec.options = "select", [str(a) for a in typing.get_args(annotation)]
        elif annotation in (int, float):
            spec.kind = "number" if annotation is int else "decimal"
        else:
            longest = next((m.max_length for m in info.metadata if getattr(m, "max_length", None)), None)
            spec.kind = "textarea" if longest is not None and longest > 300 else "text"
        if submitted is not None:
            spec.value = str(submitted)
        specs.append(spec)
    return specs


def _param_value(spec: FieldSpec, raw: str) -> Any:
    if spec.kind == "checkbox":
        return raw == "true"
    if spec.kind == "number":
        try:
            return int(raw)
        except ValueError:
            return raw  # the clause's model refuses it, naming the field
    if spec.kind == "decimal" and spec.minor is None:
        try:
            return float(raw)
        except ValueError:
            return raw
    return raw


def _clause_specs(
    contract_type: ContractType,
    engagement: EngagementRead,
    required: set[str],
    values: FormMultiDict | None,
) -> list[ClauseSpec]:
    keys = sorted({key for key, _ in CLAUSES})
    chosen = set(values.getall("clause", [])) if values is not None else required
    specs = []
    for key in keys:
        clause = latest(key)
        if not clause.applies(contract_type, engagement.level):
            continue
        specs.append(
            ClauseSpec(
                key=key,
                version=clause.version,
                title=clause.title,
                required=key in required,
                selected=key in chosen,
                fields=_field_specs(clause, engagement, values),
            )
        )
    specs.sort(key=lambda c: (not c.required, c.title))
    return specs


def _request(
    engagement: EngagementRead, contract_type: ContractType, clauses: list[ClauseSpec], form: FormMultiDict
) -> ContractRequest:
    chosen = []
    for clause in clauses:
        if not clause.selected:
            continue
        params: dict[str, Any] = {}
        for spec in clause.fields:
            raw = str(form.get(spec.name) or "")
            if raw == "" and spec.kind != "checkbox":
                continue  # left empty: the parameter's default, or the model's "Field required"
            params[spec.name.rsplit(".", 1)[1]] = _param_value(spec, raw)
        chosen.append({"key": clause.key, "version": clause.version, "params": params})
    custom = []
    for ref in form.getall("custom", []):
        organization, _, rest = str(ref).partition("/")
        key, _, version = rest.rpartition("/")
        custom.append({"organization": organization, "key": key, "version": int(version) if version.isdigit() else 0})
    return ContractRequest.model_validate(
        {
            "engagement_id": engagement.id,
            "contract_type": contract_type,
            "clauses": chosen,
            "custom_clauses": custom,
            "planned_ai_uses": list(form.getall("ai_use", [])),
            "notes": str(form.get("notes") or ""),
            "supersedes": str(form.get("supersedes") or "") or None,
        }
    )


def _attach(
    clauses: list[ClauseSpec], report: ComplianceReport | None, errors: list[dict[str, Any]], problems: list[str]
) -> list[Violation]:
    """Put each violation beside the clause (and field) it concerns; what concerns no clause is returned.
    Each refused parameter goes beside its field and, in words, to ``problems``."""
    loose: list[Violation] = []
    by_key = {c.key: c for c in clauses}
    for v in report.violations if report else []:
        clause = by_key.get(v.clause or "")
        if clause is None:
            loose.append(v)
            continue
        last = v.term_path.rsplit(".", 1)[-1]
        spec = next(
            (s for s in clause.fields if last in (s.param, s.name.rsplit(".", 1)[1])),
            next(
                (s for s in clause.fields if s.param in last), next((s for s in clause.fields if last in s.param), None)
            ),
        )
        (spec.violations if spec is not None and clause.selected else clause.violations).append(v)
    selected = [c for c in clauses if c.selected]
    for error in errors:  # clauses[i].params.<field>: the clause model's own refusals
        path = str(error.get("field", ""))
        if not path.startswith("clauses["):
            continue
        index = int(path[len("clauses[") : path.index("]")])
        name = path.split(".params.", 1)[1].split(".", 1)[0] if ".params." in path else ""
        if index < len(selected):
            target = next((s for s in selected[index].fields if name in (s.param, s.name.rsplit(".", 1)[1])), None)
            if target is not None:
                target.errors.append(str(error.get("message", "")))
                problems.append(f"{selected[index].title}, {target.label}: {error.get('message', '')}")
    return loose


def shown(value: Any, required: Any = None, money_in: str | None = None) -> str:
    """A required/actual value of a violation as people read it (money formatted: the requirement names its
    currency, or ``money_in`` says the field is an amount in that currency)."""
    currency = required.get("currency") if isinstance(required, dict) else money_in
    if isinstance(value, dict):
        parts = []
        for word, key in (("at least", "min"), ("at most", "max")):
            if key in value:
                amount = value[key]
                parts.append(
                    f"{word} {format_money(amount, currency) if currency and isinstance(amount, int) else amount}"
                )
        if "one_of" in value:
            parts.append("one of " + ", ".join(str(x) for x in value["one_of"]))
        return "; ".join(parts) or ", ".join(f"{k}: {v}" for k, v in value.items())
    if currency and isinstance(value, int) and not isinstance(value, bool):
        return format_money(value, currency)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


async def _engagement(
    principal: Principal, production_id: UUID, engagement_id: UUID
) -> tuple[ProductionRead, EngagementRead]:
    production = await productions.get_production(principal, production_id)  # 404 unless theirs
    engagement = next(
        (e for e in await productions.list_engagements(principal, production_id) if e.id == engagement_id), None
    )
    if engagement is None:
        raise NotFound(f"engagement {engagement_id} not found")
    return production, engagement


class ContractFormController(Controller):
    path = "/productions/{production_id:uuid}/engagements/{engagement_id:uuid}/contract"

    @get("/")
    async def form(
        self,
        request: Request[Any, Any, Any],
        production_id: FromPath[UUID],
        engagement_id: FromPath[UUID],
        contract_type: Annotated[ContractType | None, QueryParameter(required=False)] = None,
    ) -> Template:
        principal = await require_principal(request)
        production, engagement = await _engagement(principal, production_id, engagement_id)
        kind = contract_type or _default_type(engagement)
        # the clauses the bound compacts require of this contract: the preview of an empty one says
        empty = ContractRequest(engagement_id=engagement.id, contract_type=kind, clauses=[])
        required = set((await contracts.preview(principal, production_id, empty)).required_clauses)
        return await self._page(principal, production, engagement, kind, required, None, secrets.token_urlsafe(24))

    async def _page(
        self,
        principal: Principal,
        production: ProductionRead,
        engagement: EngagementRead,
        kind: ContractType,
        required: set[str],
        form: FormMultiDict | None,
        idempotency_key: str,
        report: ComplianceReport | None = None,
        errors: list[dict[str, Any]] | None = None,
        problem: str = "",
    ) -> Template:
        clauses = _clause_specs(kind, engagement, required, form)
        field_problems: list[str] = []
        loose = _attach(clauses, report, errors or [], field_problems)
        custom = await contracts.list_custom_clauses(principal, production.company)
        live = next(
            (
                c.id
                for c in await contracts.list_for_production(principal, production.id, None)
                if c.engagement_id == engagement.id and c.status == "issued"
            ),
            None,
        )
        return page(
            "contract_form.html",
            principal,
            status_code=422 if (problem or (report is not None and not report.compliant)) else 200,
            production=production,
            engagement=engagement,
            contract_type=kind,
            contract_types=[t.value for t in ContractType],
            clauses=clauses,
            custom=custom,
            chosen_custom=set(form.getall("custom", [])) if form is not None else set(),
            ai_uses=[u.value for u in AIUse],
            chosen_ai=set(form.getall("ai_use", [])) if form is not None else set(),
            notes=str(form.get("notes") or "") if form is not None else "",
            idempotency_key=idempotency_key,
            supersedes=live,  # the engagement's live contract, which the new one replaces
            report=report,
            loose=loose,
            problem=problem,
            field_problems=field_problems,
            shown=shown,
        )

    @post("/", status_code=200)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        production_id: FromPath[UUID],
        engagement_id: FromPath[UUID],
        pdf_renderer: NamedDependency[Any],
    ) -> Template | Redirect:
        """Preview (the compliance report, beside the fields) or Issue (once per form, then the contract)."""
        principal = await require_principal(request)
        production, engagement = await _engagement(principal, production_id, engagement_id)
        form = await request.form()
        if len(list(form.multi_items())) > _MAX_FORM_FIELDS:
            raise Unprocessable("the form has too many fields", title="Validation failed")
        try:
            kind = ContractType(str(form.get("contract_type") or _default_type(engagement)))
        except ValueError:
            raise invalid("contract_type", "enum", "contract_type must be performer, writer or crew") from None
        key = str(form.get("idempotency_key") or "")[:200] or secrets.token_urlsafe(24)
        contract_request = _request(engagement, kind, _clause_specs(kind, engagement, set(), form), form)
        # what the bound compacts require of this contract (with the AI uses planned): the preview of an empty one
        empty = contract_request.model_copy(update={"clauses": [], "custom_clauses": []})
        required = set((await contracts.preview(principal, production_id, empty)).required_clauses)
        try:
            if form.get("action") == "issue":
                contract, _ = await contracts.issue(principal, production_id, contract_request, pdf_renderer, key)
                return Redirect(path=f"/contracts/{contract.id}", status_code=303)
            report = await contracts.preview(principal, production_id, contract_request)
        except Unprocessable as refused:
            violations = refused.extra.get("violations")
            report = None
            if violations is not None:  # the issue's refusal: the same report the preview gives
                report = await contracts.preview(principal, production_id, contract_request)
            return await self._page(
                principal,
                production,
                engagement,
                kind,
                required,
                form,
                key,
                report,
                errors=refused.extra.get("errors") or [],
                problem=refused.detail,
            )
        return await self._page(principal, production, engagement, kind, required, form, key, report)
