"""One obligation, one finding: when several bound compact versions require the same thing of the same
subject, the rules give one draft citing every version and quoting the strictest requirement."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from guild.compacts.terms import example_terms
from guild.compliance.rules import CommitmentFact, Disclosure, Rule, Severity, evaluate_production
from tests.unit.test_compliance_rules import HASH, START, apprentice, bound, contract, engagement, facts, terms

V1, V2, V3 = UUID(int=1), UUID(int=2), UUID(int=3)
H1, H2, H3 = HASH, "b" * 64, "c" * 64
CAMERA_RULE = example_terms().apprenticeship[0].model_dump(mode="json")  # camera, 1 apprentice, >= EUR 600.00/week


def camera(**change: Any):
    """Terms with the one camera quota rule (budgets below EUR 500,000.00), changed."""
    return terms(apprenticeship=[{**CAMERA_RULE, **change}])


def signed_under_all(n: int, **kw: Any):
    return engagement(n, contract=contract(n, version_hashes=[H1, H2, H3]), **kw)


def test_two_compacts_requiring_a_contract_of_one_engagement_give_one_draft_citing_both():
    a, b = bound(terms(), V1, "screen-guild", H1), bound(terms(), V2, "film-fund", H2)
    [d] = evaluate_production(facts(engagement(1, contract=None)), [a, b])
    # film-fund sorts before screen-guild: the same requirement, so bound order picks the primary
    assert (d.rule, d.subject, d.severity, d.version_id, d.versions) == (
        Rule.contract_missing,
        str(UUID(int=1001)),
        Severity.violation,
        V2,
        (V2, V1),
    )
    assert (d.evidence["compact"], d.evidence["version_hash"]) == ("film-fund", H2)
    assert d.evidence["cited_by"] == [
        {"compact": "film-fund", "version_number": 1, "version_hash": H2, "required": "issued"},
        {"compact": "screen-guild", "version_number": 1, "version_hash": H1, "required": "issued"},
    ]
    assert d.remediation == (
        "Issue a compliant talent contract for Person 1 through guild; Person 1 has no contract in force. "
        "This one obligation is required by film-fund v1 and screen-guild v1; "
        "the strictest requirement, film-fund v1's, is the one stated."
    )


def test_two_quota_minimums_give_one_finding_quoting_the_higher():
    low, high = camera(min_apprentices=1), camera(min_apprentices=3)
    a, b = bound(low, V1, "a-fund", H1), bound(high, V2, "screen-guild", H2)
    roster = [signed_under_all(10, department="camera"), apprentice(1, contract=contract(1, version_hashes=[H1, H2]))]
    [d] = evaluate_production(facts(*roster), [a, b])
    # one apprentice counted: a-fund's 1 is met, screen-guild's 3 is not: a finding citing screen-guild only
    assert (d.rule, d.subject, d.versions) == (Rule.apprenticeship_quota, "camera", (V2,))
    assert d.evidence["cited_by"] == [
        {
            "compact": "screen-guild",
            "version_number": 1,
            "version_hash": H2,
            "term_path": "apprenticeship[0]",
            "required": 3,
            "counted": 1,
            "missing": 2,
        }
    ]
    [both] = evaluate_production(facts(signed_under_all(10, department="camera")), [a, b])
    assert (both.rule, both.subject, both.version_id, both.versions) == (
        Rule.apprenticeship_quota,
        "camera",
        V2,  # requires 3: stricter than a-fund's 1, though a-fund sorts first
        (V2, V1),
    )
    assert (both.evidence["required"], both.evidence["missing"], both.evidence["label"]) == (3, 3, "screen-guild v1")
    assert [(c["compact"], c["required"], c["missing"]) for c in both.evidence["cited_by"]] == [
        ("screen-guild", 3, 3),
        ("a-fund", 1, 1),
    ]
    assert both.remediation.startswith("Engage 3 more paid apprentice(s) or trainee(s) in camera as screen-guild v1")
    assert both.remediation.endswith(
        "This one obligation is required by screen-guild v1 and a-fund v1; "
        "the strictest requirement, screen-guild v1's, is the one stated."
    )


def test_three_compacts_underpaying_one_apprentice_quote_the_highest_minimum_rate():
    rates = {V1: 60_000, V2: 70_000, V3: 65_000}
    slugs = {V1: "a-fund", V2: "b-guild", V3: "c-scheme"}
    hashes = {V1: H1, V2: H2, V3: H3}
    versions = [bound(camera(min_rate_minor_per_week=rates[v]), v, slugs[v], hashes[v]) for v in (V3, V1, V2)]
    paid = apprentice(1, rate_minor_per_week=55_000, contract=contract(1, version_hashes=[H1, H2, H3]))
    drafts = evaluate_production(facts(paid, signed_under_all(10, department="camera")), versions)
    [underpaid] = [d for d in drafts if d.rule is Rule.apprenticeship_underpaid]
    assert (underpaid.subject, underpaid.version_id, underpaid.versions) == (str(UUID(int=1001)), V2, (V2, V1, V3))
    assert [(c["compact"], c["min_rate_minor_per_week"]) for c in underpaid.evidence["cited_by"]] == [
        ("b-guild", 70_000),
        ("a-fund", 60_000),
        ("c-scheme", 65_000),
    ]
    assert underpaid.evidence["shortfall_minor_per_week"] == 15_000
    assert underpaid.remediation.startswith(
        "Raise Person 1's pay to at least EUR 700.00 per week as b-guild v1 requires (it is EUR 550.00)"
    )
    assert "required by b-guild v1, a-fund v1 and c-scheme v1;" in underpaid.remediation
    # the quota (one per department, all three short: the underpaid placement does not count) is one draft too
    [short] = [d for d in drafts if d.rule is Rule.apprenticeship_quota]
    assert short.versions == (V1, V2, V3)  # the same requirement everywhere: bound order
    assert len(drafts) == 2


def test_a_subject_only_one_compact_requires_stays_single():
    a, b = bound(terms(), V1, "a-fund", H1), bound(terms(), V2, "b-guild", H2)
    stale = engagement(1, contract=contract(1, version_hashes=[H1]))  # checked under a-fund only
    [d] = evaluate_production(facts(stale), [a, b])
    assert (d.rule, d.version_id, d.versions) == (Rule.contract_noncompliant, V2, (V2,))
    assert [c["compact"] for c in d.evidence["cited_by"]] == ["b-guild"]
    assert "This one obligation" not in d.remediation


def test_the_lowest_ai_share_maximum_is_quoted_at_the_highest_severity():
    lax = terms(ai_disclosure={"max_ai_share_pct": 30.0}, certification={"human_produced_max_ai_share_pct": 5.0})
    strict = terms(ai_disclosure={"max_ai_share_pct": 10.0}, certification={"human_produced_max_ai_share_pct": 5.0})
    a, b = bound(lax, V1, "a-fund", H1), bound(strict, V2, "b-guild", H2)
    # weights from the example terms; 25 % of vfx shots: over b-guild's 10 % (critical: above 20 %), under 30 %
    share = evaluate_production(facts(disclosures=[Disclosure("vfx_shot", 100, 25)]), [a, b])
    [d] = share
    assert (d.version_id, d.versions, d.severity, d.evidence["max_pct"]) == (V2, (V2,), Severity.critical, 10.0)
    [both] = evaluate_production(facts(disclosures=[Disclosure("vfx_shot", 100, 40)]), [a, b])
    assert (both.version_id, both.versions, both.severity) == (V2, (V2, V1), Severity.critical)
    assert [(c["compact"], c["max_pct"]) for c in both.evidence["cited_by"]] == [("b-guild", 10.0), ("a-fund", 30.0)]


def test_one_commitment_overdue_under_two_compacts_is_one_finding_quoting_the_earliest_due_date():
    today = date(2027, 4, 1)
    a, b = bound(terms(), V1, "a-fund", H1), bound(terms(), V2, "b-guild", H2)
    plans = [
        CommitmentFact(V1, "skills_plan", "Skills plan filed", today - timedelta(days=2), "open"),
        CommitmentFact(V2, "skills_plan", "Skills plan filed", today - timedelta(days=9), "open"),
    ]
    [d] = evaluate_production(replace(facts(), commitments=plans, today=today), [a, b])
    assert (d.subject, d.version_id, d.versions, d.evidence["days_late"]) == ("skills_plan", V2, (V2, V1), 9)
    assert [(c["compact"], c["due_date"]) for c in d.evidence["cited_by"]] == [
        ("b-guild", "2027-03-23"),
        ("a-fund", "2027-03-30"),
    ]


def test_the_merge_does_not_depend_on_the_order_versions_are_given_in():
    versions = [bound(camera(min_apprentices=n), v, s, h) for n, v, s, h in ((2, V1, "x", H1), (2, V2, "y", H2))]
    roster = facts(signed_under_all(10, department="camera"), engagement(2, contract=None, start_date=START))
    assert evaluate_production(roster, versions) == evaluate_production(roster, versions[::-1])
    [quota] = [d for d in evaluate_production(roster, versions) if d.rule is Rule.apprenticeship_quota]
    assert quota.versions == (V1, V2)  # equally strict, equally severe: bound order (x before y)
