"""The one qualified-mentor rule, and the callers that word it their own way (pure; no database)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.clauses import ContractContext
from guild.apprenticeship.rules import PLACEMENT_CHECKS, PlannedEngagement
from guild.compacts.terms import Department, QuotaRule
from guild.domain.work import Level, is_journey_level, mentor_fit


@pytest.mark.parametrize(
    ("mentor_level", "mentor_department", "named", "journey", "same", "qualified"),
    [
        (None, None, False, False, False, False),
        ("apprentice", "camera", True, False, True, False),
        ("junior", "camera", True, False, True, False),
        ("journey", "camera", True, True, True, True),
        ("senior", "camera", True, True, True, True),
        ("head", "camera", True, True, True, True),
        ("journey", "sound", True, True, False, False),
        ("junior", "sound", True, False, False, False),
    ],
)
def test_a_mentor_is_named_journey_level_or_above_and_from_the_department(
    mentor_level, mentor_department, named, journey, same, qualified
):
    fit = mentor_fit("camera", mentor_level, mentor_department)
    assert (fit.named, fit.journey_or_above, fit.same_department, fit.qualified) == (named, journey, same, qualified)


def test_enums_and_their_values_are_the_same_mentor():
    assert mentor_fit(Department.camera, Level.senior, "camera") == mentor_fit("camera", "senior", Department.camera)
    assert mentor_fit(Department.camera, Level.senior, Department.camera).qualified


def test_journey_levels():
    assert [level for level in Level if is_journey_level(level)] == [Level.journey, Level.senior, Level.head]
    assert not is_journey_level(None)


_LEVELS = st.sampled_from(list(Level))
_DEPTS = st.sampled_from(list(Department))


def _context(dept: Department, level: Level | None, mentor_dept: Department | None) -> ContractContext:
    return ContractContext(
        contract_type="crew",
        department=dept,
        level="apprentice",
        rate_minor_per_week=60_000,
        currency="EUR",
        start_date=date(2027, 3, 1),
        end_date=date(2027, 6, 1),
        production_budget_minor=30_000_000,
        budget_currency="EUR",
        mentor_level=level,
        mentor_department=mentor_dept,
    )


def _placement(dept: Department, level: Level | None, mentor_dept: Department | None) -> PlannedEngagement:
    return PlannedEngagement(
        ref="roster[0]",
        person_name="Ari Apprentice",
        department=dept,
        level=Level.apprentice,
        rate_minor_per_week=60_000,
        currency="EUR",
        start_date=date(2027, 3, 1),
        end_date=date(2027, 6, 1),
        mentor_level=level,
        mentor_department=mentor_dept if level is not None else None,
    )


_RULE = QuotaRule.model_validate(
    {
        "department": "camera",
        "currency": "EUR",
        "budget_min_minor": 0,
        "budget_max_minor": None,
        "min_apprentices": 1,
        "min_rate_minor_per_week": 1,
        "min_weeks": 1,
        "mentor_required": True,
    }
)
_MENTOR_CHECKS = {"no_mentor", "mentor_below_journey", "mentor_other_department"}


@given(dept=_DEPTS, level=st.none() | _LEVELS, mentor_dept=_DEPTS)
def test_contracts_and_quotas_decide_the_mentor_by_the_one_rule(dept, level, mentor_dept):
    """The contract's mentor clause and the quota engine's placement checks agree with ``mentor_fit``."""
    fit = mentor_fit(dept, level, mentor_dept if level is not None else None)
    assert _context(dept, level, mentor_dept if level is not None else None).has_qualified_mentor is fit.qualified
    rule = _RULE.model_copy(update={"department": dept})
    placement = _placement(dept, level, mentor_dept)
    failed = {name for name, check in PLACEMENT_CHECKS if name in _MENTOR_CHECKS and check(placement, rule)}
    assert (not failed) is fit.qualified
