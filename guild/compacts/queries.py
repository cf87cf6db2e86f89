"""Compacts as their readers see them: loading, visibility, and the read models (list, get, redline).

Drafts are visible to the parties only (members of the convening or a signatory organisation, and site
admins); proposed versions and everything after are public to signed-in users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from guild.compacts.lifecycle import Revision, Version, approvals_required
from guild.compacts.redline import diff_terms, redline_text
from guild.compacts.schemas import (
    OPEN_STATUSES,
    CompactRead,
    DecisionRead,
    DiffRead,
    PartyRead,
    VersionRead,
    VersionStatus,
    VersionSummary,
)
from guild.compacts.terms import Terms, load_terms
from guild.domain.errors import NotFound
from guild.domain.principal import Principal
from guild.infra.db import Param, Prepared, read_tx
from guild.infra.tables import Compact, CompactParty, CompactVersion, RatificationDecision

S = VersionStatus


@dataclass(frozen=True)
class CompactRow:
    id: UUID
    slug: str
    title: str
    convening_org: str  # the convening organisation's slug
    created_at: datetime


def _compact_query() -> Any:
    return Compact.select(
        Compact.id,
        Compact.slug,
        Compact.title,
        Compact.created_at,
        Compact.convening_org.slug.as_alias("convening_org"),
    )


_COMPACT = Prepared(lambda: _compact_query().where(Compact.slug == Param("slug")))
_PARTIES = Prepared(
    lambda: CompactParty.select(CompactParty.organization.slug.as_alias("slug")).where(
        CompactParty.compact == Param("compact")
    )
)
_VERSION = Prepared(
    lambda: (
        CompactVersion.select(*(c for c in CompactVersion.all_columns() if c is not CompactVersion.terms))
        .where((CompactVersion.compact == Param("compact")) & (CompactVersion.number == Param("number")))
        .output(load_json=True)
    )
)
_TERMS = Prepared(
    lambda: (
        CompactVersion.select(CompactVersion.terms)
        .where((CompactVersion.id == Param("id")) & (CompactVersion.revision == Param("revision")))
        .output(load_json=True)
    )
)
_PUBLIC_VERSION = Prepared(
    lambda: (
        CompactVersion.select(CompactVersion.id)
        .where((CompactVersion.compact == Param("compact")) & CompactVersion.proposed_at.is_not_null())
        .limit(1)
    )
)
_DECISIONS = Prepared(
    lambda: (
        RatificationDecision.select(
            RatificationDecision.organization.slug.as_alias("organization"),
            RatificationDecision.decision,
            RatificationDecision.reason,
            RatificationDecision.decided_by.email.as_alias("decided_by"),
            RatificationDecision.decided_at,
        )
        .where(RatificationDecision.version == Param("version"))
        .order_by(RatificationDecision.decided_at)
    )
)


async def compact_row(slug: str) -> CompactRow:
    row = await _COMPACT.first(slug=slug)
    if row is None:
        raise NotFound(f"compact {slug!r} not found")
    return CompactRow(**row)


async def party_slugs(compact_id: UUID) -> list[str]:
    rows = await _PARTIES.rows(compact=compact_id)
    return sorted(r["slug"] for r in rows)


def is_party_member(principal: Principal, compact: CompactRow, parties: list[str]) -> bool:
    return principal.is_admin or any(principal.is_member_of(s) for s in {compact.convening_org, *parties})


_PARSED: dict[tuple[UUID, int], tuple[Terms, dict[str, Any]]] = {}
_PARSED_MAX = 512


def _remember(version_id: UUID, revision: int, stored: Any) -> tuple[Terms, dict[str, Any]]:
    """A version's terms parsed, with the document as stored, kept per revision: a revision's stored
    terms never change (every edit of a draft makes a new revision). Terms are frozen, so one object
    serves every reader; the stored document is only read (hashes, redlines)."""
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    parsed = _PARSED[(version_id, revision)] = (load_terms(stored), stored)
    return parsed


async def _stored_terms(version_id: UUID, revision: int) -> tuple[Terms, dict[str, Any]] | None:
    """This revision's terms, without reading them again when known; None if the version has moved on
    to another revision since its row was read (an edit committed in between)."""
    parsed = _PARSED.get((version_id, revision))
    if parsed is None:
        row = await _TERMS.first(id=version_id, revision=revision)
        if row is None:
            return None
        parsed = _remember(version_id, revision, row["terms"])
    return parsed


def _version(row: dict[str, Any], terms: Terms, document: dict[str, Any]) -> Version:
    return Version(
        id=row["id"],
        number=row["number"],
        parent_number=row["parent_number"],
        status=VersionStatus(row["status"]),
        terms=terms,
        terms_document=document,
        parties=tuple(row["parties"]),
        terms_hash=row["terms_hash"],
        revision=row["revision"],
        created_at=row["created_at"],
        proposed_at=row["proposed_at"],
        ratified_at=row["ratified_at"],
        superseded_at=row["superseded_at"],
        closed_at=row["closed_at"],
        closed_reason=row["closed_reason"],
    )


async def version_row(compact_id: UUID, number: int) -> Version:
    while True:  # again only if the draft was edited between reading its row and its terms
        row = await _VERSION.first(compact=compact_id, number=number)
        if row is None:
            raise NotFound(f"version {number} not found")
        stored = await _stored_terms(row["id"], row["revision"])
        if stored is not None:
            return _version(row, *stored)


async def all_versions(compact_id: UUID) -> list[Version]:
    """Every version of the compact, in number order."""
    rows = (
        await CompactVersion.select()
        .where(CompactVersion.compact == compact_id)
        .order_by(CompactVersion.number)
        .output(load_json=True)
    )
    return [_version(r, *_remember(r["id"], r["revision"], r["terms"])) for r in rows]


async def visible_compact(principal: Principal, slug: str) -> tuple[CompactRow, list[str], bool]:
    """The compact, its parties, and whether this user sees drafts; 404 if they may see nothing."""
    compact = await compact_row(slug)
    parties = await party_slugs(compact.id)
    insider = is_party_member(principal, compact, parties)
    if not insider:
        if await _PUBLIC_VERSION.first(compact=compact.id) is None:
            raise NotFound(f"compact {slug!r} not found")
    return compact, parties, insider


async def visible_version(principal: Principal, slug: str, number: int) -> tuple[CompactRow, Version, list[str]]:
    compact, parties, insider = await visible_compact(principal, slug)
    version = await version_row(compact.id, number)
    if not insider and version.proposed_at is None:
        raise NotFound(f"version {number} not found")
    return compact, version, parties


async def sees_drafts(principal: Principal, compact_id: UUID) -> bool:
    """Whether this user sees the compact's drafts (a member of one of its parties, or a site admin)."""
    if principal.is_admin:
        return True
    mine = list(principal.org_ids.values())
    return bool(mine) and await CompactParty.exists().where(
        (CompactParty.compact == compact_id) & CompactParty.organization.is_in(mine)
    )


async def decisions(version_id: UUID) -> list[DecisionRead]:
    return [DecisionRead(**r) for r in await _DECISIONS.rows(version=version_id)]


async def version_read(compact: CompactRow, version: Version, parties: list[str]) -> VersionRead:
    version_parties = list(version.parties) or parties
    return VersionRead(
        compact=compact.slug,
        number=version.number,
        parent_number=version.parent_number,
        status=version.status,
        terms=version.terms,
        terms_hash=version.terms_hash,
        parties=sorted(version_parties),
        approvals_required=approvals_required(version.terms, version_parties),
        decisions=await decisions(version.id),
        revision=version.revision,
        created_at=version.created_at,
        proposed_at=version.proposed_at,
        ratified_at=version.ratified_at,
        superseded_at=version.superseded_at,
        closed_at=version.closed_at,
        closed_reason=version.closed_reason,
    )


async def _compact_reads(principal: Principal, compacts: list[CompactRow]) -> list[tuple[CompactRead, bool]]:
    """(what this user reads of each compact, whether they see its drafts): three queries for any number
    of compacts (these, their parties' organisations, their versions)."""
    if not compacts:
        return []
    ids = [c.id for c in compacts]
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
        orgs, every = parties.get(compact.id, []), versions.get(compact.id, [])
        insider = is_party_member(principal, compact, [o.slug for o in orgs])
        shown = [v for v in every if insider or v["proposed_at"] is not None]
        read = CompactRead(
            id=compact.id,
            slug=compact.slug,
            title=compact.title,
            convening_org=compact.convening_org,
            parties=orgs,
            current_version=next((v["number"] for v in every if v["status"] == S.ratified), None),
            open_version=next((v["number"] for v in shown if v["status"] in OPEN_STATUSES), None),
            versions=[
                VersionSummary(number=v["number"], status=v["status"], terms_hash=v["terms_hash"]) for v in shown
            ],
            created_at=compact.created_at,
        )
        out.append((read, insider))
    return out


async def compact_read(principal: Principal, compact: CompactRow) -> CompactRead:
    [(read, _)] = await _compact_reads(principal, [compact])
    return read


# --- reading -----------------------------------------------------------------------------------


async def list_compacts(principal: Principal) -> list[CompactRead]:
    async with read_tx():
        rows = await _compact_query().order_by(Compact.slug)
        compacts = [CompactRow(**r) for r in rows]
        return [read for read, insider in await _compact_reads(principal, compacts) if insider or read.versions]


async def get_compact(principal: Principal, slug: str) -> CompactRead:
    async with read_tx():
        compact, _, _ = await visible_compact(principal, slug)
        return await compact_read(principal, compact)


async def get_version(principal: Principal, slug: str, number: int) -> tuple[VersionRead, Revision]:
    """The version and the revision of it this user read (its ETag)."""
    async with read_tx():
        compact, version, parties = await visible_version(principal, slug, number)
        return await version_read(compact, version, parties), version.current_revision


def redline_document(version: Version) -> dict[str, Any]:
    """What a redline compares: the signatories and the terms as stored."""
    return {"parties": sorted(version.parties), **version.terms_document}


async def diff(principal: Principal, slug: str, from_number: int, to_number: int) -> DiffRead:
    async with read_tx():
        _, old, _ = await visible_version(principal, slug, from_number)
        _, new, _ = await visible_version(principal, slug, to_number)
    changes = diff_terms(redline_document(old), redline_document(new))
    return DiffRead(
        compact=slug,
        from_number=from_number,
        to_number=to_number,
        from_hash=old.terms_hash,
        to_hash=new.terms_hash,
        changes=changes,
        text=redline_text(changes, f"{slug} v{from_number} ({old.status})", f"{slug} v{to_number} ({new.status})"),
    )
