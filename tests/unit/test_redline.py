"""Unit tests for the structured redline of terms documents (pure; no database)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from guild.compacts.redline import Change, diff_terms, redline_text
from guild.compacts.terms import Terms, example_terms

BASE = example_terms().model_dump(mode="json")


def doc() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def test_identical_documents() -> None:
    assert diff_terms(doc(), doc()) == []
    assert redline_text([], "v1", "v2") == "--- v1\n+++ v2\nNo changes."


def test_changed_scalar() -> None:
    new = doc()
    new["ai_disclosure"]["max_ai_share_pct"] = 15.0
    assert diff_terms(BASE, new) == [Change(path="ai_disclosure.max_ai_share_pct", kind="changed", old=20.0, new=15.0)]


def test_nested_dict_path() -> None:
    new = doc()
    new["ai_uses"]["voice_clone"]["policy"] = "prohibited"
    new["ai_uses"]["voice_clone"]["consent_notice_hours"] = None
    changes = diff_terms(BASE, new)
    assert [(c.path, c.kind, c.old, c.new) for c in changes] == [
        ("ai_uses.voice_clone.consent_notice_hours", "changed", 48, None),
        ("ai_uses.voice_clone.policy", "changed", "consent_required", "prohibited"),
    ]


def test_list_item_path() -> None:
    new = doc()
    new["apprenticeship"][1]["min_weeks"] = 8
    new["apprenticeship"][1]["ratio_schedule"][1]["per_journey"] = 4
    assert [c.path for c in diff_terms(BASE, new)] == [
        "apprenticeship[1].min_weeks",
        "apprenticeship[1].ratio_schedule[1].per_journey",
    ]


def test_added_and_removed_dict_keys() -> None:
    old = doc()
    del old["ai_uses"]["de_ageing"]
    new = doc()
    del new["ai_uses"]["voice_clone"]
    changes = diff_terms(old, new)
    assert changes == [
        Change(path="ai_uses.de_ageing", kind="added", new=BASE["ai_uses"]["de_ageing"]),
        Change(path="ai_uses.voice_clone", kind="removed", old=BASE["ai_uses"]["voice_clone"]),
    ]
    assert changes[0].old is None and changes[1].new is None


def test_list_growth_and_shrink() -> None:
    new = doc()
    extra = copy.deepcopy(new["apprenticeship"][0])
    extra["department"] = "sound"
    new["apprenticeship"].append(extra)
    grown = diff_terms(BASE, new)
    assert grown == [Change(path="apprenticeship[4]", kind="added", new=extra)]
    shrunk = diff_terms(new, BASE)
    assert shrunk == [Change(path="apprenticeship[4]", kind="removed", old=extra)]


def test_list_removal_in_middle_is_index_by_index() -> None:
    new = doc()
    del new["training_data"]["fee_schedule"][0]
    changes = diff_terms(BASE, new)
    assert changes[-1] == Change(
        path="training_data.fee_schedule[1]", kind="removed", old=BASE["training_data"]["fee_schedule"][1]
    )
    assert all(c.path.startswith("training_data.fee_schedule[0].") for c in changes[:-1])


def test_type_change_is_a_single_change() -> None:
    new = doc()
    new["quorum"] = None
    assert diff_terms(BASE, new) == [Change(path="quorum", kind="changed", old=2, new=None)]
    assert diff_terms({"a": {"x": 1}}, {"a": [1]}) == [Change(path="a", kind="changed", old={"x": 1}, new=[1])]


def test_bool_versus_number_is_a_change() -> None:
    assert diff_terms({"a": 1}, {"a": True}) == [Change(path="a", kind="changed", old=1, new=True)]
    assert diff_terms({"a": 1}, {"a": 1.0}) == []


def test_order_is_deterministic_and_sorted() -> None:
    new = doc()
    new["quorum"] = 3
    new["compliance"]["grace_period_days"] = 7
    new["ai_disclosure"]["festival_disclosure_required"] = False
    new["certification"]["validity_days"] = 730
    paths = [c.path for c in diff_terms(BASE, new)]
    assert paths == [
        "ai_disclosure.festival_disclosure_required",
        "certification.validity_days",
        "compliance.grace_period_days",
        "quorum",
    ]
    reordered = dict(reversed(list(new.items())))
    assert [c.path for c in diff_terms(BASE, reordered)] == paths


def test_diff_does_not_alias_inputs() -> None:
    new = doc()
    del new["ai_uses"]["de_ageing"]
    (change,) = diff_terms(BASE, new)
    change.old["policy"] = "tampered"
    assert BASE["ai_uses"]["de_ageing"]["policy"] == "consent_required"


def test_change_is_frozen() -> None:
    change = Change(path="quorum", kind="changed", old=1, new=2)
    with pytest.raises(ValidationError):
        change.path = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Change(path="x", kind="moved")  # type: ignore[arg-type]


def test_redline_text() -> None:
    new = doc()
    new["ai_disclosure"]["max_ai_share_pct"] = 15.0
    new["ai_uses"]["voice_clone"]["policy"] = "prohibited"
    rule = new["ai_uses"].pop("de_ageing")
    new["apprenticeship"][1]["min_weeks"] = 8
    old = doc()
    del old["ai_uses"]["synthetic_performer"]
    text = redline_text(diff_terms(old, new), "Indie Compact v1", "Indie Compact v2")
    lines = text.splitlines()
    assert lines[:2] == ["--- Indie Compact v1", "+++ Indie Compact v2"]
    assert lines[2:] == [
        "~ ai_disclosure.max_ai_share_pct: 20.0 → 15.0",
        "- ai_uses.de_ageing: " + json.dumps(rule, sort_keys=True),
        '+ ai_uses.synthetic_performer: {"consent_may_be_condition_of_hire": false, "consent_notice_hours": null, '
        '"consent_scope": null, "policy": "disclosure_required", "replica_pay_multiple_of_scale": null, '
        '"replica_scale_currency": null, "replica_scale_minor_per_day": null, '
        '"worker_may_be_required_to_use": false}',
        '~ ai_uses.voice_clone.policy: "consent_required" → "prohibited"',
        "~ apprenticeship[1].min_weeks: 6 → 8",
    ]
    assert "No changes." not in text


def test_redline_of_validated_amendment() -> None:
    amended = example_terms().model_copy(update={"quorum": 3})
    new = Terms.model_validate(amended.model_dump()).model_dump(mode="json")
    assert redline_text(diff_terms(BASE, new), "v1", "v2").splitlines()[2:] == ["~ quorum: 2 → 3"]


# --- properties -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-100, 100) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=12,
)
json_docs = st.dictionaries(st.text(max_size=4), json_values, max_size=4)


@given(json_docs)
def test_diff_with_itself_is_empty(data: dict[str, Any]) -> None:
    assert diff_terms(data, copy.deepcopy(data)) == []


@given(json_docs, json_docs)
def test_diff_is_empty_iff_equal_and_antisymmetric(a: dict[str, Any], b: dict[str, Any]) -> None:
    forward = diff_terms(a, b)
    assert (forward == []) == (json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True))
    backward = diff_terms(b, a)
    flip = {"added": "removed", "removed": "added", "changed": "changed"}
    assert [(c.path, flip[c.kind], c.new, c.old) for c in forward] == [(c.path, c.kind, c.old, c.new) for c in backward]
