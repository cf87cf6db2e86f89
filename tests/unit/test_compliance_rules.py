"""The pure compliance rules of member productions, on hand-computed cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guild.compacts.bound import BoundVersion
from guild.compacts.terms import Terms, example_terms
from guild.compliance.rules import (
    CommitmentFact,
    ContractFact,
    Disclosure,
    EngagementFact,
    ProductionFacts,
    Rule,
    Severity,
    escalated,
    evaluate_production,
    placement_weeks,
)

V1 = UUID(int=1)
V2 = UUID(int=2)
PID = UUID(int=100)
HASH = "a" * 64
START = date(2027, 3, 1)


def terms(**changes: Any) -> Terms:
    """The example terms, changed and re-validated; no apprenticeship rules unless given."""
    data = example_terms().model_dump(mode="json")
    data["apprenticeship"] = []
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Terms.model_validate(data)


def bound(t: Terms | None = None, version_id: UUID = V1, slug: str = "screen-guild", h: str = HASH) -> BoundVersion:
    return BoundVersion(
        version_id=version_id,
        compact_id=UUID(int=900),
        compact_slug=slug,
        compact_title=slug,
        version_number=1,
        version_hash=h,
        terms=t or terms(),
    )


def contract(n: int = 1, **kw: Any) -> ContractFact:
    base = {
        "id": UUID(int=5000 + n),
        "status": "issued",
        "contract_type": "crew",
        "clause_keys": ["fees_and_schedule"],
        "planned_ai_uses": [],
        "compliant": True,
        "version_hashes": [HASH],
    }
    fact = {**base, **kw}
    for name in ("clause_keys", "planned_ai_uses", "version_hashes"):
        fact[name] = frozenset(fact[name])
    return ContractFact(**fact)


def engagement(n: int = 1, weeks: int = 10, **kw: Any) -> EngagementFact:
    base = {
        "id": UUID(int=1000 + n),
        "person_name": f"Person {n}",
        "department": "production",
        "level": "journey",
        "rate_minor_per_week": 200_000,
        "currency": "EUR",
        "start_date": START,
        "end_date": START + timedelta(days=7 * weeks - 1),
        "contract": contract(n),
    }
    return EngagementFact(**{**base, **kw})


def apprentice(n: int = 1, **kw: Any) -> EngagementFact:
    base = {
        "department": "camera",
        "level": "apprentice",
        "rate_minor_per_week": 60_000,
        "mentor_level": "journey",
        "mentor_department": "camera",
    }
    return engagement(n, **{**base, **kw})


def facts(
    *engagements: EngagementFact, disclosures=(), budget: int = 30_000_000, currency: str = "EUR"
) -> ProductionFacts:
    return ProductionFacts(
        production_id=PID,
        budget_minor=budget,
        currency=currency,
        disclosures=list(disclosures),
        engagements=list(engagements),
    )


def rules_of(drafts) -> list[tuple[str, str, str]]:
    return [(str(d.rule), d.subject, str(d.severity)) for d in drafts]


# --- ai_share_exceeded -------------------------------------------------------------------------------

SHARE_TERMS = terms(
    ai_disclosure={
        "max_ai_share_pct": 20.0,
        "category_weights": {"vfx_shot": 2.0, "script_page": 1.0},
        "festival_disclosure_required": True,
    },
    certification={"human_produced_max_ai_share_pct": 5.0, "validity_days": 365},
)


def share_drafts(vfx_ai: int, script_ai: int, *extra: Disclosure, t: Terms = SHARE_TERMS):
    # weights 2 and 1: share = (2*vfx_ai + script_ai) / (2*10 + 20) = (2*vfx_ai + script_ai) / 40
    disclosures = [Disclosure("vfx_shot", 10, vfx_ai), Disclosure("script_page", 20, script_ai), *extra]
    return evaluate_production(facts(disclosures=disclosures), [bound(t)])


def test_weighted_share_exactly_at_the_maximum_passes():
    assert share_drafts(1, 6) == []  # (2 + 6) / 40 = 20 %


def test_weighted_share_just_above_the_maximum_is_a_violation_with_evidence():
    [d] = share_drafts(1, 7)  # (2 + 7) / 40 = 22.5 %
    assert (d.rule, d.subject, d.severity) == (Rule.ai_share_exceeded, "production", Severity.violation)
    ev = d.evidence
    assert ev["share_pct"] == 22.5 and ev["max_pct"] == 20.0 and ev["critical_above_pct"] == 40.0
    assert ev["categories"] == [
        {"category": "script_page", "total_count": 20, "ai_generated_count": 7, "weight": 1.0},
        {"category": "vfx_shot", "total_count": 10, "ai_generated_count": 1, "weight": 2.0},
    ]
    assert ev["term_path"] == "ai_disclosure.max_ai_share_pct" and ev["version_hash"] == HASH
    assert "20.0%" in d.remediation and "22.5%" in d.remediation


def test_weighted_share_critical_only_above_twice_the_maximum():
    [at_twice] = share_drafts(4, 8)  # (8 + 8) / 40 = 40 % = 2 x 20 %
    assert at_twice.severity is Severity.violation
    [above] = share_drafts(4, 9)  # 17 / 40 = 42.5 %
    assert above.severity is Severity.critical and above.evidence["share_pct"] == 42.5


def test_share_is_compared_exactly_not_in_binary_floating_point():
    t = terms(
        ai_disclosure={
            "max_ai_share_pct": 33.3,
            "category_weights": {"vfx_shot": 0.1},
            "festival_disclosure_required": True,
        }
    )
    # 0.1 * 333 / (0.1 * 1000) = 33.3 % exactly (in floats: 33.300000000000004)
    assert evaluate_production(facts(disclosures=[Disclosure("vfx_shot", 1000, 333)]), [bound(t)]) == []
    [d] = evaluate_production(facts(disclosures=[Disclosure("vfx_shot", 1000, 334)]), [bound(t)])
    assert d.evidence["share_pct"] == 33.4


def test_unweighted_categories_are_ignored_and_listed():
    drafts = share_drafts(1, 6, Disclosure("sound_effect", 50, 50), Disclosure("hologram", 3, 3))
    assert drafts == []  # still exactly 20 % over the weighted categories
    [d] = share_drafts(1, 7, Disclosure("sound_effect", 50, 0))
    assert d.evidence["unweighted_categories"] == ["sound_effect"]
    assert d.evidence["share_pct"] == 22.5


def test_no_weighted_assets_means_no_share_finding():
    assert share_drafts(0, 0) == []
    assert evaluate_production(facts(disclosures=[Disclosure("hologram", 5, 5)]), [bound(SHARE_TERMS)]) == []


# --- contracts ---------------------------------------------------------------------------------------


def test_engagement_without_an_issued_contract_is_a_violation():
    drafts = evaluate_production(
        facts(engagement(1, contract=None), engagement(2, contract=contract(2, status="void")), engagement(3)),
        [bound()],
    )
    assert rules_of(drafts) == [
        ("contract_missing", str(UUID(int=1001)), "violation"),
        ("contract_missing", str(UUID(int=1002)), "violation"),
    ]
    assert drafts[0].evidence["contract"] is None and drafts[1].evidence["contract_status"] == "void"
    assert "Person 1" in drafts[0].remediation


def test_contract_checked_against_another_version_is_noncompliant():
    e = engagement(1, contract=contract(1, version_hashes=["b" * 64]))
    [d] = evaluate_production(facts(e), [bound()])
    assert (d.rule, d.subject, d.severity) == (Rule.contract_noncompliant, str(e.id), Severity.violation)
    assert d.evidence["checked_against"] == ["b" * 64] and d.evidence["bound_version_hash"] == HASH
    # a stored report that said non-compliant counts too
    [d] = evaluate_production(facts(engagement(1, contract=contract(1, compliant=False))), [bound()])
    assert d.rule is Rule.contract_noncompliant


def performer(n: int = 1, **contract_kw: Any) -> EngagementFact:
    c = contract(n, contract_type="performer", **contract_kw)
    return engagement(n, department="production", contract=c)


@pytest.mark.parametrize("use", ["performer_digital_replica", "voice_clone"])
def test_planned_replica_or_voice_clone_without_consent_clause_is_critical(use):
    e = performer(planned_ai_uses=[use])
    [d] = evaluate_production(facts(e), [bound()])
    assert (d.rule, d.subject, d.severity) == (Rule.ai_use_without_consent, str(e.id), Severity.critical)
    assert d.evidence["planned_uses"] == [use] and d.evidence["term_paths"] == [f"ai_uses.{use}.policy"]
    assert d.evidence["required_clause"] == "digital_replica_consent"
    with_clause = performer(planned_ai_uses=[use], clause_keys=["fees_and_schedule", "digital_replica_consent"])
    assert evaluate_production(facts(with_clause), [bound()]) == []


def test_planned_replica_under_a_permissive_rule_needs_no_consent_clause():
    uses = example_terms().model_dump(mode="json")["ai_uses"]
    uses["performer_digital_replica"] = {"policy": "permitted"}
    assert (
        evaluate_production(
            facts(performer(planned_ai_uses=["performer_digital_replica"])), [bound(terms(ai_uses=uses))]
        )
        == []
    )


def test_planned_prohibited_use_is_critical_and_names_the_uses():
    planned = ["script_generation", "rotoscoping", "literary_material_generation"]
    e = engagement(1, contract=contract(1, contract_type="writer", planned_ai_uses=planned))
    [d] = evaluate_production(facts(e), [bound()])
    assert (d.rule, d.severity) == (Rule.ai_use_prohibited, Severity.critical)
    assert d.evidence["planned_uses"] == ["script_generation", "literary_material_generation"]
    assert "screen-guild v1" in d.remediation


def test_void_contract_only_reports_missing():
    e = performer(status="void", planned_ai_uses=["script_generation", "voice_clone"], version_hashes=[])
    assert rules_of(evaluate_production(facts(e), [bound()])) == [("contract_missing", str(e.id), "violation")]


# --- apprenticeship_quota ----------------------------------------------------------------------------

CAMERA = terms(apprenticeship=[r.model_dump(mode="json") for r in example_terms().apprenticeship[:2]])
# [0]: camera EUR [0, 50M): 1 apprentice, >= 60_000/week, 4..26 weeks, mentor
# [1]: camera EUR [50M, ∞): 2 apprentices, >= 75_000/week, 6..52 weeks, mentor


def quota(*engagements: EngagementFact, budget: int = 30_000_000, currency: str = "EUR"):
    return evaluate_production(facts(*engagements, budget=budget, currency=currency), [bound(CAMERA)])


def test_placement_weeks_counts_both_ends_and_rounds_up():
    assert placement_weeks(START, START) == 1
    assert placement_weeks(START, START + timedelta(days=27)) == 4
    assert placement_weeks(START, START + timedelta(days=28)) == 5


def test_a_qualifying_apprentice_at_every_minimum_counts():
    assert quota(apprentice(1, weeks=4), engagement(2, department="camera")) == []
    assert quota(apprentice(1, level="trainee", weeks=26)) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"rate_minor_per_week": 59_999}, "below_min_rate"),
        ({"currency": "GBP", "rate_minor_per_week": 500_000}, "wrong_currency"),
        ({"weeks": 3}, "too_short"),
        ({"weeks": 27}, "too_long"),
        ({"mentor_level": None, "mentor_department": None}, "no_mentor"),
        ({"mentor_level": "junior"}, "mentor_below_journey"),
        ({"mentor_department": "editing"}, "mentor_other_department"),
    ],
)
def test_apprentices_that_do_not_count_say_why(change, reason):
    bad = apprentice(1, **change)
    drafts = quota(bad, engagement(2, department="camera", level="junior"))  # a junior is not an apprentice
    [d] = [d for d in drafts if d.rule is Rule.apprenticeship_quota]
    assert (d.rule, d.subject, d.severity) == (Rule.apprenticeship_quota, "camera", Severity.violation)
    ev = d.evidence
    assert (ev["required"], ev["counted"], ev["term_path"]) == (1, 0, "apprenticeship[0]")
    assert [(n["engagement"], n["reason"]) for n in ev["not_counted"]] == [(str(bad.id), reason)]
    assert "1 more" in d.remediation and "camera" in d.remediation
    # paid below the minimum rate is also a finding of its own (the richer rule; before, only "not counted")
    underpaid = [(str(d.rule), d.subject) for d in drafts if d.rule is Rule.apprenticeship_underpaid]
    assert underpaid == ([("apprenticeship_underpaid", str(bad.id))] if reason == "below_min_rate" else [])


def test_mentor_rules_apply_only_when_the_quota_requires_a_mentor():
    rules = [r.model_dump(mode="json") for r in example_terms().apprenticeship[:1]]
    rules[0]["mentor_required"] = False
    t = terms(apprenticeship=rules)
    e = apprentice(1, mentor_level=None, mentor_department=None)
    assert evaluate_production(facts(e), [bound(t)]) == []


def test_counted_and_not_counted_side_by_side():
    ok, short = apprentice(1), apprentice(2, weeks=2)
    drafts = quota(ok, short, budget=60_000_000)  # band [1]: 2 required, 75_000/week, 6..52 weeks
    [d] = [d for d in drafts if d.rule is Rule.apprenticeship_quota]
    underpaid = [d for d in drafts if d.rule is Rule.apprenticeship_underpaid]
    # the 2-week placement is also too short: a finding of its own
    assert [(d.rule, d.subject) for d in drafts if d.rule is Rule.apprenticeship_too_short] == [
        (Rule.apprenticeship_too_short, str(short.id))
    ]
    ev = d.evidence
    assert (ev["required"], ev["counted"]) == (2, 0)
    assert {n["reason"] for n in ev["not_counted"]} == {"below_min_rate"}
    assert short.id != ok.id and ev["not_counted"][1]["reasons"] == ["below_min_rate", "too_short"]
    # both are paid 60_000 < 75_000: one apprenticeship_underpaid finding each (new with the richer rule)
    assert [(u.rule, u.subject) for u in underpaid] == [
        (Rule.apprenticeship_underpaid, str(ok.id)),
        (Rule.apprenticeship_underpaid, str(short.id)),
    ]
    both = [apprentice(1, rate_minor_per_week=75_000), apprentice(2, rate_minor_per_week=75_000, weeks=2)]
    d, _too_short = quota(*both, budget=60_000_000)
    assert (d.evidence["counted"], d.evidence["counted_engagements"]) == (1, [str(both[0].id)])
    assert [n["reason"] for n in d.evidence["not_counted"]] == ["too_short"]


def test_budget_band_edges_choose_the_rule():
    paid_60k = apprentice(1)
    assert quota(paid_60k, budget=49_999_999) == []  # band [0, 50M)
    d, underpaid = quota(paid_60k, budget=50_000_000)  # band [50M, ∞): lower bound inclusive
    assert (underpaid.rule, underpaid.evidence["min_rate_minor_per_week"]) == (Rule.apprenticeship_underpaid, 75_000)
    assert d.evidence["term_path"] == "apprenticeship[1]" and d.evidence["required"] == 2
    assert d.evidence["band"] == {"budget_min_minor": 50_000_000, "budget_max_minor": None}
    assert [f.rule for f in quota(budget=0)] == [Rule.apprenticeship_quota]  # 0 is inside [0, 50M)
    assert quota(budget=30_000_000, currency="GBP") == []  # no rule in the budget's currency


def test_the_sweep_uses_the_ratio_schedule_and_explains_it():
    # band [1] (50M+): min 2, ratio [first 1 per 1, from the 2nd one per 3]; 7 journey workers -> 1 + 2 = 3
    crew = [engagement(10 + i, department="camera", level=("journey", "senior", "head")[i % 3]) for i in range(7)]
    paid = [apprentice(i, rate_minor_per_week=75_000) for i in (1, 2)]
    [d] = quota(*crew, *paid, budget=60_000_000)
    ev = d.evidence
    assert (d.rule, d.subject) == (Rule.apprenticeship_quota, "camera")
    assert (ev["journey_level"], ev["min_apprentices"], ev["ratio_required"], ev["required"], ev["required_by"]) == (
        7,
        2,
        3,
        3,
        "ratio_schedule",
    )
    assert [(s["first_journey"], s["journey_in_step"], s["apprentices"]) for s in ev["ratio_steps"]] == [
        (1, 1, 1),
        (2, 6, 2),
    ]
    assert (ev["counted"], ev["missing"], ev["met"]) == (2, 1, False)
    assert ev["label"] == "screen-guild v1" and ev["compact"] == "screen-guild" and ev["version_hash"] == HASH
    assert ev["explanation"].startswith("screen-guild v1, camera, budget band from EUR 500,000.00 included")
    assert ev["reimbursable"] == [str(p.id) for p in paid] and ev["not_reimbursable"] == []
    assert "1 more" in d.remediation and "at least EUR 750.00 per week, 6 to 52 weeks" in d.remediation
    # a third placement meets the quota; it is beyond the fund's cap of 2, the only finding left
    third = apprentice(3, rate_minor_per_week=75_000)
    assert rules_of(quota(*crew, *paid, third, budget=60_000_000)) == [
        ("apprenticeship_over_reimbursement_cap", "camera", "warning")
    ]


def test_placements_beyond_the_reimbursement_cap_are_one_finding_per_department():
    # band [1]: cap 2; 10 journey workers -> 1 + floor(9 / 3) = 4 required; 3 counted, the third not reimbursable
    crew = [engagement(10 + i, department="camera") for i in range(10)]
    paid = [apprentice(i, rate_minor_per_week=75_000) for i in (1, 2, 3)]
    cap, d = quota(*crew, *paid, budget=60_000_000)  # ordered by rule name
    ev = d.evidence
    assert (ev["required"], ev["counted"], ev["max_reimbursed_placements"]) == (4, 3, 2)
    assert ev["reimbursable"] == [str(p.id) for p in paid[:2]] and ev["not_reimbursable"] == [str(paid[2].id)]
    assert "Person 3 beyond the cap are not reimbursable but still count toward the quota" in ev["explanation"]
    assert (cap.rule, cap.subject, cap.severity) == (
        Rule.apprenticeship_over_reimbursement_cap,
        "camera",
        Severity.warning,
    )
    assert cap.evidence["term_path"] == "apprenticeship[1].max_reimbursed_placements"
    assert (cap.evidence["max_reimbursed_placements"], cap.evidence["not_reimbursable"]) == (2, [str(paid[2].id)])
    assert cap.remediation == (
        "Do not claim reimbursement for Person 3 in camera: screen-guild v1's fund reimburses at most 2 "
        "placement(s), counting every placement claimed, qualifying or not, in order of start date; "
        "the production pays for these itself."
    )
    # 7 journey workers: 3 required and met, though one is beyond the cap: the cap finding alone
    assert [d.rule for d in quota(*crew[:7], *paid, budget=60_000_000)] == [Rule.apprenticeship_over_reimbursement_cap]


def test_the_reimbursement_cap_counts_placements_that_do_not_qualify():
    # band [0]: cap 1. The first to start is too short (so not counted, not reimbursed) yet uses the cap.
    short = apprentice(1, weeks=2)
    late = apprentice(2, start_date=START + timedelta(days=1), end_date=START + timedelta(days=70))
    drafts = quota(late, short)
    assert rules_of(drafts) == [
        ("apprenticeship_over_reimbursement_cap", "camera", "warning"),
        ("apprenticeship_too_short", str(short.id), "warning"),
    ]
    assert drafts[0].evidence["reimbursable"] == [] and drafts[0].evidence["not_reimbursable"] == [str(late.id)]


@pytest.mark.parametrize(
    ("weeks", "expected"),
    [
        (3, [("apprenticeship_too_short", "min_weeks", 4)]),  # band [0]: 4..26 weeks
        (4, []),
        (26, []),
        (27, [("apprenticeship_too_long", "max_weeks", 26)]),
    ],
)
def test_a_placement_too_short_or_too_long_is_a_finding_of_its_own(weeks, expected):
    ok, e = apprentice(1), apprentice(2, weeks=weeks)
    drafts = [d for d in quota(ok, e) if d.rule is not Rule.apprenticeship_over_reimbursement_cap]
    found = []
    for d in drafts:
        term = d.evidence["term_path"].rsplit(".", 1)[1]
        found.append((str(d.rule), term, d.evidence[term]))
    assert found == expected
    for d in drafts:  # the quota is met by ok: only the placement itself is flagged
        assert (d.subject, d.severity, d.evidence["weeks"], d.evidence["engagement"]) == (
            str(e.id),
            Severity.warning,
            weeks,
            str(e.id),
        )
        end = (START + timedelta(days=7 * weeks - 1)).isoformat()
        if weeks < 4:
            assert d.remediation == (
                "Extend Person 2's placement in camera to at least 4 weeks as screen-guild v1 requires "
                f"(it runs 3 week(s), 2027-03-01 to {end}); until then it does not count toward the quota."
            )
        else:
            assert d.remediation.startswith(
                "End Person 2's placement in camera within 26 weeks as screen-guild v1 requires "
                f"(it runs 27 week(s), 2027-03-01 to {end})"
            )


MAXIMUM = terms(
    apprenticeship=[
        {
            "department": "camera",
            "direction": "maximum",
            "budget_min_minor": 0,
            "currency": "EUR",
            "min_apprentices": 0,
            "ratio_schedule": [{"first_journey": 1, "per_journey": 2}, {"first_journey": 5, "per_journey": 4}],
            "min_rate_minor_per_week": 60_000,
            "min_weeks": 4,
            "mentor_required": False,
        }
    ]
)


@pytest.mark.parametrize(("journey", "allowed"), [(1, 0), (2, 1), (4, 2), (5, 2), (7, 2), (8, 3)])
def test_a_maximum_is_a_finding_when_over_and_none_at_it(journey, allowed):
    crew = [engagement(100 + i, department="camera") for i in range(journey)]
    placed = [
        apprentice(i, start_date=START + timedelta(days=i), end_date=START + timedelta(days=i + 69))
        for i in range(1, allowed + 2)
    ]

    def run(*e: EngagementFact):
        return evaluate_production(facts(*e), [bound(MAXIMUM)])

    assert run(*crew, *placed[:allowed]) == []  # at the maximum: nothing to find
    [d] = run(*crew, *placed)  # one more than allowed
    assert (d.rule, d.subject, d.severity) == (Rule.apprenticeship_over_maximum, "camera", Severity.violation)
    last = placed[-1]
    assert (d.evidence["allowed"], d.evidence["excess"], d.evidence["over_maximum"]) == (allowed, 1, [str(last.id)])
    assert d.evidence["direction"] == "maximum" and d.evidence["required"] == 0
    assert d.remediation == (
        f"camera has {allowed + 1} apprentice(s) or trainee(s) where screen-guild v1 allows at most {allowed}: end "
        f"or move 1 placement(s) ({last.person_name}, the latest to start); until then they are not counted or "
        "reimbursed."
    )


def test_an_underpaid_placement_is_its_own_finding_even_when_the_quota_is_met():
    ok, low = apprentice(1), apprentice(2, rate_minor_per_week=50_000)
    cap, d = quota(ok, low)  # band [0] reimburses one placement: low is beyond it (a finding of its own)
    assert (cap.rule, cap.subject) == (Rule.apprenticeship_over_reimbursement_cap, "camera")
    assert (d.rule, d.subject, d.severity) == (Rule.apprenticeship_underpaid, str(low.id), Severity.violation)
    ev = d.evidence
    assert (ev["term_path"], ev["engagement"], ev["person_name"], ev["department"]) == (
        "apprenticeship[0].min_rate_minor_per_week",
        str(low.id),
        "Person 2",
        "camera",
    )
    assert (
        ev["rate_minor_per_week"],
        ev["min_rate_minor_per_week"],
        ev["shortfall_minor_per_week"],
        ev["currency"],
    ) == (50_000, 60_000, 10_000, "EUR")
    assert "The quota is met." in ev["quota"]
    assert d.remediation == (
        "Raise Person 2's pay to at least EUR 600.00 per week as screen-guild v1 requires (it is EUR 500.00); "
        "until then the placement does not count toward the camera quota."
    )


# --- commitment_overdue ------------------------------------------------------------------------------

TODAY = date(2027, 4, 1)


def commitment(
    key: str = "skills_plan", due: date = TODAY - timedelta(days=3), status: str = "open", version_id: UUID = V1
) -> CommitmentFact:
    return CommitmentFact(
        version_id=version_id, key=key, title="Apprenticeship skills plan filed", due_date=due, status=status
    )


def overdue(*commitments: CommitmentFact, today: date | None = TODAY, versions=(V1,)):
    f = replace(facts(), commitments=list(commitments), today=today)
    return evaluate_production(f, [bound(version_id=v, slug=f"c{v.int}") for v in versions])


def test_an_open_commitment_past_its_due_date_is_overdue():
    [d] = overdue(commitment())
    assert (d.rule, d.subject, d.severity, d.version_id) == (
        Rule.commitment_overdue,
        "skills_plan",
        Severity.violation,
        V1,
    )
    ev = d.evidence
    assert (ev["due_date"], ev["days_late"], ev["checked_on"], ev["commitment"], ev["status"]) == (
        "2027-03-29",
        3,
        "2027-04-01",
        "skills_plan",
        "open",
    )
    assert d.remediation == (
        'File the skills_plan commitment ("Apprenticeship skills plan filed"), due on 2027-03-29 under c1 v1, '
        "and mark it done."
    )


def test_commitments_due_today_done_of_another_version_or_without_a_date_are_not_overdue():
    assert overdue(commitment(due=TODAY)) == []  # due today: not yet late
    assert [d.evidence["days_late"] for d in overdue(commitment(due=TODAY - timedelta(days=1)))] == [1]
    assert overdue(commitment(status="done")) == []
    assert overdue(commitment(version_id=V2)) == []  # the production is not bound to V2
    assert overdue(commitment(), today=None) == []
    both = overdue(commitment(), commitment("final_plan", version_id=V2), versions=(V1, V2))
    assert [(d.version_id, d.subject) for d in both] == [(V1, "skills_plan"), (V2, "final_plan")]


# --- the whole evaluation ---------------------------------------------------------------------------


def test_a_production_that_keeps_every_rule_has_no_findings():
    c = contract(
        1,
        contract_type="performer",
        planned_ai_uses=["performer_digital_replica", "rotoscoping"],
        clause_keys=["fees_and_schedule", "digital_replica_consent"],
    )
    everyone = [engagement(1, contract=c), apprentice(2), engagement(3, department="camera")]
    disclosures = [Disclosure("vfx_shot", 100, 10), Disclosure("script_page", 120, 0)]
    assert evaluate_production(facts(*everyone, disclosures=disclosures), [bound(CAMERA)]) == []


def test_each_bound_version_is_judged_on_its_own_and_order_is_deterministic():
    strict = terms(ai_disclosure={"max_ai_share_pct": 1.0}, certification={"human_produced_max_ai_share_pct": 1.0})
    a, b = bound(strict, V2, "a-fund", "c" * 64), bound(terms(), V1, "screen-guild")
    es = [engagement(3, contract=None), engagement(1, contract=contract(1, version_hashes=["c" * 64])), engagement(2)]
    f = facts(*es, disclosures=[Disclosure("vfx_shot", 100, 5)])
    drafts = evaluate_production(f, [b, a])
    # Person 3's missing contract is one obligation under both versions: one draft citing both
    assert [(d.version_id, str(d.rule), d.subject, d.versions) for d in drafts] == [
        (V2, "ai_share_exceeded", "production", (V2,)),
        (V2, "contract_missing", str(UUID(int=1003)), (V2, V1)),
        (V2, "contract_noncompliant", str(UUID(int=1002)), (V2,)),
        (V1, "contract_noncompliant", str(UUID(int=1001)), (V1,)),
    ]
    reversed_facts = facts(*reversed(es), disclosures=[Disclosure("vfx_shot", 100, 5)])
    assert evaluate_production(reversed_facts, [a, b]) == drafts
    assert len({d.key for d in drafts}) == len(drafts)


def test_escalation_goes_one_step_up_and_stops_at_critical():
    assert [escalated(s) for s in Severity] == [
        Severity.warning,
        Severity.violation,
        Severity.critical,
        Severity.critical,
    ]


# --- the fast path of the engagement rules ------------------------------------------------------------


@given(
    status=st.sampled_from(["issued", "void"]),
    contract_type=st.sampled_from(["crew", "performer", "writer"]),
    compliant=st.booleans(),
    hashes=st.sets(st.sampled_from([HASH, "b" * 64])),
    planned=st.sets(st.sampled_from(["performer_digital_replica", "voice_clone", "script_generation", "rotoscoping"])),
    clauses=st.sets(st.sampled_from(["fees_and_schedule", "digital_replica_consent", "no_scan_condition_of_hire"])),
    level=st.sampled_from(["apprentice", "journey", "head"]),
    has_contract=st.booleans(),
)
def test_an_engagement_in_order_is_flagged_by_no_engagement_rule(
    status, contract_type, compliant, hashes, planned, clauses, level, has_contract
):
    """The sweep skips the four engagement rules for contracts ``_in_order`` accepts: it must be exactly
    when none of them would find anything."""
    from guild.compliance.rules import _ENGAGEMENT_RULES, _in_order

    c = (
        contract(
            status=status,
            contract_type=contract_type,
            compliant=compliant,
            version_hashes=hashes,
            planned_ai_uses=planned,
            clause_keys=clauses,
        )
        if has_contract
        else None
    )
    e = engagement(level=level, contract=c)
    bt = bound(example_terms())
    found = [rule(facts(e), e, bt) for rule in _ENGAGEMENT_RULES]
    if _in_order(c, HASH):
        assert found == [None] * len(_ENGAGEMENT_RULES)


def test_settled_engagements_counted_by_level_give_the_drafts_of_the_listed_roster():
    """What the engine may count instead of load (``settled``) weighs in the quota as listed ones do."""
    from collections import Counter

    from guild.compliance.rules import Headcount, settled

    crew = [engagement(10 + i, department="camera", level=("journey", "senior", "head")[i % 3]) for i in range(7)]
    stale = engagement(30, department="camera", contract=contract(30, version_hashes=["b" * 64]))
    paid = [apprentice(i, rate_minor_per_week=75_000) for i in (1, 2)]
    roster = [*crew, stale, *paid]
    versions = [bound(terms(apprenticeship=example_terms().model_dump(mode="json")["apprenticeship"]))]
    assert [settled(e, [HASH]) for e in roster] == [True] * 7 + [False] * 3
    whole = facts(*roster, budget=60_000_000)
    counts = Counter((e.department, e.level) for e in crew)
    counted = replace(whole, engagements=[stale, *paid], settled=[Headcount(d, lv, n) for (d, lv), n in counts.items()])
    drafts = evaluate_production(whole, versions)
    assert evaluate_production(counted, versions) == drafts
    assert [d.evidence["journey_level"] for d in drafts if d.key == ("apprenticeship_quota", "camera")] == [8]
    # fewer counted: another verdict (the headcount is read)
    fewer = replace(counted, settled=[Headcount("camera", "journey", 1)])
    assert evaluate_production(fewer, versions) != drafts
    with pytest.raises(ValueError, match="placement"):
        Headcount("camera", "apprentice", 1)
