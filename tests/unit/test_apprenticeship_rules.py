"""The pure apprenticeship rules (quotas, ratio schedules, caps, commitment due dates) on hand-computed cases."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest

from guild.apprenticeship.rules import PlannedEngagement, quota_report, ratio_requirement
from guild.compacts.terms import CommitmentRule, RatioStep, Terms, WorkingCalendar, example_terms
from guild.domain.dates import add_working_days, placement_weeks, public_holidays, shoot_weeks
from guild.productions.lifecycle import Shoot, VersionRules, reschedule
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
    ("journey", "whole", "partial"),
    [
        # [one for the first journey worker, then one per three]: (total, per step)
        (0, (0, [0, 0]), (0, [0, 0])),
        (1, (1, [1, 0]), (1, [1, 0])),  # the first journey worker: one apprentice
        (2, (1, [1, 0]), (2, [1, 1])),  # the 2nd starts a group of three: counts only if partial groups do
        (3, (1, [1, 0]), (2, [1, 1])),
        (4, (2, [1, 1]), (2, [1, 1])),  # workers 2-4: one whole group of three
        (5, (2, [1, 1]), (3, [1, 2])),
        (7, (3, [1, 2]), (3, [1, 2])),  # workers 2-7: two whole groups of three
        (8, (3, [1, 2]), (4, [1, 3])),
    ],
)
def test_the_example_ratio_schedule_counts_whole_groups_unless_a_step_says_otherwise(journey, whole, partial):
    for expected, counts in ((whole, False), (partial, True)):
        schedule = [RatioStep.model_validate({**s, "partial_group_counts": counts}) for s in EXAMPLE_SCHEDULE]
        total, steps = ratio_requirement(journey, schedule)
        assert (total, [s.apprentices for s in steps]) == expected
        assert [(s.first_journey, s.last_journey, s.per_journey) for s in steps] == [(1, 1, 1), (2, None, 3)]
        assert sum(s.journey_in_step for s in steps) == journey
    # the default is whole groups; the same through the report, min_apprentices 0 so the ratio alone decides
    t = terms(rule(min_apprentices=0, ratio_schedule=EXAMPLE_SCHEDULE))
    roster = [person(level=("journey", "senior", "head")[i % 3]) for i in range(journey)]
    [r] = report(t, *roster)
    assert (r.journey_level, r.ratio_required, r.required) == (journey, whole[0], whole[0])


# "One apprentice per two journey workers for the first four, then one per four more."
SCHEME = [{"first_journey": 1, "per_journey": 2}, {"first_journey": 5, "per_journey": 4}]

# journey-level workers -> apprentices, whole groups and started groups, at and around every step boundary
SCHEME_CASES = [
    (0, 0, 0),
    (1, 0, 1),  # half a group of two
    (2, 1, 1),  # one whole group of two
    (3, 1, 2),
    (4, 2, 2),  # the last worker of the first step: two groups of two
    (5, 2, 3),  # the first worker of the second step: 2 + floor(1/4) = 2, or 2 + ceil(1/4) = 3
    (7, 2, 3),  # the example: 2 + floor(3/4) = 2
    (8, 3, 3),  # 2 + floor(4/4)
    (9, 3, 4),
    (12, 4, 4),  # 2 + floor(8/4)
    (13, 4, 5),
]


@pytest.mark.parametrize(("journey", "whole", "partial"), SCHEME_CASES)
def test_a_schedule_whose_ratio_changes_after_the_first_four(journey, whole, partial):
    steps = [RatioStep.model_validate(s) for s in SCHEME]
    total, results = ratio_requirement(journey, steps)
    assert total == whole
    assert [(r.first_journey, r.last_journey, r.journey_in_step) for r in results] == [
        (1, 4, min(journey, 4)),
        (5, None, max(0, journey - 4)),
    ]
    started = [s.model_copy(update={"partial_group_counts": True}) for s in steps]
    assert ratio_requirement(journey, started)[0] == partial


def _crew(journey: int, apprentices: int) -> list[PlannedEngagement]:
    """``journey`` journey-level workers and ``apprentices`` qualifying apprentices, the i-th starting i days in."""
    crew = [person() for _ in range(journey)]
    for i in range(apprentices):
        start = MONDAY + timedelta(days=i)
        crew.append(apprentice(start_date=start, end_date=start + timedelta(days=69)))
    return crew


@pytest.mark.parametrize(("journey", "whole", "partial"), SCHEME_CASES)
def test_the_schedule_as_a_minimum_at_every_boundary(journey, whole, partial):
    t = terms(rule(min_apprentices=0, ratio_schedule=SCHEME))
    if whole:
        [short] = report(t, *_crew(journey, whole - 1))
        assert (short.required, short.counted, short.met, short.missing) == (whole, whole - 1, False, 1)
        assert short.allowed is None and short.direction == "minimum"
        assert "The quota is NOT met: 1 more placement(s) needed." in short.explanation
    [enough] = report(t, *_crew(journey, whole))
    assert (enough.required, enough.counted, enough.met, enough.missing, enough.excess) == (whole, whole, True, 0, 0)
    [more] = report(t, *_crew(journey, whole + 1))  # more than the minimum is fine
    assert (more.counted, more.met, more.over_maximum) == (whole + 1, True, [])


@pytest.mark.parametrize(("journey", "whole", "partial"), SCHEME_CASES)
def test_the_schedule_as_a_maximum_at_every_boundary(journey, whole, partial):
    t = terms(rule(direction="maximum", min_apprentices=0, ratio_schedule=SCHEME))
    [at] = report(t, *_crew(journey, whole))
    assert (at.allowed, at.required, at.placements, at.counted, at.met, at.excess) == (whole, 0, whole, whole, True, 0)
    assert at.over_maximum == [] and at.direction == "maximum"
    assert at.explanation.endswith("The maximum is kept.")
    crew = _crew(journey, whole + 1)
    [over] = report(t, *crew)
    latest = crew[-1]  # the last to start is the one over the maximum
    assert (over.allowed, over.placements, over.counted, over.met, over.excess) == (whole, whole + 1, whole, False, 1)
    assert over.over_maximum == [latest.ref] and latest.ref not in over.counted_engagements
    assert [(n.engagement, n.reasons) for n in over.not_counted] == [(latest.ref, ["over_maximum"])]
    assert f"The maximum is NOT kept: 1 placement(s) more than the {whole} allowed." in over.explanation
    # a started group counts: one more is allowed wherever the two counts differ
    started = [{**s, "partial_group_counts": True} for s in SCHEME]
    [p] = report(terms(rule(direction="maximum", min_apprentices=0, ratio_schedule=started)), *crew)
    assert (p.allowed, p.met) == (partial, partial >= whole + 1)


def test_a_maximum_counts_every_placement_and_keeps_the_earliest():
    t = terms(rule(direction="maximum", min_apprentices=1, ratio_schedule=SCHEME, max_reimbursed_placements=None))
    journey = [person() for _ in range(7)]  # allows max(1, 2 + floor(3/4)) = 2
    underpaid = apprentice(rate_minor_per_week=1, person_name="Early")  # starts Monday: takes a place
    second = apprentice(start_date=MONDAY + timedelta(days=1), end_date=MONDAY + timedelta(days=70), person_name="Ok")
    third = apprentice(start_date=MONDAY + timedelta(days=2), end_date=MONDAY + timedelta(days=71), person_name="Late")
    [r] = report(t, third, *journey, second, underpaid)
    assert (r.allowed, r.placements, r.excess, r.met) == (2, 3, 1, False)
    assert r.over_maximum == [third.ref]  # the underpaid one started first and keeps its place
    assert r.counted_engagements == [second.ref] and r.reimbursable == [second.ref]
    assert [(n.engagement, n.reasons) for n in r.not_counted] == [
        (third.ref, ["over_maximum"]),
        (underpaid.ref, ["below_min_rate"]),
    ]
    assert "2 allowed at most = max(min_apprentices 1, ratio 2)" in r.explanation
    assert "workers 1-4: 4 at one per 2, floor(4/2) = 2; workers 5+: 3 at one per 4, floor(3/4) = 0" in r.explanation
    assert "Over the maximum, in order of start date, and so neither counted nor reimbursed: Late." in r.explanation
    # min_apprentices alone under maximum: at most that many whatever the crew
    [small] = report(terms(rule(direction="maximum", min_apprentices=1)), second, third)
    assert (small.allowed, small.over_maximum) == (1, [third.ref])
    assert "1 allowed at most: min_apprentices is 1 and the rule has no ratio schedule" in small.explanation


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
    assert ratio_requirement(6, schedule)[0] == 1 + 2 + 0  # the 6th worker starts a group of five: not whole
    assert ratio_requirement(0, [])[0] == 0


def test_required_is_the_larger_of_the_minimum_and_the_ratio_and_says_which():
    t = terms(rule(min_apprentices=2, ratio_schedule=EXAMPLE_SCHEDULE))
    [few] = report(t, person())  # ratio 1 < min 2
    assert (few.required, few.ratio_required, few.required_by) == (2, 1, "min_apprentices")
    assert "max(min_apprentices 2, ratio 1)" in few.explanation
    [many] = report(t, *[person() for _ in range(7)])  # ratio 1 + floor(6/3) = 3 > min 2
    assert (many.required, many.ratio_required, many.required_by) == (3, 3, "ratio_schedule")
    assert "workers 2+: 6 at one per 3, floor(6/3) = 2" in many.explanation
    assert "whole groups only" in many.explanation


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
        f"{e.person_name} (paid EUR 10.00 per week; at least EUR 600.00 required, 1 week(s); at least 4 required"
        in r.explanation
    )
    assert "The quota is NOT met: 1 more placement(s) needed." in r.explanation


def test_juniors_are_not_placements():
    [r] = report(ONE, person(level="junior", rate_minor_per_week=1))
    assert (r.counted, r.not_counted, r.underpaid, r.missing) == (0, [], [], 1)


# --- caps ----------------------------------------------------------------------------------------------


def test_the_reimbursement_cap_counts_every_placement_claimed_qualifying_or_not():
    t = terms(rule(min_apprentices=3, max_reimbursed_placements=2))
    late = apprentice(start_date=MONDAY + timedelta(days=7), end_date=MONDAY + timedelta(days=69))
    first, short, second = apprentice(), apprentice(end_date=MONDAY), apprentice()
    [r] = report(t, late, first, short, second)
    assert (r.counted, r.required, r.met) == (3, 3, True)  # the cap does not reduce the count
    # in order of start date (ties: roster order): first and short use the cap, short is not reimbursed
    assert r.reimbursable == [first.ref]
    assert r.not_reimbursable == [second.ref, late.ref]
    assert [p.engagement for p in r.too_short] == [short.ref] and r.too_long == []
    assert (
        "The scheme reimburses at most 2 placement(s), counting every placement claimed, qualifying or not, in order "
        f"of start date; {second.person_name}, {late.person_name} beyond the cap are not reimbursable but still count "
        "toward the quota if they qualify."
    ) in r.explanation


def test_a_cap_of_zero_and_no_cap():
    e = apprentice()
    [zero] = report(terms(rule(max_reimbursed_placements=0)), e)
    assert (zero.met, zero.reimbursable, zero.not_reimbursable) == (True, [], [e.ref])
    [none] = report(terms(rule()), e)
    assert (none.max_reimbursed_placements, none.reimbursable, none.not_reimbursable) == (None, [e.ref], [])
    assert "reimburses" not in none.explanation


def test_only_problems_are_reported_when_asked():
    t = terms(rule(max_reimbursed_placements=1))
    ok = apprentice()
    assert quota_report(30_000_000, "EUR", [ok], t, LABEL, problems_only=True) == []
    for problem in (
        apprentice(end_date=MONDAY),  # too short (and the quota is still met by ok)
        apprentice(end_date=MONDAY + timedelta(weeks=27)),  # too long
        apprentice(start_date=MONDAY + timedelta(days=1), end_date=MONDAY + timedelta(days=70)),  # beyond the cap
    ):
        [r] = quota_report(30_000_000, "EUR", [ok, problem], t, LABEL, problems_only=True)
        assert r.met and (r.too_short or r.too_long or r.not_reimbursable)


def test_the_explanation_names_the_rule_the_band_and_the_counts():
    t = terms(rule(budget_min_minor=10_000_000, budget_max_minor=50_000_000, max_reimbursed_placements=2))
    [r] = report(t, apprentice())
    assert r.explanation.startswith(
        "screen-guild v3, camera, budget band from EUR 100,000.00 included to EUR 500,000.00 excluded "
        "(apprenticeship[0]) applies to a budget of EUR 300,000.00."
    )
    assert "1 required: min_apprentices is 1 and the rule has no ratio schedule." in r.explanation
    assert "no placement is beyond the cap" in r.explanation and r.explanation.endswith("The quota is met.")
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


IRELAND = public_holidays("IE")
ST_PATRICKS_2027 = date(2027, 3, 17)  # a Wednesday


def test_working_days_skip_the_public_holidays_of_the_calendar():
    assert ST_PATRICKS_2027.weekday() == 2 and ST_PATRICKS_2027 in IRELAND
    assert IRELAND.name(ST_PATRICKS_2027) == "Saint Patrick's Day" and IRELAND.name(MONDAY) is None
    tuesday = date(2027, 3, 16)
    assert add_working_days(tuesday, 1) == ST_PATRICKS_2027  # weekends only: the holiday is a working day
    assert add_working_days(tuesday, 1, IRELAND) == date(2027, 3, 18)  # Tuesday + 1 = Thursday
    assert add_working_days(date(2027, 3, 18), -1, IRELAND) == tuesday  # Thursday - 1 = Tuesday
    assert add_working_days(ST_PATRICKS_2027, 1, IRELAND) == date(2027, 3, 18)  # from the holiday: the next day
    assert add_working_days(ST_PATRICKS_2027, -1, IRELAND) == tuesday
    assert add_working_days(ST_PATRICKS_2027, 0, IRELAND) == ST_PATRICKS_2027  # 0: the day itself
    # Friday 12 March + 5 working days: 15, 16, (17 off), 18, 19, then Monday 22 March
    assert add_working_days(date(2027, 3, 12), 5, IRELAND) == date(2027, 3, 22)
    assert add_working_days(date(2027, 3, 12), 5) == date(2027, 3, 19)


def test_a_subdivision_adds_its_regional_holidays():
    monday = date(2027, 1, 4)  # Epiphany, Wednesday 6 January, is a holiday in Bavaria, not in Berlin
    bavaria, berlin = public_holidays("DE", "BY"), public_holidays("DE", "BE")
    assert add_working_days(monday, 3, bavaria) == date(2027, 1, 8)  # Tue 5, (Wed 6 off), Thu 7, Fri 8
    assert add_working_days(monday, 3, berlin) == date(2027, 1, 7)  # Tue 5, Wed 6, Thu 7
    # New Year's Day (Friday 1 January 2027) is national: across the year's end, Thursday + 1 = Monday
    assert add_working_days(date(2026, 12, 31), 1, berlin) == monday
    assert add_working_days(monday, -1, berlin) == date(2026, 12, 31)


def test_working_days_with_holidays_agree_with_counting_one_by_one():
    def slow(day: date, n: int) -> date:
        step, left = (1 if n > 0 else -1), abs(n)
        while left:
            day += timedelta(days=step)
            left -= day.weekday() < 5 and day not in IRELAND
        return day

    for start in (date(2027, 3, 10) + timedelta(days=i) for i in range(30)):  # St Patrick's Day, Easter Monday
        for n in range(-25, 26):
            assert add_working_days(start, n, IRELAND) == slow(start, n), (start, n)


def test_a_commitment_deadline_crosses_st_patricks_day():
    start = date(2027, 3, 22)  # a Monday; 10 working days before it cross Wednesday 17 March
    end = start + timedelta(days=13)
    assert commitment_due_dates([SKILLS], start, end) == [(SKILLS, date(2027, 3, 8))]  # weekends only
    ireland = WorkingCalendar(country="IE")
    assert commitment_due_dates([SKILLS], start, end, ireland) == [(SKILLS, date(2027, 3, 5))]
    [due] = commitment_schedule([SKILLS], start, end, ireland)
    assert due.due_date == date(2027, 3, 5)
    assert due.reason == (
        "10 working day(s) before the shoot start (2027-03-22); "
        "skipping the public holiday(s) of IE: 2027-03-17 Saint Patrick's Day"
    )
    [plain] = commitment_schedule([SKILLS], start, end)
    assert plain.reason == "10 working day(s) before the shoot start (2027-03-22)"
    # a calendar whose holidays do not fall in between changes nothing, and says so
    [germany] = commitment_schedule([SKILLS], start, end, WorkingCalendar(country="DE"))
    assert germany.due_date == date(2027, 3, 8)
    assert germany.reason.endswith("; no public holiday of DE on a weekday in between")
    # the commitment lifecycle follows the version's calendar
    version = uuid4()
    [new] = reschedule([], [VersionRules(version, [SKILLS], ireland)], Shoot(start, end))
    assert (new.key, new.to_date) == ("skills_plan", date(2027, 3, 5))
    [weekends] = reschedule([], [VersionRules(version, [SKILLS])], Shoot(start, end))
    assert weekends.to_date == date(2027, 3, 8)


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
    with pytest.raises(DueDateOutOfRange, match="skills_plan"):  # counting day by day past public holidays too
        commitment_due_dates([SKILLS], date(1, 1, 1), date(1, 3, 1), WorkingCalendar(country="IE"))
