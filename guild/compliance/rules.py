"""Which compact rules does a member production break? The pure half of the compliance engine.

Pure: stdlib, pydantic, the compact terms and the contract rules (``contracts.*``); no database, no
web framework. :func:`evaluate_production` takes what the engine loaded about one production
(:class:`ProductionFacts`) and the compact versions it is bound to
(:class:`guild.compacts.bound.BoundVersion`, as the one loader gives them) and returns
one :class:`FindingDraft` per broken obligation, in a deterministic order. The engine reconciles the
drafts with stored findings; a draft's identity is ``(rule, subject)``: when several bound versions
require the same thing of the same subject, one draft cites them all and quotes the strictest
requirement (:func:`_one_obligation`).

Where the contract side already decides a question (which clauses a contract needs, which AI-use
rules apply, which apprenticeship rules cover a budget) the helpers of :mod:`contracts.clauses` and
:mod:`contracts.rules` decide it here too; what a qualified mentor is, :func:`guild.domain.work.mentor_fit`. Apprenticeship quotas
(bands, directions, ratio schedules, pay, length, mentors, caps) are decided by
:func:`guild.apprenticeship.rules.quota_report`, the same function the producers' planning preview
calls; ``apprenticeship_quota`` (a minimum short) and ``apprenticeship_over_maximum`` (a maximum
exceeded) carry its explained result as evidence; placements paid too little, too short or too long
are findings of their own (subject: the engagement), placements beyond a reimbursement cap one per
department. Remediation texts print money formatted (``EUR 600.00``), never minor units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple, cast
from uuid import UUID

from contracts.clauses import ContractContext
from contracts.rules import required_clause_keys
from guild.apprenticeship.rules import Placement, PlacementLength, QuotaResult, quota_report
from guild.compacts.bound import BoundVersion
from guild.compacts.terms import LIKENESS_USES, AIUse, Department, Policy, QuotaDirection, QuotaRule, ai_rules
from guild.compliance.recheck import Recheck
from guild.domain.dates import placement_weeks
from guild.domain.money import format_money
from guild.domain.statuses import CommitmentStatus, ContractStatus
from guild.domain.work import ENTRY_LEVELS, ContractType, Level

__all__ = [
    "REMEDIATION",
    "RULES",
    "CommitmentFact",
    "ContractFact",
    "Disclosure",
    "EngagementFact",
    "FindingDraft",
    "Headcount",
    "ProductionFacts",
    "Rule",
    "Severity",
    "escalated",
    "evaluate_production",
    "placement_weeks",
    "settled",
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
    apprenticeship_over_maximum = "apprenticeship_over_maximum"
    apprenticeship_underpaid = "apprenticeship_underpaid"
    apprenticeship_too_short = "apprenticeship_too_short"
    apprenticeship_too_long = "apprenticeship_too_long"
    apprenticeship_over_reimbursement_cap = "apprenticeship_over_reimbursement_cap"
    commitment_overdue = "commitment_overdue"


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
        "Re-issue {person}'s contract under {label}, the version the production is bound to now{breaks}: "
        "issue a new contract checked against it, superseding the old one."
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
        "(at least {min_rate} per week, {weeks} weeks{mentor}), "
        "or correct the engagements listed as not counted."
    ),
    Rule.apprenticeship_over_maximum: (
        "{department} has {placements} apprentice(s) or trainee(s) where {label} allows at most {allowed}: end or "
        "move {excess} placement(s) ({over}, the latest to start); until then they are not counted or reimbursed."
    ),
    Rule.apprenticeship_underpaid: (
        "Raise {person}'s pay to at least {min_rate} per week as {label} requires "
        "(it is {rate}); until then the placement does not count toward the {department} quota."
    ),
    Rule.apprenticeship_too_short: (
        "Extend {person}'s placement in {department} to at least {limit} weeks as {label} requires "
        "(it runs {weeks} week(s), {start} to {end}); until then it does not count toward the quota."
    ),
    Rule.apprenticeship_too_long: (
        "End {person}'s placement in {department} within {limit} weeks as {label} requires "
        "(it runs {weeks} week(s), {start} to {end}), or engage {person} at a higher level; "
        "until then it does not count toward the quota."
    ),
    Rule.apprenticeship_over_reimbursement_cap: (
        "Do not claim reimbursement for {names} in {department}: {label}'s fund reimburses at most {cap} "
        "placement(s), counting every placement claimed, qualifying or not, in order of start date; "
        "the production pays for these itself."
    ),
    Rule.commitment_overdue: (
        'File the {key} commitment ("{title}"), due on {due_date} under {label}, and mark it done.'
    ),
}


# --- input ---------------------------------------------------------------------------------------


class Disclosure(NamedTuple):
    """One asset category of a production: how many assets, how many of them AI-generated."""

    category: str
    total_count: int
    ai_generated_count: int


@dataclass(frozen=True, slots=True)
class ContractFact:
    """What the compliance rules need of an engagement's contract (the fact columns stored at issue).

    Facts are plain dataclasses, not validated models: the engine builds hundreds of thousands per
    sweep from rows that were validated when they were written. Enum-valued fields accept the enum or
    its string value.
    """

    id: UUID
    status: ContractStatus | str  # the live one (issued), else the latest void or superseded one
    contract_type: ContractType | str
    clause_keys: Collection[str]  # keys of the clauses the contract carries
    planned_ai_uses: Collection[AIUse | str]  # AI uses the contract declares for this worker
    version_hashes: Collection[str]  # hashes of the compact versions it was checked against
    compliant: bool  # the compliance report stored at issue said compliant
    # re-checks against versions it was not issued under (guild.compliance.recheck), by version hash
    rechecks: Mapping[str, Recheck] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EngagementFact:
    """One engagement of the roster, with its mentor's level and department and its contract in force
    (else its latest); it is also a placement for :func:`guild.apprenticeship.rules.quota_report`."""

    id: UUID
    person_name: str
    department: Department | str
    level: Level | str
    rate_minor_per_week: int
    currency: str
    start_date: date
    end_date: date
    mentor_level: Level | str | None = None
    mentor_department: Department | str | None = None
    contract: ContractFact | None = None

    @property
    def ref(self) -> str:
        return str(self.id)


@dataclass(frozen=True, slots=True)
class CommitmentFact:
    """An apprenticeship commitment of the production under one bound compact version."""

    version_id: UUID
    key: str
    title: str
    due_date: date
    status: str  # open | done


@dataclass(frozen=True, slots=True)
class Headcount:
    """``count`` settled engagements (:func:`settled`) of one department and level: all any rule reads of
    them (the quota's journey-level headcount). The engine may count them here instead of listing them."""

    department: Department | str
    level: Level | str
    count: int

    def __post_init__(self) -> None:
        if self.level in ENTRY_LEVELS:  # a placement is never settled: the quota reads all of it
            raise ValueError(f"an {self.level} engagement is a placement, not a headcount")


@dataclass(frozen=True, slots=True)
class ProductionFacts:
    """``engagements`` and ``settled`` together are the production's roster: an engagement is listed in
    ``engagements``, or (only if :func:`settled` under every bound version) counted in ``settled``."""

    production_id: UUID
    budget_minor: int
    currency: str
    disclosures: list[Disclosure] = field(default_factory=list)
    engagements: list[EngagementFact] = field(default_factory=list)
    commitments: list[CommitmentFact] = field(default_factory=list)
    today: date | None = None  # the run's date (UTC): open commitments due before it are overdue; None = none are
    settled: list[Headcount] = field(default_factory=list)


# --- output --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingDraft:
    """One obligation broken: a rule and a subject, under every bound version that requires it.

    ``version_id`` is the primary version: the one whose requirement is the strictest (its evidence and
    remediation are quoted); ``versions`` every citing version, the primary first, then in bound order."""

    version_id: UUID
    rule: Rule
    subject: str  # at most 120 characters: an engagement id, a department or a commitment key
    severity: Severity
    evidence: dict[str, Any]
    remediation: str
    versions: tuple[UUID, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return str(self.rule), self.subject

    @property
    def citing(self) -> tuple[UUID, ...]:
        """Every version requiring it, the primary first."""
        return self.versions or (self.version_id,)


def _draft(
    bt: BoundVersion, rule: Rule, subject: str, severity: Severity, evidence: dict[str, Any], **ctx: Any
) -> FindingDraft:
    evidence = {
        "compact": bt.compact_slug,
        "version_number": bt.version_number,
        "version_hash": bt.version_hash,
        **evidence,
    }
    remediation = REMEDIATION[rule].format(label=bt.label, **ctx)
    return FindingDraft(
        version_id=bt.version_id,
        rule=rule,
        subject=subject,
        severity=severity,
        evidence=evidence,
        remediation=remediation,
    )


# --- ai_share_exceeded ---------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _exact(value: float) -> Fraction:
    """The decimal a float was written as (20.0 → 20, 33.3 → 333/10), so equal means equal."""
    return Fraction(repr(float(value)))


@lru_cache(maxsize=64)
def _integer_weights(weights: tuple[tuple[str, float], ...]) -> tuple[dict[str, int], int]:
    """The exact weights over their common denominator: ({category: numerator}, denominator)."""
    exact = {str(c): _exact(w) for c, w in weights}
    common = math.lcm(*(w.denominator for w in exact.values())) if exact else 1
    return {c: int(w * common) for c, w in exact.items()}, common


def weighted_ai_share(
    disclosures: Iterable[Disclosure], weights: dict[Any, float], explain: bool = True
) -> tuple[Fraction, dict[str, Any]]:
    """(share as an exact fraction of 1, details) over the categories that have a weight.

    share = Σ w_c·ai_c / Σ w_c·total_c; no weighted assets → 0. Exact: integer sums over the weights'
    common denominator. ``explain=False``: the share only (details left empty).
    """
    totals: dict[str, list[int]] = {}
    for d in disclosures:
        counts = totals.setdefault(d.category, [0, 0])
        counts[0] += d.total_count
        counts[1] += d.ai_generated_count
    weighted, common = _integer_weights(tuple(weights.items()))
    used = sorted(c for c in totals if c in weighted)
    num = sum(weighted[c] * totals[c][1] for c in used)
    den = sum(weighted[c] * totals[c][0] for c in used)
    share = Fraction(num, den) if den else Fraction(0)
    if not explain:
        return share, {}
    details = {
        "categories": [
            {
                "category": c,
                "total_count": totals[c][0],
                "ai_generated_count": totals[c][1],
                "weight": float(Fraction(weighted[c], common)),
            }
            for c in used
        ],
        "unweighted_categories": sorted(c for c in totals if c not in weighted),
    }
    return share, details


def _pct(value: Fraction) -> float:
    return round(float(value), 4)


def _ai_share(facts: ProductionFacts, bt: BoundVersion) -> list[FindingDraft]:
    rules = bt.terms.ai_disclosure
    share, _ = weighted_ai_share(facts.disclosures, rules.category_weights, explain=False)
    share_pct, max_pct = share * 100, _exact(rules.max_ai_share_pct)
    if share_pct <= max_pct:
        return []
    _, details = weighted_ai_share(facts.disclosures, rules.category_weights)
    severity = Severity.critical if share_pct > 2 * max_pct else Severity.violation
    evidence = {
        "term_path": "ai_disclosure.max_ai_share_pct",
        **details,
        "share_pct": _pct(share_pct),
        "max_pct": rules.max_ai_share_pct,
        "critical_above_pct": _pct(2 * max_pct),
    }
    return [
        _draft(
            bt,
            Rule.ai_share_exceeded,
            PRODUCTION_SUBJECT,
            severity,
            evidence,
            max_pct=rules.max_ai_share_pct,
            share_pct=_pct(share_pct),
        )
    ]


# --- contracts -----------------------------------------------------------------------------------


def _context(facts: ProductionFacts, e: EngagementFact, c: ContractFact) -> ContractContext:
    return ContractContext(
        contract_type=c.contract_type,
        department=e.department,
        level=e.level,
        rate_minor_per_week=e.rate_minor_per_week,
        currency=e.currency,
        start_date=e.start_date,
        end_date=e.end_date,
        production_budget_minor=facts.budget_minor,
        budget_currency=facts.currency,
        mentor_level=e.mentor_level,
        mentor_department=e.mentor_department,
        planned_ai_uses=c.planned_ai_uses,
    )


def _uses(uses: Iterable[AIUse]) -> str:
    return " and ".join(str(u).replace("_", " ") for u in uses)


def _contract_base(e: EngagementFact, c: ContractFact | None) -> dict[str, Any]:
    return {"engagement": str(e.id), "person_name": e.person_name, "contract": None if c is None else str(c.id)}


def _missing(facts: ProductionFacts, e: EngagementFact, bt: BoundVersion) -> FindingDraft | None:
    c = e.contract
    if c is not None and c.status == ContractStatus.issued:
        return None
    evidence = {
        **_contract_base(e, c),
        "contract_status": None if c is None else str(c.status),
        "required": ContractStatus.issued.value,
    }
    return _draft(bt, Rule.contract_missing, str(e.id), Severity.violation, evidence, person=e.person_name)


def _complies(c: ContractFact, version_hash: str) -> bool:
    """The contract complies with the version of this hash: its stored report says so (it was checked against
    that version at issue), or its re-check against that version does (:mod:`guild.compliance.recheck`)."""
    if c.compliant and version_hash in c.version_hashes:
        return True
    again = c.rechecks.get(version_hash)
    return again is not None and again.compliant


def _noncompliant(facts: ProductionFacts, e: EngagementFact, bt: BoundVersion) -> FindingDraft | None:
    """An issued contract that does not comply with the bound version. Issued under another version (an
    amendment's parent, before the binding moved), it is judged by its re-check against this one: still
    compliant, no finding; else a finding naming the terms it breaks and asking for a re-issue. Without a
    re-check (none could be made), the finding says it was never checked against this version."""
    c = e.contract
    if c is None or c.status != ContractStatus.issued or _complies(c, bt.version_hash):
        return None
    again = c.rechecks.get(bt.version_hash)
    evidence = {
        **_contract_base(e, c),
        "checked_against": sorted(c.version_hashes),
        "bound_version_hash": bt.version_hash,
        "stored_report_compliant": c.compliant,
    }
    if again is None:
        breaks = ", against which it was never checked"
    else:
        evidence["term_paths"] = again.term_paths
        evidence["recheck"] = {"compliant": again.compliant, "violations": [dict(v) for v in again.violations]}
        breaks = f" (under it the contract breaks {', '.join(again.term_paths)})"
    return _draft(
        bt, Rule.contract_noncompliant, str(e.id), Severity.violation, evidence, person=e.person_name, breaks=breaks
    )


def _without_consent(facts: ProductionFacts, e: EngagementFact, bt: BoundVersion) -> FindingDraft | None:
    c = e.contract
    if c is None or c.status != ContractStatus.issued or CONSENT_CLAUSE in c.clause_keys or not c.planned_ai_uses:
        return None
    uses = [
        u
        for u, r in ai_rules(bt.terms, LIKENESS_USES)
        if u in c.planned_ai_uses and r.policy is Policy.consent_required
    ]
    if not uses:  # the consent clause is only ever required for a planned likeness use under consent_required
        return None
    if CONSENT_CLAUSE not in required_clause_keys(ContractType(c.contract_type), _context(facts, e, c), [bt]):
        return None
    evidence = {
        **_contract_base(e, c),
        "term_paths": [f"ai_uses.{u}.policy" for u in uses],
        "planned_uses": [str(u) for u in uses],
        "required_clause": CONSENT_CLAUSE,
        "clauses": sorted(c.clause_keys),
    }
    return _draft(
        bt, Rule.ai_use_without_consent, str(e.id), Severity.critical, evidence, person=e.person_name, uses=_uses(uses)
    )


def _prohibited(facts: ProductionFacts, e: EngagementFact, bt: BoundVersion) -> FindingDraft | None:
    c = e.contract
    if c is None or c.status != ContractStatus.issued or not c.planned_ai_uses:
        return None
    planned = cast("Collection[AIUse]", c.planned_ai_uses)  # AIUse values are their own keys (StrEnum)
    uses = [u for u, r in ai_rules(bt.terms, planned) if r.policy is Policy.prohibited]
    if not uses:
        return None
    evidence = {
        **_contract_base(e, c),
        "term_paths": [f"ai_uses.{u}.policy" for u in uses],
        "planned_uses": [str(u) for u in uses],
        "required": "not planned",
    }
    return _draft(
        bt, Rule.ai_use_prohibited, str(e.id), Severity.critical, evidence, person=e.person_name, uses=_uses(uses)
    )


_EngagementRule = Callable[[ProductionFacts, EngagementFact, BoundVersion], FindingDraft | None]
_ENGAGEMENT_RULES: tuple[_EngagementRule, ...] = (_missing, _noncompliant, _without_consent, _prohibited)


def _in_order(c: ContractFact | None, version_hash: str) -> bool:
    """The common case, which none of the engagement rules flags: an issued contract that complies with this
    version (its stored report, or its re-check: :func:`_complies`) and plans no AI use (each rule's first
    check, taken together)."""
    return c is not None and c.status == ContractStatus.issued and not c.planned_ai_uses and _complies(c, version_hash)


def settled(e: EngagementFact, version_hashes: Collection[str]) -> bool:
    """No rule can flag this engagement under the versions of these hashes, whatever else it holds: it
    is not a placement (the quota reads only its department and level) and its contract is in order
    with each version (no contract rule flags it). The engine may count such engagements by department
    and level (:class:`Headcount`) instead of loading them; its query states this predicate in SQL,
    and its tests hold the two to agreement."""
    return e.level not in ENTRY_LEVELS and all(_in_order(e.contract, h) for h in version_hashes)


def _contracts(facts: ProductionFacts, bt: BoundVersion) -> list[FindingDraft]:
    found = (
        rule(facts, e, bt)
        for e in facts.engagements
        if not _in_order(e.contract, bt.version_hash)
        for rule in _ENGAGEMENT_RULES
    )
    return [d for d in found if d is not None]


# --- apprenticeship ------------------------------------------------------------------------------


def _per_week(amount_minor: int, currency: str) -> str:
    return format_money(amount_minor, currency)


def _quota(bt: BoundVersion, result: QuotaResult, rule: QuotaRule) -> FindingDraft:
    mentor = ", with a journey-level mentor from the department" if rule.mentor_required else ""
    weeks = f"{rule.min_weeks} to {rule.max_weeks}" if rule.max_weeks is not None else f"at least {rule.min_weeks}"
    return _draft(
        bt,
        Rule.apprenticeship_quota,
        str(rule.department),
        Severity.violation,
        result.model_dump(mode="json"),
        missing=result.missing,
        department=rule.department,
        min_rate=_per_week(rule.min_rate_minor_per_week, rule.currency),
        weeks=weeks,
        mentor=mentor,
    )


def _names(roster: Iterable[Placement], refs: list[str]) -> str:
    """The people of these engagements, in the order of ``refs``."""
    wanted = set(refs)
    names = {e.ref: e.person_name for e in roster if e.ref in wanted}
    return ", ".join(names.get(ref, ref) for ref in refs)


def _over_maximum(bt: BoundVersion, result: QuotaResult, rule: QuotaRule, roster: list[Placement]) -> FindingDraft:
    return _draft(
        bt,
        Rule.apprenticeship_over_maximum,
        str(rule.department),
        Severity.violation,
        result.model_dump(mode="json"),
        department=rule.department,
        placements=result.placements,
        allowed=result.allowed,
        excess=result.excess,
        over=_names(roster, result.over_maximum),
    )


def _underpaid(bt: BoundVersion, result: QuotaResult, rule: QuotaRule) -> list[FindingDraft]:
    out = []
    for u in result.underpaid:
        evidence = {
            "term_path": f"{result.term_path}.min_rate_minor_per_week",
            "engagement": u.engagement,
            "person_name": u.person_name,
            "department": str(rule.department),
            "rate_minor_per_week": u.rate_minor_per_week,
            "min_rate_minor_per_week": u.min_rate_minor_per_week,
            "currency": u.currency,
            "shortfall_minor_per_week": u.shortfall_minor_per_week,
            "quota": result.explanation,
        }
        out.append(
            _draft(
                bt,
                Rule.apprenticeship_underpaid,
                u.engagement,
                Severity.violation,
                evidence,
                person=u.person_name,
                rate=_per_week(u.rate_minor_per_week, u.currency),
                min_rate=_per_week(u.min_rate_minor_per_week, u.currency),
                department=rule.department,
            )
        )
    return out


def _length(bt: BoundVersion, result: QuotaResult, rule: QuotaRule) -> list[FindingDraft]:
    """One finding per placement too short or too long (subject: the engagement)."""
    out = []
    kinds: tuple[tuple[Rule, str, list[PlacementLength]], ...] = (
        (Rule.apprenticeship_too_short, "min_weeks", result.too_short),
        (Rule.apprenticeship_too_long, "max_weeks", result.too_long),
    )
    for finding_rule, term, placements in kinds:
        for p in placements:
            evidence = {
                "term_path": f"{result.term_path}.{term}",
                "engagement": p.engagement,
                "person_name": p.person_name,
                "department": str(rule.department),
                "start_date": p.start_date.isoformat(),
                "end_date": p.end_date.isoformat(),
                "weeks": p.weeks,
                term: p.limit_weeks,
                "quota": result.explanation,
            }
            out.append(
                _draft(
                    bt,
                    finding_rule,
                    p.engagement,
                    Severity.warning,
                    evidence,
                    person=p.person_name,
                    department=rule.department,
                    weeks=p.weeks,
                    limit=p.limit_weeks,
                    start=p.start_date.isoformat(),
                    end=p.end_date.isoformat(),
                )
            )
    return out


def _over_cap(bt: BoundVersion, result: QuotaResult, rule: QuotaRule, roster: list[Placement]) -> list[FindingDraft]:
    """One finding per department with placements beyond the reimbursement cap."""
    if not result.not_reimbursable:
        return []
    evidence = {
        "term_path": f"{result.term_path}.max_reimbursed_placements",
        "department": str(rule.department),
        "max_reimbursed_placements": result.max_reimbursed_placements,
        "placements": result.placements,
        "reimbursable": result.reimbursable,
        "not_reimbursable": result.not_reimbursable,
        "quota": result.explanation,
    }
    return [
        _draft(
            bt,
            Rule.apprenticeship_over_reimbursement_cap,
            str(rule.department),
            Severity.warning,
            evidence,
            department=rule.department,
            cap=result.max_reimbursed_placements,
            names=_names(roster, result.not_reimbursable),
        )
    ]


@lru_cache(maxsize=256)
def _stand_in(department: Department | str, level: Level | str) -> EngagementFact:
    """A settled engagement in the quota's roster: of it, the quota reads its department and level only
    (it is no placement), so one shared object stands for each of them."""
    return EngagementFact(UUID(int=0), "", department, level, 0, "", date.min, date.min)


def _apprenticeship(facts: ProductionFacts, bt: BoundVersion) -> list[FindingDraft]:
    """The quota engine of :mod:`guild.apprenticeship.rules`, per department whose rule applies: a finding
    when a minimum is not met or a maximum exceeded (evidence: the explained result), one when placements
    are beyond the reimbursement cap, and one per placement paid below the minimum rate, too short or
    too long."""
    out = []
    placements: list[Placement] = [*facts.engagements]  # every placement is here: none is ever settled
    roster = [*placements]
    for h in facts.settled:
        roster += [_stand_in(h.department, h.level)] * h.count
    for result in quota_report(facts.budget_minor, facts.currency, roster, bt.terms, bt.label, problems_only=True):
        rule = result.rule
        if not result.met:
            out.append(
                _over_maximum(bt, result, rule, placements)
                if rule.direction is QuotaDirection.maximum
                else _quota(bt, result, rule)
            )
        out.extend(_underpaid(bt, result, rule))
        out.extend(_length(bt, result, rule))
        out.extend(_over_cap(bt, result, rule, placements))
    return out


# --- commitment_overdue ----------------------------------------------------------------------------


def _overdue(facts: ProductionFacts, bt: BoundVersion) -> list[FindingDraft]:
    """An open commitment of this version whose due date is before the run's date."""
    if facts.today is None:
        return []
    out = []
    for c in facts.commitments:
        if c.version_id != bt.version_id or c.status != CommitmentStatus.open or c.due_date >= facts.today:
            continue
        evidence = {
            "term_path": "apprenticeship_commitments",
            "commitment": c.key,
            "title": c.title,
            "status": c.status,
            "due_date": c.due_date.isoformat(),
            "checked_on": facts.today.isoformat(),
            "days_late": (facts.today - c.due_date).days,
        }
        out.append(
            _draft(
                bt,
                Rule.commitment_overdue,
                c.key,
                Severity.violation,
                evidence,
                key=c.key,
                title=c.title,
                due_date=c.due_date.isoformat(),
            )
        )
    return out


# --- evaluation ----------------------------------------------------------------------------------

RULES: tuple[Callable[[ProductionFacts, BoundVersion], list[FindingDraft]], ...] = (
    _ai_share,
    _contracts,
    _apprenticeship,
    _overdue,
)


# --- one obligation, one finding --------------------------------------------------------------------

_Strictness = Callable[[Mapping[str, Any]], tuple[Any, ...]]


def _field(ev: Mapping[str, Any], name: str) -> Any:
    value = ev.get(name)
    return 0 if value is None else value


# Per rule: the evidence fields that state what a version requires (cited for each version), and how strict
# a version's requirement is (smaller: stricter). Rules absent here require the same of every version: the
# highest severity, then bound order, decides which one is quoted.
_REQUIREMENT: dict[Rule, tuple[tuple[str, ...], _Strictness]] = {
    Rule.ai_share_exceeded: (("max_pct",), lambda ev: (_exact(_field(ev, "max_pct")),)),
    Rule.contract_missing: (("required",), lambda ev: ()),
    Rule.contract_noncompliant: (("term_paths",), lambda ev: ()),
    Rule.ai_use_without_consent: (("term_paths", "required_clause"), lambda ev: ()),
    Rule.ai_use_prohibited: (("term_paths", "required"), lambda ev: ()),
    Rule.apprenticeship_quota: (
        ("term_path", "required", "counted", "missing"),
        lambda ev: (-_field(ev, "required"), -_field(ev, "missing")),
    ),
    Rule.apprenticeship_over_maximum: (
        ("term_path", "allowed", "excess"),
        lambda ev: (_field(ev, "allowed"), -_field(ev, "excess")),
    ),
    Rule.apprenticeship_underpaid: (
        ("term_path", "min_rate_minor_per_week", "currency"),
        lambda ev: (-_field(ev, "min_rate_minor_per_week"),),
    ),
    Rule.apprenticeship_too_short: (("term_path", "min_weeks"), lambda ev: (-_field(ev, "min_weeks"),)),
    Rule.apprenticeship_too_long: (("term_path", "max_weeks"), lambda ev: (_field(ev, "max_weeks"),)),
    Rule.apprenticeship_over_reimbursement_cap: (
        ("term_path", "max_reimbursed_placements"),
        lambda ev: (_field(ev, "max_reimbursed_placements"),),
    ),
    Rule.commitment_overdue: (("due_date",), lambda ev: (str(_field(ev, "due_date")),)),
}


def _labels(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _one_obligation(
    drafts: list[FindingDraft], bound: Mapping[UUID, BoundVersion], order: Mapping[UUID, tuple[str, int, str]]
) -> FindingDraft:
    """The drafts of one (rule, subject) under several versions (in bound order) as one: the strictest
    version's draft is quoted (the primary), at the highest severity any version gives it, its evidence
    citing every version (``cited_by``: compact, version, hash and what that version requires) and its
    remediation naming every compact."""
    fields, strictness = _REQUIREMENT.get(drafts[0].rule, ((), lambda ev: ()))
    primary = min(
        drafts, key=lambda d: (strictness(d.evidence), -_SEVERITIES.index(Severity(d.severity)), order[d.version_id])
    )
    citing = [primary, *(d for d in drafts if d is not primary)]
    cited_by = [
        {
            "compact": bound[d.version_id].compact_slug,
            "version_number": bound[d.version_id].version_number,
            "version_hash": bound[d.version_id].version_hash,
            **{name: d.evidence[name] for name in fields if name in d.evidence},
        }
        for d in citing
    ]
    remediation = primary.remediation
    if len(citing) > 1:
        labels = [bound[d.version_id].label for d in citing]
        remediation += (
            f" This one obligation is required by {_labels(labels)}; "
            f"the strictest requirement, {labels[0]}'s, is the one stated."
        )
    return FindingDraft(
        version_id=primary.version_id,
        rule=primary.rule,
        subject=primary.subject,
        severity=max((Severity(d.severity) for d in citing), key=_SEVERITIES.index),
        evidence={**primary.evidence, "cited_by": cited_by},
        remediation=remediation,
        versions=tuple(d.version_id for d in citing),
    )


def evaluate_production(facts: ProductionFacts, bound: list[BoundVersion]) -> list[FindingDraft]:
    """Every obligation the production breaks under its bound versions, one draft per (rule, subject)
    however many versions require it (:func:`_one_obligation`), ordered by its primary version's compact
    and number, rule and subject."""
    order = {bt.version_id: (bt.compact_slug, bt.version_number, str(bt.version_id)) for bt in bound}
    by_id = {bt.version_id: bt for bt in bound}
    per_version = {(d.version_id, *d.key): d for bt in bound for rule in RULES for d in rule(facts, bt)}
    obligations: dict[tuple[str, str], list[FindingDraft]] = {}
    for d in sorted(per_version.values(), key=lambda d: order[d.version_id]):
        obligations.setdefault(d.key, []).append(d)
    drafts = [_one_obligation(ds, by_id, order) for ds in obligations.values()]
    return sorted(drafts, key=lambda d: (order[d.version_id], d.rule, d.subject))
