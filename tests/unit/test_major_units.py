"""Amounts in major units ("1800.00") wherever a person types money, converted by the ISO 4217 exponent;
unknown currencies refused (pure; no database)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from contracts.clauses import FeesAndScheduleParams, get_clause, validate_params
from guild.compacts.terms import AIUseRule, Fee, QuotaRule, Terms, example_terms

FEES = {"currency": "EUR", "payment_terms_days": 14, "schedule": "weekly"}


def errors(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[tuple[Any, ...], str]]:
    return [(e["loc"], e["type"]) for e in exc.value.errors()]


@pytest.mark.parametrize(
    ("currency", "major", "minor"),
    [
        ("EUR", "1800.00", 180_000),
        ("EUR", 1800.5, 180_050),
        ("EUR", 1800, 180_000),
        ("JPY", "1500", 1_500),
        ("KWD", "12.345", 12_345),
    ],
)
def test_major_units_convert_by_the_currency_exponent(currency: str, major: Any, minor: int) -> None:
    params = FeesAndScheduleParams.model_validate({**FEES, "currency": currency, "rate_per_week": major})
    assert params.rate_minor_per_week == minor


@pytest.mark.parametrize(
    ("over", "loc", "rule"),
    [
        ({"currency": "JPY", "rate_per_week": "1.5"}, ("rate_per_week",), "money_precision"),
        ({"rate_per_week": "18.001"}, ("rate_per_week",), "money_precision"),
        ({"rate_per_week": "1800.00", "rate_minor_per_week": 180_000}, ("rate_per_week",), "one_amount"),
        ({"rate_per_week": "lots"}, ("rate_per_week",), "decimal_amount"),
        ({"rate_per_week": "1,800.00"}, ("rate_per_week",), "decimal_amount"),
        ({"rate_per_week": True}, ("rate_per_week",), "decimal_type"),
        ({"rate_per_week": "-5"}, ("rate_per_week",), "decimal_amount"),
        ({"rate_per_week": "NaN"}, ("rate_per_week",), "decimal_amount"),
        ({"rate_per_week": "1e30"}, ("rate_per_week",), "decimal_amount"),
        ({"rate_per_week": "10000000000000000"}, ("rate_per_week",), "less_than_equal"),
        ({"currency": "XYZ", "rate_per_week": "10"}, ("currency",), "currency_unknown"),
        ({"currency": None, "rate_per_week": "10"}, ("rate_per_week",), "amount_currency"),
    ],
)
def test_bad_major_amounts_are_refused_at_the_field(over: dict[str, Any], loc: tuple[str, ...], rule: str) -> None:
    with pytest.raises(ValidationError) as exc:
        FeesAndScheduleParams.model_validate({**FEES, **over})
    assert (loc, rule) in errors(exc)


def test_unknown_and_withdrawn_currencies_are_refused() -> None:
    for code in ("XYZ", "DEM"):
        with pytest.raises(ValidationError) as exc:
            FeesAndScheduleParams.model_validate({**FEES, "currency": code, "rate_minor_per_week": 1})
        assert (("currency",), "currency_unknown") in errors(exc)
    with pytest.raises(ValidationError) as terms_exc:
        Fee.model_validate({"amount": "250.00", "currency": "ABC", "basis": "per_work", "period": "year"})
    assert (("currency",), "currency_unknown") in errors(terms_exc)


def test_terms_take_major_units_and_store_minor_units() -> None:
    doc = example_terms().model_dump(mode="json")
    rule = dict(doc["apprenticeship"][0])
    for minor in ("budget_min_minor", "budget_max_minor", "min_rate_minor_per_week"):
        rule.pop(minor)
    rule |= {"budget_min": "0", "budget_max": "500000.00", "min_rate_per_week": "600.00"}
    parsed = QuotaRule.model_validate(rule)
    assert (parsed.budget_min_minor, parsed.budget_max_minor, parsed.min_rate_minor_per_week) == (0, 50_000_000, 60_000)
    replica = AIUseRule.model_validate(
        {
            "policy": "consent_required",
            "consent_notice_hours": 48,
            "consent_scope": "per_use",
            "replica_scale_per_day": "1500",
            "replica_scale_currency": "EUR",
        }
    )
    assert replica.replica_scale_minor_per_day == 150_000
    assert Terms.model_validate(doc) == example_terms()


def test_clause_params_take_major_units() -> None:
    consent = get_clause("digital_replica_consent", 2)
    params = validate_params(
        consent,
        {
            "notice_hours": 72,
            "consent_scope": "per_use",
            "use_description": "Crowd scene replica, scene 12 only.",
            "scale_per_day": "1500.00",
            "replica_pay_per_day": 2250,
            "currency": "EUR",
            "separate_signature": True,
        },
    )
    assert params.model_dump()["scale_minor_per_day"] == 150_000
    assert params.model_dump()["replica_pay_minor_per_day"] == 225_000


def test_the_schema_documents_both_fields() -> None:
    schema = FeesAndScheduleParams.model_json_schema()
    assert "rate_per_week" in schema["properties"] and "rate_minor_per_week" in schema["properties"]
    assert "rate_minor_per_week" not in schema["required"]
    assert "major units" in schema["properties"]["rate_per_week"]["description"]
