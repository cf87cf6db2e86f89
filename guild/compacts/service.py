"""Compacts: drafting, proposal (frozen + hashed), multi-party ratification, amendments, the PDF.

Each use case locks the compact, loads its versions, asks :mod:`guild.compacts.lifecycle` what happens,
persists that and records it in the audit log. Reads live in :mod:`guild.compacts.queries`.

Authorization is object-level here: the convening organisation's officers draft, propose, amend and
withdraw; each party decides through one of its own officers; drafts are visible to the parties only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from guild.compacts import lifecycle
from guild.compacts.lifecycle import Decision, Ratified, Rejected, Revision, Version
from guild.compacts.queries import (
    CompactRow,
    all_versions,
    compact_read,
    compact_row,
    is_party_member,
    party_slugs,
    redline_document,
    version_read,
    version_row,
    visible_version,
)
from guild.compacts.redline import diff_terms
from guild.compacts.schemas import (
    CONVENING_KINDS,
    AmendmentCreate,
    CompactCreate,
    CompactRead,
    DecisionCreate,
    DraftUpdate,
    VersionRead,
    VersionStatus,
)
from guild.domain.canonical import canonical_hash, canonical_json, sha256_hex
from guild.domain.errors import Conflict, Forbidden, NotFound, PreconditionFailed, PreconditionRequired, invalid
from guild.domain.principal import Principal, Role
from guild.domain.statuses import Decision as DecisionValue
from guild.infra import audit
from guild.infra.db import is_unique_violation, read_tx, write_tx, xact_lock
from guild.infra.pdf import PdfRenderer, pdf_sha256, template_fingerprint
from guild.infra.pdf_types import Attachment
from guild.infra.tables import (
    Compact,
    CompactDocument,
    CompactParty,
    CompactVersion,
    Organization,
    RatificationDecision,
)

S = VersionStatus


def _now() -> datetime:
    return datetime.now(UTC)


# --- what follows a ratified amendment ------------------------------------------------------------


@dataclass(frozen=True)
class AmendmentRatified:
    """An amendment was ratified: ``superseded`` (its parent) is replaced by ``ratified``. ``actor_id`` is the
    officer whose decision completed the ratification."""

    compact_id: UUID
    compact_slug: str
    superseded: Version
    ratified: Version
    actor_id: UUID | None
    at: datetime


@dataclass(frozen=True)
class AmendmentFollower:
    """What must follow a ratified amendment in the transaction that ratifies it, in two steps: ``lock``
    runs before the decision writes anything (take the row locks the follower needs there, so every writer
    takes its locks in one order: the compact, then production rows, then the audit log), ``follow`` after
    the versions' new states are written."""

    lock: Callable[[AmendmentRatified], Awaitable[None]]
    follow: Callable[[AmendmentRatified], Awaitable[None]]


_followers: list[AmendmentFollower] = []


def on_amendment_ratified(follower: AmendmentFollower) -> AmendmentFollower:
    """Run ``follower`` in the transaction of every ratification of an amendment (once, however often it is
    registered). Features above compacts register here what must follow the new terms at once:
    :mod:`guild.productions.amendments` moves the productions bound to the superseded version. A follower
    that raises rolls the whole decision back."""
    if follower not in _followers:
        _followers.append(follower)
    return follower


# --- loading under the lock ----------------------------------------------------------------------


async def lock_compact(compact_id: UUID) -> None:
    """Serialise writers of one compact (PostgreSQL advisory lock until commit; SQLite has one writer).

    Every change of a version's status (propose, decide, ratify and supersede, withdraw, amend, edit)
    takes it before reading the version, and so does binding a production to a version.
    """
    await xact_lock(compact_id.int & 0x7FFF_FFFF_FFFF_FFFF)


def _require_convening_officer(principal: Principal, compact: CompactRow) -> None:
    if not principal.has_role(compact.convening_org, Role.officer):
        raise Forbidden(
            f"only officers of the convening organisation {compact.convening_org!r} may do this",
            rule="convening_officer",
        )


async def _convening(principal: Principal, slug: str) -> tuple[CompactRow, list[str]]:
    """The compact, locked, and its parties, for one of its convening officers; 404 to non-parties."""
    compact = await compact_row(slug)
    await lock_compact(compact.id)
    parties = await party_slugs(compact.id)
    if not is_party_member(principal, compact, parties):
        raise NotFound(f"compact {slug!r} not found")
    _require_convening_officer(principal, compact)
    return compact, parties


async def _open_for_convening(principal: Principal, slug: str, number: int) -> tuple[CompactRow, Version, list[str]]:
    compact, parties = await _convening(principal, slug)
    return compact, await version_row(compact.id, number), parties


async def _org_ids(slugs: list[str], field: str) -> dict[str, UUID]:
    rows = await Organization.select(Organization.id, Organization.slug).where(Organization.slug.is_in(slugs or [""]))
    found = {r["slug"]: r["id"] for r in rows}
    for i, slug in enumerate(slugs):
        if slug not in found:
            raise invalid(
                f"{field}[{i}]" if field == "parties" else field, "organization_exists", f"no organisation {slug!r}"
            )
    return found


async def _decisions_on(version_id: UUID) -> list[Decision]:
    rows = await RatificationDecision.select(
        RatificationDecision.organization.slug.as_alias("party"), RatificationDecision.decision
    ).where(RatificationDecision.version == version_id)
    return [Decision(party=r["party"], approved=r["decision"] == DecisionValue.approved) for r in rows]


async def _ratified(compact_id: UUID) -> list[Version]:
    return [v for v in await all_versions(compact_id) if v.status == S.ratified]


# --- persisting -----------------------------------------------------------------------------------


async def _insert(compact_id: UUID, version: Version, principal: Principal) -> None:
    await CompactVersion.insert(
        CompactVersion(
            id=version.id,
            compact=compact_id,
            number=version.number,
            parent_number=version.parent_number,
            status=version.status.value,
            terms=dict(version.terms_document),
            parties=list(version.parties),
            terms_hash=version.terms_hash,
            revision=version.revision,
            created_by=str(principal.id),
            created_at=version.created_at,
        )
    )


async def _save(version: Version, changes: dict[Any, Any]) -> None:
    await CompactVersion.update(changes).where(CompactVersion.id == version.id)


# --- writing -----------------------------------------------------------------------------------


async def create_compact(principal: Principal, data: CompactCreate) -> CompactRead:
    async with write_tx():
        convening = (
            await Organization.select(Organization.id, Organization.kind)
            .where(Organization.slug == data.convening_org)
            .first()
        )
        if convening is None:
            raise invalid("convening_org", "organization_exists", f"no organisation {data.convening_org!r}")
        if not principal.has_role(data.convening_org, Role.officer):
            raise Forbidden(f"only officers of {data.convening_org!r} may convene a compact for it")
        if convening["kind"] not in CONVENING_KINDS:
            raise invalid(
                "convening_org",
                "convening_kind",
                f"a {convening['kind']} cannot convene a compact",
                allowed=", ".join(CONVENING_KINDS),
            )
        signatories = lifecycle.signatories(data.convening_org, data.parties)
        org_ids = await _org_ids(list(data.parties), "parties")
        org_ids[data.convening_org] = convening["id"]
        now = _now()
        draft = lifecycle.first_draft(data.terms, signatories, id=uuid4(), at=now)
        # Slugs are unique across all compacts, drafts the caller cannot see included: the answer is the same
        # for every taken slug and says nothing about the compact that has it.
        taken = Conflict(f"compact slug {data.slug!r} is not available; choose another", field="slug", rule="unique")
        if await Compact.exists().where(Compact.slug == data.slug):
            raise taken
        compact = Compact(
            id=uuid4(),
            slug=data.slug,
            title=data.title,
            convening_org=convening["id"],
            created_by=str(principal.id),
            created_at=now,
        )
        try:
            await Compact.insert(compact)
        except Exception as exc:
            if is_unique_violation(exc):  # made by a concurrent request since the check
                raise taken from None
            raise
        await CompactParty.insert(
            *[CompactParty(id=uuid4(), compact=compact.id, organization=org_ids[s], added_at=now) for s in signatories]
        )
        await _insert(compact.id, draft, principal)
        await audit.record(
            principal.id,
            "compact.created",
            "compact",
            compact.id,
            {"slug": data.slug, "convening_org": data.convening_org, "parties": list(signatories)},
        )
        return await compact_read(principal, await compact_row(data.slug))


async def update_draft(
    principal: Principal, slug: str, number: int, data: DraftUpdate, expected: Revision | None
) -> tuple[VersionRead, Revision]:
    """Edit a draft that is still at the ``expected`` revision (the one its editor read): 428 when none
    is given, 412 when the draft has changed since. Returns the draft and its new revision."""
    async with write_tx():
        compact, version, parties = await _open_for_convening(principal, slug, number)
        lifecycle.ensure_draft(version)
        current = version.current_revision
        if expected is None:
            raise PreconditionRequired("send If-Match with the version's ETag to edit a draft", header="If-Match")
        if expected != current:
            raise PreconditionFailed(
                "the draft changed since you read it; reload it and apply your edit again", current_etag=current.tag
            )
        new_parties = None
        fresh: list[str] = []
        if data.parties is not None:
            new_parties = lifecycle.signatories(compact.convening_org, data.parties)
            org_ids = await _org_ids(list(data.parties), "parties")
            known = set(parties)
            fresh = [s for s in new_parties if s not in known and s in org_ids]
        edited = lifecycle.edit(version, data.terms, new_parties)
        if fresh:
            now = _now()
            await CompactParty.insert(
                *[CompactParty(id=uuid4(), compact=compact.id, organization=org_ids[s], added_at=now) for s in fresh]
            )
        updates: dict[Any, Any] = {
            CompactVersion.terms: dict(edited.terms_document),
            CompactVersion.revision: edited.revision,
        }
        if new_parties is not None:
            updates[CompactVersion.parties] = list(edited.parties)
        changed = (
            await CompactVersion.update(updates)
            .where((CompactVersion.id == version.id) & (CompactVersion.revision == version.revision))
            .returning(CompactVersion.id)
        )
        if not changed:  # a concurrent writer got there between our read and this update
            raise PreconditionFailed("the draft changed since you read it; reload it and apply your edit again")
        await audit.record(
            principal.id,
            "compact_version.edited",
            "compact_version",
            version.id,
            {"compact": slug, "number": number, "revision": edited.revision},
        )
        version = await version_row(compact.id, number)
        return await version_read(compact, version, list(version.parties)), version.current_revision


def version_document(compact_slug: str, version: Version, parent_hash: str | None) -> dict[str, Any]:
    """The canonical document a proposed version's hash covers."""
    return {
        "compact": compact_slug,
        "number": version.number,
        "parent_number": version.parent_number,
        "parent_hash": parent_hash,
        "parties": sorted(version.parties),
        "terms": dict(version.terms_document),
    }


async def _parent_hash(compact_id: UUID, parent_number: int | None) -> str | None:
    if parent_number is None:
        return None
    return (await version_row(compact_id, parent_number)).terms_hash


async def propose(principal: Principal, slug: str, number: int) -> VersionRead:
    async with write_tx():
        compact, version, parties = await _open_for_convening(principal, slug, number)
        parent_hash = await _parent_hash(compact.id, version.parent_number)
        proposed = lifecycle.propose(
            version, at=_now(), digest=lambda v: canonical_hash(version_document(slug, v, parent_hash))
        )
        await _save(
            proposed,
            {
                CompactVersion.status: proposed.status.value,
                CompactVersion.terms_hash: proposed.terms_hash,
                CompactVersion.proposed_at: proposed.proposed_at,
                CompactVersion.revision: proposed.revision,
            },
        )
        await audit.record(
            principal.id,
            "compact_version.proposed",
            "compact_version",
            version.id,
            {"compact": slug, "number": number, "terms_hash": proposed.terms_hash},
        )
        return await version_read(compact, await version_row(compact.id, number), parties)


async def decide(principal: Principal, slug: str, number: int, data: DecisionCreate) -> VersionRead:
    async with write_tx():
        compact, version, parties = await visible_version(principal, slug, number)
        await lock_compact(compact.id)
        version = await version_row(compact.id, number)  # re-read under the lock
        lifecycle.ensure_party(version, data.organization)
        if not principal.has_role(data.organization, Role.officer):
            raise Forbidden(f"only officers of {data.organization!r} may decide for it", rule="party_officer")
        now = _now()
        decision = Decision(party=data.organization, approved=data.decision == "approve")
        outcome = lifecycle.decide(version, await _decisions_on(version.id), decision, at=now)
        amendments = []
        if isinstance(outcome, Ratified):
            amendments = await _amendments(compact, outcome.version, now, principal.id)
            for event in amendments:
                for follower in _followers:
                    await follower.lock(event)
        recorded = DecisionValue.approved if decision.approved else DecisionValue.rejected
        await RatificationDecision.insert(
            RatificationDecision(
                id=uuid4(),
                version=version.id,
                organization=principal.org_ids[data.organization],
                decision=recorded,
                reason=data.reason,
                decided_by=principal.id,
                decided_at=now,
            )
        )
        await audit.record(
            principal.id,
            f"compact_version.{recorded}",
            "compact_version",
            version.id,
            {"compact": slug, "number": number, "organization": data.organization, "reason": data.reason},
        )
        if isinstance(outcome, Ratified):
            await _ratify(compact, outcome.version, now, amendments)
        elif isinstance(outcome, Rejected):
            closed = outcome.version
            await _save(
                closed,
                {
                    CompactVersion.status: closed.status.value,
                    CompactVersion.closed_at: closed.closed_at,
                    CompactVersion.closed_reason: closed.closed_reason,
                },
            )
            await audit.record(
                None,
                "compact_version.rejected_final",
                "compact_version",
                version.id,
                {"compact": slug, "number": number, "approvals": outcome.approvals, "required": outcome.required},
            )
        return await version_read(compact, await version_row(compact.id, number), parties)


async def _amendments(
    compact: CompactRow, ratified: Version, now: datetime, actor_id: UUID | None
) -> list[AmendmentRatified]:
    """The versions in force that ``ratified`` amends (its parent, superseded by it), as the events their
    followers receive."""
    events = []
    for old in await _ratified(compact.id):
        superseded = lifecycle.supersede(old, at=now)
        if lifecycle.bindings_follow(superseded, ratified):
            events.append(AmendmentRatified(compact.id, compact.slug, superseded, ratified, actor_id, now))
    return events


async def _ratify(compact: CompactRow, version: Version, now: datetime, amendments: list[AmendmentRatified]) -> None:
    """Persist a ratification: the version in force before it is superseded; when the new version amends it,
    what follows the amendment (:func:`on_amendment_ratified`, whose followers took their locks before the
    decision wrote anything)."""
    for old in await _ratified(compact.id):
        superseded = lifecycle.supersede(old, at=now)
        await _save(
            superseded,
            {CompactVersion.status: superseded.status.value, CompactVersion.superseded_at: superseded.superseded_at},
        )
        await audit.record(
            None,
            "compact_version.superseded",
            "compact_version",
            old.id,
            {"compact": compact.slug, "number": old.number, "by": version.number},
        )
    await _save(version, {CompactVersion.status: version.status.value, CompactVersion.ratified_at: version.ratified_at})
    await audit.record(
        None,
        "compact_version.ratified",
        "compact_version",
        version.id,
        {"compact": compact.slug, "number": version.number, "terms_hash": version.terms_hash},
    )
    for event in amendments:
        for follower in _followers:
            await follower.follow(event)


async def withdraw(principal: Principal, slug: str, number: int, reason: str) -> VersionRead:
    async with write_tx():
        compact, version, parties = await _open_for_convening(principal, slug, number)
        withdrawn = lifecycle.withdraw(version, reason, at=_now())
        await _save(
            withdrawn,
            {
                CompactVersion.status: withdrawn.status.value,
                CompactVersion.closed_at: withdrawn.closed_at,
                CompactVersion.closed_reason: withdrawn.closed_reason,
            },
        )
        await audit.record(
            principal.id,
            "compact_version.withdrawn",
            "compact_version",
            version.id,
            {"compact": slug, "number": number, "reason": reason},
        )
        return await version_read(compact, await version_row(compact.id, number), parties)


async def amend(principal: Principal, slug: str, data: AmendmentCreate) -> VersionRead:
    """A new draft whose parent is the ratified version in force (or none if nothing is ratified yet)."""
    async with write_tx():
        compact, parties = await _convening(principal, slug)
        draft = lifecycle.amend(await all_versions(compact.id), data.terms, id=uuid4(), at=_now())
        await _insert(compact.id, draft, principal)
        await audit.record(
            principal.id,
            "compact_version.drafted",
            "compact_version",
            draft.id,
            {"compact": slug, "number": draft.number, "parent_number": draft.parent_number},
        )
        return await version_read(compact, await version_row(compact.id, draft.number), parties)


# --- the document ------------------------------------------------------------------------------


async def _document(
    principal: Principal, slug: str, number: int
) -> tuple[CompactRow, Version, dict[str, Any], bytes, str]:
    """The compact, the version, the template context of its PDF, the canonical JSON to attach, and the hash
    for the footer (empty for a draft)."""
    async with read_tx():
        compact, version, parties = await visible_version(principal, slug, number)
        read = await version_read(compact, version, parties)
        orgs = await Organization.select(Organization.slug, Organization.name, Organization.kind).where(
            Organization.slug.is_in(read.parties or [""])
        )
        parent = await version_row(compact.id, version.parent_number) if version.parent_number else None
        convening = (
            await Organization.select(Organization.name).where(Organization.slug == compact.convening_org).first()
        )
    if convening is None:  # organisations are never deleted while a compact references them
        raise NotFound(f"compact {slug!r} not found")
    decided = {d.organization: d for d in read.decisions}
    document = version_document(slug, version, parent.terms_hash if parent else None)
    redline = None
    if parent is not None:
        redline = [c.model_dump(mode="json") for c in diff_terms(redline_document(parent), redline_document(version))]
    context = {
        "compact": {"title": compact.title, "slug": slug, "convening_org": convening["name"]},
        "version": {
            "number": number,
            "status": version.status.value,
            "hash": version.terms_hash or "draft (not yet hashed)",
            "proposed_at": version.proposed_at.isoformat() if version.proposed_at else None,
            "parent_number": version.parent_number,
        },
        "parties": [
            {
                "name": o["name"],
                "kind": o["kind"],
                "decision": decided[o["slug"]].decision if o["slug"] in decided else None,
                "decided_at": decided[o["slug"]].decided_at.isoformat() if o["slug"] in decided else None,
                "by": decided[o["slug"]].decided_by if o["slug"] in decided else None,
            }
            for o in sorted(orgs, key=lambda o: o["slug"])
        ],
        "terms": dict(version.terms_document),
        "redline": redline,
        "redline_against": f"version {parent.number}" if parent else None,
    }
    return compact, version, context, canonical_json(document), version.terms_hash or ""


async def render_pdf(principal: Principal, slug: str, number: int, renderer: PdfRenderer) -> tuple[bytes, str]:
    """The version as a PDF/A-3 document, its canonical JSON attached; and the hash its footer shows.

    A proposed, ratified or closed version's document is rendered once per state (a new decision or
    status is a new state) and then served from storage; a draft's is rendered on each request."""
    compact, version, context, document, digest = await _document(principal, slug, number)
    title = f"{compact.title} — version {number}"
    stored_as = None
    if digest:  # not a draft: the inputs say everything the document shows
        stored_as = canonical_hash(
            {
                "templates": template_fingerprint(),
                "context": context,
                "attachment": sha256_hex(document),
                "title": title,
            }
        )
        async with read_tx():
            row = (
                await CompactDocument.select(CompactDocument.pdf)
                .where(CompactDocument.input_sha256 == stored_as)
                .first()
            )
        if row is not None:
            return bytes(row["pdf"]), digest
    data = await renderer.render(
        "compact.html",
        context,
        [Attachment(filename="compact.json", data=document, description=f"{slug} v{number} canonical JSON")],
        title=title,
        tenant=f"compact:{slug}",  # the queue's fairness key: one compact's documents take turns with others
    )
    if stored_as is not None:
        async with write_tx():
            await CompactDocument.insert(
                CompactDocument(
                    id=uuid4(),
                    version=version.id,
                    input_sha256=stored_as,
                    pdf=data,
                    pdf_sha256=pdf_sha256(data),
                    rendered_at=_now(),
                )
            ).on_conflict(action="DO NOTHING")  # the same inputs rendered at the same time: one row
    return data, digest
