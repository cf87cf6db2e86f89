"""The contract lifecycle (pure; no database): issued → void, issued → superseded; both final."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import lifecycle
from contracts.lifecycle import FINAL_STATUSES, ContractState
from guild.domain.errors import Conflict
from guild.domain.statuses import ContractStatus

T0 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
ENGAGEMENT = uuid4()


def live() -> ContractState:
    return ContractState(uuid4(), ContractStatus.issued)


def test_voiding_the_live_contract_keeps_when_and_why():
    contract = live()
    out = lifecycle.void(contract, "signed under the wrong name", at=T0)
    assert (out.id, out.status, out.voided_at, out.void_reason) == (
        contract.id,
        ContractStatus.void,
        T0,
        "signed under the wrong name",
    )
    assert (out.superseded_by, out.superseded_at) == (None, None)


def test_superseding_the_live_contract_names_its_successor():
    contract, successor = live(), uuid4()
    out = lifecycle.supersede(contract, by=successor, at=T0)
    assert (out.status, out.superseded_by, out.superseded_at) == (ContractStatus.superseded, successor, T0)
    assert (out.voided_at, out.void_reason) == (None, "")


# Any sequence of attempted transitions: the first one applies, every later one is refused and changes nothing.
moves = st.lists(st.sampled_from(["void", "supersede"]), min_size=1, max_size=6)


@given(moves)
def test_void_and_superseded_are_final(sequence):
    state = live()
    for i, move in enumerate(sequence):
        before = state
        try:
            if move == "void":
                state = lifecycle.void(state, "reason", at=T0)
            else:
                state = lifecycle.supersede(state, by=uuid4(), at=T0)
        except Conflict as exc:
            assert i > 0 and before.status in FINAL_STATUSES
            assert exc.extra["rule"] == ("void_issued_only" if move == "void" else "supersede_live_only")
            assert state == before
        else:
            assert i == 0 and state.status in FINAL_STATUSES


@pytest.mark.parametrize("status", sorted(FINAL_STATUSES))
def test_refusals_say_what_the_contract_is(status):
    contract = ContractState(uuid4(), status)
    with pytest.raises(Conflict) as voided:
        lifecycle.void(contract, "again", at=T0)
    assert str(voided.value) == f"contract {contract.id} is already {status.value}"
    with pytest.raises(Conflict) as superseded:
        lifecycle.supersede(contract, by=uuid4(), at=T0)
    assert superseded.value.extra == {"rule": "supersede_live_only", "field": "supersedes"}


def test_a_new_contract_replaces_the_live_one_only_by_naming_it():
    current, other = uuid4(), uuid4()
    assert lifecycle.replaceable(None, ENGAGEMENT, None) is None
    assert lifecycle.replaceable(current, ENGAGEMENT, current) == current
    with pytest.raises(Conflict) as unnamed:
        lifecycle.replaceable(current, ENGAGEMENT, None)
    assert unnamed.value.extra == {
        "rule": "one_live_contract",
        "field": "engagement_id",
        "live_contract_id": str(current),
    }
    with pytest.raises(Conflict) as wrong:
        lifecycle.replaceable(current, ENGAGEMENT, other)
    assert wrong.value.extra["rule"] == "supersede_live_only" and wrong.value.extra["live_contract_id"] == str(current)
    with pytest.raises(Conflict) as nothing:
        lifecycle.replaceable(None, ENGAGEMENT, other)
    assert nothing.value.extra == {"rule": "supersede_live_only", "field": "supersedes"}
