"""Unit tests for the clause library (pure; no database)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.assembly import render_clause_text
from contracts.clauses import (
    CLAUSES,
    ClauseParamsError,
    ContractContext,
    CustomClauseText,
    UnknownClause,
    get_clause,
    latest,
    validate_params,
)
from guild.compacts.terms import Terms, example_terms
from guild.domain.money import format_money
from guild.domain.work import ContractType, Level, level_rank
from guild.infra.resources import TEMPLATES_DIR

TERMS = example_terms()
EXAMPLE = TERMS.model_dump(mode="json")

VALID: dict[str, dict[str, Any]] = {
    "ai_material_disclosure": {"disclose_ai_generated_material": True, "ai_material_not_source_material": True},
    "no_required_generative_tools": {"worker_may_be_required_to_use": False},
    "digital_replica_consent": {
        "notice_hours": 72,
        "consent_scope": "per_use",
        "use_description": "Background replica for the harbour crowd scene (scene 42) only.",
        "pay_multiple_of_scale": 1.5,
        "separate_signature": True,
    },
    "voice_likeness_licence": {
        "includes_voice": True,
        "exclusive": False,
        "duration_months": 18,
        "territory": "Worldwide",
    },
    "no_scan_condition_of_hire": {"consent_is_condition_of_hire": False},
    "no_training_ingestion": {"ingestion_without_licence_permitted": False},
    "apprenticeship_placement": {"rate_minor_per_week": 65_000, "currency": "EUR", "weeks": 8, "mentor_required": True},
    "fees_and_schedule": {
        "rate_minor_per_week": 65_000,
        "currency": "EUR",
        "payment_terms_days": 30,
        "schedule": "weekly",
    },
}


# the second versions: anyone's likeness, pay in money, perpetual licences, displacing tools; and kit rental
VALID_V2: dict[tuple[str, int], dict[str, Any]] = {
    ("digital_replica_consent", 2): {
        "notice_hours": 72,
        "consent_scope": "per_use",
        "use_description": "Background replica for the harbour crowd scene (scene 42) only.",
        "scale_minor_per_day": 150_000,
        "replica_pay_minor_per_day": 150_000,
        "currency": "EUR",
        "separate_signature": True,
    },
    ("voice_likeness_licence", 2): {
        "includes_voice": True,
        "exclusive": False,
        "duration_months": 18,
        "territory": "Worldwide",
    },
    ("no_scan_condition_of_hire", 2): {"consent_is_condition_of_hire": False},
    ("no_required_generative_tools", 2): {"worker_may_be_required_to_use": False, "displacing_tools_excluded": True},
    ("ai_tool_kit_rental", 1): {
        "tools": "Own licensed upscaling and denoising models",
        "rate_minor_per_week": 7_500,
        "currency": "EUR",
        "supplied_at_workers_choice": True,
    },
}


def terms_with(**sections: Any) -> Terms:
    doc = copy.deepcopy(EXAMPLE)
    doc.update(sections)
    return Terms.model_validate(doc)


def ai_uses_with(**rules: dict[str, Any]) -> dict[str, Any]:
    uses = copy.deepcopy(EXAMPLE["ai_uses"])
    uses.update(rules)
    return uses


def ctx(**over: Any) -> ContractContext:
    base: dict[str, Any] = {
        "contract_type": "performer",
        "level": "journey",
        "rate_minor_per_week": 65_000,
        "currency": "EUR",
        "start_date": date(2026, 3, 2),
        "end_date": date(2026, 5, 1),
        "production_budget_minor": 30_000_000,
        "budget_currency": "EUR",
        "planned_ai_uses": {"performer_digital_replica"},
    }
    base.update(over)
    return ContractContext.model_validate(base)


def apprentice(**over: Any) -> ContractContext:
    base: dict[str, Any] = {
        "contract_type": "crew",
        "department": "camera",
        "level": "apprentice",
        "planned_ai_uses": set(),
        "mentor_level": "senior",
        "mentor_department": "camera",
    }
    return ctx(**{**base, **over})


def check(key: str, terms: Terms = TERMS, context: ContractContext | None = None, **params: Any) -> list:
    clause = get_clause(key, 1)
    p = validate_params(clause, {**VALID[key], **params})
    return clause.check(p, terms, context or ctx())


def unmet(reqs: list) -> list[tuple[str, str]]:
    return [(r.term_path, r.rule) for r in reqs if not r.met]


# --- enums, library ---------------------------------------------------------------------------


def test_levels_are_ordered() -> None:
    assert [level_rank(level) for level in Level] == list(range(6))
    assert level_rank("apprentice") < level_rank(Level.trainee) < level_rank("journey") < level_rank(Level.head)
    assert {str(t) for t in ContractType} == {"performer", "writer", "crew"}


def test_library_holds_every_clause_at_v1() -> None:
    assert set(CLAUSES) == {(key, 1) for key in VALID if key != "ai_tool_kit_rental"} | set(VALID_V2)
    for (key, version), clause in CLAUSES.items():
        assert (clause.key, clause.version) == (key, version)
        assert clause.template == f"clauses/{key}_v{version}.txt.j2"
        assert (TEMPLATES_DIR / clause.template).is_file()
        assert clause.applies_to and clause.title
    assert latest("digital_replica_consent") is get_clause("digital_replica_consent", 2)


def test_applicability() -> None:
    placement = get_clause("apprenticeship_placement", 1)
    assert placement.applies(ContractType.crew, Level.apprentice)
    assert placement.applies(ContractType.crew, Level.trainee)
    assert not placement.applies(ContractType.crew, Level.junior)
    assert not placement.applies(ContractType.performer, Level.apprentice)
    assert get_clause("digital_replica_consent", 1).applies_to == {ContractType.performer}
    assert get_clause("ai_material_disclosure", 1).applies_to == {ContractType.writer}
    for key in ("fees_and_schedule", "no_training_ingestion", "no_required_generative_tools"):
        assert get_clause(key, 1).applies_to == set(ContractType)


@pytest.mark.parametrize(("key", "version"), [("no_such_clause", 1), ("fees_and_schedule", 2)])
def test_unknown_clause(key: str, version: int) -> None:
    with pytest.raises(UnknownClause) as info:
        get_clause(key, version)
    assert info.value.key == key and info.value.version == version
    with pytest.raises(UnknownClause):
        latest("no_such_clause")


# --- parameter models -------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(VALID))
def test_params_models_are_closed_and_bounded(key: str) -> None:
    model = get_clause(key, 1).params_model
    assert model.model_config.get("extra") == "forbid"
    for name, prop in model.model_json_schema()["properties"].items():
        kind = prop.get("type")
        if kind in ("integer", "number"):
            assert "minimum" in prop and "maximum" in prop, name
        elif kind == "string" and "enum" not in prop:
            assert "maxLength" in prop or "pattern" in prop, name
    with pytest.raises(ClauseParamsError) as info:
        validate_params(get_clause(key, 1), {**VALID[key], "surprise": 1}, index=3)
    assert "clauses[3].params.surprise" in info.value.fields


@pytest.mark.parametrize(
    ("key", "field", "value"),
    [
        ("digital_replica_consent", "notice_hours", -1),
        ("digital_replica_consent", "notice_hours", 8761),
        ("digital_replica_consent", "use_description", "a replica"),  # too short to describe the use
        ("digital_replica_consent", "use_description", "x" * 4001),
        ("digital_replica_consent", "pay_multiple_of_scale", float("inf")),
        ("digital_replica_consent", "consent_scope", "forever"),
        ("voice_likeness_licence", "duration_months", 0),
        ("voice_likeness_licence", "duration_months", 121),
        ("voice_likeness_licence", "territory", "x" * 201),
        ("apprenticeship_placement", "currency", "eur"),
        ("apprenticeship_placement", "weeks", 0),
        ("fees_and_schedule", "payment_terms_days", 91),
        ("fees_and_schedule", "schedule", "monthly"),
        ("fees_and_schedule", "rate_minor_per_week", -5),
    ],
)
def test_bad_params_name_the_field(key: str, field: str, value: Any) -> None:
    with pytest.raises(ClauseParamsError) as info:
        validate_params(get_clause(key, 1), {**VALID[key], field: value}, index=2)
    assert info.value.index == 2
    assert info.value.fields == [f"clauses[2].params.{field}"]
    assert info.value.errors[0]["loc"] == (field,)


def test_missing_param_named() -> None:
    params = dict(VALID["fees_and_schedule"])
    del params["currency"]
    with pytest.raises(ClauseParamsError) as info:
        validate_params(get_clause("fees_and_schedule", 1), params)
    assert info.value.fields == ["clauses[0].params.currency"]


# --- contract context -------------------------------------------------------------------------


def test_context_end_before_start_refused_at_end_date() -> None:
    with pytest.raises(ValidationError) as info:
        ctx(start_date=date(2026, 5, 2), end_date=date(2026, 5, 1))
    assert [e["loc"] for e in info.value.errors()] == [("end_date",)]
    assert ctx(start_date=date(2026, 5, 1), end_date=date(2026, 5, 1)).end_date == date(2026, 5, 1)


def test_context_validation() -> None:
    with pytest.raises(ValidationError):
        ctx(contract_type="crew")  # crew names its department
    with pytest.raises(ValidationError):
        ctx(currency="euro")
    with pytest.raises(ValidationError):
        ctx(rate_minor_per_week=-1)
    with pytest.raises(ValidationError):
        ctx(planned_ai_uses={"mind_reading"})
    with pytest.raises(ValidationError):
        ctx(unknown=1)
    context = ctx()
    with pytest.raises(ValidationError):
        context.level = Level.head  # frozen
    assert apprentice().has_qualified_mentor
    assert not apprentice(mentor_level="junior").has_qualified_mentor
    assert not apprentice(mentor_department="sound").has_qualified_mentor


# --- custom clauses ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["custom.catering", "custom.a1", "custom." + "x" * 60, "custom.night_shoot_2"])
def test_custom_clause_keys_accepted(key: str) -> None:
    assert CustomClauseText(key=key, title="Catering", text="Hot meals are provided.").key == key


@pytest.mark.parametrize(
    "key",
    [
        "catering",
        "custom.",
        "custom.a",
        "custom.Catering",
        "custom.night-shoot",
        "custom." + "x" * 61,
        "custom.a b",
        "xcustom.ab",
        "custom.ab\n",
    ],
)
def test_custom_clause_keys_refused(key: str) -> None:
    with pytest.raises(ValidationError):
        CustomClauseText(key=key, title="t", text="x")


def test_custom_clause_bounds() -> None:
    CustomClauseText(key="custom.long", title="t" * 200, text="x" * 20000)
    for over in ({"title": "t" * 201}, {"text": "x" * 20001}, {"text": ""}, {"rule": "x"}):
        with pytest.raises(ValidationError):
            CustomClauseText.model_validate({"key": "custom.long", "title": "t", "text": "x", **over})


# --- rendering --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(VALID))
def test_every_clause_renders_with_valid_params(key: str) -> None:
    clause = get_clause(key, 1)
    text = render_clause_text(clause, VALID[key])
    assert text.startswith(clause.title)
    assert "{{" not in text and "{%" not in text
    for flag in [name for name, value in VALID[key].items() if isinstance(value, bool)]:
        flipped = render_clause_text(clause, {**VALID[key], flag: not VALID[key][flag]})
        assert flipped != text, flag  # every choice changes the words


@pytest.mark.parametrize(
    ("key", "params", "expected"),
    [
        (
            "digital_replica_consent",
            {},
            [
                "not less than 72 hours",
                "harbour crowd scene (scene 42)",
                "1.5 times",
                "Each consent covers one use only",
                "separate",
            ],
        ),
        (
            "digital_replica_consent",
            {"consent_scope": "per_project", "notice_hours": 96},
            ["96 hours", "in this production only"],
        ),
        ("voice_likeness_licence", {}, ["18 months", "Worldwide", "a non-exclusive licence", "and voice"]),
        (
            "voice_likeness_licence",
            {"includes_voice": False, "exclusive": True, "duration_months": 1, "territory": "European Union"},
            ["1 month ", "European Union", "an exclusive licence", "Voice excluded"],
        ),
        ("apprenticeship_placement", {}, ["8 weeks", "EUR 650.00 per week", "named mentor"]),
        (
            "fees_and_schedule",
            {"rate_minor_per_week": 12_345_678, "currency": "JPY", "schedule": "biweekly"},
            ["JPY 12,345,678 per week", "every two weeks", "within 30 days"],
        ),
        ("fees_and_schedule", {"schedule": "on_delivery", "payment_terms_days": 1}, ["on delivery", "within 1 day "]),
        ("ai_material_disclosure", {}, ["shall disclose", "shall not be considered source material"]),
        ("no_scan_condition_of_hire", {}, ["is not a condition of engagement"]),
        ("no_training_ingestion", {}, ["training licence"]),
        ("no_required_generative_tools", {}, ["shall not be required"]),
    ],
)
def test_rendered_text_includes_parameter_values(key: str, params: dict[str, Any], expected: list[str]) -> None:
    text = render_clause_text(get_clause(key, 1), {**VALID[key], **params})
    for fragment in expected:
        assert fragment in text


def test_render_is_plain_text_and_validates() -> None:
    clause = get_clause("digital_replica_consent", 1)
    text = render_clause_text(
        clause, {**VALID["digital_replica_consent"], "use_description": "<b>Scene 4 & 5</b> crowd"}
    )
    assert "<b>Scene 4 & 5</b> crowd" in text  # escaping is the HTML renderer's job
    model = clause.params_model.model_validate(VALID["digital_replica_consent"])
    assert render_clause_text(clause, model) == render_clause_text(clause, VALID["digital_replica_consent"])
    with pytest.raises(ClauseParamsError):
        render_clause_text(clause, {"notice_hours": 72})


def test_format_money() -> None:
    assert format_money(60_000, "EUR") == "EUR 600.00"
    assert format_money(123_456_705, "USD") == "USD 1,234,567.05"
    assert format_money(1_500, "JPY") == "JPY 1,500"
    assert format_money(1_234, "BHD") == "BHD 1.234"
    assert format_money(0, "EUR") == "EUR 0.00"


# --- rules, one compact at a time -------------------------------------------------------------


def test_ai_material_disclosure_rule() -> None:
    reqs = check("ai_material_disclosure", context=ctx(contract_type="writer"))
    assert {r.term_path for r in reqs} == {
        "ai_uses.script_generation.policy",
        "ai_uses.literary_material_generation.policy",
    }
    assert len(reqs) == 4 and all(r.met for r in reqs)
    reqs = check("ai_material_disclosure", ai_material_not_source_material=False)
    assert unmet(reqs) == [
        ("ai_uses.script_generation.policy", "ai_material_not_source_material"),
        ("ai_uses.literary_material_generation.policy", "ai_material_not_source_material"),
    ]
    permitted = terms_with(
        ai_uses=ai_uses_with(
            script_generation={"policy": "permitted"}, literary_material_generation={"policy": "permitted"}
        )
    )
    assert check("ai_material_disclosure", permitted, disclose_ai_generated_material=False) == []
    disclosure = terms_with(ai_uses=ai_uses_with(script_generation={"policy": "disclosure_required"}))
    assert unmet(check("ai_material_disclosure", disclosure, disclose_ai_generated_material=False)) == [
        ("ai_uses.script_generation.policy", "disclose_ai_generated_material"),
        ("ai_uses.literary_material_generation.policy", "disclose_ai_generated_material"),
    ]


def test_no_required_generative_tools_rule() -> None:
    assert all(r.met for r in check("no_required_generative_tools"))
    reqs = check("no_required_generative_tools", worker_may_be_required_to_use=True)
    # one per use, and the example terms forbid requiring anyone to prompt tools that displace crew
    assert len(unmet(reqs)) == len(TERMS.ai_uses) + 1
    terms = terms_with(ai_uses=ai_uses_with(rotoscoping={"policy": "permitted", "worker_may_be_required_to_use": True}))
    reqs = check("no_required_generative_tools", terms, worker_may_be_required_to_use=True)
    assert "ai_uses.rotoscoping.worker_may_be_required_to_use" not in {r.term_path for r in reqs}
    assert len(unmet(reqs)) == len(TERMS.ai_uses) - 1 + 1  # the displacing-tools term as well


def test_digital_replica_consent_rule() -> None:
    reqs = check("digital_replica_consent")
    assert all(r.met for r in reqs)
    base = "ai_uses.performer_digital_replica"
    assert {r.term_path for r in reqs} == {
        f"{base}.consent_notice_hours",
        f"{base}.consent_scope",
        f"{base}.replica_pay_multiple_of_scale",
        f"{base}.policy",
    }
    low = check(
        "digital_replica_consent",
        notice_hours=47,
        pay_multiple_of_scale=0.5,
        consent_scope="per_project",
        separate_signature=False,
    )
    assert sorted(unmet(low)) == [
        (f"{base}.consent_notice_hours", "consent_notice"),
        (f"{base}.consent_scope", "consent_scope"),
        (f"{base}.policy", "separate_consent_signature"),
        (f"{base}.replica_pay_multiple_of_scale", "replica_pay"),
    ]
    notice = next(r for r in low if r.rule == "consent_notice")
    assert (notice.required, notice.actual) == ({"min": 48}, 47)
    assert all(r.met for r in check("digital_replica_consent", notice_hours=48, pay_multiple_of_scale=1.0))


def test_replica_consent_per_project_rule_accepts_either_scope() -> None:
    terms = terms_with(
        ai_uses=ai_uses_with(
            performer_digital_replica={
                "policy": "consent_required",
                "consent_notice_hours": 24,
                "consent_scope": "per_project",
            }
        )
    )
    for scope in ("per_use", "per_project"):
        assert unmet(check("digital_replica_consent", terms, consent_scope=scope)) == []


def test_replica_consent_under_prohibition() -> None:
    terms = terms_with(ai_uses=ai_uses_with(performer_digital_replica={"policy": "prohibited"}))
    planned = check("digital_replica_consent", terms)
    assert unmet(planned) == [("ai_uses.performer_digital_replica.policy", "planned_use_prohibited")]
    assert all(r.met for r in check("digital_replica_consent", terms, ctx(planned_ai_uses=set())))


def test_replica_consent_covers_planned_voice_clone_and_de_ageing() -> None:
    context = ctx(planned_ai_uses={"performer_digital_replica", "voice_clone", "de_ageing"})
    terms = terms_with(
        ai_uses=ai_uses_with(
            voice_clone={
                "policy": "consent_required",
                "consent_notice_hours": 96,
                "consent_scope": "per_use",
                "replica_pay_multiple_of_scale": 2.0,
            }
        )
    )
    reqs = check("digital_replica_consent", terms, context)
    assert sorted(unmet(reqs)) == [
        ("ai_uses.voice_clone.consent_notice_hours", "consent_notice"),
        ("ai_uses.voice_clone.replica_pay_multiple_of_scale", "replica_pay"),
    ]
    assert any(r.term_path.startswith("ai_uses.de_ageing.") for r in reqs)
    assert not any(r.term_path.startswith("ai_uses.voice_clone.") for r in check("digital_replica_consent", terms))


def test_voice_likeness_licence_rule() -> None:
    # consent_required is answered by digital_replica_consent; the example terms limit the licence
    assert unmet(check("voice_likeness_licence")) == []
    prohibited = terms_with(ai_uses=ai_uses_with(voice_clone={"policy": "prohibited"}))
    assert unmet(check("voice_likeness_licence", prohibited)) == [
        ("ai_uses.voice_clone.policy", "voice_clone_prohibited")
    ]
    assert unmet(check("voice_likeness_licence", prohibited, includes_voice=False)) == []
    clause = get_clause("voice_likeness_licence", 1)
    params = validate_params(clause, VALID["voice_likeness_licence"])
    assert unmet(clause.consistency(params, ctx())) == [("contract.planned_ai_uses", "voice_matches_plan")]
    assert unmet(clause.consistency(params, ctx(planned_ai_uses={"voice_clone"}))) == []


def test_no_scan_condition_of_hire_rule() -> None:
    assert all(r.met for r in check("no_scan_condition_of_hire"))
    reqs = check("no_scan_condition_of_hire", consent_is_condition_of_hire=True)
    assert unmet(reqs) == [
        (f"ai_uses.{u}.consent_may_be_condition_of_hire", "consent_not_condition_of_hire")
        for u in ("performer_digital_replica", "voice_clone", "de_ageing")
    ]
    allowing = terms_with(
        ai_uses=ai_uses_with(
            performer_digital_replica={
                "policy": "consent_required",
                "consent_notice_hours": 48,
                "consent_scope": "per_use",
                "consent_may_be_condition_of_hire": True,
            }
        )
    )
    paths = {r.term_path for r in check("no_scan_condition_of_hire", allowing, consent_is_condition_of_hire=True)}
    assert "ai_uses.performer_digital_replica.consent_may_be_condition_of_hire" not in paths and len(paths) == 2


def test_no_training_ingestion_rule() -> None:
    assert unmet(check("no_training_ingestion", ingestion_without_licence_permitted=True)) == [
        ("training_data.ingestion_without_licence_prohibited", "no_unlicensed_ingestion")
    ]
    assert all(r.met for r in check("no_training_ingestion"))
    open_terms = terms_with(training_data={"ingestion_without_licence_prohibited": False, "fee_schedule": []})
    assert check("no_training_ingestion", open_terms, ingestion_without_licence_permitted=True) == []


def test_apprenticeship_rule_picks_the_budget_band() -> None:
    reqs = check("apprenticeship_placement", context=apprentice())
    assert all(r.met for r in reqs)
    assert {r.term_path for r in reqs} == {
        "apprenticeship[0].min_rate_minor_per_week",
        "apprenticeship[0].min_weeks",
        "apprenticeship[0].max_weeks",
        "apprenticeship[0].mentor_required",
    }
    big = apprentice(production_budget_minor=50_000_000)  # the band's upper bound is exclusive
    assert unmet(check("apprenticeship_placement", context=big)) == [
        ("apprenticeship[1].min_rate_minor_per_week", "min_rate")
    ]
    assert check("apprenticeship_placement", context=apprentice(budget_currency="USD")) == []
    sound = apprentice(department="sound", mentor_department="sound")
    assert check("apprenticeship_placement", context=sound) == []


@pytest.mark.parametrize(
    ("params", "context", "expected"),
    [
        ({"rate_minor_per_week": 59_999}, {}, [("apprenticeship[0].min_rate_minor_per_week", "min_rate")]),
        ({"weeks": 3}, {}, [("apprenticeship[0].min_weeks", "min_weeks")]),
        ({"weeks": 27}, {}, [("apprenticeship[0].max_weeks", "max_weeks")]),
        ({"currency": "USD"}, {}, [("apprenticeship[0].min_rate_minor_per_week", "currency_mismatch")]),
        ({"mentor_required": False}, {}, [("apprenticeship[0].mentor_required", "mentor_clause")]),
        ({}, {"mentor_level": "junior"}, [("apprenticeship[0].mentor_required", "mentor_level")]),
        ({}, {"mentor_department": "sound"}, [("apprenticeship[0].mentor_required", "mentor_department")]),
        (
            {},
            {"mentor_level": None, "mentor_department": None},
            [
                ("apprenticeship[0].mentor_required", "mentor_level"),
                ("apprenticeship[0].mentor_required", "mentor_department"),
            ],
        ),
    ],
)
def test_apprenticeship_rule_violations(params: dict, context: dict, expected: list) -> None:
    assert unmet(check("apprenticeship_placement", context=apprentice(**context), **params)) == expected


def test_apprenticeship_currency_mismatch_is_explained() -> None:
    [req] = check("apprenticeship_placement", context=apprentice(), currency="USD")[:1]
    assert (req.required, req.actual, req.met) == ("EUR", "USD", False)
    assert "currency mismatch" in req.message


def test_fees_and_schedule_has_no_compact_rule_but_must_match_the_contract() -> None:
    clause = get_clause("fees_and_schedule", 1)
    params = validate_params(clause, VALID["fees_and_schedule"])
    assert clause.check(params, TERMS, ctx()) == []
    assert unmet(clause.consistency(params, ctx())) == []
    assert unmet(clause.consistency(params, ctx(rate_minor_per_week=70_000, currency="USD"))) == [
        ("contract.rate", "rate_matches_contract"),
        ("contract.currency", "currency_matches_contract"),
    ]
