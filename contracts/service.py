"""Talent contracts: preview, issue (compliant only, idempotent, immutable, PDF/A-3), void, read, verify.

An engagement has at most one live (``issued``) contract: issuing another is refused (409 naming the live
one) unless the request ``supersedes`` it, and then the old one becomes ``superseded`` in the same
transaction. Issuers of one production take its row lock; the partial unique index ``contract_one_live``
backs the rule in the database.

The compliance rules live in ``contracts.rules`` (pure); this service loads the production, its
engagement and the bound compact versions, calls the rules, and stores what was issued.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from contracts import lifecycle
from contracts.assembly import render_clause_text
from contracts.clauses import CLAUSES, ClauseParamsError, ContractContext, UnknownClause, get_clause
from contracts.lifecycle import ContractState
from contracts.limits import CONTRACT_TEXT_MAX, text_overflow
from contracts.rules import ComplianceReport, contract_facts, custom_clause_facts, evaluate, resolve_clauses
from contracts.schemas import (
    ClauseInfo,
    ClauseReviewCreate,
    ClauseReviewRead,
    CompactRef,
    ContractRead,
    ContractRequest,
    CustomClauseCreate,
    CustomClauseRead,
    PdfVerification,
)
from contracts.screening import screen_custom_clause
from guild.compacts.bound import BoundVersion
from guild.compacts.queries import visible_version
from guild.domain.canonical import canonical_hash, canonical_json
from guild.domain.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error, invalid
from guild.domain.principal import Principal, Role
from guild.domain.statuses import ContractStatus, Decision
from guild.infra import audit
from guild.infra.db import Param, Prepared, Row, is_unique_violation, present, read_tx, write_tx
from guild.infra.pdf import PdfRenderer, pdf_sha256, read_attachments
from guild.infra.pdf_types import Attachment
from guild.infra.tables import (
    Compact,
    CompactParty,
    Contract,
    CustomClause,
    CustomClauseReview,
    Engagement,
    Organization,
    ProductionBinding,
    RatificationDecision,
)
from guild.productions.queries import bound_versions, production_row, versions_by_hash

CONTRACT_SCHEMA = "guild.contract/1"


def _now() -> datetime:
    return datetime.now(UTC)


# --- the clause library --------------------------------------------------------------------------


def library() -> list[ClauseInfo]:
    return [
        ClauseInfo(
            key=c.key,
            version=c.version,
            title=c.title,
            applies_to=sorted(c.applies_to),
            levels=sorted(c.levels) if c.levels else None,
            params_schema=c.params_model.model_json_schema(),
        )
        for c in sorted(CLAUSES.values(), key=lambda c: (c.key, c.version))
    ]


async def create_custom_clause(principal: Principal, slug: str, data: CustomClauseCreate) -> CustomClauseRead:
    """An officer's own plain-text clause; a new text for an existing key becomes its next version."""
    async with write_tx():
        org_id = principal.org_ids.get(slug)
        if org_id is None:
            raise NotFound(f"organization {slug!r} not found")
        last = (
            await CustomClause.select(CustomClause.version)
            .where((CustomClause.organization == org_id) & (CustomClause.key == data.key))
            .order_by(CustomClause.version, ascending=False)
            .first()
        )
        row = CustomClause(
            id=uuid4(),
            organization=org_id,
            key=data.key,
            version=(last["version"] + 1) if last else 1,
            title=data.title,
            text=data.text,
            created_by=principal.id,
            created_at=_now(),
        )
        await CustomClause.insert(row)
        await audit.record(
            principal.id, "custom_clause.created", "organization", org_id, {"key": data.key, "version": row.version}
        )
    return CustomClauseRead(
        organization=slug, key=row.key, version=row.version, title=row.title, text=row.text, created_at=row.created_at
    )


# Who reads an organisation's plain-text clauses (and may put them into contracts):
# - its own members (any role), and site admins;
# - for an organisation that is not a production company, which shares its clauses with a compact by
#   convening it or approving one of its versions: the members of every party of that compact, and the
#   members of production companies whose productions are bound to it.
# A production company's clauses (side letters) are its own members' only. Everyone else gets 404.

_COMPANY = "production_company"


async def _sharing_compacts(org_id: UUID) -> list[UUID]:
    """The compacts an organisation shares its clauses with: convened by it, or a version approved by it."""

    convened = await Compact.select(Compact.id).where(Compact.convening_org == org_id)
    approved = await RatificationDecision.select(RatificationDecision.version.compact.as_alias("compact")).where(
        (RatificationDecision.organization == org_id) & (RatificationDecision.decision == Decision.approved.value)
    )
    return list(dict.fromkeys([r["id"] for r in convened] + [r["compact"] for r in approved]))


async def _clauses_readable(principal: Principal, slug: str) -> UUID:
    """The organisation's id if ``principal`` may read its clauses; 404 (the same as for no such organisation)
    otherwise."""

    org = await Organization.select(Organization.id, Organization.kind).where(Organization.slug == slug).first()
    if org is not None:
        org_id: UUID = org["id"]
        if principal.is_admin or principal.is_member_of(slug):
            return org_id
        mine = list(principal.org_ids.values())
        if org["kind"] != _COMPANY and mine:
            compacts = await _sharing_compacts(org["id"])
            if compacts and (
                await CompactParty.exists().where(
                    CompactParty.compact.is_in(compacts) & CompactParty.organization.is_in(mine)
                )
                or await ProductionBinding.exists().where(
                    ProductionBinding.compact.is_in(compacts) & ProductionBinding.production.company.is_in(mine)
                )
            ):
                return org_id
    raise NotFound(f"no clauses of organization {slug!r} found")


async def list_custom_clauses(principal: Principal, slug: str) -> list[CustomClauseRead]:
    async with read_tx():
        await _clauses_readable(principal, slug)
        rows = (
            await CustomClause.select(
                CustomClause.organization.slug.as_alias("organization"),
                CustomClause.key,
                CustomClause.version,
                CustomClause.title,
                CustomClause.text,
                CustomClause.created_at,
            )
            .where(CustomClause.organization.slug == slug)
            .order_by(CustomClause.key, CustomClause.version)
        )
    return [CustomClauseRead(**r) for r in rows]


async def get_custom_clause(principal: Principal, slug: str, key: str, version: int) -> CustomClauseRead:
    """One version of an organisation's clause, for whoever may read its clauses (404 otherwise)."""
    for clause in await list_custom_clauses(principal, slug):
        if clause.key == key and clause.version == version:
            return clause
    raise NotFound(f"clause {key!r} version {version} not found")


# --- reviews of custom clauses against the terms they touch ----------------------------------------

_REVIEWS = Prepared(
    lambda: (
        CustomClauseReview.select(
            CustomClauseReview.custom_clause._.organization._.slug.as_alias("organization"),
            CustomClauseReview.custom_clause.key.as_alias("key"),
            CustomClauseReview.custom_clause.version.as_alias("version"),
            CustomClauseReview.term_path,
            CustomClauseReview.organization.slug.as_alias("party"),
            CustomClauseReview.reviewer.email.as_alias("reviewer"),
            CustomClauseReview.note,
            CustomClauseReview.reviewed_at,
        )
        .where(CustomClauseReview.compact_version == Param("version"))
        .order_by(CustomClauseReview.reviewed_at)
    )
)


async def _review_reads(slug: str, number: int, version_id: UUID) -> list[ClauseReviewRead]:
    rows = await _REVIEWS.rows(version=version_id)
    return [ClauseReviewRead(compact=slug, compact_version=number, **r) for r in rows]


async def review_custom_clause(
    principal: Principal, slug: str, number: int, data: ClauseReviewCreate
) -> list[ClauseReviewRead]:
    """Record that an officer of a party reviewed a custom clause against terms of this version it touches.

    Only terms the clause touches under this version's terms may be named (422 otherwise); reviewing a
    term again changes nothing. Returns the clause's reviews under this version."""
    async with write_tx():
        compact, version, parties = await visible_version(principal, slug, number)
        if data.party not in parties:
            raise invalid("party", "compact_party", f"{data.party} is not a party of {slug}")
        if not principal.has_role(data.party, Role.officer):
            raise Forbidden(f"only officers of {data.party!r} may review clauses for it", rule="party_officer")
        if version.terms_hash is None:
            raise Conflict(f"{slug} v{number} is a draft: review clauses against proposed or ratified terms")
        await _clause_reviewable(principal, data.organization, compact.id)
        clause = (
            await CustomClause.select(CustomClause.id, CustomClause.title, CustomClause.text)
            .where(
                (CustomClause.organization.slug == data.organization)
                & (CustomClause.key == data.key)
                & (CustomClause.version == data.version)
            )
            .first()
        )
        if clause is None:
            raise invalid("key", "unknown_clause", f"{data.organization} has no clause {data.key} v{data.version}")
        touched = {t.term_path for t in screen_custom_clause(f"{clause['title']}\n{clause['text']}", version.terms)}
        for i, path in enumerate(data.term_paths):
            if path not in touched:
                raise invalid(
                    f"term_paths[{i}]",
                    "term_touched",
                    f"clause {data.key} v{data.version} does not touch {path} of {slug} v{number}"
                    + (f"; it touches {', '.join(sorted(touched))}" if touched else "; it touches no restricted term"),
                )
        done = {
            r["term_path"]
            for r in await CustomClauseReview.select(CustomClauseReview.term_path).where(
                (CustomClauseReview.custom_clause == clause["id"]) & (CustomClauseReview.compact_version == version.id)
            )
        }
        new = [p for p in dict.fromkeys(data.term_paths) if p not in done]
        now = _now()
        if new:
            await CustomClauseReview.insert(
                *(
                    CustomClauseReview(
                        id=uuid4(),
                        custom_clause=clause["id"],
                        compact_version=version.id,
                        term_path=path,
                        organization=principal.org_ids[data.party],
                        reviewer=principal.id,
                        note=data.note,
                        reviewed_at=now,
                    )
                    for path in new
                )
            )
            await audit.record(
                principal.id,
                "custom_clause.reviewed",
                "compact_version",
                version.id,
                {
                    "clause": f"{data.organization}/{data.key} v{data.version}",
                    "term_paths": new,
                    "party": data.party,
                },
            )
        reviews = await _review_reads(slug, number, version.id)
    return [r for r in reviews if (r.organization, r.key, r.version) == (data.organization, data.key, data.version)]


async def _clause_reviewable(principal: Principal, slug: str, compact_id: UUID) -> None:
    """A party's officer reviews the clauses they may read, and the side letters of the production companies
    whose productions are bound to the compact (which are otherwise their members' only); 404 otherwise."""
    try:
        await _clauses_readable(principal, slug)
    except NotFound:
        bound = await ProductionBinding.exists().where(
            (ProductionBinding.compact == compact_id) & (ProductionBinding.production._.company._.slug == slug)
        )
        if not bound:
            raise


async def list_clause_reviews(principal: Principal, slug: str, number: int) -> list[ClauseReviewRead]:
    async with read_tx():
        _, version, _ = await visible_version(principal, slug, number)
        return await _review_reads(slug, number, version.id)


# --- evaluation -----------------------------------------------------------------------------------


async def _load(principal: Principal, production_id: UUID, request: ContractRequest) -> dict[str, Any]:
    """Everything the check and the document need, read in one transaction by the caller."""
    production = await production_row(principal, production_id, write=True)
    engagement = (
        await Engagement.select()
        .where((Engagement.id == request.engagement_id) & (Engagement.production == production_id))
        .first()
    )
    if engagement is None:
        raise invalid("engagement_id", "engagement_in_production", "no such engagement on this production")
    mentor = None
    if engagement["mentor"]:
        mentor = (
            await Engagement.select(Engagement.person_name, Engagement.level, Engagement.department)
            .where(Engagement.id == engagement["mentor"])
            .first()
        )
    bound = await bound_versions(production_id)
    company = await present(
        Organization.select(Organization.slug, Organization.name).where(Organization.id == production["company"])
    )
    allowed_orgs = {company["slug"], *(await _clause_orgs_of_bound(production_id))}
    custom = []
    for i, ref in enumerate(request.custom_clauses):
        if ref.organization not in allowed_orgs:
            raise invalid(
                f"custom_clauses[{i}].organization",
                "clause_owner",
                "custom clauses come from the production company, or from an organisation that convened "
                "or approved a bound compact",
            )
        row = (
            await CustomClause.select(
                CustomClause.id, CustomClause.key, CustomClause.version, CustomClause.title, CustomClause.text
            )
            .where(
                (CustomClause.organization.slug == ref.organization)
                & (CustomClause.key == ref.key)
                & (CustomClause.version == ref.version)
            )
            .first()
        )
        if row is None:
            raise invalid(
                f"custom_clauses[{i}].key",
                "unknown_clause",
                f"{ref.organization} has no clause {ref.key} v{ref.version}",
            )
        custom.append({"organization": ref.organization, **row, "reviews": []})
    await _reviews_of(custom, bound)
    return {
        "production": production,
        "engagement": engagement,
        "mentor": mentor,
        "bound": bound,
        "company": company,
        "custom": custom,
    }


async def _reviews_of(custom: list[dict[str, Any]], bound: list[BoundVersion]) -> None:
    """Fill each custom clause's ``reviews``: the (version hash, term path) an officer reviewed it against,
    of the bound versions."""
    if not custom or not bound:
        return
    hashes = {b.version_id: b.version_hash for b in bound}
    rows = await CustomClauseReview.select(
        CustomClauseReview.custom_clause, CustomClauseReview.compact_version, CustomClauseReview.term_path
    ).where(
        CustomClauseReview.custom_clause.is_in([c["id"] for c in custom])
        & CustomClauseReview.compact_version.is_in(list(hashes))
    )
    for c in custom:
        c["reviews"] = sorted(
            (
                {"version_hash": hashes[r["compact_version"]], "term_path": r["term_path"]}
                for r in rows
                if r["custom_clause"] == c["id"]
            ),
            key=lambda v: (v["version_hash"], v["term_path"]),
        )


async def _clause_orgs_of_bound(production_id: UUID) -> set[str]:
    """Organisations whose clauses a production's contracts may carry besides its company's: those sharing
    them with a bound compact (convened it or approved a version), production companies excepted."""

    bindings = await ProductionBinding.select(ProductionBinding.compact).where(
        ProductionBinding.production == production_id
    )
    if not bindings:
        return set()
    compacts = [b["compact"] for b in bindings]
    convening = await Compact.select(Compact.convening_org.slug.as_alias("slug")).where(
        Compact.id.is_in(compacts) & (Compact.convening_org.kind != _COMPANY)
    )
    approving = await RatificationDecision.select(RatificationDecision.organization.slug.as_alias("slug")).where(
        RatificationDecision.version.compact.is_in(compacts)
        & (RatificationDecision.decision == Decision.approved.value)
        & (RatificationDecision.organization.kind != _COMPANY)
    )
    return {r["slug"] for r in [*convening, *approving]}


def _context(loaded: dict[str, Any], request: ContractRequest) -> ContractContext:
    e, p, m = loaded["engagement"], loaded["production"], loaded["mentor"]
    return ContractContext(
        contract_type=request.contract_type,
        department=e["department"],
        level=e["level"],
        rate_minor_per_week=e["rate_minor_per_week"],
        currency=e["currency"],
        start_date=e["start_date"],
        end_date=e["end_date"],
        production_budget_minor=p["budget_minor"],
        budget_currency=p["currency"],
        mentor_level=m["level"] if m else None,
        mentor_department=m["department"] if m else None,
        planned_ai_uses=frozenset(request.planned_ai_uses),
    )


def _check_text_size(loaded: dict[str, Any], request: ContractRequest) -> None:
    """Refuse, before any rendering, a contract whose free text together would not fit one document."""
    overflow = text_overflow(
        [c.params for c in request.clauses], [(c["title"], c["text"]) for c in loaded["custom"]], request.notes
    )
    if overflow is not None:
        raise invalid(
            overflow.field,
            "contract_text_max",
            f"the contract's free text totals {overflow.total} characters; one contract carries at most "
            f"{CONTRACT_TEXT_MAX} (clause parameters, custom clauses and notes together)",
            limit=CONTRACT_TEXT_MAX,
            total=overflow.total,
        )


def _check(
    loaded: dict[str, Any], request: ContractRequest
) -> tuple[ContractContext, list[BoundVersion], ComplianceReport]:
    context = _context(loaded, request)
    bound: list[BoundVersion] = loaded["bound"]
    for i, choice in enumerate(request.clauses):
        try:
            get_clause(choice.key, choice.version)
        except UnknownClause as exc:
            raise invalid(f"clauses[{i}].key", "unknown_clause", str(exc)) from exc
    try:
        report = evaluate(request.contract_type, context, request.clauses, bound, custom_clause_facts(loaded["custom"]))
    except ClauseParamsError as exc:
        raise Unprocessable(
            "clause parameters are invalid",
            title="Validation failed",
            errors=[field_error(f, e["type"], e["msg"]) for f, e in zip(exc.fields, exc.errors, strict=True)],
        ) from exc
    _check_text_size(loaded, request)  # after each field's own limit, before anything is rendered
    return context, bound, report


async def preview(principal: Principal, production_id: UUID, request: ContractRequest) -> ComplianceReport:
    async with read_tx():
        loaded = await _load(principal, production_id, request)
    return _check(loaded, request)[2]


def _refusal(report: ComplianceReport) -> Unprocessable:
    return Unprocessable(
        f"the contract breaks {len(report.violations)} term(s) and {len(report.conflicts)} conflict(s) of the bound compacts",
        title="Contract does not comply",
        violations=[v.model_dump(mode="json") for v in report.violations],
        conflicts=[c.model_dump(mode="json") for c in report.conflicts],
    )


def contract_document(
    contract_id: UUID,
    issued_at: datetime,
    loaded: dict[str, Any],
    request: ContractRequest,
    context: ContractContext,
    bound: list[BoundVersion],
) -> dict[str, Any]:
    """The canonical contract data: what the PDF shows, what its footer hash covers, what verify re-checks."""
    e, p = loaded["engagement"], loaded["production"]
    clauses = [
        {
            "key": c.key,
            "version": c.version,
            "title": c.title,
            "params": params.model_dump(mode="json"),
            "text": render_clause_text(c, params),
        }
        for c, params in resolve_clauses(request.clauses)
    ]
    return {
        "schema": CONTRACT_SCHEMA,
        "contract_id": str(contract_id),
        "contract_type": request.contract_type.value,
        "issued_at": issued_at.isoformat(),
        "employer": {"slug": loaded["company"]["slug"], "name": loaded["company"]["name"]},
        "production": {
            "id": str(p["id"]),
            "title": p["title"],
            "budget_minor": p["budget_minor"],
            "currency": p["currency"],
        },
        "worker": {
            "name": e["person_name"],
            "role": e["role"],
            "department": e["department"],
            "level": e["level"],
            "rate_minor_per_week": e["rate_minor_per_week"],
            "currency": e["currency"],
            "start_date": e["start_date"].isoformat(),
            "end_date": e["end_date"].isoformat(),
            "mentor": loaded["mentor"]["person_name"] if loaded["mentor"] else None,
            "engagement_id": str(e["id"]),
        },
        "planned_ai_uses": sorted(u.value for u in request.planned_ai_uses),
        "clauses": clauses,
        "custom_clauses": [
            {
                "organization": c["organization"],
                "key": c["key"],
                "version": c["version"],
                "title": c["title"],
                "text": c["text"],
                "reviews": c["reviews"],
            }
            for c in loaded["custom"]
        ],
        "notes": request.notes,
        "supersedes": str(request.supersedes) if request.supersedes else None,
        "compacts": [
            {"slug": b.compact_slug, "title": b.compact_title, "version": b.version_number, "hash": b.version_hash}
            for b in bound
        ],
        "context": context.model_dump(mode="json"),
    }


async def render_contract_pdf(
    renderer: PdfRenderer, document: dict[str, Any], report: ComplianceReport
) -> tuple[bytes, str]:
    doc_hash = canonical_hash(document)
    report_json = report.model_dump(mode="json")
    pdf = await renderer.render(
        "contract.html",
        {"doc": document, "report": report_json, "doc_hash": doc_hash},
        [
            Attachment(
                filename="contract.json", data=canonical_json(document), description="the contract's canonical data"
            ),
            Attachment(
                filename="compliance.json",
                data=canonical_json(report_json),
                description="compliance report at issue",
                relationship="Supplement",
            ),
        ],
        title=f"{document['contract_type'].title()} agreement — {document['worker']['name']}",
        tenant=f"org:{document['employer']['slug']}",  # the queue's fairness key: the production company
    )
    return pdf, doc_hash


def _request_hash(production_id: UUID, request: ContractRequest) -> str:
    return canonical_hash({"production": str(production_id), "request": request.model_dump(mode="json")})


async def _by_key(production_id: UUID, key: str) -> dict[str, Any] | None:
    return (
        await Contract.select(Contract.id, Contract.request_sha256)
        .where((Contract.production == production_id) & (Contract.idempotency_key == key))
        .first()
    )


def _same_request_or_conflict(existing: dict[str, Any], request_hash: str) -> UUID:
    if existing["request_sha256"] != request_hash:
        raise Conflict(
            "this Idempotency-Key was already used for a different contract request", rule="idempotency_key_reuse"
        )
    first: UUID = existing["id"]
    return first


async def _live_contract(engagement_id: UUID) -> UUID | None:
    row = (
        await Contract.select(Contract.id)
        .where((Contract.engagement == engagement_id) & (Contract.status == ContractStatus.issued.value))
        .first()
    )
    return None if row is None else row["id"]


async def _same_engagement(loaded: dict[str, Any], engagement_id: UUID) -> None:
    """Under the production's lock: the engagement (and its mentor) are still what the document was made from;
    a producer may have corrected or removed it while the contract was rendered."""
    now = await Engagement.select().where(Engagement.id == engagement_id).first()
    if now is None:
        raise Conflict("the engagement was removed while the contract was being issued", rule="engagement_removed")
    mentor = None
    if now["mentor"]:
        mentor = (
            await Engagement.select(Engagement.person_name, Engagement.level, Engagement.department)
            .where(Engagement.id == now["mentor"])
            .first()
        )
    if now != loaded["engagement"] or mentor != loaded["mentor"]:
        raise Conflict(
            "the engagement was changed while the contract was being issued; try again", rule="engagement_changed"
        )


def _replaceable(live: UUID | None, request: ContractRequest) -> UUID | None:
    """The live contract this request replaces (None: there is none); see :func:`contracts.lifecycle.replaceable`."""
    return lifecycle.replaceable(live, request.engagement_id, request.supersedes)


async def issue(
    principal: Principal,
    production_id: UUID,
    request: ContractRequest,
    renderer: PdfRenderer,
    idempotency_key: str | None,
) -> tuple[ContractRead, bool]:
    """Issue a compliant contract; returns (contract, created). A repeated Idempotency-Key returns the first.

    The one-live-contract rule is checked before rendering (a doomed request renders nothing) and again
    under the production's row lock, where exactly one of concurrent issuers for an engagement wins.
    """
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 200):
        raise invalid("Idempotency-Key", "length", "Idempotency-Key must be 1 to 200 characters")
    request_hash = _request_hash(production_id, request)
    async with read_tx():
        loaded = await _load(principal, production_id, request)
        if idempotency_key and (existing := await _by_key(production_id, idempotency_key)):
            return await get_contract(principal, _same_request_or_conflict(existing, request_hash)), False
        _replaceable(await _live_contract(request.engagement_id), request)
    context, bound, report = _check(loaded, request)
    if not report.compliant:
        raise _refusal(report)

    contract_id, issued_at = uuid4(), _now()
    document = contract_document(contract_id, issued_at, loaded, request, context, bound)
    pdf, doc_hash = await render_contract_pdf(renderer, document, report)  # no transaction held while rendering

    try:
        async with write_tx():
            await production_row(principal, production_id, write=True, lock=True)
            if idempotency_key and (existing := await _by_key(production_id, idempotency_key)):
                return await get_contract(principal, _same_request_or_conflict(existing, request_hash)), False
            await _same_engagement(loaded, request.engagement_id)
            current = {(b.compact_slug, b.version_hash) for b in await bound_versions(production_id)}
            if current != {(b.compact_slug, b.version_hash) for b in bound}:
                raise Conflict(
                    "the production's compact bindings changed while issuing; try again", rule="bindings_changed"
                )
            replaced = _replaceable(await _live_contract(request.engagement_id), request)
            if replaced is not None:
                live = ContractState(replaced, ContractStatus.issued)
                superseding = lifecycle.supersede(live, by=contract_id, at=issued_at)
                if not await _transition(live, superseding):  # voided since the read (void takes no production lock)
                    lifecycle.supersede(await _state(replaced), by=contract_id, at=issued_at)  # raises the 409
                await audit.record(principal.id, "contract.superseded", "contract", replaced, {"by": str(contract_id)})
            report_json = report.model_dump(mode="json")
            await Contract.insert(
                Contract(
                    id=contract_id,
                    production=production_id,
                    engagement=request.engagement_id,
                    contract_type=request.contract_type.value,
                    status=ContractStatus.issued.value,
                    document=document,
                    document_sha256=doc_hash,
                    compliance=report_json,
                    pdf=pdf,
                    pdf_sha256=pdf_sha256(pdf),
                    idempotency_key=idempotency_key,
                    request_sha256=request_hash,
                    issued_by=principal.id,
                    issued_at=issued_at,
                    **contract_facts(document, report_json)._asdict(),
                )
            )
            await audit.record(
                principal.id,
                "contract.issued",
                "contract",
                contract_id,
                {
                    "production": str(production_id),
                    "document_sha256": doc_hash,
                    "pdf_sha256": pdf_sha256(pdf),
                    "compacts": [f"{b.compact_slug}@{b.version_hash}" for b in bound],
                    "supersedes": str(replaced) if replaced else None,
                },
            )
    except Exception as exc:
        if idempotency_key and is_unique_violation(exc):  # a concurrent retry with the same key won the race
            async with read_tx():
                existing = await _by_key(production_id, idempotency_key)
            if existing:
                return await get_contract(principal, _same_request_or_conflict(existing, request_hash)), False
        raise
    return await get_contract(principal, contract_id), True


# --- reading, voiding, verifying ---------------------------------------------------------------------


def _contract_query() -> Any:
    return Contract.select(
        Contract.id,
        Contract.production,
        Contract.engagement,
        Contract.contract_type,
        Contract.status,
        Contract.document_sha256,
        Contract.pdf_sha256,
        Contract.issued_at,
        Contract.voided_at,
        Contract.void_reason,
        Contract.superseded_by,
        Contract.superseded_at,
        Contract.engagement.user.as_alias("member_id"),
        Contract.production.company.slug.as_alias("company_slug"),  # type: ignore[union-attr]  # Piccolo types a two-hop join loosely
    )


_CONTRACT = Prepared(lambda: _contract_query().where(Contract.id == Param("id")))


@dataclass(frozen=True)
class _Papers:
    """What a contract's reader gets of its stored compliance report and document (both never change
    once issued), parsed once per process."""

    compliance: ComplianceReport
    compacts: list[CompactRef]
    supersedes: UUID | None


_PAPERS: dict[UUID, _Papers] = {}
_PAPERS_MAX = 4096


async def _papers(ids: list[UUID]) -> dict[UUID, _Papers]:
    """The parsed papers of these contracts: from memory, the rest in one query."""
    found = {i: p for i in ids if (p := _PAPERS.get(i)) is not None}
    missing = [i for i in ids if i not in found]
    rows = (
        await Contract.select(Contract.id, Contract.compliance, Contract.document)
        .where(Contract.id.is_in(missing))
        .output(load_json=True)
        if missing
        else []
    )
    if len(_PAPERS) + len(rows) > _PAPERS_MAX:
        _PAPERS.clear()
    for r in rows:
        supersedes = r["document"].get("supersedes")
        found[r["id"]] = _PAPERS[r["id"]] = _Papers(
            compliance=ComplianceReport.model_validate(r["compliance"]),
            compacts=[CompactRef(**c) for c in r["document"]["compacts"]],
            supersedes=UUID(supersedes) if supersedes else None,
        )
    return found


def _may_read(principal: Principal, row: dict[str, Any]) -> bool:
    return (
        principal.is_admin
        or row["member_id"] == principal.id
        or principal.has_role(row["company_slug"], Role.producer, Role.officer)
    )


async def _contract_row(principal: Principal, contract_id: UUID) -> dict[str, Any]:
    """The contract, if this user is the engaged member or may read the production; else 404."""
    row: Row | None = await _CONTRACT.first(id=contract_id)
    if row is None or not _may_read(principal, row):
        raise NotFound(f"contract {contract_id} not found")
    return row


async def _reads(rows: list[dict[str, Any]]) -> list[ContractRead]:
    papers = await _papers([r["id"] for r in rows])
    return [_read(r, papers[r["id"]]) for r in rows]


async def _read_one(row: dict[str, Any]) -> ContractRead:
    [read] = await _reads([row])
    return read


def _read(row: dict[str, Any], papers: _Papers) -> ContractRead:
    return ContractRead(
        id=row["id"],
        production_id=row["production"],
        engagement_id=row["engagement"],
        contract_type=row["contract_type"],
        status=row["status"],
        document_sha256=row["document_sha256"],
        pdf_sha256=row["pdf_sha256"],
        compliance=papers.compliance,
        compacts=papers.compacts,
        issued_at=row["issued_at"],
        voided_at=row["voided_at"],
        void_reason=row["void_reason"],
        supersedes=papers.supersedes,
        superseded_by=row["superseded_by"],
        superseded_at=row["superseded_at"],
    )


async def get_contract(principal: Principal, contract_id: UUID) -> ContractRead:
    async with read_tx():
        return await _read_one(await _contract_row(principal, contract_id))


async def get_pdf(principal: Principal, contract_id: UUID) -> tuple[bytes, str]:
    async with read_tx():
        await _contract_row(principal, contract_id)
        row = await present(Contract.select(Contract.pdf, Contract.pdf_sha256).where(Contract.id == contract_id))
    return bytes(row["pdf"]), row["pdf_sha256"]


async def list_for_production(
    principal: Principal,
    production_id: UUID,
    status: ContractStatus | None = None,
    *,
    person: UUID | None = None,
    engagement: UUID | None = None,
) -> list[ContractRead]:
    """Every contract of the production, live and past (void, superseded), oldest first; or those of one status,
    of one person (user id of the engaged member) or of one engagement."""
    async with read_tx():
        await production_row(principal, production_id)
        query = _contract_query().where(Contract.production == production_id)
        if status is not None:
            query = query.where(Contract.status == status.value)
        if person is not None:
            query = query.where(Contract.engagement.user == person)
        if engagement is not None:
            query = query.where(Contract.engagement == engagement)
        rows = await query.order_by(Contract.issued_at)
        return await _reads([r for r in rows if _may_read(principal, r)])


async def list_mine(principal: Principal, status: ContractStatus | None = None) -> list[ContractRead]:
    """Every contract that engages this user, live and past, oldest first; or those of one status."""
    async with read_tx():
        query = _contract_query().where(Contract.engagement.user == principal.id)
        if status is not None:
            query = query.where(Contract.status == status.value)
        rows = await query.order_by(Contract.issued_at)
        return await _reads(rows)


async def _state(contract_id: UUID) -> ContractState:
    row = await Contract.select(Contract.status).where(Contract.id == contract_id).first()
    if row is None:
        raise NotFound(f"contract {contract_id} not found")
    return ContractState(contract_id, ContractStatus(row["status"]))


def _state_of(row: dict[str, Any]) -> ContractState:
    return ContractState(
        id=row["id"],
        status=ContractStatus(row["status"]),
        voided_at=row["voided_at"],
        void_reason=row["void_reason"],
        superseded_by=row["superseded_by"],
        superseded_at=row["superseded_at"],
    )


_COLUMNS = {
    "status": Contract.status,
    "voided_at": Contract.voided_at,
    "void_reason": Contract.void_reason,
    "superseded_by": Contract.superseded_by,
    "superseded_at": Contract.superseded_at,
}


async def _transition(old: ContractState, new: ContractState) -> bool:
    """Store what changed from ``old`` to ``new`` if the contract is still in ``old``'s status: of
    concurrent writers exactly one changes it."""
    changes: dict[Any, Any] = {
        column: getattr(new, name) for name, column in _COLUMNS.items() if getattr(new, name) != getattr(old, name)
    }
    changed = (
        await Contract.update(changes)
        .where((Contract.id == old.id) & (Contract.status == old.status.value))
        .returning(Contract.id)
    )
    return bool(changed)


async def void(principal: Principal, contract_id: UUID, reason: str) -> ContractRead:
    """Void the live contract. Only an issued one: of concurrent requests exactly one voids it (a
    conditional UPDATE) and keeps its reason; the others, and any later one, get 409."""
    async with write_tx():
        row = await _contract_row(principal, contract_id)
        if not principal.has_role(row["company_slug"], Role.producer):
            raise Forbidden("only the production company's producers may void its contracts")
        live = _state_of(row)
        if not await _transition(live, lifecycle.void(live, reason, at=_now())):  # another request got there first
            lifecycle.void(await _state(contract_id), reason, at=_now())  # raises the 409
        await audit.record(principal.id, "contract.voided", "contract", contract_id, {"reason": reason})
        return await _read_one(await _contract_row(principal, contract_id))


async def verify_pdf_hash(pdf_hash: str) -> PdfVerification:
    """Public: is this the SHA-256 of a PDF guild issued, and is that contract still in force?"""
    return await _verification(
        Contract.pdf_sha256 == pdf_hash.lower(), "no contract PDF with this SHA-256 was issued here"
    )


async def verify_document_hash(document_hash: str) -> PdfVerification:
    """Public: the same answer for the contract data's SHA-256, the hash printed in every page's footer."""
    return await _verification(
        Contract.document_sha256 == document_hash.lower(), "no contract with this SHA-256 was issued here"
    )


async def _verification(where: Any, not_found: str) -> PdfVerification:
    async with read_tx():
        row = (
            await Contract.select(
                Contract.id, Contract.status, Contract.issued_at, Contract.document_sha256, Contract.pdf_sha256
            )
            .where(where)
            .first()
        )
    if row is None:
        raise NotFound(not_found)
    return PdfVerification(
        pdf_sha256=row["pdf_sha256"],
        contract_id=row["id"],
        status=row["status"],
        issued_at=row["issued_at"],
        document_sha256=row["document_sha256"],
    )


async def verify_file(pdf: bytes) -> list[tuple[bool, str]]:
    """Checks for ``guild contracts verify``: hashes recomputed, embedded data re-checked against the compacts."""

    checks: list[tuple[bool, str]] = []
    digest = pdf_sha256(pdf)
    attachments = read_attachments(pdf)
    if "contract.json" not in attachments:
        return [(False, "no contract.json attached: not a guild contract PDF")]
    document = json.loads(attachments["contract.json"])
    doc_hash = canonical_hash(document)
    checks.append((attachments["contract.json"] == canonical_json(document), "contract.json is in canonical form"))
    async with read_tx():
        row = (
            await Contract.select(Contract.id, Contract.status, Contract.pdf_sha256, Contract.document_sha256)
            .where(Contract.document_sha256 == doc_hash)
            .first()
        )
        found = await versions_by_hash([c["hash"] for c in document["compacts"]])
    checks.append((row is not None, f"contract data SHA-256 {doc_hash} matches an issued contract"))
    if row is not None:
        checks.append((row["pdf_sha256"] == digest, f"PDF SHA-256 {digest} equals the stored PDF's"))
        checks.append((row["status"] == ContractStatus.issued, f"contract status: {row['status']}"))
    for c in document["compacts"]:
        checks.append((c["hash"] in found, f"compact {c['slug']} v{c['version']} ({c['hash'][:12]}…) is known here"))
    if all(c["hash"] in found for c in document["compacts"]):
        bound = [found[c["hash"]] for c in document["compacts"]]
        context = ContractContext.model_validate(document["context"])
        choices = [{"key": c["key"], "version": c["version"], "params": c["params"]} for c in document["clauses"]]
        report = evaluate(
            document["contract_type"],
            context,
            choices,
            bound,
            custom_clause_facts(document.get("custom_clauses") or []),
        )
        checks.append(
            (
                report.compliant,
                "embedded contract data complies with the compact versions it cites"
                if report.compliant
                else f"embedded data breaks {len(report.violations)} term(s)",
            )
        )
    return checks
