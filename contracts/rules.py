"""Is this talent contract compliant? The single source of truth, for the contract form, the
contract API, the scheduled sweep and the PDF's compliance appendix.

A contract must comply with EVERY compact version its production is bound to. Each clause's rule
runs against each bound version's own terms, so every violation names the exact compact version
(slug, number, hash) and term. :func:`merge_most_protective` gives the merged view (the most
protective value of each term, and which compacts set it) and reports real conflicts — two terms
that cannot both be met — instead of guessing.

Pure: stdlib and pydantic only.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.clauses import (
    ClauseParamsError,
    ClauseTemplate,
    ContractContext,
    Requirement,
    UnknownClause,
    forbids_condition_of_hire,
    get_clause,
    validate_params,
)
from contracts.screening import screen_custom_clause
from guild.compacts.bound import BoundVersion
from guild.compacts.terms import (
    LIKENESS_USES,
    WRITING_USES,
    AIUse,
    AIUseRule,
    ConsentScope,
    Department,
    Policy,
    QuotaRule,
    Terms,
    ai_rules,
    applicable_quota_rules,
    budget_band,
)
from guild.domain.values import Int4, Text
from guild.domain.work import ENTRY_LEVELS, ContractType, level_rank

__all__ = [
    "POLICY_STRICTNESS",
    "ClauseChoice",
    "ClauseParamsError",
    "ComplianceReport",
    "Conflict",
    "ContractFacts",
    "CustomClauseFacts",
    "custom_clause_facts",
    "Met",
    "UnknownClause",
    "Violation",
    "contract_facts",
    "evaluate",
    "merge_most_protective",
    "required_clause_keys",
    "resolve_clauses",
]

ALWAYS_REQUIRED = "fees_and_schedule"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClauseChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Text = Field(min_length=1, max_length=80)
    version: Int4 = Field(ge=1, le=10_000)
    params: dict[Text, Any] = Field(default_factory=dict)


class _Finding(_Model):
    compact_slug: str | None = Field(description="null for a fact of the contract itself")
    version_number: int | None
    version_hash: str | None
    term_path: str
    required: Any
    actual: Any
    clause: str | None
    rule: str
    message: str


class Violation(_Finding):
    pass


class Met(_Finding):
    pass


class Conflict(_Model):
    term_path: str
    compacts: list[str] = Field(description='the compacts involved, as "slug vN"')
    detail: str


class ComplianceReport(_Model):
    compliant: bool
    violations: list[Violation]
    met: list[Met]
    conflicts: list[Conflict]
    required_clauses: list[str]
    effective_terms: dict[str, Any]


class CustomClauseFacts(NamedTuple):
    """A custom (plain-text) clause of the contract, as the screen reads it."""

    position: int  # in the request's custom_clauses
    ref: str  # "organisation/key vN"
    text: str  # title and body
    reviewed: frozenset[tuple[str, str]] = frozenset()  # (compact version hash, term path) an officer reviewed


def custom_clause_facts(custom: Sequence[Mapping[str, Any]]) -> list[CustomClauseFacts]:
    """A contract's custom clauses (``organization``, ``key``, ``version``, ``title``, ``text`` and the
    ``reviews`` it carries, as a stored ``guild.contract/1`` document holds them) as the rules read them."""
    return [
        CustomClauseFacts(
            position=i,
            ref=f"{c['organization']}/{c['key']} v{c['version']}",
            text=f"{c['title']}\n{c['text']}",
            reviewed=frozenset((r["version_hash"], r["term_path"]) for r in c.get("reviews") or []),
        )
        for i, c in enumerate(custom)
    ]


# --- which clauses the bound compacts require ---------------------------------------------------

# clause key -> the path of the first term of ONE compact's terms that requires it (None: not required)
_Finder = Callable[[ContractType, ContractContext, Terms], str | None]


def _first(paths: Iterable[str]) -> str | None:
    return next(iter(paths), None)


def _needs_ai_material(ct: ContractType, ctx: ContractContext, t: Terms) -> str | None:
    if ct is not ContractType.writer:
        return None
    return _first(f"ai_uses.{u}.policy" for u, r in ai_rules(t, WRITING_USES) if r.policy is not Policy.permitted)


def _needs_no_required_tools(ct: ContractType, ctx: ContractContext, t: Terms) -> str | None:
    found = _first(
        f"ai_uses.{u}.worker_may_be_required_to_use"
        for u, r in ai_rules(t, AIUse)
        if not r.worker_may_be_required_to_use
    )
    if found is None and t.ai_tools is not None and t.ai_tools.required_prompting_of_displacing_tools_prohibited:
        return "ai_tools.required_prompting_of_displacing_tools_prohibited"
    return found


def _planned_likeness(ctx: ContractContext) -> list[AIUse]:
    return [u for u in LIKENESS_USES if u in ctx.planned_ai_uses]


def _needs_replica_consent(ct: ContractType, ctx: ContractContext, t: Terms) -> str | None:
    """Whoever is to be scanned or replicated, performer, crew or writer, consents on the clause."""
    return _first(
        f"ai_uses.{u}.policy" for u, r in ai_rules(t, _planned_likeness(ctx)) if r.policy is Policy.consent_required
    )


def _needs_voice_licence(ct: ContractType, ctx: ContractContext, t: Terms) -> str | None:
    if AIUse.voice_clone not in ctx.planned_ai_uses:
        return None
    return _first(
        f"ai_uses.{u}.policy" for u, r in ai_rules(t, [AIUse.voice_clone]) if r.policy is Policy.consent_required
    )


def _needs_no_scan_condition(ct: ContractType, ctx: ContractContext, t: Terms) -> str | None:
    """Performers always (they are the ones usually scanned); anyone else once a likeness use is planned."""
    if ct is not ContractType.performer and not _planned_likeness(ctx):
        return None
    return _first(
        f"ai_uses.{u}.consent_may_be_condition_of_hire"
        for u, r in ai_rules(t, LIKENESS_USES)
        if forbids_condition_of_hire(r)
    )


def _needs_no_ingestion(ct: ContractType, ctx: ContractContext, t: Terms) -> str | None:
    prohibited = t.training_data.ingestion_without_licence_prohibited
    return "training_data.ingestion_without_licence_prohibited" if prohibited else None


def _needs_apprenticeship(ct: ContractType, ctx: ContractContext, t: Terms) -> str | None:
    if ct is not ContractType.crew or ctx.level not in ENTRY_LEVELS:
        return None
    rules = applicable_quota_rules(t, ctx.department, ctx.production_budget_minor, ctx.budget_currency)
    return _first(f"apprenticeship[{i}]" for i, _ in rules)


_REQUIRED_BY: dict[str, _Finder] = {
    "ai_material_disclosure": _needs_ai_material,
    "no_required_generative_tools": _needs_no_required_tools,
    "digital_replica_consent": _needs_replica_consent,
    "voice_likeness_licence": _needs_voice_licence,
    "no_scan_condition_of_hire": _needs_no_scan_condition,
    "no_training_ingestion": _needs_no_ingestion,
    "apprenticeship_placement": _needs_apprenticeship,
}


def _required_by(ct: ContractType, ctx: ContractContext, terms: Terms) -> dict[str, str]:
    """Clause key -> term path, for the clauses these terms require of this contract."""
    found = {key: finder(ct, ctx, terms) for key, finder in _REQUIRED_BY.items()}
    return {key: path for key, path in found.items() if path is not None}


def required_clause_keys(
    contract_type: ContractType, context: ContractContext, bound: Sequence[BoundVersion]
) -> set[str]:
    """The clauses this contract must carry under the bound compacts (fees_and_schedule always)."""
    keys = {ALWAYS_REQUIRED}
    for bv in bound:
        keys |= _required_by(ContractType(contract_type), context, bv.terms).keys()
    return keys


# --- the merged, most protective view -----------------------------------------------------------

POLICY_STRICTNESS = {
    Policy.permitted: 0,
    Policy.disclosure_required: 1,
    Policy.consent_required: 2,
    Policy.prohibited: 3,
}
SCOPE_STRICTNESS = {ConsentScope.per_project: 0, ConsentScope.per_use: 1}

_Rank = Callable[[Any], Any]  # higher = more protective


def _same(v: Any) -> Any:
    return v


def _lower(v: Any) -> Any:
    return -v


_AI_USE_FIELDS: dict[str, _Rank] = {
    "policy": POLICY_STRICTNESS.__getitem__,
    "worker_may_be_required_to_use": operator.not_,  # permissions are AND-ed
}
_CONSENT_FIELDS: dict[str, _Rank] = {  # merged over consent_required rules only
    "consent_notice_hours": _same,
    "consent_scope": SCOPE_STRICTNESS.__getitem__,
    "replica_pay_multiple_of_scale": _same,
    "consent_may_be_condition_of_hire": operator.not_,
}
_DISCLOSURE_FIELDS: dict[str, _Rank] = {"max_ai_share_pct": _lower, "festival_disclosure_required": _same}
_TRAINING_FIELDS: dict[str, _Rank] = {"ingestion_without_licence_prohibited": _same}
_LICENCE_FIELDS: dict[str, _Rank] = {
    "exclusive_permitted": operator.not_,
    "max_duration_months": _lower,
    "perpetual_permitted": operator.not_,
}
_TOOL_FIELDS: dict[str, _Rank] = {
    "kit_rental_permitted": operator.not_,
    "required_prompting_of_displacing_tools_prohibited": _same,
}
_QUOTA_FIELDS: dict[str, _Rank] = {
    "min_apprentices": _same,
    "min_rate_minor_per_week": _same,
    "min_weeks": _same,
    "max_weeks": _lower,
    "mentor_required": _same,
}


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, (Policy, ConsentScope, AIUse, Department)) else value


def _strictest(candidates: Iterable[tuple[str, Any]], rank: _Rank) -> tuple[Any, list[str]]:
    """The most protective non-null value and the compacts that set it (in bound order)."""
    values = [(label, v) for label, v in candidates if v is not None]
    if not values:
        return None, []
    best = max(rank(v) for _, v in values)
    winner = next(v for _, v in values if rank(v) == best)
    return _json(winner), [label for label, v in values if rank(v) == best]


def _merge_fields(items: Sequence[tuple[str, BaseModel]], fields: dict[str, _Rank]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    set_by: dict[str, list[str]] = {}
    for name, rank in fields.items():
        merged[name], set_by[name] = _strictest(((label, getattr(m, name)) for label, m in items), rank)
    return {**merged, "set_by": set_by}


def _merge_ai_use(rules: Sequence[tuple[str, AIUseRule]]) -> dict[str, Any]:
    general = _merge_fields(rules, _AI_USE_FIELDS)
    # consent parameters come from consent_required rules, and only when no stricter policy won
    won = general["policy"] == Policy.consent_required
    consent = _merge_fields(
        [(label, r) for label, r in rules if won and r.policy is Policy.consent_required], _CONSENT_FIELDS
    )
    set_by = {**general.pop("set_by"), **consent.pop("set_by")}
    return {**general, **consent, "set_by": set_by}


def _join(labels: Iterable[str]) -> str:
    return " and ".join(dict.fromkeys(labels))


def _merge_quota(
    dept: Department, currency: str, lo: int, hi: int | None, covering: Sequence[tuple[str, QuotaRule]]
) -> tuple[dict[str, Any], list[Conflict]]:
    entry = {
        "department": str(dept),
        "currency": currency,
        "budget_min_minor": lo,
        "budget_max_minor": hi,
        **_merge_fields(covering, _QUOTA_FIELDS),
    }
    conflicts = []
    if entry["max_weeks"] is not None and entry["min_weeks"] > entry["max_weeks"]:
        by = entry["set_by"]
        conflicts.append(
            Conflict(
                term_path=f"apprenticeship.{dept}.weeks",
                compacts=list(dict.fromkeys(by["min_weeks"] + by["max_weeks"])),
                detail=f"{_join(by['min_weeks'])} requires at least {entry['min_weeks']} weeks, "
                f"{_join(by['max_weeks'])} allows at most {entry['max_weeks']} weeks "
                f"for {dept} apprentices in the budget band {budget_band(currency, lo, hi)}",
            )
        )
    return entry, conflicts


def _quota_at_budget(
    dept: Department, by_compact: dict[str, list[QuotaRule]], budget_minor: int, currency: str
) -> tuple[list[dict[str, Any]], list[Conflict]]:
    """The department's rules whose band holds the production budget, merged."""
    conflicts = []
    lacking = {
        label: sorted({r.currency for r in rules})
        for label, rules in by_compact.items()
        if all(r.currency != currency for r in rules)
    }
    if lacking:
        sets = "; ".join(
            f"{label} sets {dept} apprenticeship terms only in {', '.join(cs)}" for label, cs in lacking.items()
        )
        conflicts.append(
            Conflict(
                term_path=f"apprenticeship.{dept}.currency",
                compacts=list(lacking),
                detail=f"{sets}; the production budget is in {currency}, so they cannot be applied",
            )
        )
    covering = [
        (label, r)
        for label, rules in by_compact.items()
        for r in rules
        if r.currency == currency and _band_holds(r, budget_minor)
    ]
    if not covering:
        return [], conflicts
    lo = max(r.budget_min_minor for _, r in covering)
    hi = min((r.budget_max_minor for _, r in covering if r.budget_max_minor is not None), default=None)
    entry, found = _merge_quota(dept, currency, lo, hi, covering)
    return [entry], conflicts + found


def _quota_by_band(
    dept: Department, by_compact: dict[str, list[QuotaRule]]
) -> tuple[list[dict[str, Any]], list[Conflict]]:
    """The department's rules merged over every elementary budget band, per currency."""
    entries, conflicts = [], []
    currencies = {label: sorted({r.currency for r in rules}) for label, rules in by_compact.items()}
    if len({tuple(cs) for cs in currencies.values()}) > 1:
        sets = "; ".join(
            f"{label} sets {dept} apprenticeship terms in {', '.join(cs)}" for label, cs in currencies.items()
        )
        conflicts.append(
            Conflict(
                term_path=f"apprenticeship.{dept}.currency",
                compacts=list(currencies),
                detail=f"{sets}: amounts and budget bands in different currencies cannot be compared",
            )
        )
    for currency in sorted({c for cs in currencies.values() for c in cs}):
        rules = [(label, r) for label, rs in by_compact.items() for r in rs if r.currency == currency]
        points = sorted(
            {r.budget_min_minor for _, r in rules}
            | {r.budget_max_minor for _, r in rules if r.budget_max_minor is not None}
        )
        for lo, hi in zip(points, [*points[1:], None], strict=True):
            covering = [(label, r) for label, r in rules if _band_holds(r, lo)]
            if covering:
                entry, found = _merge_quota(dept, currency, lo, hi, covering)
                entries.append(entry)
                conflicts += found
    return entries, conflicts


def _band_holds(rule: QuotaRule, budget_minor: int) -> bool:
    return rule.budget_min_minor <= budget_minor and (
        rule.budget_max_minor is None or budget_minor < rule.budget_max_minor
    )


def _apprenticeship(
    bound: Sequence[BoundVersion], budget_minor: int | None, budget_currency: str | None
) -> tuple[list[dict[str, Any]], list[Conflict]]:
    entries: list[dict[str, Any]] = []
    conflicts: list[Conflict] = []
    for dept in Department:
        by_compact = {bv.label: [r for r in bv.terms.apprenticeship if r.department is dept] for bv in bound}
        by_compact = {label: rules for label, rules in by_compact.items() if rules}
        if not by_compact:
            continue
        if budget_minor is not None and budget_currency is not None:
            found = _quota_at_budget(dept, by_compact, budget_minor, budget_currency)
        else:
            found = _quota_by_band(dept, by_compact)
        entries += found[0]
        conflicts += found[1]
    return entries, conflicts


def merge_most_protective(
    bound: Sequence[BoundVersion], *, budget_minor: int | None = None, budget_currency: str | None = None
) -> tuple[dict[str, Any], list[Conflict]]:
    """The most protective value of each term across the bound versions, and the real conflicts.

    Each merged section carries ``set_by``: for each field, the compacts ("slug vN") whose value won.
    Apprenticeship is merged per department: for the production's budget band when a budget is
    given, otherwise per elementary budget band of every currency.
    """
    ai_uses = {}
    for use in AIUse:
        rules = [(bv.label, bv.terms.ai_uses[use]) for bv in bound if use in bv.terms.ai_uses]
        if rules:
            ai_uses[str(use)] = _merge_ai_use(rules)
    apprenticeship, conflicts = _apprenticeship(bound, budget_minor, budget_currency)
    effective = {
        "compacts": [bv.label for bv in bound],
        "ai_disclosure": _merge_fields([(bv.label, bv.terms.ai_disclosure) for bv in bound], _DISCLOSURE_FIELDS),
        "ai_uses": ai_uses,
        "likeness_licence": _merge_fields(
            [(bv.label, bv.terms.likeness_licence) for bv in bound if bv.terms.likeness_licence], _LICENCE_FIELDS
        ),
        "ai_tools": _merge_fields([(bv.label, bv.terms.ai_tools) for bv in bound if bv.terms.ai_tools], _TOOL_FIELDS),
        "training_data": _merge_fields([(bv.label, bv.terms.training_data) for bv in bound], _TRAINING_FIELDS),
        "apprenticeship": apprenticeship,
    }
    return effective, sorted(conflicts, key=lambda c: (c.term_path, c.compacts, c.detail))


# --- evaluation ---------------------------------------------------------------------------------


def resolve_clauses(clauses: Sequence[ClauseChoice | dict[str, Any]]) -> list[tuple[ClauseTemplate, BaseModel]]:
    """Each choice as (clause, validated params); :class:`UnknownClause` / :class:`ClauseParamsError`."""
    out = []
    for index, raw in enumerate(clauses):
        choice = raw if isinstance(raw, ClauseChoice) else ClauseChoice.model_validate(raw)
        clause = get_clause(choice.key, choice.version)
        out.append((clause, validate_params(clause, choice.params, index)))
    return out


_F = TypeVar("_F", bound=_Finding)


def _finding(
    kind: type[_F],
    bv: BoundVersion | None,
    clause: str | None,
    path: str,
    rule: str,
    required: Any,
    actual: Any,
    message: str,
) -> _F:
    return kind(
        compact_slug=bv and bv.compact_slug,
        version_number=bv and bv.version_number,
        version_hash=bv and bv.version_hash,
        term_path=path,
        required=_json(required),
        actual=_json(actual),
        clause=clause,
        rule=rule,
        message=message if bv is None else f"{bv.label}: {message}",
    )


def _from_requirement(req: Requirement, bv: BoundVersion | None, clause: str) -> Violation | Met:
    if req.met:
        return _finding(Met, bv, clause, req.term_path, req.rule, req.required, req.actual, req.message)
    return _finding(Violation, bv, clause, req.term_path, req.rule, req.required, req.actual, req.message)


def _relevant(conflict: Conflict, ct: ContractType, ctx: ContractContext) -> bool:
    """Apprenticeship conflicts concern only entry-level crew contracts of that department."""
    if not conflict.term_path.startswith("apprenticeship."):
        return True
    entry_crew = ct is ContractType.crew and ctx.level in ENTRY_LEVELS
    return entry_crew and conflict.term_path.startswith(f"apprenticeship.{ctx.department}.")


def _order(f: _Finding) -> tuple[Any, ...]:
    return (f.compact_slug or "", f.version_number or 0, f.term_path, f.rule, f.clause or "", f.message)


def evaluate(
    contract_type: ContractType,
    context: ContractContext,
    clauses: Sequence[ClauseChoice | dict[str, Any]],
    bound: Sequence[BoundVersion],
    custom: Sequence[CustomClauseFacts] = (),
) -> ComplianceReport:
    """The compliance report of a contract against every bound compact version.

    ``custom`` are the contract's plain-text clauses: each one that touches a term a bound version
    restricts (:func:`contracts.screening.screen_custom_clause`) is a violation until an officer reviewed
    it against that term of that version.

    Raises :class:`UnknownClause` for an unknown clause key/version and :class:`ClauseParamsError`
    for parameters that fail the clause's model (``clauses[i].params.<field>``).
    """
    ct = ContractType(contract_type)
    if ct is not context.contract_type:
        raise ValueError(f"contract_type {ct} differs from the context's {context.contract_type}")
    resolved = resolve_clauses(clauses)
    effective, conflicts = merge_most_protective(
        bound, budget_minor=context.production_budget_minor, budget_currency=context.budget_currency
    )
    findings: list[Violation | Met] = []

    # the contract itself: duplicates, applicability, internal consistency
    applicable: list[tuple[ClauseTemplate, BaseModel]] = []
    seen: set[str] = set()
    for i, (clause, params) in enumerate(resolved):
        path = f"contract.clauses[{i}]"
        if clause.key in seen:
            findings.append(
                _finding(
                    Violation,
                    None,
                    clause.key,
                    path,
                    "duplicate_clause",
                    "one clause per key",
                    f"{clause.key} v{clause.version}",
                    f"clause {clause.key} appears more than once",
                )
            )
            continue
        seen.add(clause.key)
        if not clause.applies(ct, context.level):
            levels = None if clause.levels is None else sorted(clause.levels, key=level_rank)
            required = {"contract_types": sorted(clause.applies_to), "levels": levels}
            findings.append(
                _finding(
                    Violation,
                    None,
                    clause.key,
                    path,
                    "clause_not_applicable",
                    required,
                    {"contract_type": str(ct), "level": str(context.level)},
                    f"clause {clause.key} does not apply to a {context.level} {ct} contract",
                )
            )
            continue
        applicable.append((clause, params))
        findings += [_from_requirement(r, None, clause.key) for r in clause.consistency(params, context)]
    present = {clause.key for clause, _ in applicable}
    if ALWAYS_REQUIRED not in present:
        findings.append(
            _finding(
                Violation,
                None,
                ALWAYS_REQUIRED,
                "contract.clauses",
                "clause_required",
                f"clause {ALWAYS_REQUIRED}",
                "absent",
                f"every contract needs {ALWAYS_REQUIRED}",
            )
        )

    # the compacts: required clauses, then every clause's rule against every bound version
    for bv in bound:
        for key, path in _required_by(ct, context, bv.terms).items():
            kind: type[Violation | Met] = Met if key in present else Violation
            findings.append(
                _finding(
                    kind,
                    bv,
                    key,
                    path,
                    "clause_required",
                    f"clause {key}",
                    "present" if key in present else "absent",
                    f"{path} requires clause {key}",
                )
            )
        for clause, params in applicable:
            findings += [_from_requirement(r, bv, clause.key) for r in clause.check(params, bv.terms, context)]

    # plain-text clauses never satisfy or override a typed term: held until reviewed against it
    for bv in bound:
        for c in custom:
            for touch in screen_custom_clause(c.text, bv.terms):
                reviewed = (bv.version_hash, touch.term_path) in c.reviewed
                review_kind: type[Violation | Met] = Met if reviewed else Violation
                findings.append(
                    _finding(
                        review_kind,
                        bv,
                        c.ref,
                        touch.term_path,
                        "custom_clause_review",
                        "reviewed by an officer of a party against this term",
                        "reviewed" if reviewed else "not reviewed",
                        f"custom clause {c.ref} (custom_clauses[{c.position}]) touches {touch.subject}; "
                        + (
                            "an officer reviewed it against this term"
                            if reviewed
                            else "a plain-text clause cannot satisfy or override this term: an officer of one of "
                            "the compact's parties must review it against the term before the contract is issued"
                        ),
                    )
                )

    # planned uses a compact prohibits, whatever clauses were chosen (unless a clause already said so)
    reported = {(f.version_hash, f.term_path) for f in findings if isinstance(f, Violation)}
    for use in sorted(context.planned_ai_uses):
        for bv in bound:
            rule = bv.terms.ai_uses.get(use)
            path = f"ai_uses.{use}.policy"
            if rule is not None and rule.policy is Policy.prohibited and (bv.version_hash, path) not in reported:
                findings.append(
                    _finding(
                        Violation,
                        bv,
                        None,
                        path,
                        "planned_use_prohibited",
                        "not planned",
                        "planned",
                        f"{use} is prohibited but planned for this worker",
                    )
                )

    violations = sorted((f for f in findings if isinstance(f, Violation)), key=_order)
    met = sorted((f for f in findings if isinstance(f, Met)), key=_order)
    conflicts = [c for c in conflicts if _relevant(c, ct, context)]
    return ComplianceReport(
        compliant=not violations and not conflicts,
        violations=violations,
        met=met,
        conflicts=conflicts,
        required_clauses=sorted(required_clause_keys(ct, context, bound)),
        effective_terms=effective,
    )


class ContractFacts(NamedTuple):
    """What the compliance sweep needs of an issued contract, derived once from its stored document and
    report (both immutable) and kept beside them as columns, so a sweep never re-parses documents."""

    clause_keys: list[str]
    planned_ai_uses: list[str]
    version_hashes: list[str]
    compliant: bool


def contract_facts(document: dict[str, Any], report: dict[str, Any]) -> ContractFacts:
    """The facts of a contract's document (``guild.contract/1``) and stored compliance report."""
    return ContractFacts(
        clause_keys=sorted({c["key"] for c in document.get("clauses") or []}),
        planned_ai_uses=sorted(set(document.get("planned_ai_uses") or [])),
        version_hashes=sorted({c["hash"] for c in document.get("compacts") or []}),
        compliant=report.get("compliant") is True,
    )
