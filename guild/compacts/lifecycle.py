"""The life of a compact version, as pure functions over frozen values.

    draft ──propose──▶ proposed ──decide──▶ ratified ──a later version ratified──▶ superseded
      │                  │   └───decide──▶ rejected (the approvals can no longer reach the quorum)
      └───withdraw───────┴───withdraw──▶ withdrawn

A draft is edited in place (its revision counts the edits); proposing freezes its terms and parties under
the hash the caller computes over them; each party decides once; the version is ratified as soon as the
approvals reach the quorum (all parties when the terms set none) and rejected as soon as they no longer
can. An amendment is a new draft whose parent is the version in force; there is at most one open (draft
or proposed) version per compact. ``superseded``, ``rejected`` and ``withdrawn`` are final.

No database and no web framework here: the service loads the versions, calls these functions, and
persists what they return.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from guild.compacts.schemas import OPEN_STATUSES, VersionStatus
from guild.compacts.terms import Terms, TermsError, check_quorum
from guild.domain.errors import Conflict, invalid

S = VersionStatus

FINAL_STATUSES = frozenset({S.superseded, S.rejected, S.withdrawn})
UNREACHABLE_QUORUM = "ratification can no longer reach the required approvals"


@dataclass(frozen=True)
class Version:
    """One version of a compact as stored: ``terms`` parsed, ``terms_document`` exactly as stored (what the
    hash covers and the redline compares)."""

    id: UUID
    number: int
    parent_number: int | None
    status: VersionStatus
    terms: Terms
    terms_document: Mapping[str, Any]
    parties: tuple[str, ...]
    terms_hash: str | None
    revision: int
    created_at: datetime
    proposed_at: datetime | None = None
    ratified_at: datetime | None = None
    superseded_at: datetime | None = None
    closed_at: datetime | None = None
    closed_reason: str = ""

    @property
    def current_revision(self) -> Revision:
        return Revision(self.id, self.revision)


@dataclass(frozen=True)
class Revision:
    """Which edit of which version a writer last read. ``tag`` is its opaque form handed to clients."""

    version_id: UUID
    number: int

    @property
    def tag(self) -> str:
        return f'"{self.version_id}.{self.number}"'

    @classmethod
    def from_tag(cls, tag: str) -> Revision:
        """The revision a tag names; a tag not in the exact form :attr:`tag` produces names none
        (:data:`NO_REVISION`, which matches no version)."""
        match = _TAG.fullmatch(tag)
        if match is None:
            return NO_REVISION
        revision = cls(UUID(match[1]), int(match[2]))
        return revision if revision.tag == tag else NO_REVISION


_TAG = re.compile(r'"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([1-9][0-9]{0,17})"')
NO_REVISION = Revision(UUID(int=0), 0)  # revisions start at 1: matches no version


@dataclass(frozen=True)
class Decision:
    """One party's decision on a proposed version."""

    party: str
    approved: bool


@dataclass(frozen=True)
class Pending:
    """Decided by this party; the version stays proposed."""

    version: Version
    approvals: int
    required: int


@dataclass(frozen=True)
class Ratified:
    """The approvals reached the quorum: the version is in force (the one it replaces is superseded)."""

    version: Version
    approvals: int
    required: int


@dataclass(frozen=True)
class Rejected:
    """The approvals can no longer reach the quorum: the version is closed."""

    version: Version
    approvals: int
    required: int


Outcome = Pending | Ratified | Rejected


# --- rules ----------------------------------------------------------------------------------------


def approvals_required(terms: Terms, parties: Sequence[str]) -> int:
    """The quorum, or every party when the terms set none."""
    return terms.quorum or len(parties)


def check_quorum_fits(terms: Terms, party_count: int) -> None:
    """Refuse (422 at ``terms.quorum``) a quorum the signatories could never reach."""
    try:
        check_quorum(terms, party_count)
    except TermsError as exc:
        raise invalid(f"terms.{exc.path}", exc.rule, exc.message, parties=party_count) from exc


def signatories(convening_org: str, parties: Sequence[str]) -> tuple[str, ...]:
    """The parties of a version: the named organisations and the convening one, sorted, once each."""
    return tuple(sorted({convening_org, *parties}))


def open_version(versions: Sequence[Version]) -> Version | None:
    return next((v for v in versions if v.status in OPEN_STATUSES), None)


def in_force(versions: Sequence[Version]) -> Version | None:
    """The ratified version, if any."""
    return next((v for v in versions if v.status == S.ratified), None)


# --- transitions ----------------------------------------------------------------------------------


def first_draft(terms: Terms, parties: tuple[str, ...], *, id: UUID, at: datetime) -> Version:
    """Version 1 of a new compact."""
    check_quorum_fits(terms, len(parties))
    return Version(
        id=id,
        number=1,
        parent_number=None,
        status=S.draft,
        terms=terms,
        terms_document=terms.model_dump(mode="json"),
        parties=parties,
        terms_hash=None,
        revision=1,
        created_at=at,
    )


def ensure_draft(version: Version) -> None:
    if version.status != S.draft:
        raise Conflict(
            f"version {version.number} is {version.status}: only drafts can be edited; proposed terms never change",
            rule="immutable_once_proposed",
        )


def edit(version: Version, terms: Terms, parties: tuple[str, ...] | None = None) -> Version:
    """The draft with new terms (and, if given, new parties): its next revision."""
    ensure_draft(version)
    new_parties = version.parties if parties is None else parties
    check_quorum_fits(terms, len(new_parties))
    return replace(
        version,
        terms=terms,
        terms_document=terms.model_dump(mode="json"),
        parties=new_parties,
        revision=version.revision + 1,
    )


def propose(version: Version, *, at: datetime, digest: Callable[[Version], str]) -> Version:
    """Freeze a draft: from here its terms and parties never change; ``digest`` is their hash."""
    if version.status != S.draft:
        raise Conflict(f"version {version.number} is {version.status}, not a draft", rule="propose_drafts_only")
    check_quorum_fits(version.terms, len(version.parties))
    return replace(
        version, status=S.proposed, terms_hash=digest(version), proposed_at=at, revision=version.revision + 1
    )


def ensure_party(version: Version, party: str) -> None:
    if party not in version.parties:
        raise invalid("organization", "party_of_version", f"{party!r} is not a signatory of version {version.number}")


def decide(version: Version, decisions: Sequence[Decision], decision: Decision, *, at: datetime) -> Outcome:
    """Record one party's decision against those already made: ratified once the approvals reach the
    quorum, rejected once they can no longer reach it, pending otherwise."""
    ensure_party(version, decision.party)
    if version.status != S.proposed:
        raise Conflict(
            f"version {version.number} is {version.status}: only proposed versions are decided",
            rule="decide_proposed_only",
        )
    if any(d.party == decision.party for d in decisions):
        raise Conflict(f"{decision.party!r} has already decided on version {version.number}", rule="decide_once")
    tally = [*decisions, decision]
    approvals = sum(d.approved for d in tally)
    undecided = len(version.parties) - len(tally)
    required = approvals_required(version.terms, version.parties)
    if approvals >= required:
        return Ratified(replace(version, status=S.ratified, ratified_at=at), approvals, required)
    if approvals + undecided < required:
        closed = replace(version, status=S.rejected, closed_at=at, closed_reason=UNREACHABLE_QUORUM)
        return Rejected(closed, approvals, required)
    return Pending(version, approvals, required)


def supersede(version: Version, *, at: datetime) -> Version:
    """The version in force, replaced by a newly ratified one."""
    if version.status != S.ratified:
        raise Conflict(
            f"version {version.number} is {version.status}: only the ratified version is superseded",
            rule="supersede_ratified_only",
        )
    return replace(version, status=S.superseded, superseded_at=at)


def bindings_follow(superseded: Version, ratified: Version) -> bool:
    """Do productions bound to ``superseded`` move to ``ratified``? Yes when ``ratified`` is an amendment of
    it (its parent): the parties agreed to replace those terms, so what was bound to them follows."""
    return (
        superseded.status == S.superseded
        and ratified.status == S.ratified
        and (ratified.parent_number == superseded.number)
    )


def binding_move(bound_number: int, requested_number: int) -> Literal["same", "newer", "older"]:
    """A production bound to version ``bound_number`` of a compact asks to be bound to ``requested_number`` of
    it: the same version (nothing to do), a newer one (the binding moves to it: an update, as when an
    amendment is ratified), or an older one (refused: a binding never goes back to terms replaced since)."""
    if requested_number == bound_number:
        return "same"
    return "newer" if requested_number > bound_number else "older"


def withdraw(version: Version, reason: str, *, at: datetime) -> Version:
    if version.status not in OPEN_STATUSES:
        raise Conflict(
            f"version {version.number} is {version.status}: only drafts and proposals can be withdrawn",
            rule="withdraw_open_only",
        )
    return replace(version, status=S.withdrawn, closed_at=at, closed_reason=reason)


def amend(versions: Sequence[Version], terms: Terms | None, *, id: UUID, at: datetime) -> Version:
    """A new draft whose parent is the version in force (none if nothing is ratified yet), with the given
    terms or a copy of that version's (of the latest version's, if none is in force); one open version at
    a time. ``versions`` are all the compact's versions, in number order."""
    pending = open_version(versions)
    if pending is not None:
        raise Conflict(
            f"version {pending.number} is still {pending.status}: ratify, withdraw or let it be "
            "rejected before drafting another",
            rule="one_open_version",
        )
    current = in_force(versions)
    base = current or versions[-1]
    document = terms.model_dump(mode="json") if terms is not None else base.terms_document
    new_terms = terms if terms is not None else base.terms
    check_quorum_fits(new_terms, len(base.parties))
    return Version(
        id=id,
        number=versions[-1].number + 1,
        parent_number=current.number if current else None,
        status=S.draft,
        terms=new_terms,
        terms_document=document,
        parties=base.parties,
        terms_hash=None,
        revision=1,
        created_at=at,
    )
