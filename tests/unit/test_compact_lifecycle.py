"""The compact version lifecycle (pure; no database): propose, decide, ratify and supersede, withdraw, amend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guild.compacts import lifecycle
from guild.compacts.lifecycle import (
    FINAL_STATUSES,
    NO_REVISION,
    Decision,
    Pending,
    Ratified,
    Rejected,
    Revision,
    Version,
)
from guild.compacts.schemas import VersionStatus as S
from guild.compacts.terms import Terms, example_terms
from guild.domain.errors import Conflict, Unprocessable

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
T1 = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
PARTIES = tuple(f"org-{i}" for i in range(8))


def terms(quorum: int | None = None) -> Terms:
    return example_terms().model_copy(update={"quorum": quorum})


def draft(parties: tuple[str, ...] = PARTIES[:3], quorum: int | None = None) -> Version:
    return lifecycle.first_draft(terms(quorum), parties, id=uuid4(), at=T0)


def proposed(parties: tuple[str, ...] = PARTIES[:3], quorum: int | None = None) -> Version:
    return lifecycle.propose(draft(parties, quorum), at=T0, digest=lambda v: "h" * 64)


def ratified(number: int = 1, parent: int | None = None) -> Version:
    return replace(proposed(), number=number, parent_number=parent, status=S.ratified, ratified_at=T0)


def rule(exc: pytest.ExceptionInfo[Conflict] | pytest.ExceptionInfo[Unprocessable]) -> str:
    extra = exc.value.extra
    return extra["rule"] if "rule" in extra else extra["errors"][0]["rule"]


# --- propose and edit ---------------------------------------------------------------------------


def test_proposing_freezes_the_draft_under_the_callers_hash():
    version = draft()
    seen: list[Version] = []

    def digest(v: Version) -> str:
        seen.append(v)
        return "ab" * 32

    out = lifecycle.propose(version, at=T1, digest=digest)
    assert seen == [version]  # the hash covers the draft as it stands
    assert (out.status, out.terms_hash, out.proposed_at, out.revision) == (S.proposed, "ab" * 32, T1, 2)
    assert (out.terms, out.parties, out.terms_document) == (version.terms, version.parties, version.terms_document)
    with pytest.raises(Conflict) as exc:
        lifecycle.propose(out, at=T1, digest=digest)
    assert rule(exc) == "propose_drafts_only"


def test_a_quorum_beyond_the_parties_is_refused_at_the_quorum():
    with pytest.raises(Unprocessable) as exc:
        lifecycle.first_draft(terms(4), PARTIES[:3], id=uuid4(), at=T0)
    assert exc.value.extra["errors"][0]["field"] == "terms.quorum"
    assert rule(exc) == "quorum_exceeds_parties"
    with pytest.raises(Unprocessable):
        lifecycle.edit(draft(PARTIES[:3], quorum=3), terms(3), PARTIES[:2])


def test_editing_a_draft_counts_a_revision_and_only_drafts_are_edited():
    version = draft()
    edited = lifecycle.edit(version, terms(2), lifecycle.signatories("org-0", ["org-5", "org-5", "org-3"]))
    assert edited.parties == ("org-0", "org-3", "org-5")
    assert edited.terms.quorum == 2 and edited.terms_document["quorum"] == 2
    assert edited.revision == version.revision + 1 and edited.current_revision != version.current_revision
    assert lifecycle.edit(version, terms()).parties == version.parties
    with pytest.raises(Conflict) as exc:
        lifecycle.edit(proposed(), terms())
    assert rule(exc) == "immutable_once_proposed"


# --- decide ---------------------------------------------------------------------------------------


def run(version: Version, votes: list[tuple[str, bool]]) -> tuple[list[Pending | Ratified | Rejected], Version]:
    """Apply decisions in order until the version leaves ``proposed``; return every outcome and the last version."""
    outcomes: list[Pending | Ratified | Rejected] = []
    made: list[Decision] = []
    for party, approved in votes:
        outcome = lifecycle.decide(version, made, Decision(party, approved), at=T1)
        outcomes.append(outcome)
        made.append(Decision(party, approved))
        version = outcome.version
        if not isinstance(outcome, Pending):
            break
    return outcomes, version


@st.composite
def ballots(draw: st.DrawFn) -> tuple[Version, list[tuple[str, bool]]]:
    n = draw(st.integers(1, len(PARTIES)))
    quorum = draw(st.none() | st.integers(1, n))
    order = draw(st.permutations(PARTIES[:n]))
    votes = [(party, draw(st.booleans())) for party in order]
    return proposed(PARTIES[:n], quorum), votes


@given(ballots())
def test_ratified_iff_the_approvals_reach_the_quorum_before_the_rejections_make_it_unreachable(ballot):
    version, votes = ballot
    n, required = len(version.parties), version.terms.quorum or len(version.parties)
    # the oracle: walk the votes; the quorum-th approval ratifies, the (n - quorum + 1)-th rejection rejects
    approvals = rejections = 0
    expected: type | None = None
    for _, approved in votes:
        approvals += approved
        rejections += not approved
        if approvals == required:
            expected = Ratified
            break
        if rejections == n - required + 1:
            expected = Rejected
            break
    outcomes, final = run(version, votes)
    assert expected is not None  # every party having decided, the version is decided
    assert type(outcomes[-1]) is expected
    assert all(isinstance(o, Pending) for o in outcomes[:-1])
    assert final.status == (S.ratified if expected is Ratified else S.rejected)
    assert (outcomes[-1].approvals, outcomes[-1].required) == (approvals, required)
    if expected is Ratified:
        assert final.ratified_at == T1 and final.closed_at is None
    else:
        assert final.closed_at == T1 and final.closed_reason == lifecycle.UNREACHABLE_QUORUM


@given(ballots())
def test_a_decided_version_takes_no_further_decision(ballot):
    version, votes = ballot
    outcomes, final = run(version, votes)
    made = [Decision(p, a) for p, a in votes[: len(outcomes)]]
    for party in version.parties:
        if party not in {d.party for d in made}:
            with pytest.raises(Conflict) as exc:
                lifecycle.decide(final, made, Decision(party, True), at=T1)
            assert rule(exc) == "decide_proposed_only"


@given(ballots(), st.data())
def test_each_party_decides_once(ballot, data):
    version, votes = ballot
    party, approved = votes[0]
    pending = lifecycle.decide(version, [], Decision(party, approved), at=T1)
    if isinstance(pending, Pending):
        with pytest.raises(Conflict) as exc:
            lifecycle.decide(
                pending.version, [Decision(party, approved)], Decision(party, data.draw(st.booleans())), at=T1
            )
        assert rule(exc) == "decide_once"


def test_only_signatories_decide_and_only_proposals_are_decided():
    with pytest.raises(Unprocessable) as exc:
        lifecycle.decide(proposed(), [], Decision("stranger", True), at=T1)
    assert rule(exc) == "party_of_version"
    with pytest.raises(Conflict) as conflict:
        lifecycle.decide(draft(), [], Decision("org-0", True), at=T1)
    assert rule(conflict) == "decide_proposed_only"


def test_a_quorum_ratifies_before_every_party_has_decided():
    outcomes, final = run(proposed(PARTIES[:3], quorum=2), [("org-0", True), ("org-1", True)])
    assert [type(o) for o in outcomes] == [Pending, Ratified] and final.status == S.ratified


def test_without_a_quorum_one_rejection_rejects():
    outcomes, final = run(proposed(PARTIES[:3]), [("org-0", True), ("org-1", False)])
    assert [type(o) for o in outcomes] == [Pending, Rejected] and final.status == S.rejected


# --- supersede, withdraw, terminal states ---------------------------------------------------------


def test_the_version_in_force_is_superseded_and_only_it():
    old = ratified()
    out = lifecycle.supersede(old, at=T1)
    assert (out.status, out.superseded_at, out.ratified_at) == (S.superseded, T1, old.ratified_at)
    with pytest.raises(Conflict):
        lifecycle.supersede(proposed(), at=T1)


@pytest.mark.parametrize("status", [S.draft, S.proposed])
def test_open_versions_are_withdrawn_with_a_reason(status):
    version = replace(draft(), status=status)
    out = lifecycle.withdraw(version, "wrong parties", at=T1)
    assert (out.status, out.closed_at, out.closed_reason) == (S.withdrawn, T1, "wrong parties")


@given(st.sampled_from(sorted(FINAL_STATUSES)), st.sampled_from(PARTIES[:3]), st.booleans())
def test_no_transition_leaves_a_final_state(status, party, approved):
    version = replace(proposed(), status=status)
    attempts = [
        lambda: lifecycle.propose(version, at=T1, digest=lambda v: "x"),
        lambda: lifecycle.edit(version, terms()),
        lambda: lifecycle.decide(version, [], Decision(party, approved), at=T1),
        lambda: lifecycle.withdraw(version, "late", at=T1),
        lambda: lifecycle.supersede(version, at=T1),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict):
            attempt()


def test_a_ratified_version_only_gives_way_to_its_successor():
    version = ratified()
    for attempt in [
        lambda: lifecycle.propose(version, at=T1, digest=lambda v: "x"),
        lambda: lifecycle.edit(version, terms()),
        lambda: lifecycle.decide(version, [], Decision("org-0", True), at=T1),
        lambda: lifecycle.withdraw(version, "late", at=T1),
    ]:
        with pytest.raises(Conflict):
            attempt()
    assert lifecycle.supersede(version, at=T1).status == S.superseded


# --- amend ----------------------------------------------------------------------------------------


def test_an_amendment_is_a_draft_whose_parent_is_the_version_in_force():
    v1 = lifecycle.supersede(ratified(1), at=T0)
    v2 = ratified(2, parent=1)
    v3 = replace(proposed(), number=3, parent_number=2, status=S.rejected)
    new_id = uuid4()
    out = lifecycle.amend([v1, v2, v3], terms(2), id=new_id, at=T1)
    assert (out.id, out.number, out.parent_number, out.status) == (new_id, 4, 2, S.draft)
    assert (out.terms_hash, out.revision, out.created_at, out.parties) == (None, 1, T1, v2.parties)
    assert out.terms.quorum == 2 and out.terms_document["quorum"] == 2


def test_an_amendment_without_terms_copies_the_version_in_force_as_stored():
    stored = {**terms().model_dump(mode="json"), "note": "as stored"}  # what a hash covers stays byte-identical
    v1 = replace(ratified(1), terms_document=stored)
    out = lifecycle.amend([v1], None, id=uuid4(), at=T1)
    assert out.terms_document == stored and out.terms == v1.terms and out.parent_number == 1


def test_without_a_version_in_force_an_amendment_has_no_parent_and_copies_the_latest():
    v1 = replace(proposed(), status=S.withdrawn)
    v2 = replace(proposed(quorum=2), number=2, status=S.rejected)
    out = lifecycle.amend([v1, v2], None, id=uuid4(), at=T1)
    assert (out.number, out.parent_number, out.terms.quorum) == (3, None, 2)


@pytest.mark.parametrize("status", [S.draft, S.proposed])
def test_one_open_version_at_a_time(status):
    with pytest.raises(Conflict) as exc:
        lifecycle.amend([ratified(1), replace(draft(), number=2, status=status)], None, id=uuid4(), at=T1)
    assert rule(exc) == "one_open_version"


def test_an_amendment_whose_quorum_exceeds_the_parties_is_refused():
    with pytest.raises(Unprocessable):
        lifecycle.amend([ratified(1)], terms(4), id=uuid4(), at=T1)


# --- revisions ----------------------------------------------------------------------------------


@given(st.uuids(), st.integers(1, 10**17))
def test_a_revision_is_named_by_its_tag(version_id, number):
    revision = Revision(version_id, number)
    assert Revision.from_tag(revision.tag) == revision


@given(st.text(max_size=60))
def test_a_tag_that_guild_did_not_issue_names_no_revision(text):
    revision = Revision.from_tag(text)
    assert revision == NO_REVISION or revision.tag == text


@pytest.mark.parametrize(
    "tag",
    [
        "",
        "*",
        '"00000000-0000-0000-0000-000000000001.1',
        '"00000000-0000-0000-0000-000000000001.01"',
        '"00000000-0000-0000-0000-00000000000A.1"',
        'W/"00000000-0000-0000-0000-000000000001.1"',
        '"00000000-0000-0000-0000-000000000001.0"',
    ],
)
def test_malformed_tags_name_no_revision(tag):
    assert Revision.from_tag(tag) == NO_REVISION
    assert Revision.from_tag(tag) != Revision(UUID(int=1), 1)
