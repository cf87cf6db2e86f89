"""Which compact rules does a member production break? The pure half of the compliance engine.

Pure: stdlib, pydantic, the compact terms and the contract rules (``contracts.*``); no database, no
web framework. :func:`evaluate_production` takes what the engine loaded about one production
(:class:`ProductionFacts`) and the compact versions it is bound to (:class:`BoundTerms`) and returns
one :class:`FindingDraft` per broken rule, per version and subject, in a deterministic order. The
engine reconciles the drafts with stored findings; a draft's identity is
``(version_id, rule, subject)``.

Where the contract side already decides a question (which clauses a contract needs, which AI-use
rules apply, which apprenticeship rules cover a budget, what a qualified mentor is) the helpers of
:mod:`contracts.clauses` and :mod:`contracts.compliance` decide it here too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date
from enum import StrEnum
from fractions import Fraction
from typing import Any, Literal, NamedTuple
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.clauses import (
    ENTRY_LEVELS,
    LIKENESS_USES,
    ContractContext,
    ContractType,
    Level,
    ai_rules,
    applicable_quota_rules,
    level_rank,
)
from contracts.compliance import BoundVersion, required_clause_keys
from guild.compacts.terms import MAX_MINOR, AIUse, CurrencyCode, Department, Policy, QuotaRule, Terms

__all__ = [
    "REMEDIATION",
    "RULES",
    "BoundTerms",
    "ContractFact",
    "Disclosure",
    "EngagementFact",
    "FindingDraft",
    "ProductionFacts",
    "Rule",
    "Severity",
    "escalated",
    "evaluate_production",
    "placement_weeks",
    "weighted_ai_share",
]

CONSENT_CLAUSE = "digital_replica_consent"
PRODUCTION_SUBJECT = "production"


class Severity(StrEnum):
    """Lowest first."""

    info = "info"
    warning = "warning"
    violation = "violation"
    critical = "critical"


_SEVERITIES = tuple(Severity)


def escalated(severity: Severity | str) -> Severity:
    """One step up (info → warning → violation → critical); critical stays critical."""
    i = _SEVERITIES.index(Severity(severity))
    return _SEVERITIES[min(i + 1, len(_SEVERITIES) - 1)]


class Rule(StrEnum):
    ai_share_exceeded = "ai_share_exceeded"
    contract_missing = "contract_missing"
    contract_noncompliant = "contract_noncompliant"
    ai_use_without_consent = "ai_use_without_consent"
    ai_use_prohibited = "ai_use_prohibited"
    apprenticeship_quota = "apprenticeship_quota"


# One clear sentence per rule; ``{...}`` fields come from the draft's context.
REMEDIATION: dict[Rule, str] = {
    Rule.ai_share_exceeded: (
        "Bring the weighted share of AI-generated assets down to at most {max_pct}% (it is {share_pct}%) "
        "by replacing AI-generated assets with human-made ones, or correct the asset disclosures if they are wrong."
    ),
    Rule.contract_missing: (
        "Issue a compliant talent contract for {person} through guild; {person} has no contract in force."
    ),
    Rule.contract_noncompliant: (
        "Issue {person} a new contract checked against {label}, the version the production is bound to now, "
        "and void the old contract."
    ),
    Rule.ai_use_without_consent: (
        "Obtain {person}'s informed consent before any {uses}: issue a new contract carrying the "
        "digital_replica_consent clause (and void the old one), or drop the planned use."
    ),
    Rule.ai_use_prohibited: (
        "Drop the planned {uses} for {person}: {label} prohibits it and no consent can authorise it; "
        "then issue a new contract without it."
    ),
    Rule.apprenticeship_quota: (
        "Engage {missing} more paid apprentice(s) or trainee(s) in {department} as {label} requires "
        "(at least {min_rate} minor units of {currency} per week, {weeks} weeks{mentor}), "
        "or correct the engagements listed as not counted."
    ),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --- input ---------------------------------------------------------------------------------------


class Disclosure(NamedTuple):
    """One asset category of a production: how many assets, how many of them AI-generated."""

    category: str
    total_count: int
    ai_generated_count: int


class ContractFact(_Model):
    """What the compliance rules need of an engagement's contract."""

    id: UUID
    status: Literal["issued", "void"]
    contract_type: ContractType
    clause_keys: frozenset[str] = Field(description="keys of the clauses the contract carries")
    planned_ai_uses: frozenset[AIUse] = Field(description="AI uses the contract declares for this worker")
    compliant: bool = Field(description="the compliance report stored at issue said compliant")
    version_hashes: frozenset[str] = Field(description="hashes of the compact versions it was checked against")


class EngagementFact(_Model):
    id: UUID
    person_name: str
    department: Department
    level: Level
    rate_minor_per_week: int = Field(ge=0, le=MAX_MINOR)
    currency: CurrencyCode
    start_date: date
    end_date: date
    mentor_level: Level | None = None
    mentor_department: Department | None = None
    contract: ContractFact | None = Field(default=None, description="the contract in force, else the latest")


class ProductionFacts(_Model):
    production_id: UUID
    budget_minor: int = Field(ge=0, le=MAX_MINOR)
    currency: CurrencyCode
    disclosures: list[Disclosure] = Field(default_factory=list)
    engagements: list[EngagementFact] = Field(default_factory=list)


class BoundTerms(_Model):
    """One compact version the production is bound to."""

    version_id: UUID
    compact_slug: str
    version_number: int = Field(ge=1)
    version_hash: str
    terms: Terms

    @property
    def label(self) -> str:
        return f"{self.compact_slug} v{self.version_number}"


# --- output --------------------------------------------------------------------------------------


class FindingDraft(_Model):
    version_id: UUID
    rule: Rule
    subject: str = Field(max_length=120)
    severity: Severity
    evidence: dict[str, Any]
    remediation: str

    @property
    def key(self) -> tuple[UUID, str, str]:
        return self.version_id, str(self.rule), self.subject


def _draft(
    bt: BoundTerms, rule: Rule, subject: str, severity: Severity, evidence: dict[str, Any], **ctx: Any
) -> FindingDraft:
    evidence = {"compact": bt.compact_slug, "version_number": bt.version_number, "version_hash": bt.version_hash,
                **evidence}
    remediation = REMEDIATION[rule].format(label=bt.label, **ctx)
    return FindingDraft(
        version_id=bt.version_id, rule=rule, subject=subject, severity=severity, evidence=evidence,
        remediation=remediation,
    )


# --- ai_share_exceeded ---------------------------------------------------------------------------


def _exact(value: float) -> Fraction:
    """The decimal a float was written as (20.0 → 20, 33.3 → 333/10), so equal means equal."""
    return Fraction(repr(float(value)))


def weighted_ai_share(disclosures: Iterable[Disclosure], weights: dict[Any, float]) -> tuple[Fraction, dict[str, Any]]:
    """(share as an exact fraction of 1, details) over the categories that have a weight.

    share = Σ w_c·ai_c / Σ w_c·total_c; no weighted assets → 0.
    """
    totals: dict[str, list[int]] = {}
    for d in disclosures:
        counts = totals.setdefault(d.category, [0, 0])
        counts[0] += d.total_count
        counts[1] += d.ai_generated_count
    weighted = {str(c): _exact(w) for c, w in weights.items()}
    used = sorted(c for c in totals if c in weighted)
    num = sum((weighted[c] * totals[c][1] for c in used), Fraction(0))
    den = sum((weighted[c] * totals[c][0] for c in used), Fraction(0))
    details = {
        "categories": [
            {"category": c, "total_count": totals[c][0], "ai_generated_count": totals[c][1],
             "weight": float(weighted[c])}
            for c in used
        ],
        "unweighted_categories": sorted(c for c in totals if c not in weighted),
    }
    return (num / den if den else Fraction(0)), details


def _pct(value: Fraction) -> float:
    return round(float(value), 4)


def _ai_share(facts: ProductionFacts, bt: BoundTerms) -> list[FindingDraft]:
    rules = bt.terms.ai_disclosure
    share, details = weighted_ai_share(facts.disclosures, rules.category_weights)
    share_pct, max_pct = share * 100, _exact(rules.max_ai_share_pct)
    if share_pct <= max_pct:
        return []
    severity = Severity.critical if share_pct > 2 * max_pct else Severity.violation
    evidence = {
        "term_path": "ai_disclosure.max_ai_share_pct",
        **details,
        "share_pct": _pct(share_pct),
        "max_pct": rules.max_ai_share_pct,
        "critical_above_pct": _pct(2 * max_pct),
    }
    return [
        _draft(bt, Rule.ai_share_exceeded, PRODUCTION_SUBJECT, severity, evidence,
               max_pct=rules.max_ai_share_pct, share_pct=_pct(share_pct))
    ]


# --- contracts -----------------------------------------------------------------------------------


def _context(facts: ProductionFacts, e: EngagementFact, c: ContractFact) -> ContractContext:
    return ContractContext(
        contract_type=c.contract_type, department=e.department, level=e.level,
        rate_minor_per_week=e.rate_minor_per_week, currency=e.currency, start_date=e.start_date,
        end_date=e.end_date, production_budget_minor=facts.budget_minor, budget_currency=facts.currency,
        mentor_level=e.mentor_level, mentor_department=e.mentor_department, planned_ai_uses=c.planned_ai_uses,
    )


def _bound_version(bt: BoundTerms) -> BoundVersion:
    return BoundVersion(compact_slug=bt.compact_slug, compact_title=bt.compact_slug,
                        version_number=bt.version_number, version_hash=bt.version_hash, terms=bt.terms)


def _uses(uses: Iterable[AIUse]) -> str:
    return " and ".join(str(u).replace("_", " ") for u in uses)


def _contract_base(e: EngagementFact, c: ContractFact | None) -> dict[str, Any]:
    return {"engagement": str(e.id), "person_name": e.person_name, "contract": None if c is None else str(c.id)}


def _missing(facts: ProductionFacts, e: EngagementFact, bt: BoundTerms) -> FindingDraft | None:
    c = e.contract
    if c is not None and c.status == "issued":
        return None
    evidence = {**_contract_base(e, c), "contract_status": None if c is None else c.status, "required": "issued"}
    return _draft(bt, Rule.contract_missing, str(e.id), Severity.violation, evidence, person=e.person_name)


def _noncompliant(facts: ProductionFacts, e: EngagementFact, bt: BoundTerms) -> FindingDraft | None:
    c = e.contract
    if c is None or c.status != "issued" or (c.compliant and bt.version_hash in c.version_hashes):
        return None
    evidence = {
        **_contract_base(e, c),
        "checked_against": sorted(c.version_hashes),
        "bound_version_hash": bt.version_hash,
        "stored_report_compliant": c.compliant,
    }
    return _draft(bt, Rule.contract_noncompliant, str(e.id), Severity.violation, evidence, person=e.person_name)


def _without_consent(facts: ProductionFacts, e: EngagementFact, bt: BoundTerms) -> FindingDraft | None:
    c = e.contract
    if c is None or c.status != "issued" or CONSENT_CLAUSE in c.clause_keys:
        return None
    if CONSENT_CLAUSE not in required_clause_keys(c.contract_type, _context(facts, e, c), [_bound_version(bt)]):
        return None
    uses = [u for u, r in ai_rules(bt.terms, LIKENESS_USES) if u in c.planned_ai_uses
            and r.policy is Policy.consent_required]
    evidence = {
        **_contract_base(e, c),
        "term_paths": [f"ai_uses.{u}.policy" for u in uses],
        "planned_uses": [str(u) for u in uses],
        "required_clause": CONSENT_CLAUSE,
        "clauses": sorted(c.clause_keys),
    }
    return _draft(bt, Rule.ai_use_without_consent, str(e.id), Severity.critical, evidence,
                  person=e.person_name, uses=_uses(uses))


def _prohibited(facts: ProductionFacts, e: EngagementFact, bt: BoundTerms) -> FindingDraft | None:
    c = e.contract
    if c is None or c.status != "issued":
        return None
    uses = [u for u, r in ai_rules(bt.terms, c.planned_ai_uses) if r.policy is Policy.prohibited]
    if not uses:
        return None
    evidence = {**_contract_base(e, c), "term_paths": [f"ai_uses.{u}.policy" for u in uses],
                "planned_uses": [str(u) for u in uses], "required": "not planned"}
    return _draft(bt, Rule.ai_use_prohibited, str(e.id), Severity.critical, evidence,
                  person=e.person_name, uses=_uses(uses))


_EngagementRule = Callable[[ProductionFacts, EngagementFact, BoundTerms], FindingDraft | None]
_ENGAGEMENT_RULES: tuple[_EngagementRule, ...] = (_missing, _noncompliant, _without_consent, _prohibited)


def _contracts(facts: ProductionFacts, bt: BoundTerms) -> list[FindingDraft]:
    found = (rule(facts, e, bt) for e in facts.engagements for rule in _ENGAGEMENT_RULES)
    return [d for d in found if d is not None]


# --- apprenticeship_quota ------------------------------------------------------------------------


def placement_weeks(start: date, end: date) -> int:
    """Placement length in weeks: the days from start to end, both included, divided by 7, rounded up."""
    return math.ceil(((end - start).days + 1) / 7)


_PlacementCheck = Callable[[EngagementFact, QuotaRule], str | None]  # a reason's detail, or None when met


def _currency(e: EngagementFact, r: QuotaRule) -> str | None:
    return None if e.currency == r.currency else f"paid in {e.currency}; the quota's minimum rate is in {r.currency}"


def _rate(e: EngagementFact, r: QuotaRule) -> str | None:
    if e.rate_minor_per_week >= r.min_rate_minor_per_week:
        return None
    return f"paid {e.rate_minor_per_week} per week; at least {r.min_rate_minor_per_week} required"


def _short(e: EngagementFact, r: QuotaRule) -> str | None:
    weeks = placement_weeks(e.start_date, e.end_date)
    return None if weeks >= r.min_weeks else f"{weeks} week(s); at least {r.min_weeks} required"


def _long(e: EngagementFact, r: QuotaRule) -> str | None:
    weeks = placement_weeks(e.start_date, e.end_date)
    return None if r.max_weeks is None or weeks <= r.max_weeks else f"{weeks} week(s); at most {r.max_weeks} allowed"


def _mentor(e: EngagementFact, r: QuotaRule) -> str | None:
    return "no mentor named" if r.mentor_required and e.mentor_level is None else None


def _mentor_level(e: EngagementFact, r: QuotaRule) -> str | None:
    if not r.mentor_required or e.mentor_level is None or level_rank(e.mentor_level) >= level_rank(Level.journey):
        return None
    return f"the mentor is {e.mentor_level} level; journey level or above required"


def _mentor_department(e: EngagementFact, r: QuotaRule) -> str | None:
    if not r.mentor_required or e.mentor_level is None or e.mentor_department == e.department:
        return None
    return f"the mentor works in {e.mentor_department}, not {e.department}"


# Why a placement does not count, checked in this order; the first that fails is reported.
PLACEMENT_CHECKS: tuple[tuple[str, _PlacementCheck], ...] = (
    ("wrong_currency", _currency),
    ("below_min_rate", _rate),
    ("too_short", _short),
    ("too_long", _long),
    ("no_mentor", _mentor),
    ("mentor_below_journey", _mentor_level),
    ("mentor_other_department", _mentor_department),
)


def _not_counted(e: EngagementFact, r: QuotaRule) -> dict[str, str] | None:
    for reason, check in PLACEMENT_CHECKS:
        detail = check(e, r)
        if detail is not None:
            return {"engagement": str(e.id), "person_name": e.person_name, "reason": reason, "detail": detail}
    return None


def _quota(facts: ProductionFacts, bt: BoundTerms, index: int, rule: QuotaRule) -> FindingDraft | None:
    entry = [e for e in facts.engagements if e.department == rule.department and e.level in ENTRY_LEVELS]
    refused = [(e, _not_counted(e, rule)) for e in entry]
    not_counted = [why for _, why in refused if why is not None]
    counted = [str(e.id) for e, why in refused if why is None]
    if len(counted) >= rule.min_apprentices:
        return None
    evidence = {
        "term_path": f"apprenticeship[{index}]",
        "department": str(rule.department),
        "budget_minor": facts.budget_minor,
        "currency": facts.currency,
        "band": {"budget_min_minor": rule.budget_min_minor, "budget_max_minor": rule.budget_max_minor},
        "required": rule.min_apprentices,
        "counted": len(counted),
        "counted_engagements": counted,
        "not_counted": not_counted,
    }
    mentor = ", with a journey-level mentor from the department" if rule.mentor_required else ""
    weeks = f"{rule.min_weeks} to {rule.max_weeks}" if rule.max_weeks is not None else f"at least {rule.min_weeks}"
    return _draft(bt, Rule.apprenticeship_quota, str(rule.department), Severity.violation, evidence,
                  missing=rule.min_apprentices - len(counted), department=rule.department,
                  min_rate=rule.min_rate_minor_per_week, currency=rule.currency, weeks=weeks, mentor=mentor)


def _apprenticeship(facts: ProductionFacts, bt: BoundTerms) -> list[FindingDraft]:
    """Count-based: ``min_apprentices`` per department whose band holds the budget (ratio steps not yet)."""
    out = []
    for dept in Department:
        # the terms forbid overlapping bands per department and currency: at most one rule applies
        for index, rule in applicable_quota_rules(bt.terms, dept, facts.budget_minor, facts.currency)[:1]:
            draft = _quota(facts, bt, index, rule)
            if draft is not None:
                out.append(draft)
    return out


# --- evaluation ----------------------------------------------------------------------------------

RULES: tuple[Callable[[ProductionFacts, BoundTerms], list[FindingDraft]], ...] = (
    _ai_share,
    _contracts,
    _apprenticeship,
)


def evaluate_production(facts: ProductionFacts, bound: list[BoundTerms]) -> list[FindingDraft]:
    """Every broken rule of the production under every bound version, ordered by compact, version,
    rule and subject; at most one draft per (version, rule, subject)."""
    order = {bt.version_id: (bt.compact_slug, bt.version_number, str(bt.version_id)) for bt in bound}
    drafts = {d.key: d for bt in bound for rule in RULES for d in rule(facts, bt)}
    return sorted(drafts.values(), key=lambda d: (order[d.version_id], d.rule, d.subject))
