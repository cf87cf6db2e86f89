"""The pure apprenticeship rules (quotas, ratio schedules, caps, commitment due dates) on hand-computed cases."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from guild.apprenticeship.rules import PlannedEngagement, quota_report, ratio_requirement
from guild.compacts.terms import CommitmentRule, RatioStep, Terms, example_terms
from guild.domain.dates import add_working_days, placement_weeks, shoot_weeks
from guild.productions.rules import DueDateOutOfRange, commitment_due_dates, commitment_schedule

MONDAY = date(2027, 3, 1)
FRIDAY = date(2027, 3, 5)
LABEL = "screen-guild v3"
EXAMPLE_SCHEDULE = [{"first_journey": 1, "per_journey": 1}, {"first_journey": 2, "per_journey": 3}]


def rule(**kw: Any) -> dict[str, Any]:
    base = {
        "department": "camera",
        "budget_min_minor": 0,
        "currency": "EUR",
        "min_apprentices": 1,
        "min_rate_minor_per_week": 60_000,
        "min_weeks": 4,
        "max_weeks": 26,
        "mentor_required": True,
    }
    return {**base, **kw}


def terms(*rules: dict[str, Any], commitments: list[dict[str, Any]] | None = None) -> Terms:
    data = example_terms().model_dump(mode="json")
    data["apprenticeship"] = list(rules)
    data["apprenticeship_commitments"] = commitments or []
    return Terms.model_validate(data)


_n = 0


def person(level: str = "journey", department: str = "camera", weeks: int = 10, **kw: Any) -> PlannedEngagement:
    global _n
    _n += 1
    base = {
        "ref": f"e{_n}",
        "person_name": kw.pop("person_name", f"P{_n}"),
        "department": department,
        "level": level,
        "rate_minor_per_week": 200_000,
        "currency": "EUR",
        "start_date": MONDAY,
        "end_date": MONDAY + timedelta(days=7 * weeks - 1),
    }
    return PlannedEngagement.model_validate({**base, **kw})


def apprentice(**kw: Any) -> PlannedEngagement:
    base = {
        "level": "apprentice",
        "rate_minor_per_week": 60_000,
        "mentor_level": "journey",
        "mentor_department": kw.get("department", "camera"),
    }
    return person(**{**base, **kw})


def report(t: Terms, *roster: PlannedEngagement, budget: int = 30_000_000, currency: str = "EUR"):
    return quota_report(budget, currency, list(roster), t, LABEL)


# --- budget bands and departments ----------------------------------------------------------------------

BANDS = terms(
    rule(budget_min_minor=10_000_000, budget_max_minor=50_000_000, min_apprentices=1),
    rule(budget_min_minor=50_000_000, budget_max_minor=200_000_000, min_apprentices=2),
    rule(budget_min_minor=200_000_000, min_apprentices=3),
    rule(department="editing", budget_min_minor=20_000_000, min_apprentices=1, mentor_required=False),
)


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        (0, []),  # below every floor: no quota
        (9_999_999, []),
        (10_000_000, [("camera", "apprenticeship[0]", 1)]),  # exactly at budget_min_minor: in the band
        (19_999_999, [("camera", "apprenticeship[0]", 1)]),
        (20_000_000, [("camera", "apprenticeship[0]", 1), ("editing", "apprenticeship[3]", 1)]),
        (49_999_999, [("camera", "apprenticeship[0]", 1), ("editing", "apprenticeship[3]", 1)]),
        (50_000_000, [("camera", "apprenticeship[1]", 2), ("editing", "apprenticeship[3]", 1)]),  # at max: next band
        (199_999_999, [("camera", "apprenticeship[1]", 2), ("editing", "apprenticeship[3]", 1)]),
        (200_000_000, [("camera", "apprenticeship[2]", 3), ("editing", "apprenticeship[3]", 1)]),
        (10**15, [("camera", "apprenticeship[2]", 3), ("editing", "apprenticeship[3]", 1)]),
    ],
)
def test_the_band_holding_the_budget_decides_per_department(budget, expected):
    results = report(BANDS, budget=budget)
    assert [(str(r.department), r.term_path, r.required) for r in results] == expected
    for r in results:
        assert r.band.budget_min_minor <= budget and (
            r.band.budget_max_minor is None or budget < r.band.budget_max_minor
        )
        assert r.label == LABEL and r.budget_minor == budget and r.required_by == "min_apprentices"


def test_a_budget_in_another_currency_has_no_quota():
    assert report(BANDS, budget=60_000_000, currency="GBP") == []


def test_each_department_is_counted_on_its_own():
    roster = [
        apprentice(),
        apprentice(department="editing", mentor_level=None, mentor_department=None),
        apprentice(department="sound"),
    ]
    camera, editing = report(BANDS, *roster, budget=60_000_000)
    assert (camera.counted, camera.required, camera.met, camera.missing) == (1, 2, False, 1)
    assert (editing.counted, editing.required, editing.met) == (1, 1, True)
    assert camera.counted_engagements == [roster[0].ref] and editing.counted_engagements == [roster[1].ref]


# --- ratio schedules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("journey", "required", "per_step"),
    [
        (0, 0, [0, 0]),
        (1, 1, [1, 0]),  # the first journey worker: one apprentice
        (2, 2, [1, 1]),  # the 2nd starts a group of three: rounded up
        (3, 2, [1, 1]),
        (4, 2, [1, 1]),  # workers 2-4: one full group of three
        (5, 3, [1, 2]),
        (7, 3, [1, 2]),  # workers 2-7: two groups of three
    ],
)
def test_the_example_ratio_schedule(journey, required, per_step):
    schedule = [RatioStep.model_validate(s) for s in EXAMPLE_SCHEDULE]
    total, steps = ratio_requirement(journey, schedule)
    assert total == required and [s.apprentices for s in steps] == per_step
    assert [(s.first_journey, s.last_journey, s.per_journey) for s in steps] == [(1, 1, 1), (2, None, 3)]
    assert sum(s.journey_in_step for s in steps) == journey
    # the same through the report, with min_apprentices 0 so the ratio alone decides
    t = terms(rule(min_apprentices=0, ratio_schedule=EXAMPLE_SCHEDULE))
    roster = [person(level=("journey", "senior", "head")[i % 3]) for i in range(journey)]
    [r] = report(t, *roster)
    assert (r.journey_level, r.ratio_required, r.required) == (journey, required, required)


def test_a_middle_step_ends_before_the_next_one_starts():
    schedule = [
        RatioStep(first_journey=1, per_journey=1),
        RatioStep(first_journey=2, per_journey=2),
        RatioStep(first_journey=6, per_journey=5),
    ]
    total, steps = ratio_requirement(10, schedule)
    assert [(s.first_journey, s.last_journey, s.journey_in_step, s.apprentices) for s in steps] == [
        (1, 1, 1, 1),
        (2, 5, 4, 2),
        (6, None, 5, 1),
    ]
    assert total == 4
    assert ratio_requirement(6, schedule)[0] == 1 + 2 + 1  # the 6th worker opens a group of five
    assert ratio_requirement(0, [])[0] == 0


def test_required_is_the_larger_of_the_minimum_and_the_ratio_and_says_which():
    t = terms(rule(min_apprentices=2, ratio_schedule=EXAMPLE_SCHEDULE))
    [few] = report(t, person())  # ratio 1 < min 2
    assert (few.required, few.ratio_required, few.required_by) == (2, 1, "min_apprentices")
    assert "max(min_apprentices 2, ratio 1)" in few.explanation
    [many] = report(t, *[person() for _ in range(7)])  # ratio 3 > min 2
    assert (many.required, many.ratio_required, many.required_by) == (3, 3, "ratio_schedule")
    assert "workers 2+: 6 at one per 3 = 2" in many.explanation and "rounded up" in many.explanation


def test_only_journey_level_workers_of_the_department_count_toward_the_ratio():
    t = terms(rule(min_apprentices=0, ratio_schedule=[{"first_journey": 1, "per_journey": 1}]))
    roster = [
        person(level="junior"),
        person(level="trainee"),
        apprentice(),
        person(department="sound"),
        person(level="journey"),
        person(level="senior"),
        person(level="head"),
    ]
    [r] = report(t, *roster)
    assert (r.journey_level, r.required, r.counted, r.missing) == (3, 3, 1, 2)


# --- counting placements -------------------------------------------------------------------------------

ONE = terms(rule(max_reimbursed_placements=None))


def not_counted(*roster: PlannedEngagement, t: Terms = ONE) -> list[tuple[str, str]]:
    [r] = report(t, *roster)
    return [(n.engagement, n.reason) for n in r.not_counted]


def test_pay_at_the_minimum_counts_below_it_does_not_and_is_underpaid():
    at_min, below, unpaid = apprentice(), apprentice(rate_minor_per_week=59_999), apprentice(rate_minor_per_week=0)
    [r] = report(ONE, at_min, below, unpaid)
    assert r.counted_engagements == [at_min.ref]
    assert [(n.engagement, n.reason) for n in r.not_counted] == [
        (below.ref, "below_min_rate"),
        (unpaid.ref, "below_min_rate"),
    ]
    assert [(u.engagement, u.shortfall_minor_per_week) for u in r.underpaid] == [(below.ref, 1), (unpaid.ref, 60_000)]
    assert "Paid below the minimum of EUR 600.00 per week" in r.explanation


def test_pay_in_another_currency_does_not_count_and_is_not_called_underpaid():
    other = apprentice(currency="GBP", rate_minor_per_week=1)
    [r] = report(ONE, other)
    assert [(n.reason, n.reasons) for n in r.not_counted] == [("wrong_currency", ["wrong_currency"])]
    assert r.underpaid == []


@pytest.mark.parametrize(
    ("days", "reason"),
    [
        (21, "too_short"),  # 3 weeks < 4
        (22, None),  # 22 days: 4 weeks (partial weeks round up)
        (28, None),
        (182, None),  # 26 weeks, the maximum
        (183, "too_long"),  # 27 weeks
    ],
)
def test_placement_length_min_and_max(days, reason):
    e = apprentice(end_date=MONDAY + timedelta(days=days - 1))
    assert placement_weeks(e.start_date, e.end_date) == -(-days // 7)
    assert not_counted(e) == ([] if reason is None else [(e.ref, reason)])


def test_a_placement_that_ends_before_it_starts_is_too_short():
    assert not_counted(e := apprentice(end_date=MONDAY - timedelta(days=3))) == [(e.ref, "too_short")]


@pytest.mark.parametrize(
    ("mentor", "reason"),
    [
        ({"mentor_level": "journey", "mentor_department": "sound"}, "mentor_other_department"),
        ({"mentor_level": "junior", "mentor_department": "camera"}, "mentor_below_journey"),
        ({"mentor_level": "trainee", "mentor_department": "camera"}, "mentor_below_journey"),
        ({"mentor_level": None, "mentor_department": None}, "no_mentor"),
        ({"mentor_level": "senior", "mentor_department": "camera"}, None),
        ({"mentor_level": "head", "mentor_department": "camera"}, None),
    ],
)
def test_mentors_must_be_journey_level_or_above_in_the_same_department(mentor, reason):
    e = apprentice(**mentor)
    assert not_counted(e) == ([] if reason is None else [(e.ref, reason)])
    # without mentor_required, no mentor rule applies
    assert not_counted(e, t=terms(rule(mentor_required=False))) == []


def test_every_failed_check_is_listed_and_explained():
    e = apprentice(rate_minor_per_week=1_000, end_date=MONDAY, mentor_level="junior", mentor_department="sound")
    [r] = report(ONE, e)
    [n] = r.not_counted
    assert n.reasons == ["below_min_rate", "too_short", "mentor_below_journey", "mentor_other_department"]
    assert n.reason == "below_min_rate" and len(n.details) == 4
    assert (
        f"{e.person_name} (paid 1000 per week; at least 60000 required, 1 week(s); at least 4 required" in r.explanation
    )
    assert "The quota is NOT met: 1 more placement(s) needed." in r.explanation


def test_juniors_are_not_placements():
    [r] = report(ONE, person(level="junior", rate_minor_per_week=1))
    assert (r.counted, r.not_counted, r.underpaid, r.missing) == (0, [], [], 1)


# --- caps ----------------------------------------------------------------------------------------------


def test_placements_beyond_the_cap_still_count_but_are_not_reimbursable():
    t = terms(rule(min_apprentices=3, max_reimbursed_placements=1))
    late = apprentice(start_date=MONDAY + timedelta(days=7), end_date=MONDAY + timedelta(days=69))
    first, second, short = apprentice(), apprentice(), apprentice(end_date=MONDAY)
    [r] = report(t, late, first, second, short)
    assert (r.counted, r.required, r.met) == (3, 3, True)  # the cap does not reduce the count
    assert r.reimbursable == [first.ref]  # earliest start first, ties in roster order
    assert r.not_reimbursable == [second.ref, late.ref]
    assert short.ref not in r.reimbursable + r.not_reimbursable
    assert (
        f"{second.person_name}, {late.person_name} beyond the cap are not reimbursable but still count toward the quota"
    ) in r.explanation


def test_a_cap_of_zero_and_no_cap():
    e = apprentice()
    [zero] = report(terms(rule(max_reimbursed_placements=0)), e)
    assert (zero.met, zero.reimbursable, zero.not_reimbursable) == (True, [], [e.ref])
    [none] = report(terms(rule()), e)
    assert (none.max_reimbursed_placements, none.reimbursable, none.not_reimbursable) == (None, [e.ref], [])
    assert "reimburses" not in none.explanation


def test_the_explanation_names_the_rule_the_band_and_the_counts():
    t = terms(rule(budget_min_minor=10_000_000, budget_max_minor=50_000_000, max_reimbursed_placements=2))
    [r] = report(t, apprentice())
    assert r.explanation.startswith(
        "screen-guild v3, camera, budget band from EUR 100,000.00 included to EUR 500,000.00 excluded "
        "(apprenticeship[0]) applies to a budget of EUR 300,000.00."
    )
    assert "1 required: min_apprentices is 1 and the rule has no ratio schedule." in r.explanation
    assert "every counted placement is reimbursable" in r.explanation and r.explanation.endswith("The quota is met.")
    assert r.rule == t.apprenticeship[0]


# --- working days and commitments ----------------------------------------------------------------------


def _slow_working_days(day: date, n: int) -> date:
    step, left = (1 if n > 0 else -1), abs(n)
    while left:
        day += timedelta(days=step)
        left -= day.weekday() < 5
    return day


def test_working_days_skip_weekends():
    assert (MONDAY.weekday(), FRIDAY.weekday()) == (0, 4)
    assert add_working_days(FRIDAY, 1) == date(2027, 3, 8)  # Friday + 1 = Monday
    assert add_working_days(MONDAY, -1) == date(2027, 2, 26)  # Monday - 1 = Friday
    assert add_working_days(MONDAY, -10) == date(2027, 2, 15)  # two weeks earlier, a Monday
    assert add_working_days(MONDAY, -11) == date(2027, 2, 12)  # the Friday before that
    assert add_working_days(MONDAY, 5) == date(2027, 3, 8)
    assert add_working_days(FRIDAY, -4) == MONDAY
    assert add_working_days(date(2027, 3, 6), 1) == date(2027, 3, 8)  # Saturday + 1 = Monday
    assert add_working_days(date(2027, 3, 7), -1) == FRIDAY  # Sunday - 1 = Friday
    assert add_working_days(date(2027, 3, 6), 0) == date(2027, 3, 6)  # 0: the day itself


def test_working_days_agree_with_counting_one_by_one():
    for start in (MONDAY + timedelta(days=i) for i in range(7)):
        for n in range(-30, 31):
            if n:
                assert add_working_days(start, n) == _slow_working_days(start, n), (start, n)


SKILLS = CommitmentRule(key="skills_plan", title="Skills plan", anchor="shoot_start", offset_working_days=-10)
FINAL = CommitmentRule(key="final_plan", title="Final plan", anchor="shoot_start", offset_weeks=2, min_shoot_weeks=6)
WRAP = CommitmentRule(
    key="wrap_report", title="Wrap report", anchor="shoot_end", offset_working_days=3, max_shoot_weeks=8
)


def test_commitment_due_dates_from_the_shoot_dates():
    end = MONDAY + timedelta(days=41)  # 42 days: 6 weeks, a Sunday
    assert shoot_weeks(MONDAY, end) == 6 and end.weekday() == 6
    assert commitment_due_dates([SKILLS, FINAL, WRAP], MONDAY, end) == [
        (SKILLS, date(2027, 2, 15)),  # 10 working days before Monday 1 March
        (FINAL, date(2027, 3, 15)),  # two calendar weeks after
        (WRAP, date(2027, 4, 14)),  # Sunday 11 April + 3 working days = Wednesday 14 April
    ]


@pytest.mark.parametrize(
    ("days", "keys"),
    [
        (1, ["skills_plan", "wrap_report"]),  # 1 week
        (35, ["skills_plan", "wrap_report"]),  # 5 weeks: final_plan needs at least 6
        (36, ["skills_plan", "final_plan", "wrap_report"]),  # 36 days round up to 6 weeks
        (56, ["skills_plan", "final_plan", "wrap_report"]),  # 8 weeks: wrap_report's maximum
        (57, ["skills_plan", "final_plan"]),  # 9 weeks
    ],
)
def test_rules_outside_their_shoot_length_are_skipped(days, keys):
    end = MONDAY + timedelta(days=days - 1)
    assert [r.key for r, _ in commitment_due_dates([SKILLS, FINAL, WRAP], MONDAY, end)] == keys
    schedule = commitment_schedule([SKILLS, FINAL, WRAP], MONDAY, end)
    assert [c.key for c in schedule if c.applies] == keys
    for c in schedule:
        assert (c.due_date is None) != c.applies and c.reason


def test_the_schedule_explains_skipped_and_computed_dates():
    skipped, computed = commitment_schedule([FINAL, SKILLS], MONDAY, MONDAY + timedelta(days=6))
    assert skipped.reason == "applies to shoots of at least 6 week(s); this shoot is 1"
    assert computed.reason == "10 working day(s) before the shoot start (2027-03-01)"
    assert computed.due_date == date(2027, 2, 15)


def test_a_shoot_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="must not be before"):
        commitment_due_dates([SKILLS], MONDAY, MONDAY - timedelta(days=1))


def test_a_due_date_outside_the_calendar_is_named_not_an_overflow():
    with pytest.raises(DueDateOutOfRange, match="skills_plan") as caught:
        commitment_due_dates([SKILLS], date(1, 1, 1), date(1, 3, 1))
    assert isinstance(caught.value, ValueError) and caught.value.rule is SKILLS
    with pytest.raises(DueDateOutOfRange, match="wrap_report"):
        commitment_schedule([FINAL, WRAP], date(9999, 12, 1), date(9999, 12, 31))
