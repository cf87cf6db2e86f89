"""Compacts: drafting, proposal (frozen + hashed), multi-party ratification, amendments, redlines.

Authorization is object-level here: the convening organisation's officers draft, propose, amend and
withdraw; each party decides through one of its own officers; drafts are visible to the parties only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from guild.compacts.redline import diff_terms, redline_text
from guild.compacts.schemas import (
    CONVENING_KINDS,
    OPEN_STATUSES,
    AmendmentCreate,
    CompactCreate,
    CompactRead,
    DecisionCreate,
    DecisionRead,
    DiffRead,
    DraftUpdate,
    PartyRead,
    VersionRead,
    VersionStatus,
    VersionSummary,
)
from guild.compacts.terms import Terms, TermsError, check_quorum
from guild.domain.canonical import canonical_hash, canonical_json
from guild.domain.errors import Conflict, Forbidden, NotFound, PreconditionFailed, PreconditionRequired, invalid
from guild.domain.principal import Principal, Role
from guild.domain.statuses import Decision
from guild.infra import audit
from guild.infra.db import is_unique_violation, read_tx, write_tx, xact_lock
from guild.infra.tables import Compact, CompactParty, CompactVersion, Organization, RatificationDecision

S = VersionStatus


def _now() -> datetime:
    return datetime.now(UTC)


# --- loading and visibility ------------------------------------------------------------------


async def _compact_row(slug: str) -> dict[str, Any]:
    row = (
        await Compact.select(
            Compact.id,
            Compact.slug,
            Compact.title,
            Compact.created_at,
            Compact.convening_org.slug.as_alias("convening_org"),
        )
        .where(Compact.slug == slug)
        .first()
    )
    if row is None:
        raise NotFound(f"compact {slug!r} not found")
    return row


async def _party_slugs(compact_id: UUID) -> list[str]:
    rows = await CompactParty.select(CompactParty.organization.slug.as_alias("slug")).where(
        CompactParty.compact == compact_id
    )
    return sorted(r["slug"] for r in rows)


def _is_party_member(principal: Principal, compact: dict[str, Any], parties: list[str]) -> bool:
    return principal.is_admin or any(principal.is_member_of(s) for s in {compact["convening_org"], *parties})


def _publicly_visible(version: dict[str, Any]) -> bool:
    """Proposed versions and everything after are public to signed-in users; drafts are not."""
    return version["proposed_at"] is not None


async def _visible_compact(principal: Principal, slug: str) -> tuple[dict[str, Any], list[str], bool]:
    """The compact, its parties, and whether this user sees drafts; 404 if they may see nothing."""
    compact = await _compact_row(slug)
    parties = await _party_slugs(compact["id"])
    insider = _is_party_member(principal, compact, parties)
    if not insider:
        public = await CompactVersion.exists().where(
            (CompactVersion.compact == compact["id"]) & CompactVersion.proposed_at.is_not_null()
        )
        if not public:
            raise NotFound(f"compact {slug!r} not found")
    return compact, parties, insider


async def sees_drafts(principal: Principal, compact_id: UUID) -> bool:
    """Whether this user sees the compact's drafts (a member of one of its parties, or a site admin)."""
    if principal.is_admin:
        return True
    mine = list(principal.org_ids.values())
    return bool(mine) and await CompactParty.exists().where(
        (CompactParty.compact == compact_id) & CompactParty.organization.is_in(mine)
    )


def _require_convening_officer(principal: Principal, compact: dict[str, Any]) -> None:
    if not principal.has_role(compact["convening_org"], Role.officer):
        raise Forbidden(
            f"only officers of the convening organisation {compact['convening_org']!r} may do this",
            rule="convening_officer",
        )


async def _version_row(compact_id: UUID, number: int) -> dict[str, Any]:
    row = (
        await CompactVersion.select()
        .where((CompactVersion.compact == compact_id) & (CompactVersion.number == number))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound(f"version {number} not found")
    return row


async def _visible_version(principal: Principal, slug: str, number: int) -> tuple[dict, dict, list[str]]:
    compact, parties, insider = await _visible_compact(principal, slug)
    version = await _version_row(compact["id"], number)
    if not insider and not _publicly_visible(version):
        raise NotFound(f"version {number} not found")
    return compact, version, parties


def _approvals_required(terms: dict[str, Any], parties: list[str]) -> int:
    return terms.get("quorum") or len(parties)


async def _decisions(version_id: UUID) -> list[DecisionRead]:
    rows = (
        await RatificationDecision.select(
            RatificationDecision.organization.slug.as_alias("organization"),
            RatificationDecision.decision,
            RatificationDecision.reason,
            RatificationDecision.decided_by.email.as_alias("decided_by"),
            RatificationDecision.decided_at,
        )
        .where(RatificationDecision.version == version_id)
        .order_by(RatificationDecision.decided_at)
    )
    return [DecisionRead(**r) for r in rows]


async def _version_read(compact: dict[str, Any], version: dict[str, Any], parties: list[str]) -> VersionRead:
    version_parties = version["parties"] or parties
    return VersionRead(
        compact=compact["slug"],
        number=version["number"],
        parent_number=version["parent_number"],
        status=version["status"],
        terms=Terms.model_validate(version["terms"]),
        terms_hash=version["terms_hash"],
        parties=sorted(version_parties),
        approvals_required=_approvals_required(version["terms"], version_parties),
        decisions=await _decisions(version["id"]),
        revision=version["revision"],
        created_at=version["created_at"],
        proposed_at=version["proposed_at"],
        ratified_at=version["ratified_at"],
        superseded_at=version["superseded_at"],
        closed_at=version["closed_at"],
        closed_reason=version["closed_reason"],
    )


def etag(version: dict[str, Any]) -> str:
    return f'"{version["id"]}.{version["revision"]}"'


async def _compact_reads(principal: Principal, compacts: list[dict[str, Any]]) -> list[tuple[CompactRead, bool]]:
    """(what this user reads of each compact, whether they see its drafts): three queries for any number
    of compacts (these, their parties' organisations, their versions)."""
    if not compacts:
        return []
    ids = [c["id"] for c in compacts]
    parties: dict[UUID, list[PartyRead]] = {}
    for r in (
        await CompactParty.select(
            CompactParty.compact,
            CompactParty.organization.slug.as_alias("slug"),
            CompactParty.organization.name.as_alias("name"),
            CompactParty.organization.kind.as_alias("kind"),
        )
        .where(CompactParty.compact.is_in(ids))
        .order_by(CompactParty.organization.slug)
    ):
        parties.setdefault(r["compact"], []).append(PartyRead(slug=r["slug"], name=r["name"], kind=r["kind"]))
    versions: dict[UUID, list[dict[str, Any]]] = {}
    for v in (
        await CompactVersion.select(
            CompactVersion.compact,
            CompactVersion.number,
            CompactVersion.status,
            CompactVersion.terms_hash,
            CompactVersion.proposed_at,
        )
        .where(CompactVersion.compact.is_in(ids))
        .order_by(CompactVersion.number)
    ):
        versions.setdefault(v["compact"], []).append(v)
    out = []
    for compact in compacts:
        orgs, all_versions = parties.get(compact["id"], []), versions.get(compact["id"], [])
        insider = _is_party_member(principal, compact, [o.slug for o in orgs])
        shown = [v for v in all_versions if insider or v["proposed_at"] is not None]
        read = CompactRead(
            id=compact["id"],
            slug=compact["slug"],
            title=compact["title"],
            convening_org=compact["convening_org"],
            parties=orgs,
            current_version=next((v["number"] for v in all_versions if v["status"] == S.ratified), None),
            open_version=next((v["number"] for v in shown if v["status"] in OPEN_STATUSES), None),
            versions=[
                VersionSummary(number=v["number"], status=v["status"], terms_hash=v["terms_hash"]) for v in shown
            ],
            created_at=compact["created_at"],
        )
        out.append((read, insider))
    return out


async def _compact_read(principal: Principal, compact: dict[str, Any]) -> CompactRead:
    [(read, _)] = await _compact_reads(principal, [compact])
    return read


# --- reading -----------------------------------------------------------------------------------


async def list_compacts(principal: Principal) -> list[CompactRead]:
    async with read_tx():
        rows = await Compact.select(
            Compact.id,
            Compact.slug,
            Compact.title,
            Compact.created_at,
            Compact.convening_org.slug.as_alias("convening_org"),
        ).order_by(Compact.slug)
        return [read for read, insider in await _compact_reads(principal, rows) if insider or read.versions]


async def get_compact(principal: Principal, slug: str) -> CompactRead:
    async with read_tx():
        compact, _, _ = await _visible_compact(principal, slug)
        return await _compact_read(principal, compact)


async def get_version(principal: Principal, slug: str, number: int) -> tuple[VersionRead, str]:
    async with read_tx():
        compact, version, parties = await _visible_version(principal, slug, number)
        return await _version_read(compact, version, parties), etag(version)


# --- writing -----------------------------------------------------------------------------------


async def _org_ids(slugs: list[str], field: str) -> dict[str, UUID]:
    rows = await Organization.select(Organization.id, Organization.slug).where(Organization.slug.is_in(slugs or [""]))
    found = {r["slug"]: r["id"] for r in rows}
    for i, slug in enumerate(slugs):
        if slug not in found:
            raise invalid(
                f"{field}[{i}]" if field == "parties" else field, "organization_exists", f"no organisation {slug!r}"
            )
    return found


def _quorum_fits(terms: Terms, party_count: int) -> None:
    try:
        check_quorum(terms, party_count)
    except TermsError as exc:
        raise invalid(f"terms.{exc.path}", exc.rule, exc.message, parties=party_count) from exc


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
        party_slugs = sorted({data.convening_org, *data.parties})
        org_ids = await _org_ids(list(data.parties), "parties")
        org_ids[data.convening_org] = convening["id"]
        _quorum_fits(data.terms, len(party_slugs))
        # Slugs are unique across all compacts, drafts the caller cannot see included: the answer is the same
        # for every taken slug and says nothing about the compact that has it.
        taken = Conflict(f"compact slug {data.slug!r} is not available; choose another", field="slug", rule="unique")
        if await Compact.exists().where(Compact.slug == data.slug):
            raise taken
        now = _now()
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
            *[CompactParty(id=uuid4(), compact=compact.id, organization=org_ids[s], added_at=now) for s in party_slugs]
        )
        version = CompactVersion(
            id=uuid4(),
            compact=compact.id,
            number=1,
            parent_number=None,
            status=S.draft.value,
            terms=data.terms.model_dump(mode="json"),
            parties=party_slugs,
            terms_hash=None,
            revision=1,
            created_by=str(principal.id),
            created_at=now,
        )
        await CompactVersion.insert(version)
        await audit.record(
            principal.id,
            "compact.created",
            "compact",
            compact.id,
            {"slug": data.slug, "convening_org": data.convening_org, "parties": party_slugs},
        )
        row = await _compact_row(data.slug)
        return await _compact_read(principal, row)


async def lock_compact(compact_id: UUID) -> None:
    """Serialise writers of one compact (PostgreSQL advisory lock until commit; SQLite has one writer).

    Every change of a version's status (propose, decide, ratify and supersede, withdraw, amend, edit)
    takes it before reading the version, and so does binding a production to a version.
    """
    await xact_lock(compact_id.int & 0x7FFF_FFFF_FFFF_FFFF)


async def _lock(compact: dict[str, Any]) -> None:
    await lock_compact(compact["id"])


async def _open_for_convening(principal: Principal, slug: str, number: int) -> tuple[dict, dict, list[str]]:
    compact = await _compact_row(slug)
    await _lock(compact)
    parties = await _party_slugs(compact["id"])
    if not _is_party_member(principal, compact, parties):
        raise NotFound(f"compact {slug!r} not found")
    _require_convening_officer(principal, compact)
    version = await _version_row(compact["id"], number)
    return compact, version, parties


async def update_draft(
    principal: Principal, slug: str, number: int, data: DraftUpdate, if_match: str | None
) -> tuple[VersionRead, str]:
    async with write_tx():
        compact, version, parties = await _open_for_convening(principal, slug, number)
        if version["status"] != S.draft:
            raise Conflict(
                f"version {number} is {version['status']}: only drafts can be edited; proposed terms never change",
                rule="immutable_once_proposed",
            )
        if if_match is None:
            raise PreconditionRequired("send If-Match with the version's ETag to edit a draft", header="If-Match")
        if if_match != etag(version):
            raise PreconditionFailed(
                "the draft changed since you read it; reload it and apply your edit again",
                current_etag=etag(version),
            )
        new_parties = version["parties"]
        updates: dict[Any, Any] = {CompactVersion.terms: data.terms.model_dump(mode="json")}
        if data.parties is not None:
            new_parties = sorted({compact["convening_org"], *data.parties})
            org_ids = await _org_ids(list(data.parties), "parties")
            known = set(parties)
            fresh = [s for s in new_parties if s not in known and s in org_ids]
            if fresh:
                now = _now()
                await CompactParty.insert(
                    *[
                        CompactParty(id=uuid4(), compact=compact["id"], organization=org_ids[s], added_at=now)
                        for s in fresh
                    ]
                )
            updates[CompactVersion.parties] = new_parties
        _quorum_fits(data.terms, len(new_parties))
        updates[CompactVersion.revision] = version["revision"] + 1
        changed = (
            await CompactVersion.update(updates)
            .where((CompactVersion.id == version["id"]) & (CompactVersion.revision == version["revision"]))
            .returning(CompactVersion.id)
        )
        if not changed:  # a concurrent writer got there between our read and this update
            raise PreconditionFailed("the draft changed since you read it; reload it and apply your edit again")
        await audit.record(
            principal.id,
            "compact_version.edited",
            "compact_version",
            version["id"],
            {"compact": slug, "number": number, "revision": version["revision"] + 1},
        )
        version = await _version_row(compact["id"], number)
        return await _version_read(compact, version, new_parties), etag(version)


def version_document(compact_slug: str, version: dict[str, Any], parent_hash: str | None) -> dict[str, Any]:
    """The canonical document a proposed version's hash covers."""
    return {
        "compact": compact_slug,
        "number": version["number"],
        "parent_number": version["parent_number"],
        "parent_hash": parent_hash,
        "parties": sorted(version["parties"]),
        "terms": version["terms"],
    }


async def _parent_hash(compact_id: UUID, parent_number: int | None) -> str | None:
    if parent_number is None:
        return None
    return (await _version_row(compact_id, parent_number))["terms_hash"]


async def propose(principal: Principal, slug: str, number: int) -> VersionRead:
    async with write_tx():
        compact, version, parties = await _open_for_convening(principal, slug, number)
        if version["status"] != S.draft:
            raise Conflict(f"version {number} is {version['status']}, not a draft", rule="propose_drafts_only")
        terms = Terms.model_validate(version["terms"])
        _quorum_fits(terms, len(version["parties"]))
        parent_hash = await _parent_hash(compact["id"], version["parent_number"])
        digest = canonical_hash(version_document(slug, version, parent_hash))
        now = _now()
        await CompactVersion.update(
            {
                CompactVersion.status: S.proposed.value,
                CompactVersion.terms_hash: digest,
                CompactVersion.proposed_at: now,
                CompactVersion.revision: version["revision"] + 1,
            }
        ).where(CompactVersion.id == version["id"])
        await audit.record(
            principal.id,
            "compact_version.proposed",
            "compact_version",
            version["id"],
            {"compact": slug, "number": number, "terms_hash": digest},
        )
        version = await _version_row(compact["id"], number)
        return await _version_read(compact, version, parties)


async def decide(principal: Principal, slug: str, number: int, data: DecisionCreate) -> VersionRead:
    async with write_tx():
        compact, version, parties = await _visible_version(principal, slug, number)
        await _lock(compact)
        version = await _version_row(compact["id"], number)  # re-read under the lock
        if data.organization not in version["parties"]:
            raise invalid(
                "organization", "party_of_version", f"{data.organization!r} is not a signatory of version {number}"
            )
        if not principal.has_role(data.organization, Role.officer):
            raise Forbidden(f"only officers of {data.organization!r} may decide for it", rule="party_officer")
        if version["status"] != S.proposed:
            raise Conflict(
                f"version {number} is {version['status']}: only proposed versions are decided",
                rule="decide_proposed_only",
            )
        org_id = principal.org_ids[data.organization]
        if await RatificationDecision.exists().where(
            (RatificationDecision.version == version["id"]) & (RatificationDecision.organization == org_id)
        ):
            raise Conflict(f"{data.organization!r} has already decided on version {number}", rule="decide_once")
        now = _now()
        decision = (Decision.approved if data.decision == "approve" else Decision.rejected).value
        await RatificationDecision.insert(
            RatificationDecision(
                id=uuid4(),
                version=version["id"],
                organization=org_id,
                decision=decision,
                reason=data.reason,
                decided_by=principal.id,
                decided_at=now,
            )
        )
        await audit.record(
            principal.id,
            f"compact_version.{decision}",
            "compact_version",
            version["id"],
            {"compact": slug, "number": number, "organization": data.organization, "reason": data.reason},
        )
        decisions = await RatificationDecision.select(RatificationDecision.decision).where(
            RatificationDecision.version == version["id"]
        )
        approvals = sum(d["decision"] == Decision.approved for d in decisions)
        undecided = len(version["parties"]) - len(decisions)
        required = _approvals_required(version["terms"], version["parties"])
        if approvals >= required:
            await _ratify(principal, compact, version, now)
        elif approvals + undecided < required:
            await CompactVersion.update(
                {
                    CompactVersion.status: S.rejected.value,
                    CompactVersion.closed_at: now,
                    CompactVersion.closed_reason: "ratification can no longer reach the required approvals",
                }
            ).where(CompactVersion.id == version["id"])
            await audit.record(
                None,
                "compact_version.rejected_final",
                "compact_version",
                version["id"],
                {"compact": slug, "number": number, "approvals": approvals, "required": required},
            )
        version = await _version_row(compact["id"], number)
        return await _version_read(compact, version, parties)


async def _ratify(principal: Principal, compact: dict, version: dict, now: datetime) -> None:
    previous = await CompactVersion.select(CompactVersion.id, CompactVersion.number).where(
        (CompactVersion.compact == compact["id"]) & (CompactVersion.status == S.ratified.value)
    )
    for old in previous:
        await CompactVersion.update(
            {CompactVersion.status: S.superseded.value, CompactVersion.superseded_at: now}
        ).where(CompactVersion.id == old["id"])
        await audit.record(
            None,
            "compact_version.superseded",
            "compact_version",
            old["id"],
            {"compact": compact["slug"], "number": old["number"], "by": version["number"]},
        )
    await CompactVersion.update({CompactVersion.status: S.ratified.value, CompactVersion.ratified_at: now}).where(
        CompactVersion.id == version["id"]
    )
    await audit.record(
        None,
        "compact_version.ratified",
        "compact_version",
        version["id"],
        {"compact": compact["slug"], "number": version["number"], "terms_hash": version["terms_hash"]},
    )


async def withdraw(principal: Principal, slug: str, number: int, reason: str) -> VersionRead:
    async with write_tx():
        compact, version, parties = await _open_for_convening(principal, slug, number)
        if version["status"] not in OPEN_STATUSES:
            raise Conflict(
                f"version {number} is {version['status']}: only drafts and proposals can be withdrawn",
                rule="withdraw_open_only",
            )
        await CompactVersion.update(
            {
                CompactVersion.status: S.withdrawn.value,
                CompactVersion.closed_at: _now(),
                CompactVersion.closed_reason: reason,
            }
        ).where(CompactVersion.id == version["id"])
        await audit.record(
            principal.id,
            "compact_version.withdrawn",
            "compact_version",
            version["id"],
            {"compact": slug, "number": number, "reason": reason},
        )
        version = await _version_row(compact["id"], number)
        return await _version_read(compact, version, parties)


async def amend(principal: Principal, slug: str, data: AmendmentCreate) -> VersionRead:
    """A new draft whose parent is the ratified version in force (or none if nothing is ratified yet)."""
    async with write_tx():
        compact = await _compact_row(slug)
        await _lock(compact)
        parties = await _party_slugs(compact["id"])
        if not _is_party_member(principal, compact, parties):
            raise NotFound(f"compact {slug!r} not found")
        _require_convening_officer(principal, compact)
        versions = (
            await CompactVersion.select()
            .where(CompactVersion.compact == compact["id"])
            .order_by(CompactVersion.number)
            .output(load_json=True)
        )
        open_version = next((v for v in versions if v["status"] in OPEN_STATUSES), None)
        if open_version is not None:
            raise Conflict(
                f"version {open_version['number']} is still {open_version['status']}: ratify, withdraw or let it be "
                "rejected before drafting another",
                rule="one_open_version",
            )
        current = next((v for v in versions if v["status"] == S.ratified), None)
        base = current or versions[-1]
        terms = data.terms.model_dump(mode="json") if data.terms else base["terms"]
        _quorum_fits(Terms.model_validate(terms), len(base["parties"]))
        number = versions[-1]["number"] + 1
        version = CompactVersion(
            id=uuid4(),
            compact=compact["id"],
            number=number,
            parent_number=current["number"] if current else None,
            status=S.draft.value,
            terms=terms,
            parties=base["parties"],
            terms_hash=None,
            revision=1,
            created_by=str(principal.id),
            created_at=_now(),
        )
        await CompactVersion.insert(version)
        await audit.record(
            principal.id,
            "compact_version.drafted",
            "compact_version",
            version.id,
            {"compact": slug, "number": number, "parent_number": version.parent_number},
        )
        row = await _version_row(compact["id"], number)
        return await _version_read(compact, row, parties)


# --- redlines and documents ---------------------------------------------------------------------


async def diff(principal: Principal, slug: str, from_number: int, to_number: int) -> DiffRead:
    async with read_tx():
        compact, old, _ = await _visible_version(principal, slug, from_number)
        _, new, _ = await _visible_version(principal, slug, to_number)
    old_doc = {"parties": sorted(old["parties"]), **old["terms"]}
    new_doc = {"parties": sorted(new["parties"]), **new["terms"]}
    changes = diff_terms(old_doc, new_doc)
    return DiffRead(
        compact=slug,
        from_number=from_number,
        to_number=to_number,
        from_hash=old["terms_hash"],
        to_hash=new["terms_hash"],
        changes=changes,
        text=redline_text(
            changes, f"{slug} v{from_number} ({old['status']})", f"{slug} v{to_number} ({new['status']})"
        ),
    )


async def document_context(principal: Principal, slug: str, number: int) -> tuple[dict[str, Any], bytes, str]:
    """Template context for the compact PDF, the canonical JSON to attach, and the hash for the footer."""
    async with read_tx():
        compact, version, parties = await _visible_version(principal, slug, number)
        read = await _version_read(compact, version, parties)
        orgs = await Organization.select(Organization.slug, Organization.name, Organization.kind).where(
            Organization.slug.is_in(read.parties or [""])
        )
        parent = await _version_row(compact["id"], version["parent_number"]) if version["parent_number"] else None
        convening = (
            await Organization.select(Organization.name).where(Organization.slug == compact["convening_org"]).first()
        )
    decided = {d.organization: d for d in read.decisions}
    document = version_document(slug, version, parent["terms_hash"] if parent else None)
    redline = None
    if parent is not None:
        redline = [
            c.model_dump(mode="json")
            for c in diff_terms(
                {"parties": sorted(parent["parties"]), **parent["terms"]},
                {"parties": sorted(version["parties"]), **version["terms"]},
            )
        ]
    context = {
        "compact": {"title": compact["title"], "slug": slug, "convening_org": convening["name"]},
        "version": {
            "number": number,
            "status": version["status"],
            "hash": version["terms_hash"] or "draft (not yet hashed)",
            "proposed_at": version["proposed_at"].isoformat() if version["proposed_at"] else None,
            "parent_number": version["parent_number"],
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
        "terms": version["terms"],
        "redline": redline,
        "redline_against": f"version {parent['number']}" if parent else None,
    }
    return context, canonical_json(document), version["terms_hash"] or ""
