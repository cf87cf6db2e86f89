"""Unit tests for the compact terms document (pure; no database)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from guild.compacts.terms import (
    SCHEMA_VERSION,
    AIUse,
    AIUseRule,
    AssetCategory,
    ComplianceCadence,
    Department,
    Policy,
    QuotaRule,
    RatioStep,
    Terms,
    TermsError,
    check_quorum,
    example_terms,
    terms_json_schema,
)

EXAMPLE = example_terms().model_dump(mode="json")


def doc() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE)


def quota(**over: Any) -> dict[str, Any]:
    rule = {
        "department": "camera",
        "budget_min_minor": 0,
        "budget_max_minor": None,
        "currency": "EUR",
        "min_apprentices": 1,
        "ratio_schedule": [],
        "min_rate_minor_per_week": 50_000,
        "min_weeks": 4,
        "max_weeks": None,
        "mentor_required": True,
        "max_reimbursed_placements": None,
    }
    rule.update(over)
    return rule


def errors_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as info:
        Terms.model_validate(data)
    return info.value.errors()


def only_error(data: dict[str, Any]) -> dict[str, Any]:
    errs = errors_of(data)
    assert len(errs) == 1, errs
    return errs[0]


# --- the example and the schema -------------------------------------------------------------


def test_example_terms_is_valid_and_complete() -> None:
    terms = example_terms()
    assert terms.schema_version == SCHEMA_VERSION == 1
    assert Terms.model_validate(terms.model_dump()) == terms
    assert set(terms.ai_uses) == set(AIUse)
    assert set(terms.ai_disclosure.category_weights) == set(AssetCategory)
    assert terms.certification.human_produced_max_ai_share_pct <= terms.ai_disclosure.max_ai_share_pct
    assert terms.apprenticeship and terms.training_data.fee_schedule
    check_quorum(terms, 2)


def test_json_round_trip() -> None:
    terms = example_terms()
    assert Terms.model_validate_json(terms.model_dump_json()) == terms
    dumped = json.loads(json.dumps(terms.model_dump(mode="json")))
    assert Terms.model_validate(dumped) == terms
    assert Terms.model_validate(dumped).model_dump(mode="json") == dumped


def test_dump_uses_plain_strings_for_enums() -> None:
    dumped = example_terms().model_dump(mode="json")
    assert dumped["ai_uses"]["voice_clone"]["policy"] == "consent_required"
    assert dumped["apprenticeship"][0]["department"] == "camera"
    assert "vfx_shot" in dumped["ai_disclosure"]["category_weights"]


def test_models_are_frozen() -> None:
    terms = example_terms()
    with pytest.raises(ValidationError) as info:
        terms.quorum = 3  # type: ignore[misc]
    assert info.value.errors()[0]["type"] == "frozen_instance"


def test_schema_version_must_be_1() -> None:
    data = doc()
    data["schema_version"] = 2
    err = only_error(data)
    assert err["loc"] == ("schema_version",)
    assert err["type"] == "literal_error"


def test_json_schema_describes_units() -> None:
    schema = terms_json_schema()
    assert schema == Terms.model_json_schema()
    assert schema["additionalProperties"] is False
    defs = schema["$defs"]
    share = defs["AIDisclosure"]["properties"]["max_ai_share_pct"]
    assert share["minimum"] == 0 and share["maximum"] == 100 and "percent" in share["description"]
    assert "minor units" in defs["Fee"]["properties"]["amount_minor"]["description"]
    assert "weeks" in defs["QuotaRule"]["properties"]["min_weeks"]["description"]
    assert "hours" in defs["AIUseRule"]["properties"]["consent_notice_hours"]["description"]
    assert "days" in defs["CertificationCriteria"]["properties"]["validity_days"]["description"]


def test_every_numeric_field_has_bounds_and_description() -> None:
    defs = terms_json_schema()["$defs"]
    for name, model in defs.items():
        for field, prop in model.get("properties", {}).items():
            options = prop.get("anyOf", [prop])
            if any(o.get("type") in ("integer", "number") for o in options):
                assert prop.get("description"), f"{name}.{field} has no description"
                numeric = [o for o in options if o.get("type") in ("integer", "number")][0]
                assert "minimum" in numeric or "exclusiveMinimum" in numeric, f"{name}.{field}"
                assert "maximum" in numeric, f"{name}.{field}"


# --- field bounds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (-0.1, "greater_than_equal"),
        (100.01, "less_than_equal"),
        (float("nan"), "finite_number"),
        (float("inf"), "finite_number"),
    ],
)
def test_max_ai_share_pct_bounds(value: float, kind: str) -> None:
    data = doc()
    data["ai_disclosure"]["max_ai_share_pct"] = value
    err = only_error(data)
    assert err["loc"] == ("ai_disclosure", "max_ai_share_pct")
    assert err["type"] == kind


def test_share_edges_accepted() -> None:
    data = doc()
    data["certification"]["human_produced_max_ai_share_pct"] = 0
    for value in (0, 100):
        data["ai_disclosure"]["max_ai_share_pct"] = value
        assert Terms.model_validate(data).ai_disclosure.max_ai_share_pct == value


@pytest.mark.parametrize(("value", "kind"), [(0, "greater_than"), (-1, "greater_than"), (1000.5, "less_than_equal")])
def test_category_weight_bounds(value: float, kind: str) -> None:
    data = doc()
    data["ai_disclosure"]["category_weights"]["vfx_shot"] = value
    err = only_error(data)
    assert err["loc"] == ("ai_disclosure", "category_weights", "vfx_shot")
    assert err["type"] == kind


def test_category_weights_need_one_entry() -> None:
    data = doc()
    data["ai_disclosure"]["category_weights"] = {}
    err = only_error(data)
    assert err["loc"] == ("ai_disclosure", "category_weights")
    assert err["type"] == "too_short"


def test_unknown_asset_category() -> None:
    data = doc()
    data["ai_disclosure"]["category_weights"]["hologram"] = 1.0
    err = only_error(data)
    assert err["loc"] == ("ai_disclosure", "category_weights", "hologram", "[key]")
    assert err["type"] == "enum"


def test_unknown_ai_use_key() -> None:
    data = doc()
    data["ai_uses"]["mind_reading"] = {"policy": "prohibited"}
    err = only_error(data)
    assert err["loc"] == ("ai_uses", "mind_reading", "[key]")
    assert err["type"] == "enum"


def test_unknown_policy() -> None:
    data = doc()
    data["ai_uses"]["rotoscoping"]["policy"] = "encouraged"
    err = only_error(data)
    assert err["loc"] == ("ai_uses", "rotoscoping", "policy")
    assert err["type"] == "enum"


@pytest.mark.parametrize(
    "where",
    [(), ("ai_disclosure",), ("certification",), ("compliance",), ("training_data",)],
)
def test_unknown_field_forbidden(where: tuple[str, ...]) -> None:
    data = doc()
    target = data
    for key in where:
        target = target[key]
    target["surprise"] = 1
    err = only_error(data)
    assert err["loc"] == (*where, "surprise")
    assert err["type"] == "extra_forbidden"


def test_unknown_field_in_nested_list_item() -> None:
    data = doc()
    data["apprenticeship"][2]["bonus"] = True
    err = only_error(data)
    assert err["loc"] == ("apprenticeship", 2, "bonus")
    assert err["type"] == "extra_forbidden"


def test_missing_section() -> None:
    data = doc()
    del data["certification"]
    err = only_error(data)
    assert err["loc"] == ("certification",)
    assert err["type"] == "missing"


@pytest.mark.parametrize("currency", ["eur", "EURO", "E1R", "", "US"])
def test_bad_fee_currency(currency: str) -> None:
    data = doc()
    data["training_data"]["fee_schedule"][1]["currency"] = currency
    err = only_error(data)
    assert err["loc"] == ("training_data", "fee_schedule", 1, "currency")
    assert err["type"] == "string_pattern_mismatch"


def test_bad_quota_currency() -> None:
    data = doc()
    data["apprenticeship"][0]["currency"] = "eur"
    err = only_error(data)
    assert err["loc"] == ("apprenticeship", 0, "currency")
    assert err["type"] == "string_pattern_mismatch"


def test_negative_fee_amount() -> None:
    data = doc()
    data["training_data"]["fee_schedule"][0]["amount_minor"] = -1
    err = only_error(data)
    assert err["loc"] == ("training_data", "fee_schedule", 0, "amount_minor")
    assert err["type"] == "greater_than_equal"


def test_fractional_minor_amount_refused() -> None:
    data = doc()
    data["training_data"]["fee_schedule"][0]["amount_minor"] = 12.5
    err = only_error(data)
    assert err["loc"] == ("training_data", "fee_schedule", 0, "amount_minor")
    assert err["type"] == "int_type"  # strict: no float (not even 12.0), bool or numeric string is an integer


@pytest.mark.parametrize("cron", ["0 6 * *", "0 6 * * mon 2026", "61 * * * *", "not a cron", ""])
def test_bad_cron(cron: str) -> None:
    data = doc()
    data["compliance"]["cron"] = cron
    err = only_error(data)
    assert err["loc"] == ("compliance", "cron")
    assert err["type"] == "value_error"
    assert "cron must be a 5-field crontab expression" in err["msg"]


@pytest.mark.parametrize("cron", ["*/15 * * * *", "0 6 * * mon-fri", "30 2 1 */3 *"])
def test_good_cron(cron: str) -> None:
    assert ComplianceCadence(cron=cron, grace_period_days=0, escalate_after_days=0).cron == cron


@pytest.mark.parametrize(("field", "value"), [("grace_period_days", -1), ("escalate_after_days", 366)])
def test_cadence_day_bounds(field: str, value: int) -> None:
    data = doc()
    data["compliance"][field] = value
    assert only_error(data)["loc"] == ("compliance", field)


@pytest.mark.parametrize(("value", "kind"), [(0, "greater_than_equal"), (-2, "greater_than_equal")])
def test_quorum_at_least_one(value: int, kind: str) -> None:
    data = doc()
    data["quorum"] = value
    err = only_error(data)
    assert err["loc"] == ("quorum",)
    assert err["type"] == kind


def test_quorum_none_means_all_parties() -> None:
    data = doc()
    data["quorum"] = None
    terms = Terms.model_validate(data)
    check_quorum(terms, 1)
    data.pop("quorum")
    assert Terms.model_validate(data).quorum is None


def test_check_quorum() -> None:
    terms = example_terms().model_copy(update={"quorum": 3})
    check_quorum(terms, 3)
    check_quorum(terms, 5)
    with pytest.raises(TermsError) as info:
        check_quorum(terms, 2)
    assert info.value.path == "quorum"
    assert info.value.rule == "quorum_exceeds_parties"
    assert "3" in info.value.message and "2" in info.value.message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("field", "value"), [("validity_days", 0), ("validity_days", 3651)])
def test_certification_validity_bounds(field: str, value: int) -> None:
    data = doc()
    data["certification"][field] = value
    assert only_error(data)["loc"] == ("certification", field)


# --- AI-use rules ---------------------------------------------------------------------------


def test_consent_required_without_notice() -> None:
    data = doc()
    del data["ai_uses"]["voice_clone"]["consent_notice_hours"]
    err = only_error(data)
    assert err["loc"] == ("ai_uses", "voice_clone", "consent_notice_hours")
    assert err["type"] == "consent_param_required"
    assert "consent_notice_hours" in err["msg"] and "consent_required" in err["msg"]


def test_consent_required_without_notice_or_scope_reports_both() -> None:
    with pytest.raises(ValidationError) as info:
        AIUseRule(policy=Policy.consent_required)
    locs = {e["loc"] for e in info.value.errors()}
    assert locs == {("consent_notice_hours",), ("consent_scope",)}
    assert {e["type"] for e in info.value.errors()} == {"consent_param_required"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("consent_notice_hours", 24),
        ("consent_scope", "per_use"),
        ("replica_pay_multiple_of_scale", 2.0),
        ("consent_may_be_condition_of_hire", True),
    ],
)
def test_consent_params_on_permitted_policy(field: str, value: Any) -> None:
    data = doc()
    data["ai_uses"]["rotoscoping"][field] = value
    err = only_error(data)
    assert err["loc"] == ("ai_uses", "rotoscoping", field)
    assert err["type"] == "consent_param_not_allowed"
    assert err["msg"] == f"{field} is only allowed when policy is consent_required"


def test_prohibited_use_cannot_be_required_of_worker() -> None:
    data = doc()
    data["ai_uses"]["script_generation"]["worker_may_be_required_to_use"] = True
    err = only_error(data)
    assert err["loc"] == ("ai_uses", "script_generation", "worker_may_be_required_to_use")
    assert err["type"] == "required_use_of_prohibited"
    assert AIUseRule(policy=Policy.permitted, worker_may_be_required_to_use=True).worker_may_be_required_to_use


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("consent_notice_hours", -1, "greater_than_equal"),
        ("consent_notice_hours", 8761, "less_than_equal"),
        ("replica_pay_multiple_of_scale", -0.5, "greater_than_equal"),
        ("replica_pay_multiple_of_scale", 100.5, "less_than_equal"),
    ],
)
def test_consent_param_bounds(field: str, value: Any, kind: str) -> None:
    data = doc()
    data["ai_uses"]["voice_clone"][field] = value
    err = only_error(data)
    assert err["loc"] == ("ai_uses", "voice_clone", field)
    assert err["type"] == kind


def test_consent_rule_with_all_params() -> None:
    rule = AIUseRule(
        policy=Policy.consent_required,
        consent_notice_hours=0,
        consent_scope="per_project",
        replica_pay_multiple_of_scale=0,
        consent_may_be_condition_of_hire=True,
    )
    assert rule.consent_scope == "per_project"


# --- apprenticeship -------------------------------------------------------------------------


def test_min_weeks_above_max_weeks() -> None:
    data = doc()
    data["apprenticeship"][0].update(min_weeks=10, max_weeks=8)
    err = only_error(data)
    assert err["loc"] == ("apprenticeship", 0, "max_weeks")
    assert err["type"] == "max_weeks_below_min_weeks"
    assert "min_weeks" in err["msg"]


def test_equal_min_and_max_weeks_accepted() -> None:
    assert QuotaRule.model_validate(quota(min_weeks=8, max_weeks=8)).max_weeks == 8


@pytest.mark.parametrize(
    ("field", "value"), [("min_weeks", 0), ("min_weeks", 521), ("max_weeks", 0), ("max_weeks", 521)]
)
def test_week_bounds(field: str, value: int) -> None:
    with pytest.raises(ValidationError) as info:
        QuotaRule.model_validate(quota(**{field: value}))
    assert info.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize(
    ("field", "value"),
    [("min_apprentices", -1), ("min_apprentices", 1001), ("min_rate_minor_per_week", -1), ("budget_min_minor", -5)],
)
def test_quota_count_and_money_bounds(field: str, value: int) -> None:
    with pytest.raises(ValidationError) as info:
        QuotaRule.model_validate(quota(**{field: value}))
    assert info.value.errors()[0]["loc"] == (field,)


def test_budget_max_must_exceed_min() -> None:
    for upper in (100, 50):
        with pytest.raises(ValidationError) as info:
            QuotaRule.model_validate(quota(budget_min_minor=100, budget_max_minor=upper))
        (err,) = info.value.errors()
        assert err["loc"] == ("budget_max_minor",)
        assert err["type"] == "budget_band_empty"


def test_ratio_step_per_journey_zero() -> None:
    data = doc()
    data["apprenticeship"][1]["ratio_schedule"][1]["per_journey"] = 0
    err = only_error(data)
    assert err["loc"] == ("apprenticeship", 1, "ratio_schedule", 1, "per_journey")
    assert err["type"] == "greater_than_equal"


def test_ratio_step_first_journey_zero() -> None:
    with pytest.raises(ValidationError) as info:
        RatioStep(first_journey=0, per_journey=1)
    assert info.value.errors()[0]["loc"] == ("first_journey",)


def test_ratio_steps_out_of_order() -> None:
    data = doc()
    data["apprenticeship"][1]["ratio_schedule"] = [
        {"first_journey": 1, "per_journey": 1},
        {"first_journey": 5, "per_journey": 3},
        {"first_journey": 5, "per_journey": 4},
    ]
    err = only_error(data)
    assert err["loc"] == ("apprenticeship", 1, "ratio_schedule", 2, "first_journey")
    assert err["type"] == "ratio_schedule_order"


def test_ratio_steps_must_start_at_one() -> None:
    with pytest.raises(ValidationError) as info:
        QuotaRule.model_validate(quota(ratio_schedule=[{"first_journey": 2, "per_journey": 1}]))
    (err,) = info.value.errors()
    assert err["loc"] == ("ratio_schedule", 0, "first_journey")
    assert err["type"] == "ratio_schedule_start"


def test_empty_ratio_schedule_and_quotas_allowed() -> None:
    assert QuotaRule.model_validate(quota()).ratio_schedule == []
    data = doc()
    data["apprenticeship"] = []
    assert Terms.model_validate(data).apprenticeship == []


def _with_quotas(*rules: dict[str, Any]) -> dict[str, Any]:
    data = doc()
    data["apprenticeship"] = list(rules)
    return data


def test_overlapping_bands_same_department() -> None:
    data = _with_quotas(
        quota(budget_min_minor=0, budget_max_minor=1000),
        quota(department="sound"),
        quota(budget_min_minor=500, budget_max_minor=2000),
    )
    err = only_error(data)
    assert err["loc"] == ("apprenticeship", 2)
    assert err["type"] == "apprenticeship_band_overlap"
    assert "apprenticeship[0] and apprenticeship[2] overlap for department camera" in err["msg"]


def test_open_ended_band_overlaps_later_band() -> None:
    data = _with_quotas(quota(budget_min_minor=100), quota(budget_min_minor=0, budget_max_minor=101))
    err = only_error(data)
    assert err["loc"] == ("apprenticeship", 1)
    assert "apprenticeship[0] and apprenticeship[1]" in err["msg"]


def test_adjacent_bands_accepted() -> None:
    data = _with_quotas(quota(budget_min_minor=0, budget_max_minor=100), quota(budget_min_minor=100))
    terms = Terms.model_validate(data)
    assert [q.budget_max_minor for q in terms.apprenticeship] == [100, None]


def test_different_departments_may_overlap() -> None:
    data = _with_quotas(*(quota(department=d) for d in Department))
    assert len(Terms.model_validate(data).apprenticeship) == len(Department)


def test_different_currencies_may_overlap() -> None:
    data = _with_quotas(quota(currency="EUR"), quota(currency="GBP"))
    assert len(Terms.model_validate(data).apprenticeship) == 2


# --- certification against disclosure -------------------------------------------------------


def test_certification_share_above_disclosure_max() -> None:
    data = doc()
    data["ai_disclosure"]["max_ai_share_pct"] = 10.0
    data["certification"]["human_produced_max_ai_share_pct"] = 12.5
    err = only_error(data)
    assert err["loc"] == ("certification", "human_produced_max_ai_share_pct")
    assert err["type"] == "certification_share_above_disclosure_max"
    assert "12.5" in err["msg"] and "10.0" in err["msg"]


def test_certification_share_equal_to_disclosure_max_accepted() -> None:
    data = doc()
    data["ai_disclosure"]["max_ai_share_pct"] = 5.0
    data["certification"]["human_produced_max_ai_share_pct"] = 5.0
    assert Terms.model_validate(data).certification.human_produced_max_ai_share_pct == 5.0


# --- properties -----------------------------------------------------------------------------


@given(st.floats(min_value=0, max_value=100))
def test_any_share_in_range_accepted(share: float) -> None:
    data = doc()
    data["ai_disclosure"]["max_ai_share_pct"] = share
    data["certification"]["human_produced_max_ai_share_pct"] = 0.0
    assert Terms.model_validate(data).ai_disclosure.max_ai_share_pct == share


@given(st.floats(min_value=100, exclude_min=True, allow_nan=False) | st.floats(max_value=0, exclude_max=True))
def test_any_share_out_of_range_rejected(share: float) -> None:
    data = doc()
    data["ai_disclosure"]["max_ai_share_pct"] = share
    err = only_error(data)
    assert err["loc"] == ("ai_disclosure", "max_ai_share_pct")


@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(1, 10_000) | st.none()),
        min_size=1,
        max_size=5,
    )
)
def test_band_overlap_detection_matches_interval_arithmetic(bands: list[tuple[int, int | None]]) -> None:
    rules = [quota(budget_min_minor=lo, budget_max_minor=None if w is None else lo + w) for lo, w in bands]

    def overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
        a_hi = a["budget_max_minor"] if a["budget_max_minor"] is not None else float("inf")
        b_hi = b["budget_max_minor"] if b["budget_max_minor"] is not None else float("inf")
        return a["budget_min_minor"] < b_hi and b["budget_min_minor"] < a_hi

    expected = any(overlap(rules[i], rules[j]) for j in range(len(rules)) for i in range(j))
    data = _with_quotas(*rules)
    if expected:
        assert {e["type"] for e in errors_of(data)} == {"apprenticeship_band_overlap"}
    else:
        assert len(Terms.model_validate(data).apprenticeship) == len(rules)


# --- quota direction, whole ratio groups, the working calendar --------------------------------


def test_stored_terms_without_the_new_fields_load_with_the_defaults() -> None:
    data = doc()
    for rule in data["apprenticeship"]:
        del rule["direction"]
        for step in rule["ratio_schedule"]:
            del step["partial_group_counts"]
    del data["working_calendar"]
    terms = Terms.model_validate(data)
    assert all(r.direction == "minimum" for r in terms.apprenticeship)
    assert all(not s.partial_group_counts for r in terms.apprenticeship for s in r.ratio_schedule)
    assert terms.working_calendar is None and terms == example_terms().model_copy(update={"working_calendar": None})


def test_quota_direction_is_minimum_or_maximum() -> None:
    assert QuotaRule.model_validate(quota(direction="maximum")).direction == "maximum"
    data = doc()
    data["apprenticeship"] = [quota(direction="at_most")]
    err = only_error(data)
    assert err["loc"] == ("apprenticeship", 0, "direction") and err["type"] == "enum"


def test_partial_group_counts_is_a_boolean() -> None:
    step = RatioStep.model_validate({"first_journey": 1, "per_journey": 2, "partial_group_counts": True})
    assert step.partial_group_counts
    data = doc()
    data["apprenticeship"] = [quota(ratio_schedule=[{"first_journey": 1, "per_journey": 2, "partial_group_counts": 3}])]
    assert only_error(data)["loc"] == ("apprenticeship", 0, "ratio_schedule", 0, "partial_group_counts")


@pytest.mark.parametrize(
    ("calendar", "loc", "kind"),
    [
        ({"country": "XX"}, ("working_calendar", "country"), "unsupported_country"),
        ({"country": "ie"}, ("working_calendar", "country"), "string_pattern_mismatch"),
        ({"country": "IRL"}, ("working_calendar", "country"), "string_pattern_mismatch"),
        ({"country": "DE", "subdivision": "ZZ"}, ("working_calendar", "subdivision"), "unsupported_subdivision"),
        ({"country": "IE", "subdivision": "BY"}, ("working_calendar", "subdivision"), "unsupported_subdivision"),
        ({"country": "DE", "subdivision": ""}, ("working_calendar", "subdivision"), "too_short"),
        ({"country": "DE", "region": "BY"}, ("working_calendar", "region"), "extra_forbidden"),
        ({}, ("working_calendar", "country"), "missing"),
    ],
)
def test_the_working_calendar_must_be_one_the_holidays_package_knows(
    calendar: dict[str, Any], loc: tuple[str, ...], kind: str
) -> None:
    data = doc()
    data["working_calendar"] = calendar
    err = only_error(data)
    assert (err["loc"], err["type"]) == (loc, kind)


def test_an_unknown_subdivision_names_the_known_ones() -> None:
    data = doc()
    data["working_calendar"] = {"country": "IE", "subdivision": "BY"}
    assert only_error(data)["msg"] == "country IE has no subdivision 'BY'; known subdivisions: none"


@pytest.mark.parametrize("calendar", [None, {"country": "IE"}, {"country": "DE", "subdivision": "BY"}])
def test_known_working_calendars_are_accepted(calendar: dict[str, Any] | None) -> None:
    data = doc()
    data["working_calendar"] = calendar
    terms = Terms.model_validate(data)
    assert terms.model_dump(mode="json")["working_calendar"] == (
        None if calendar is None else {"subdivision": None, **calendar}
    )


def test_the_schema_documents_the_new_fields_with_examples() -> None:
    defs = terms_json_schema()["$defs"]
    fields = [
        ("QuotaRule", "direction"),
        ("QuotaRule", "min_apprentices"),
        ("QuotaRule", "ratio_schedule"),
        ("QuotaRule", "max_reimbursed_placements"),
        ("RatioStep", "partial_group_counts"),
        ("RatioStep", "per_journey"),
        ("WorkingCalendar", "country"),
        ("WorkingCalendar", "subdivision"),
        ("CommitmentRule", "offset_working_days"),
    ]
    for model, name in fields:
        prop = defs[model]["properties"][name]
        assert prop.get("description") and prop.get("examples"), (model, name)
    calendar = terms_json_schema()["properties"]["working_calendar"]
    assert "public holidays" in calendar["description"] and calendar["examples"][0] == {
        "country": "IE",
        "subdivision": None,
    }
    assert "floor(4/2) + floor(3/4) = 2" in defs["QuotaRule"]["properties"]["ratio_schedule"]["description"]
    assert "7 journey-level workers" in defs["RatioStep"]["description"]
