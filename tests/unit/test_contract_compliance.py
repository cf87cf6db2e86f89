"""Unit tests for contract compliance against every bound compact version (pure; no database)."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.clauses import ClauseParamsError, ContractContext, UnknownClause
from contracts.rules import (
    POLICY_STRICTNESS,
    ClauseChoice,
    ComplianceReport,
    Conflict,
    evaluate,
    merge_most_protective,
    required_clause_keys,
)
from guild.compacts.bound import BoundVersion
from guild.compacts.terms import AIUse, Policy, Terms, example_terms
from guild.domain.canonical import canonical_hash
from guild.domain.work import ContractType

EXAMPLE = example_terms().model_dump(mode="json")
REPLICA = "ai_uses.performer_digital_replica"


# --- builders ---------------------------------------------------------------------------------


def terms(ai_uses: dict[str, dict[str, Any]] | None = None, **sections: Any) -> Terms:
    doc = copy.deepcopy(EXAMPLE)
    doc["ai_uses"].update(ai_uses or {})
    doc.update(sections)
    return Terms.model_validate(doc)


def replica_rule(notice: int = 48, scope: str = "per_use", pay: float | None = 1.0, **more: Any) -> dict[str, Any]:
    rule = {"policy": "consent_required", "consent_notice_hours": notice, "consent_scope": scope, **more}
    return rule if pay is None else {**rule, "replica_pay_multiple_of_scale": pay}


def camera(**over: Any) -> list[dict[str, Any]]:
    """The example's apprenticeship rules with the small-budget camera rule changed."""
    rules = copy.deepcopy(EXAMPLE["apprenticeship"])
    rules[0].update(over)
    return rules


def bind(slug: str, t: Terms, number: int = 1) -> BoundVersion:
    return BoundVersion(
        version_id=uuid5(NAMESPACE_URL, f"{slug}/{number}"),
        compact_id=uuid5(NAMESPACE_URL, slug),
        compact_slug=slug,
        compact_title=slug.replace("-", " ").title(),
        version_number=number,
        version_hash=canonical_hash(t.model_dump(mode="json")),
        terms=t,
    )


GUILD = bind("screen-guild", terms())
FUND = bind("film-fund", terms({"performer_digital_replica": replica_rule(notice=72)}), number=3)


def context(kind: str = "performer", **over: Any) -> ContractContext:
    base: dict[str, Any] = {
        "contract_type": kind,
        "level": "journey",
        "rate_minor_per_week": 200_000,
        "currency": "EUR",
        "start_date": date(2026, 3, 2),
        "end_date": date(2026, 5, 29),
        "production_budget_minor": 30_000_000,
        "budget_currency": "EUR",
    }
    base |= {
        "performer": {"planned_ai_uses": {"performer_digital_replica"}},
        "writer": {"department": "writing"},
        "crew": {
            "department": "camera",
            "level": "apprentice",
            "rate_minor_per_week": 70_000,
            "mentor_level": "journey",
            "mentor_department": "camera",
        },
    }[kind]
    return ContractContext.model_validate(base | over)


def clause(key: str, **params: Any) -> dict[str, Any]:
    defaults: dict[str, dict[str, Any]] = {
        "fees_and_schedule": {
            "rate_minor_per_week": 200_000,
            "currency": "EUR",
            "payment_terms_days": 14,
            "schedule": "weekly",
        },
        "no_required_generative_tools": {"worker_may_be_required_to_use": False},
        "no_training_ingestion": {"ingestion_without_licence_permitted": False},
        "no_scan_condition_of_hire": {"consent_is_condition_of_hire": False},
        "digital_replica_consent": {
            "notice_hours": 72,
            "consent_scope": "per_use",
            "pay_multiple_of_scale": 1.5,
            "use_description": "Crowd extension in the harbour sequence (scenes 40-44).",
            "separate_signature": True,
        },
        "voice_likeness_licence": {
            "includes_voice": True,
            "exclusive": False,
            "duration_months": 24,
            "territory": "Worldwide",
        },
        "ai_material_disclosure": {"disclose_ai_generated_material": True, "ai_material_not_source_material": True},
        "apprenticeship_placement": {
            "rate_minor_per_week": 70_000,
            "currency": "EUR",
            "weeks": 10,
            "mentor_required": True,
        },
    }
    return {"key": key, "version": 1, "params": {**defaults[key], **params}}


def performer_clauses(**replica: Any) -> list[dict[str, Any]]:
    return [
        clause("fees_and_schedule"),
        clause("no_required_generative_tools"),
        clause("no_training_ingestion"),
        clause("no_scan_condition_of_hire"),
        clause("digital_replica_consent", **replica),
    ]


def writer_clauses(**disclosure: Any) -> list[dict[str, Any]]:
    return [
        clause("fees_and_schedule"),
        clause("no_required_generative_tools"),
        clause("no_training_ingestion"),
        clause("ai_material_disclosure", **disclosure),
    ]


def apprentice_clauses(**placement: Any) -> list[dict[str, Any]]:
    return [
        clause("fees_and_schedule", rate_minor_per_week=70_000),
        clause("no_required_generative_tools"),
        clause("no_training_ingestion"),
        clause("apprenticeship_placement", **placement),
    ]


def problems(report: ComplianceReport) -> list[tuple[str | None, str, str]]:
    return [(v.compact_slug, v.term_path, v.rule) for v in report.violations]


# --- compliant contracts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "clauses", "required"),
    [
        ("performer", performer_clauses(), {"digital_replica_consent", "no_scan_condition_of_hire"}),
        ("writer", writer_clauses(), {"ai_material_disclosure"}),
        ("crew", apprentice_clauses(), {"apprenticeship_placement"}),
    ],
)
def test_compliant_contracts_cite_every_compact(kind: str, clauses: list, required: set[str]) -> None:
    report = evaluate(ContractType(kind), context(kind), clauses, [GUILD, FUND])
    assert report.compliant, report.violations
    assert report.violations == [] and report.conflicts == []
    assert set(report.required_clauses) == required | {
        "fees_and_schedule",
        "no_required_generative_tools",
        "no_training_ingestion",
    }
    cited = {(m.compact_slug, m.version_number, m.version_hash) for m in report.met}
    assert {(b.compact_slug, b.version_number, b.version_hash) for b in (GUILD, FUND)} <= cited
    for bv in (GUILD, FUND):  # every required clause is recorded as present, per compact
        present = {m.clause for m in report.met if m.rule == "clause_required" and m.compact_slug == bv.compact_slug}
        assert present == set(report.required_clauses) - {"fees_and_schedule"}
    json.dumps(report.model_dump(mode="json"))
    json.dumps(report.effective_terms)


def test_met_entries_name_terms_and_values() -> None:
    report = evaluate("performer", context(), performer_clauses(), [GUILD, FUND])
    notice = [m for m in report.met if m.term_path == f"{REPLICA}.consent_notice_hours"]
    assert [(m.compact_slug, m.required, m.actual, m.clause) for m in notice] == [
        ("film-fund", {"min": 72}, 72, "digital_replica_consent"),
        ("screen-guild", {"min": 48}, 72, "digital_replica_consent"),
    ]


def test_report_is_deterministic() -> None:
    clauses = performer_clauses()
    one = evaluate("performer", context(), clauses, [GUILD, FUND])
    two = evaluate("performer", context(), list(reversed(clauses)), [FUND, GUILD])
    assert one.met == two.met and one.violations == two.violations and one.required_clauses == two.required_clauses
    assert evaluate("performer", context(), clauses, [GUILD, FUND]) == one


# --- overlapping compacts: the most protective term wins ---------------------------------------


def test_stricter_notice_wins_and_names_the_stricter_compact() -> None:
    effective, conflicts = merge_most_protective([GUILD, FUND])
    assert conflicts == []
    replica = effective["ai_uses"]["performer_digital_replica"]
    assert replica["consent_notice_hours"] == 72 and replica["set_by"]["consent_notice_hours"] == ["film-fund v3"]

    report = evaluate("performer", context(), performer_clauses(notice_hours=48), [GUILD, FUND])
    assert not report.compliant
    [violation] = report.violations
    assert (violation.compact_slug, violation.version_number, violation.version_hash) == (
        "film-fund",
        3,
        FUND.version_hash,
    )
    assert violation.term_path == f"{REPLICA}.consent_notice_hours"
    assert (violation.required, violation.actual, violation.clause) == ({"min": 72}, 48, "digital_replica_consent")
    assert "film-fund v3" in violation.message


def test_merge_takes_the_most_protective_value_of_each_field() -> None:
    strict = bind(
        "strict",
        terms(
            {
                "performer_digital_replica": replica_rule(notice=24, scope="per_project", pay=3.0),
                "rotoscoping": {"policy": "permitted", "worker_may_be_required_to_use": True},
                "de_ageing": {"policy": "prohibited"},
                "script_generation": {"policy": "disclosure_required"},
            },
            ai_disclosure={**EXAMPLE["ai_disclosure"], "max_ai_share_pct": 10.0},
            training_data={"ingestion_without_licence_prohibited": False, "fee_schedule": []},
        ),
    )
    effective, _ = merge_most_protective([GUILD, strict])
    uses = effective["ai_uses"]
    replica = uses["performer_digital_replica"]
    assert (replica["consent_notice_hours"], replica["consent_scope"], replica["replica_pay_multiple_of_scale"]) == (
        48,
        "per_use",
        3.0,
    )
    assert replica["set_by"]["consent_scope"] == ["screen-guild v1"]
    assert replica["set_by"]["replica_pay_multiple_of_scale"] == ["strict v1"]
    assert uses["rotoscoping"]["worker_may_be_required_to_use"] is False  # permissions are AND-ed
    assert uses["de_ageing"]["policy"] == "prohibited" and uses["de_ageing"]["consent_notice_hours"] is None
    assert uses["script_generation"]["policy"] == "prohibited"
    assert effective["training_data"]["ingestion_without_licence_prohibited"] is True
    assert effective["training_data"]["set_by"]["ingestion_without_licence_prohibited"] == ["screen-guild v1"]
    assert effective["ai_disclosure"]["max_ai_share_pct"] == 10.0
    assert effective["compacts"] == ["screen-guild v1", "strict v1"]


@given(st.lists(st.sampled_from(list(Policy)), min_size=1, max_size=4))
@settings(max_examples=60, deadline=None)
def test_strictest_policy_wins(policies: list[Policy]) -> None:
    def rule(p: Policy) -> dict[str, Any]:
        return replica_rule() if p is Policy.consent_required else {"policy": str(p)}

    bound = [bind(f"c{i}", terms({"voice_clone": rule(p)})) for i, p in enumerate(policies)]
    effective, _ = merge_most_protective(bound)
    assert effective["ai_uses"]["voice_clone"]["policy"] == max(policies, key=POLICY_STRICTNESS.__getitem__)


@given(
    st.integers(min_value=0, max_value=8760),
    st.integers(min_value=0, max_value=8760),
    st.integers(min_value=0, max_value=8760),
)
@settings(max_examples=80, deadline=None)
def test_notice_at_or_above_the_merged_maximum_is_met(a: int, b: int, notice: int) -> None:
    bound = [
        bind("a", terms({"performer_digital_replica": replica_rule(notice=a)})),
        bind("b", terms({"performer_digital_replica": replica_rule(notice=b)})),
    ]
    effective, _ = merge_most_protective(bound)
    merged = effective["ai_uses"]["performer_digital_replica"]["consent_notice_hours"]
    assert merged == max(a, b)
    report = evaluate("performer", context(), performer_clauses(notice_hours=notice), bound)
    notice_violations = [v for v in report.violations if v.term_path == f"{REPLICA}.consent_notice_hours"]
    assert report.compliant == (notice >= merged)
    assert (notice_violations == []) == (notice >= merged)
    assert {v.compact_slug for v in notice_violations} == {s for s, h in (("a", a), ("b", b)) if notice < h}


# --- performer violations ---------------------------------------------------------------------


def test_prohibited_replica_planned_is_one_violation_per_prohibiting_compact() -> None:
    banning = bind("no-replicas", terms({"performer_digital_replica": {"policy": "prohibited"}}))
    report = evaluate("performer", context(), performer_clauses(), [GUILD, banning])
    assert problems(report) == [("no-replicas", f"{REPLICA}.policy", "planned_use_prohibited")]
    assert report.violations[0].version_hash == banning.version_hash

    # without the consent clause: still refused, by the plan itself, and the guild still wants consent
    without = [c for c in performer_clauses() if c["key"] != "digital_replica_consent"]
    report = evaluate("performer", context(), without, [GUILD, banning])
    assert problems(report) == [
        ("no-replicas", f"{REPLICA}.policy", "planned_use_prohibited"),
        ("screen-guild", f"{REPLICA}.policy", "clause_required"),
    ]
    assert report.violations[0].clause is None


def test_unplanned_replica_under_prohibition_is_fine() -> None:
    banning = bind("no-replicas", terms({"performer_digital_replica": {"policy": "prohibited"}}))
    clauses = [c for c in performer_clauses() if c["key"] != "digital_replica_consent"]
    report = evaluate("performer", context(planned_ai_uses=set()), clauses, [banning])
    assert report.compliant, report.violations


def test_consent_as_condition_of_hire_is_refused_for_each_rule_and_compact() -> None:
    clauses = performer_clauses()
    clauses[3] = clause("no_scan_condition_of_hire", consent_is_condition_of_hire=True)
    report = evaluate("performer", context(), clauses, [GUILD, FUND])
    expected = [
        (slug, f"ai_uses.{use}.consent_may_be_condition_of_hire", "consent_not_condition_of_hire")
        for slug in ("film-fund", "screen-guild")
        for use in ("de_ageing", "performer_digital_replica", "voice_clone")
    ]
    assert problems(report) == expected


def test_planned_voice_clone_needs_consent_and_licence() -> None:
    planned = context(planned_ai_uses={"performer_digital_replica", "voice_clone"})
    keys = required_clause_keys(ContractType.performer, planned, [GUILD])
    assert {"digital_replica_consent", "voice_likeness_licence"} <= keys
    report = evaluate("performer", planned, performer_clauses(), [GUILD])
    assert problems(report) == [("screen-guild", "ai_uses.voice_clone.policy", "clause_required")]
    report = evaluate("performer", planned, [*performer_clauses(), clause("voice_likeness_licence")], [GUILD])
    assert report.compliant, report.violations
    assert any(m.term_path.startswith("ai_uses.voice_clone.consent_notice") for m in report.met)


def test_replica_consent_below_every_term() -> None:
    report = evaluate(
        "performer",
        context(),
        performer_clauses(
            notice_hours=1, consent_scope="per_project", pay_multiple_of_scale=0.5, separate_signature=False
        ),
        [GUILD],
    )
    assert problems(report) == [
        ("screen-guild", f"{REPLICA}.consent_notice_hours", "consent_notice"),
        ("screen-guild", f"{REPLICA}.consent_scope", "consent_scope"),
        ("screen-guild", f"{REPLICA}.policy", "separate_consent_signature"),
        ("screen-guild", f"{REPLICA}.replica_pay_multiple_of_scale", "replica_pay"),
    ]


# --- writer violations ------------------------------------------------------------------------


def test_writer_without_ai_material_protections() -> None:
    report = evaluate("writer", context("writer"), writer_clauses(ai_material_not_source_material=False), [GUILD])
    assert problems(report) == [
        ("screen-guild", "ai_uses.literary_material_generation.policy", "ai_material_not_source_material"),
        ("screen-guild", "ai_uses.script_generation.policy", "ai_material_not_source_material"),
    ]
    permitted = bind(
        "permissive",
        terms({"script_generation": {"policy": "permitted"}, "literary_material_generation": {"policy": "permitted"}}),
    )
    clauses = [c for c in writer_clauses() if c["key"] != "ai_material_disclosure"]
    assert evaluate("writer", context("writer"), clauses, [permitted]).compliant


# --- apprentice violations --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("placement", "over", "expected"),
    [
        (
            {"rate_minor_per_week": 59_000},
            {"rate_minor_per_week": 59_000},
            [("apprenticeship[0].min_rate_minor_per_week", "min_rate")],
        ),
        ({"weeks": 3}, {}, [("apprenticeship[0].min_weeks", "min_weeks")]),
        ({"weeks": 30}, {}, [("apprenticeship[0].max_weeks", "max_weeks")]),
        (
            {},
            {"mentor_department": "sound"},
            [("apprenticeship[0].mentor_required", "mentor_department"), ("contract.mentor", "mentor_named")],
        ),
        (
            {},
            {"mentor_level": "junior"},
            [("apprenticeship[0].mentor_required", "mentor_level"), ("contract.mentor", "mentor_named")],
        ),
        ({"mentor_required": False}, {}, [("apprenticeship[0].mentor_required", "mentor_clause")]),
    ],
)
def test_apprentice_violations(placement: dict, over: dict, expected: list) -> None:
    clauses = apprentice_clauses(**placement)
    clauses[0]["params"]["rate_minor_per_week"] = over.get("rate_minor_per_week", 70_000)
    report = evaluate("crew", context("crew", **over), clauses, [GUILD])
    assert not report.compliant
    assert sorted((v.term_path, v.rule) for v in report.violations) == sorted(expected)
    compact = [v for v in report.violations if not v.term_path.startswith("contract.")]
    assert all(v.compact_slug == "screen-guild" and v.version_hash == GUILD.version_hash for v in compact)


def test_apprentice_rate_must_meet_the_stricter_compact() -> None:
    richer = bind("camera-fund", terms(apprenticeship=camera(min_rate_minor_per_week=75_000)))
    report = evaluate("crew", context("crew"), apprentice_clauses(), [GUILD, richer])
    [violation] = report.violations
    assert (violation.compact_slug, violation.term_path, violation.required, violation.actual) == (
        "camera-fund",
        "apprenticeship[0].min_rate_minor_per_week",
        {"min": 75_000, "currency": "EUR"},
        70_000,
    )
    assert violation.message.endswith(
        "apprentice pay per week must be at least EUR 750.00; the contract gives EUR 700.00"
    )
    effective = report.effective_terms["apprenticeship"]
    [cam] = [e for e in effective if e["department"] == "camera"]
    assert cam["min_rate_minor_per_week"] == 75_000 and cam["set_by"]["min_rate_minor_per_week"] == ["camera-fund v1"]


def test_apprentice_paid_in_another_currency() -> None:
    crew = context("crew", currency="USD")
    clauses = apprentice_clauses(currency="USD")
    clauses[0]["params"]["currency"] = "USD"
    report = evaluate("crew", crew, clauses, [GUILD])
    assert problems(report) == [("screen-guild", "apprenticeship[0].min_rate_minor_per_week", "currency_mismatch")]


def test_apprenticeship_clause_on_the_wrong_contract() -> None:
    journey = context("crew", level="journey")
    report = evaluate("crew", journey, apprentice_clauses(), [GUILD])
    assert problems(report) == [(None, "contract.clauses[3]", "clause_not_applicable")]
    assert "apprenticeship_placement" not in report.required_clauses
    performer = evaluate("performer", context(), [*performer_clauses(), clause("apprenticeship_placement")], [GUILD])
    assert problems(performer) == [(None, "contract.clauses[5]", "clause_not_applicable")]
    assert performer.violations[0].required == {"contract_types": ["crew"], "levels": ["apprentice", "trainee"]}


def test_apprentice_outside_any_quota_band_needs_no_placement_clause() -> None:
    sound = context("crew", department="sound", mentor_department="sound")
    clauses = [c for c in apprentice_clauses() if c["key"] != "apprenticeship_placement"]
    report = evaluate("crew", sound, clauses, [GUILD])
    assert report.compliant and "apprenticeship_placement" not in report.required_clauses


# --- conflicts --------------------------------------------------------------------------------


def test_min_weeks_above_another_compacts_max_weeks_is_a_conflict() -> None:
    long = bind("long-placements", terms(apprenticeship=camera(min_weeks=12, max_weeks=52)))
    short = bind("short-placements", terms(apprenticeship=camera(min_weeks=4, max_weeks=8)), number=2)
    report = evaluate("crew", context("crew"), apprentice_clauses(weeks=10), [long, short])
    assert not report.compliant
    [conflict] = report.conflicts
    assert conflict.term_path == "apprenticeship.camera.weeks"
    assert conflict.compacts == ["long-placements v1", "short-placements v2"]
    assert "long-placements v1 requires at least 12 weeks" in conflict.detail
    assert "short-placements v2 allows at most 8 weeks" in conflict.detail
    # whatever length is chosen, one of them is violated: reported, not guessed
    for weeks in (6, 10, 14):
        assert evaluate("crew", context("crew"), apprentice_clauses(weeks=weeks), [long, short]).violations
    # the conflict concerns camera apprentices only
    performer = evaluate("performer", context(), performer_clauses(), [long, short])
    assert performer.compliant and performer.conflicts == []


def test_merge_without_a_budget_reports_conflicts_per_band() -> None:
    long = bind("long", terms(apprenticeship=camera(min_weeks=12, max_weeks=52)))
    short = bind("short", terms(apprenticeship=camera(max_weeks=8)))
    _, conflicts = merge_most_protective([long, short])
    assert [c.term_path for c in conflicts] == ["apprenticeship.camera.weeks"]
    assert "EUR 0.00 to under EUR 500,000.00" in conflicts[0].detail


def test_different_currencies_for_the_same_department_are_a_conflict() -> None:
    dollars = bind("us-fund", terms(apprenticeship=[{**EXAMPLE["apprenticeship"][0], "currency": "USD"}]))
    _, conflicts = merge_most_protective([GUILD, dollars])
    assert [(c.term_path, c.compacts) for c in conflicts] == [
        ("apprenticeship.camera.currency", ["screen-guild v1", "us-fund v1"])
    ]
    report = evaluate("crew", context("crew"), apprentice_clauses(), [GUILD, dollars])
    assert not report.compliant
    assert [(c.term_path, c.compacts) for c in report.conflicts] == [("apprenticeship.camera.currency", ["us-fund v1"])]
    assert "only in USD" in report.conflicts[0].detail and "EUR" in report.conflicts[0].detail


def test_merge_without_a_budget_splits_bands() -> None:
    wide = bind(
        "wide",
        terms(
            apprenticeship=[
                {**EXAMPLE["apprenticeship"][0], "budget_max_minor": 100_000_000, "min_rate_minor_per_week": 70_000}
            ]
        ),
    )
    effective, conflicts = merge_most_protective([GUILD, wide])
    assert conflicts == []
    bands = [
        (
            e["budget_min_minor"],
            e["budget_max_minor"],
            e["min_rate_minor_per_week"],
            e["set_by"]["min_rate_minor_per_week"],
        )
        for e in effective["apprenticeship"]
        if e["department"] == "camera"
    ]
    assert bands == [
        (0, 50_000_000, 70_000, ["wide v1"]),
        (50_000_000, 100_000_000, 75_000, ["screen-guild v1"]),
        (100_000_000, None, 75_000, ["screen-guild v1"]),
    ]


def test_conflict_model() -> None:
    conflict = Conflict(term_path="apprenticeship.camera.weeks", compacts=["a v1", "b v2"], detail="x")
    assert conflict.model_dump() == {
        "term_path": "apprenticeship.camera.weeks",
        "compacts": ["a v1", "b v2"],
        "detail": "x",
    }


# --- required clauses -------------------------------------------------------------------------


def test_missing_clause_is_one_violation_per_requiring_compact() -> None:
    clauses = [c for c in performer_clauses() if c["key"] != "no_training_ingestion"]
    open_fund = bind(
        "open-fund", terms(training_data={"ingestion_without_licence_prohibited": False, "fee_schedule": []})
    )
    report = evaluate("performer", context(), clauses, [GUILD, FUND, open_fund])
    missing = [v for v in report.violations if v.rule == "clause_required"]
    assert [(v.compact_slug, v.term_path, v.required, v.actual) for v in missing] == [
        ("film-fund", "training_data.ingestion_without_licence_prohibited", "clause no_training_ingestion", "absent"),
        (
            "screen-guild",
            "training_data.ingestion_without_licence_prohibited",
            "clause no_training_ingestion",
            "absent",
        ),
    ]
    assert report.violations == missing


def test_fees_clause_is_always_required_and_must_match_the_contract() -> None:
    clauses = [c for c in performer_clauses() if c["key"] != "fees_and_schedule"]
    assert problems(evaluate("performer", context(), clauses, [GUILD])) == [
        (None, "contract.clauses", "clause_required")
    ]
    assert problems(evaluate("performer", context(rate_minor_per_week=1), performer_clauses(), [GUILD])) == [
        (None, "contract.rate", "rate_matches_contract")
    ]
    assert required_clause_keys(ContractType.crew, context("crew", level="senior"), []) == {"fees_and_schedule"}


def test_required_clause_keys() -> None:
    assert required_clause_keys(ContractType.performer, context(planned_ai_uses=set()), [GUILD]) == {
        "fees_and_schedule",
        "no_required_generative_tools",
        "no_training_ingestion",
        "no_scan_condition_of_hire",
    }
    assert required_clause_keys(ContractType.writer, context("writer"), [GUILD]) == {
        "fees_and_schedule",
        "no_required_generative_tools",
        "no_training_ingestion",
        "ai_material_disclosure",
    }
    assert "apprenticeship_placement" in required_clause_keys(
        ContractType.crew, context("crew", level="trainee"), [GUILD]
    )


def test_duplicate_clause_is_refused() -> None:
    report = evaluate("performer", context(), [*performer_clauses(), clause("no_training_ingestion")], [GUILD])
    assert problems(report) == [(None, "contract.clauses[5]", "duplicate_clause")]


# --- refusals raised to the caller ------------------------------------------------------------


def test_unknown_clause_raises_with_the_key() -> None:
    with pytest.raises(UnknownClause) as info:
        evaluate(
            "performer", context(), [*performer_clauses(), {"key": "mystery", "version": 1, "params": {}}], [GUILD]
        )
    assert info.value.key == "mystery"
    with pytest.raises(UnknownClause):
        evaluate("performer", context(), [ClauseChoice(key="fees_and_schedule", version=9, params={})], [GUILD])


def test_bad_params_raise_with_the_field() -> None:
    clauses = performer_clauses()
    clauses[4]["params"]["notice_hours"] = "soon"
    with pytest.raises(ClauseParamsError) as info:
        evaluate("performer", context(), clauses, [GUILD])
    assert info.value.index == 4
    assert info.value.fields == ["clauses[4].params.notice_hours"]


def test_clause_choice_is_closed() -> None:
    with pytest.raises(ValueError):
        ClauseChoice.model_validate({"key": "fees_and_schedule", "version": 1, "params": {}, "extra": True})


def test_contract_type_must_match_the_context() -> None:
    with pytest.raises(ValueError):
        evaluate("writer", context(), performer_clauses(), [GUILD])


def test_no_bound_compacts() -> None:
    report = evaluate(
        "crew", context("crew", level="junior"), [clause("fees_and_schedule", rate_minor_per_week=70_000)], []
    )
    assert report.compliant and report.required_clauses == ["fees_and_schedule"]
    assert report.effective_terms["ai_uses"] == {} and report.effective_terms["compacts"] == []


def test_every_ai_use_merges() -> None:
    effective, _ = merge_most_protective([GUILD])
    assert set(effective["ai_uses"]) == {str(u) for u in AIUse}
