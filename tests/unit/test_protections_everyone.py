"""AI-use protections follow the person, whatever the contract type; licences, replica pay and kit rental
in money; plain-text clauses cannot override typed terms (pure; no database).

Expected amounts are computed by hand from the example terms: replica scale EUR 1,500.00 a day at a
multiple of 1.0; licences non-exclusive, at most 24 months; kit rental at least EUR 50.00 a week.
"""

from __future__ import annotations

from typing import Any

import pytest

from contracts.rules import CustomClauseFacts, evaluate
from contracts.screening import screen_custom_clause
from guild.compacts.terms import Terms
from tests.unit.test_contract_compliance import GUILD, bind, clause, context, problems, replica_rule, terms

REPLICA = "ai_uses.performer_digital_replica"
SCAN = {"planned_ai_uses": {"performer_digital_replica"}}


def v2(key: str, **params: Any) -> dict[str, Any]:
    defaults: dict[str, dict[str, Any]] = {
        "digital_replica_consent": {
            "notice_hours": 72,
            "consent_scope": "per_use",
            "use_description": "Photogrammetry scan of the grip for the collapsing-crane shot (scene 51).",
            "scale_minor_per_day": 150_000,
            "replica_pay_minor_per_day": 150_000,
            "currency": "EUR",
            "separate_signature": True,
        },
        "no_scan_condition_of_hire": {"consent_is_condition_of_hire": False},
        "voice_likeness_licence": {
            "includes_voice": False,
            "exclusive": False,
            "duration_months": 12,
            "territory": "Europe",
        },
        "no_required_generative_tools": {"worker_may_be_required_to_use": False, "displacing_tools_excluded": True},
    }
    return {"key": key, "version": 2, "params": {**defaults[key], **params}}


def kit(**params: Any) -> dict[str, Any]:
    base = {
        "tools": "Own licensed denoising model",
        "rate_minor_per_week": 7_500,
        "currency": "EUR",
        "supplied_at_workers_choice": True,
    }
    return {"key": "ai_tool_kit_rental", "version": 1, "params": {**base, **params}}


def crew_base() -> list[dict[str, Any]]:
    return [
        clause("fees_and_schedule", rate_minor_per_week=200_000),
        clause("no_required_generative_tools"),
        clause("no_training_ingestion"),
    ]


def crew(**over: Any) -> Any:
    return context("crew", level="journey", rate_minor_per_week=200_000, **over)


def violations(report: Any) -> set[tuple[str, str]]:
    return {(v.term_path, v.rule) for v in report.violations}


# --- the person, whatever the contract type -----------------------------------------------------------


def test_crew_contract_planning_a_scan_needs_consent_and_no_condition_clauses() -> None:
    """The reported case: a crew contract plans a scan, with no consent clause: refused, naming both."""
    report = evaluate("crew", crew(**SCAN), crew_base(), [GUILD])
    assert not report.compliant
    assert {v.clause for v in report.violations if v.rule == "clause_required"} == {
        "digital_replica_consent",
        "no_scan_condition_of_hire",
    }
    assert {"digital_replica_consent", "no_scan_condition_of_hire"} <= set(report.required_clauses)


def test_crew_contract_without_planned_likeness_use_needs_neither() -> None:
    report = evaluate("crew", crew(), crew_base(), [GUILD])
    assert report.compliant, report.violations
    assert "digital_replica_consent" not in report.required_clauses
    assert "no_scan_condition_of_hire" not in report.required_clauses


@pytest.mark.parametrize("kind", ["crew", "writer"])
def test_version_two_clauses_protect_crew_and_writers(kind: str) -> None:
    ctx = crew(**SCAN) if kind == "crew" else context("writer", **SCAN)
    base = crew_base() if kind == "crew" else [*crew_base(), clause("ai_material_disclosure")]
    report = evaluate(kind, ctx, [*base, v2("digital_replica_consent"), v2("no_scan_condition_of_hire")], [GUILD])
    assert report.compliant, report.violations


def test_performer_only_first_versions_do_not_apply_to_crew() -> None:
    clauses = [*crew_base(), clause("digital_replica_consent"), clause("no_scan_condition_of_hire")]
    report = evaluate("crew", crew(**SCAN), clauses, [GUILD])
    assert {(v.clause, v.rule) for v in report.violations} >= {
        ("digital_replica_consent", "clause_not_applicable"),
        ("no_scan_condition_of_hire", "clause_not_applicable"),
    }


def test_scan_as_condition_of_hire_is_refused_for_crew() -> None:
    clauses = [
        *crew_base(),
        v2("digital_replica_consent"),
        v2("no_scan_condition_of_hire", consent_is_condition_of_hire=True),
    ]
    report = evaluate("crew", crew(**SCAN), clauses, [GUILD])
    assert (f"{REPLICA}.consent_may_be_condition_of_hire", "consent_not_condition_of_hire") in violations(report)


# --- replica pay in money -------------------------------------------------------------------------------


def test_replica_pay_below_the_multiple_of_scale_is_refused_in_money() -> None:
    clauses = [
        *crew_base(),
        v2("digital_replica_consent", replica_pay_minor_per_day=120_000),
        v2("no_scan_condition_of_hire"),
    ]
    report = evaluate("crew", crew(**SCAN), clauses, [GUILD])
    [pay] = [v for v in report.violations if v.rule == "replica_pay"]
    assert pay.term_path == f"{REPLICA}.replica_pay_multiple_of_scale"
    assert pay.required == {"min": 150_000, "currency": "EUR"} and pay.actual == 120_000
    assert "must be at least EUR 1,500.00 (1 × scale of EUR 1,500.00); the contract gives EUR 1,200.00" in pay.message


def test_a_lower_stated_scale_cannot_lower_the_required_pay() -> None:
    """A clause that states a scale below the compact's is refused, and pay is still owed on the compact's."""
    rule = replica_rule(pay=1.5, replica_scale_minor_per_day=150_000, replica_scale_currency="EUR")
    bound = bind("scale-guild", terms({"performer_digital_replica": rule}))
    consent = v2("digital_replica_consent", scale_minor_per_day=100_000, replica_pay_minor_per_day=150_000)
    report = evaluate("crew", crew(**SCAN), [*crew_base(), consent, v2("no_scan_condition_of_hire")], [bound])
    by_rule = {v.rule: v for v in report.violations}
    assert "must be at least EUR 1,500.00" in by_rule["replica_scale"].message
    assert by_rule["replica_pay"].required == {"min": 225_000, "currency": "EUR"}  # 1.5 × 1,500.00
    assert "at least EUR 2,250.00" in by_rule["replica_pay"].message


def test_replica_pay_in_another_currency_is_refused() -> None:
    consent = v2("digital_replica_consent", currency="GBP")
    report = evaluate("crew", crew(**SCAN), [*crew_base(), consent, v2("no_scan_condition_of_hire")], [GUILD])
    assert (f"{REPLICA}.replica_scale_currency", "currency_mismatch") in violations(report)
    assert ("contract.currency", "currency_matches_contract") in violations(report)


# --- licences of voice and likeness ---------------------------------------------------------------------


def _licence(**params: Any) -> Any:
    clauses = [
        *crew_base(),
        v2("digital_replica_consent"),
        v2("no_scan_condition_of_hire"),
        v2("voice_likeness_licence", **params),
    ]
    return evaluate("crew", crew(**SCAN), clauses, [GUILD])


def test_licence_within_the_limits_complies() -> None:
    assert _licence().compliant


def test_exclusive_licence_is_refused_when_the_compact_permits_only_non_exclusive() -> None:
    report = _licence(exclusive=True)
    assert violations(report) == {("likeness_licence.exclusive_permitted", "licence_exclusive")}


def test_licence_longer_than_the_maximum_is_refused() -> None:
    [v] = _licence(duration_months=36).violations
    assert (v.term_path, v.required, v.actual) == ("likeness_licence.max_duration_months", {"max": 24}, 36)


def test_perpetual_licence_is_refused_naming_both_properties() -> None:
    report = _licence(duration_months=None, perpetual=True, exclusive=True)
    assert violations(report) == {
        ("likeness_licence.exclusive_permitted", "licence_exclusive"),
        ("likeness_licence.max_duration_months", "licence_duration"),
    }
    [duration] = [v for v in report.violations if v.rule == "licence_duration"]
    assert duration.actual == "perpetual" and "at most 24 months" in duration.message


def test_perpetual_licence_allowed_where_the_terms_say_so() -> None:
    open_terms = terms(likeness_licence={"exclusive_permitted": True, "perpetual_permitted": True})
    clauses = [
        *crew_base(),
        v2("digital_replica_consent"),
        v2("no_scan_condition_of_hire"),
        v2("voice_likeness_licence", duration_months=None, perpetual=True, exclusive=True),
    ]
    assert evaluate("crew", crew(**SCAN), clauses, [bind("open", open_terms)]).compliant


def test_perpetual_permitted_with_a_maximum_is_not_a_valid_term() -> None:
    with pytest.raises(ValueError, match="perpetual_with_max_duration"):
        terms(likeness_licence={"exclusive_permitted": False, "max_duration_months": 12, "perpetual_permitted": True})


# --- kit rental and displacing tools --------------------------------------------------------------------


def test_kit_rental_at_or_above_the_minimum_complies() -> None:
    assert evaluate("crew", crew(), [*crew_base(), kit()], [GUILD]).compliant


def test_kit_rental_below_the_minimum_is_refused_in_money() -> None:
    [v] = evaluate("crew", crew(), [*crew_base(), kit(rate_minor_per_week=4_000)], [GUILD]).violations
    assert v.rule == "kit_rental_rate" and "at least EUR 50.00; the contract gives EUR 40.00" in v.message


def test_kit_rental_refused_where_the_compact_does_not_permit_it() -> None:
    closed = bind(
        "closed",
        terms(ai_tools={"kit_rental_permitted": False, "required_prompting_of_displacing_tools_prohibited": True}),
    )
    assert violations(evaluate("crew", crew(), [*crew_base(), kit()], [closed])) == {
        ("ai_tools.kit_rental_permitted", "kit_rental_permitted")
    }


def test_kit_rental_is_never_a_condition_of_engagement() -> None:
    report = evaluate("crew", crew(), [*crew_base(), kit(supplied_at_workers_choice=False)], [GUILD])
    assert violations(report) == {("contract.kit_rental", "kit_at_workers_choice")}


def _tools_terms() -> Terms:
    """Editing assistance may be required, but never prompting tools that displace crew."""
    doc = terms().model_dump(mode="json")
    doc["ai_uses"] = {"editing_assist": {"policy": "permitted", "worker_may_be_required_to_use": True}}
    return Terms.model_validate(doc)


def test_required_tools_must_exclude_displacing_tools() -> None:
    bound = bind("tools", _tools_terms())
    base = [clause("fees_and_schedule", rate_minor_per_week=200_000), clause("no_training_ingestion")]
    v1_required = {
        "key": "no_required_generative_tools",
        "version": 1,
        "params": {"worker_may_be_required_to_use": True},
    }
    refused = evaluate("crew", crew(), [*base, v1_required], [bound])
    assert violations(refused) == {
        ("ai_tools.required_prompting_of_displacing_tools_prohibited", "no_required_displacing_tools")
    }
    excluded = v2("no_required_generative_tools", worker_may_be_required_to_use=True, displacing_tools_excluded=True)
    assert evaluate("crew", crew(), [*base, excluded], [bound]).compliant


# --- plain-text clauses ---------------------------------------------------------------------------------

CONDITION = "Scans. The Worker's consent to the full-body scan is a condition of this engagement."


def test_screen_finds_scan_as_condition_of_hire() -> None:
    paths = [t.term_path for t in screen_custom_clause(CONDITION, terms())]
    assert paths == [f"{REPLICA}.policy", f"{REPLICA}.consent_may_be_condition_of_hire"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Catering. Hot meals are provided on every shoot day.", []),
        ("Training. The apprentice receives training from the camera department.", []),
        (
            "The footage may be used to train the producer's AI model.",
            ["training_data.ingestion_without_licence_prohibited"],
        ),
        (
            "The Writer shall revise AI-generated script pages.",
            ["ai_uses.script_generation.policy", "ai_uses.literary_material_generation.policy"],
        ),
        ("A synthetic copy of the Performer's voice may be produced.", ["ai_uses.voice_clone.policy"]),
    ],
)
def test_screen_reads_the_subject(text: str, expected: list[str]) -> None:
    assert [t.term_path for t in screen_custom_clause(text, terms())] == expected


def test_screen_ignores_subjects_the_terms_permit() -> None:
    permissive = terms({"performer_digital_replica": {"policy": "permitted"}})
    assert screen_custom_clause(CONDITION, permissive) == []


def test_plain_text_clause_cannot_override_a_typed_term_until_reviewed() -> None:
    clauses = [*crew_base(), v2("digital_replica_consent"), v2("no_scan_condition_of_hire")]
    side_letter = CustomClauseFacts(0, "northlight/custom.scans v1", CONDITION)
    held = evaluate("crew", crew(**SCAN), clauses, [GUILD], [side_letter])
    assert not held.compliant
    assert {(v.term_path, v.rule, v.clause) for v in held.violations} == {
        (f"{REPLICA}.policy", "custom_clause_review", "northlight/custom.scans v1"),
        (f"{REPLICA}.consent_may_be_condition_of_hire", "custom_clause_review", "northlight/custom.scans v1"),
    }
    reviewed = side_letter._replace(
        reviewed=frozenset(
            {
                (GUILD.version_hash, f"{REPLICA}.policy"),
                (GUILD.version_hash, f"{REPLICA}.consent_may_be_condition_of_hire"),
            }
        )
    )
    assert evaluate("crew", crew(**SCAN), clauses, [GUILD], [reviewed]).compliant
    other_version = side_letter._replace(reviewed=frozenset({("0" * 64, f"{REPLICA}.policy")}))
    assert not evaluate("crew", crew(**SCAN), clauses, [GUILD], [other_version]).compliant


def test_plain_text_clause_never_satisfies_a_required_clause() -> None:
    """A custom clause promising consent does not stand in for digital_replica_consent."""
    promise = CustomClauseFacts(0, "northlight/custom.digital_replica_consent v1", "Digital replica: consent is asked.")
    reviewed = promise._replace(reviewed=frozenset({(GUILD.version_hash, f"{REPLICA}.policy")}))
    report = evaluate("crew", crew(**SCAN), crew_base(), [GUILD], [reviewed])
    assert ("ai_uses.performer_digital_replica.policy", "clause_required") in {
        (v.term_path, v.rule) for v in report.violations
    }


def test_problems_helper_still_names_compacts() -> None:
    report = evaluate("crew", crew(**SCAN), crew_base(), [GUILD])
    assert all(slug == "screen-guild" for slug, _, _ in problems(report) if slug)
