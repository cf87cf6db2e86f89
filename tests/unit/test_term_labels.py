"""Unit tests for the redline's people's words: term labels from the terms model, values as text."""

from __future__ import annotations

import copy

from guild.compacts.redline import diff_terms
from guild.compacts.term_labels import shown_change, shown_value, term_label
from guild.compacts.terms import example_terms


def test_quota_rule_field_reads_as_section_rule_and_field() -> None:
    label = term_label("apprenticeship[2].min_apprentices")
    assert label.label == "Apprenticeship quotas › rule 3 › Min apprentices"
    assert label.help  # the field's description comes along


def test_percentage_field_and_section() -> None:
    label = term_label("ai_disclosure.max_ai_share_pct")
    assert label.label == "AI disclosure › Max AI share (%)"
    assert "percent" in label.help


def test_map_keys_read_as_words() -> None:
    assert term_label("ai_uses.voice_clone.policy").label == "AI uses › Voice clone › Policy"
    assert term_label("ai_disclosure.category_weights.vfx").label == "AI disclosure › Category weights › VFX"


def test_money_field_loses_minor_and_nested_list_entries_count_from_one() -> None:
    assert (
        term_label("training_data.fee_schedule[0].amount_minor").label
        == "Training data › Fee schedule › fee 1 › Amount"
    )
    assert (
        term_label("apprenticeship[0].ratio_schedule[1].per_journey").label
        == "Apprenticeship quotas › rule 1 › Ratio schedule › step 2 › Per journey"
    )


def test_unknown_path_still_gets_words() -> None:
    assert term_label("no_such.thing[0]").label == "No such › Thing › item 1"


def test_values_for_people() -> None:
    assert shown_value("ai_disclosure.max_ai_share_pct", 20.0) == "20%"
    assert shown_value("ai_disclosure.max_ai_share_pct", 12.5) == "12.5%"
    assert shown_value("x.mentor_required", True) == "yes"
    assert shown_value("x.mentor_required", False) == "no"
    assert shown_value("x.min_weeks", 12) == "12"
    assert shown_value("x.tags", ["a", "b"]) == "a, b"
    assert shown_value("x.max_weeks", None) == "none"
    assert shown_value("x.amount_minor", 60000, "EUR 600.00") == "EUR 600.00"


def test_shown_change_uses_the_redlines_money_text() -> None:
    base = example_terms().model_dump(mode="json")
    new = copy.deepcopy(base)
    new["ai_disclosure"]["max_ai_share_pct"] = 15.0
    new["apprenticeship"][0]["min_rate_minor_per_week"] += 10000
    new["apprenticeship"][0]["mentor_required"] = not base["apprenticeship"][0]["mentor_required"]
    shown = {c.path: shown_change(c) for c in diff_terms(base, new)}
    share = shown["ai_disclosure.max_ai_share_pct"]
    assert (share.label, share.old, share.new) == ("AI disclosure › Max AI share (%)", "20%", "15%")
    rate = shown["apprenticeship[0].min_rate_minor_per_week"]
    assert rate.label == "Apprenticeship quotas › rule 1 › Min rate per week"
    assert rate.old.startswith(base["apprenticeship"][0]["currency"] + " ") and rate.old.endswith("/week")
    assert shown["apprenticeship[0].mentor_required"].new in {"yes", "no"}
