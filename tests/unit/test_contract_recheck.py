"""Contracts issued under one compact version, re-checked against its amendment (pure; no database): the
re-check is issuance's own evaluation, and the compliance rules judge the contract by it."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from contracts.clauses import ContractContext
from contracts.rules import evaluate
from guild.compacts.bound import BoundVersion
from guild.compacts.terms import Terms, example_terms
from guild.compliance.recheck import UNREADABLE, Recheck, recheck
from guild.compliance.rules import ContractFact, EngagementFact, ProductionFacts, Rule, evaluate_production, settled

V1_HASH, V2_HASH = "1" * 64, "2" * 64
RATE = "apprenticeship[0].min_rate_minor_per_week"


def terms(min_rate: int) -> Terms:
    """The example terms with the camera rule for budgets under EUR 500,000 paying at least ``min_rate``."""
    data = example_terms().model_dump(mode="json")
    data["apprenticeship"] = data["apprenticeship"][:1]
    data["apprenticeship"][0]["min_rate_minor_per_week"] = min_rate
    return Terms.model_validate(data)


def version(number: int, min_rate: int) -> BoundVersion:
    return BoundVersion(
        version_id=UUID(int=number),
        compact_id=UUID(int=900),
        compact_slug="screen-guild",
        compact_title="Screen Guild",
        version_number=number,
        version_hash=V1_HASH if number == 1 else V2_HASH,
        terms=terms(min_rate),
    )


V1 = version(1, 60_000)  # EUR 600.00 a week
V2 = version(2, 70_000)  # the amendment: EUR 700.00 a week


def clause(key: str, **params: Any) -> dict[str, Any]:
    defaults: dict[str, dict[str, Any]] = {
        "fees_and_schedule": {
            "rate_minor_per_week": 65_000,
            "currency": "EUR",
            "payment_terms_days": 14,
            "schedule": "weekly",
        },
        "no_required_generative_tools": {"worker_may_be_required_to_use": False},
        "no_training_ingestion": {"ingestion_without_licence_permitted": False},
        "apprenticeship_placement": {
            "rate_minor_per_week": 65_000,
            "currency": "EUR",
            "weeks": 13,
            "mentor_required": True,
        },
    }
    return {"key": key, "version": 1, "params": {**defaults[key], **params}}


def apprentice_document(rate: int = 65_000) -> dict[str, Any]:
    """What issuance stores of an apprentice's crew contract: its clauses and its context."""
    context = ContractContext(
        contract_type="crew",
        department="camera",
        level="apprentice",
        rate_minor_per_week=rate,
        currency="EUR",
        start_date=date(2027, 3, 1),
        end_date=date(2027, 5, 30),  # 13 weeks
        production_budget_minor=30_000_000,
        budget_currency="EUR",
        mentor_level="journey",
        mentor_department="camera",
    )
    clauses = [
        clause("fees_and_schedule", rate_minor_per_week=rate),
        clause("no_required_generative_tools"),
        clause("no_training_ingestion"),
        clause("apprenticeship_placement", rate_minor_per_week=rate),
    ]
    return {"contract_type": "crew", "clauses": clauses, "context": context.model_dump(mode="json")}


def test_the_recheck_is_issuances_evaluation_against_the_new_version_alone() -> None:
    document = apprentice_document()
    context = ContractContext.model_validate(document["context"])
    assert evaluate("crew", context, document["clauses"], [V1]).compliant  # issued under v1: EUR 650.00 ≥ 600.00
    assert recheck("crew", document, V1) == Recheck(True, ())

    again = recheck("crew", document, V2)  # EUR 650.00 < EUR 700.00
    assert again.compliant is False and again.term_paths == [RATE]
    [violation] = again.violations
    assert (violation["rule"], violation["required"]["min"], violation["actual"]) == ("min_rate", 70_000, 65_000)
    assert (violation["compact_slug"], violation["version_number"], violation["version_hash"]) == (
        "screen-guild",
        2,
        V2_HASH,
    )
    assert violation == evaluate("crew", context, document["clauses"], [V2]).violations[0].model_dump(mode="json")
    assert recheck("crew", apprentice_document(rate=70_000), V2) == Recheck(True, ())  # exactly the new minimum


def test_a_reviewed_plain_text_clause_must_be_reviewed_again_under_the_amendment() -> None:
    """A side letter an officer reviewed against v1's training-data term holds the contract under v2 until
    it is reviewed against v2's: a review reads one version's terms."""
    letter = {
        "organization": "kestrel",
        "key": "custom.archive",
        "version": 1,
        "title": "Archive",
        "text": "Dailies may be kept for training the producer's own AI model.",
        "reviews": [{"version_hash": V1_HASH, "term_path": "training_data.ingestion_without_licence_prohibited"}],
    }
    document = {**apprentice_document(rate=70_000), "custom_clauses": [letter]}
    assert recheck("crew", document, V1) == Recheck(True, ())
    held = recheck("crew", document, V2)
    assert held.compliant is False and held.term_paths == ["training_data.ingestion_without_licence_prohibited"]
    assert held.violations[0]["rule"] == "custom_clause_review"
    reviewed = {**letter, "reviews": [*letter["reviews"], {**letter["reviews"][0], "version_hash": V2_HASH}]}
    assert recheck("crew", {**document, "custom_clauses": [reviewed]}, V2) == Recheck(True, ())


def test_a_stored_document_that_cannot_be_evaluated_is_not_compliant() -> None:
    for document in (
        {"clauses": []},  # no context
        {**apprentice_document(), "clauses": [{"key": "no_such_clause", "version": 1, "params": {}}]},
        {**apprentice_document(), "context": {"contract_type": "crew"}},  # a context that no longer validates
    ):
        again = recheck("crew", document, V2)
        assert again.compliant is False and again.term_paths == ["contract"]
        assert again.violations[0]["rule"] == UNREADABLE
        assert again.violations[0]["message"].startswith("screen-guild v2: the stored contract could not be re-checked")


# --- the rules judge a contract issued under another version by its re-check -----------------------------


def fact(rechecks: dict[str, Recheck], **kw: Any) -> ContractFact:
    base: dict[str, Any] = {
        "id": UUID(int=5001),
        "status": "issued",
        "contract_type": "crew",
        "clause_keys": frozenset({"fees_and_schedule"}),
        "planned_ai_uses": frozenset(),
        "version_hashes": frozenset({V1_HASH}),
        "compliant": True,
        "rechecks": rechecks,
    }
    return ContractFact(**{**base, **kw})


def facts(c: ContractFact, level: str = "journey") -> ProductionFacts:
    e = EngagementFact(
        UUID(int=1001), "Ari Crew", "production", level, 200_000, "EUR", date(2027, 3, 1), date(2027, 5, 28), contract=c
    )
    return ProductionFacts(production_id=UUID(int=100), budget_minor=60_000_000, currency="EUR", engagements=[e])


def test_a_contract_still_compliant_under_the_amendment_is_no_finding_and_is_settled() -> None:
    c = fact({V2_HASH: Recheck(True, ())})
    assert evaluate_production(facts(c), [V2]) == []
    assert settled(facts(c).engagements[0], [V2_HASH])
    # the stored report still speaks for the version it was issued under
    assert settled(facts(fact({})).engagements[0], [V1_HASH])


def test_a_contract_broken_under_the_amendment_is_a_finding_naming_the_terms_and_asking_for_a_reissue() -> None:
    broken = recheck("crew", apprentice_document(), V2)
    c = fact({V2_HASH: broken})
    assert not settled(facts(c).engagements[0], [V2_HASH])
    [d] = evaluate_production(facts(c), [V2])
    assert (d.rule, d.subject, d.version_id) == (Rule.contract_noncompliant, str(UUID(int=1001)), V2.version_id)
    assert d.evidence["term_paths"] == [RATE]
    assert d.evidence["recheck"]["compliant"] is False
    assert d.evidence["recheck"]["violations"] == [dict(v) for v in broken.violations]
    assert d.evidence["checked_against"] == [V1_HASH] and d.evidence["bound_version_hash"] == V2_HASH
    assert d.remediation == (
        "Re-issue Ari Crew's contract under screen-guild v2, the version the production is bound to now "
        f"(under it the contract breaks {RATE}): issue a new contract checked against it, superseding the old one."
    )


def test_without_a_recheck_the_contract_is_flagged_as_never_checked_against_the_bound_version() -> None:
    [d] = evaluate_production(facts(fact({})), [V2])
    assert d.rule is Rule.contract_noncompliant and "term_paths" not in d.evidence
    assert "against which it was never checked" in d.remediation
    # a re-check against another version says nothing about this one
    [d] = evaluate_production(facts(fact({"9" * 64: Recheck(True, ())})), [V2])
    assert d.rule is Rule.contract_noncompliant


def test_a_compliant_recheck_does_not_excuse_what_other_rules_judge() -> None:
    voided = fact({V2_HASH: Recheck(True, ())}, status="void")
    assert [d.rule for d in evaluate_production(facts(voided), [V2])] == [Rule.contract_missing]
    assert not settled(facts(voided).engagements[0], [V2_HASH])
    planning = fact({V2_HASH: Recheck(True, ())}, planned_ai_uses=frozenset({"de_ageing"}))
    assert not settled(facts(planning).engagements[0], [V2_HASH])  # listed: the AI-use rules read it
