"""Commitment rescheduling as a pure lifecycle (no database): hand-computed cases and properties."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guild.compacts.terms import CommitmentAnchor, CommitmentRule
from guild.productions.lifecycle import (
    DONE,
    OPEN,
    WITHDRAWN,
    Change,
    Held,
    Shoot,
    VersionRules,
    apply,
    due_dates,
    reschedule,
)

V1, V2 = UUID(int=1), UUID(int=2)


def rule(key: str, anchor: str = "shoot_start", **kw) -> CommitmentRule:
    return CommitmentRule(key=key, title=f"{key} filed", anchor=CommitmentAnchor(anchor), **kw)


RULES = [
    rule("skills_plan", offset_working_days=-10),
    rule("final_plan", offset_weeks=2, min_shoot_weeks=6),
    rule("wrap_report", "shoot_end", offset_working_days=5),
    rule("short_review", offset_weeks=-1, max_shoot_weeks=4),
]
NINE_WEEKS = Shoot(date(2040, 3, 5), date(2040, 5, 4))
FOUR_WEEKS = Shoot(date(2040, 4, 2), date(2040, 4, 27))


def ids() -> Callable[[], UUID]:
    counter = itertools.count(1000)
    return lambda: UUID(int=next(counter))


def schedule(shoot: Shoot, rules=RULES, version=V1) -> list[Held]:
    """The commitments binding creates: reschedule from nothing, applied."""
    return apply([], reschedule([], [VersionRules(version, rules)], shoot), ids())


def by_key(held: list[Held]) -> dict[str, tuple[date, str]]:
    return {c.key: (c.due_date, c.status) for c in held}


def test_binding_creates_one_open_commitment_per_applying_rule():
    assert by_key(schedule(NINE_WEEKS)) == {
        "skills_plan": (date(2040, 2, 20), OPEN),  # 10 working days before Monday 5 March
        "final_plan": (date(2040, 3, 19), OPEN),  # 2 weeks after the start; a 9-week shoot
        "wrap_report": (date(2040, 5, 11), OPEN),  # 5 working days after Friday 4 May
    }


def test_new_dates_move_withdraw_and_create_and_leave_done_ones_alone():
    held = schedule(NINE_WEEKS)
    held = [c if c.key != "skills_plan" else Held(c.id, c.version_id, c.key, c.due_date, DONE) for c in held]
    changes = reschedule(held, [VersionRules(V1, RULES)], FOUR_WEEKS)
    assert [c.audit() for c in changes] == [
        {"key": "final_plan", "from": "2040-03-19", "to": None, "status": WITHDRAWN},
        {"key": "wrap_report", "from": "2040-05-11", "to": "2040-05-04", "status": OPEN},
        {"key": "short_review", "from": None, "to": "2040-03-26", "status": OPEN},
    ]
    wrap = next(c for c in held if c.key == "wrap_report")
    assert changes[1].commitment_id == wrap.id and changes[2].commitment_id is None
    after = apply(held, changes, ids())
    assert by_key(after) == {
        "skills_plan": (date(2040, 2, 20), DONE),
        "final_plan": (date(2040, 3, 19), WITHDRAWN),
        "wrap_report": (date(2040, 5, 4), OPEN),
        "short_review": (date(2040, 3, 26), OPEN),
    }
    # back to nine weeks: the withdrawn one reopens (same row), the short-shoot one is withdrawn
    back = reschedule(after, [VersionRules(V1, RULES)], NINE_WEEKS)
    assert {c.key: (c.status, c.commitment_id is not None) for c in back} == {
        "final_plan": (OPEN, True),
        "wrap_report": (OPEN, True),
        "short_review": (WITHDRAWN, True),
    }


def test_no_shoot_dates_withdraw_every_open_commitment():
    held = schedule(NINE_WEEKS)
    changes = reschedule(held, [VersionRules(V1, RULES)], None)
    assert {(c.key, c.status, c.to_date) for c in changes} == {(c.key, WITHDRAWN, None) for c in held}
    assert reschedule(apply(held, changes, ids()), [VersionRules(V1, RULES)], None) == []


def test_other_versions_and_duplicate_keys():
    held = schedule(NINE_WEEKS, version=V2)
    assert reschedule(held, [VersionRules(V1, [])], FOUR_WEEKS) == []  # V2's commitments are not V1's business
    twice = [rule("a_plan", offset_weeks=1), rule("a_plan", offset_weeks=9)]
    assert [(r.offset_weeks, d) for r, d in due_dates(twice, NINE_WEEKS.start, NINE_WEEKS.end)] == [
        (1, date(2040, 3, 12))
    ]


def test_a_shoot_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="must not be before"):
        reschedule([], [VersionRules(V1, RULES)], Shoot(date(2040, 3, 5), date(2040, 3, 4)))


# --- properties ----------------------------------------------------------------------------------------

_DAY = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
_SHOOTS = st.none() | st.builds(
    lambda start, days: Shoot(start, start + timedelta(days=days)), _DAY, st.integers(0, 120)
)
_KEYS = st.sampled_from(["skills_plan", "final_plan", "wrap_report", "short_review", "mid_check"])


@st.composite
def _rule(draw) -> CommitmentRule:
    lo = draw(st.none() | st.integers(1, 12))
    hi = draw(st.none() | st.integers(lo or 1, 20))
    offset = (
        {"offset_working_days": draw(st.integers(-30, 30))}
        if draw(st.booleans())
        else {"offset_weeks": draw(st.integers(-8, 8))}
    )
    return rule(
        draw(_KEYS),
        draw(st.sampled_from(["shoot_start", "shoot_end"])),
        min_shoot_weeks=lo,
        max_shoot_weeks=hi,
        **offset,
    )


_VERSIONS = st.lists(
    st.builds(VersionRules, st.sampled_from([V1, V2]), st.lists(_rule(), max_size=5)),
    max_size=2,
    unique_by=lambda v: v.version_id,
)


@st.composite
def _held(draw, versions: list[VersionRules]) -> list[Held]:
    """What a production may hold: for some (version, key) pairs, one commitment in any state."""
    keys = sorted({(v.version_id, r.key) for v in versions for r in v.rules} | {(V2, "stray_key")})
    out = []
    for n, (version, key) in enumerate(keys):
        if draw(st.booleans()):
            out.append(
                Held(UUID(int=500 + n), version, key, draw(_DAY), draw(st.sampled_from([OPEN, DONE, WITHDRAWN])))
            )
    return out


@settings(max_examples=300)
@given(data=st.data(), versions=_VERSIONS, first=_SHOOTS, second=_SHOOTS)
def test_done_commitments_never_change_and_the_same_dates_twice_change_nothing(data, versions, first, second):
    held = data.draw(_held(versions))
    done = {c.id: c for c in held if c.status == DONE}
    state = held
    for shoot in (first, second):
        changes = reschedule(state, versions, shoot)
        assert not {c.commitment_id for c in changes} & done.keys()  # a done commitment is never touched
        state = apply(state, changes, ids())
        assert all(c == done[c.id] for c in state if c.id in done)
        assert reschedule(state, versions, shoot) == []  # the same dates again: a no-op
        # one commitment per (version, key), and the open ones are exactly the rules that apply
        assert len({(c.version_id, c.key) for c in state}) == len(state)
        applying = {
            (v.version_id, r.key): d
            for v in versions
            for r, d in ([] if shoot is None else due_dates(v.rules, shoot.start, shoot.end))
        }
        bound = {v.version_id for v in versions}
        opened = {(c.version_id, c.key): c.due_date for c in state if c.status == OPEN and c.version_id in bound}
        done_keys = {(c.version_id, c.key) for c in done.values()}
        assert opened == {k: d for k, d in applying.items() if k not in done_keys}


def test_change_audit_shape():
    change = Change(V1, "k", None, "t", None, date(2040, 1, 2), OPEN)
    assert change.audit() == {"key": "k", "from": None, "to": "2040-01-02", "status": OPEN}
