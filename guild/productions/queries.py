"""Reading productions with who-sees-what: the access-checked production row; and the one loader of
bound compact versions (:func:`bindings`), which every reader of bindings goes through."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

import structlog

from guild.compacts.bound import Binding, BoundVersion
from guild.compacts.terms import Terms, load_terms
from guild.domain.errors import Forbidden, NotFound
from guild.domain.principal import Principal, Role
from guild.infra.db import Param, Prepared, for_update, read_tx
from guild.infra.tables import CompactVersion, Production, ProductionBinding

READERS = (Role.producer, Role.officer)


def _production_query() -> Any:
    return Production.select(*Production.all_columns(), Production.company.slug.as_alias("company_slug")).where(
        Production.id == Param("id")
    )


_PRODUCTION = Prepared(_production_query)
_PRODUCTION_LOCKED = Prepared(lambda: for_update(_production_query(), Production))
_log = structlog.get_logger("guild.productions")


def may_read(principal: Principal, company_slug: str) -> bool:
    """Who reads a production: its company's producers and officers, and site admins."""
    return principal.is_admin or principal.has_role(company_slug, *READERS)


async def production_row(
    principal: Principal, production_id: UUID, *, write: bool = False, lock: bool = False
) -> dict[str, Any]:
    """The production if this user may see it (write: may change it); 404 for outsiders, 403 for readers.

    ``lock`` (in a write transaction): the production row stays locked until commit, so the writers that
    check something of a production and then change it (its fields, bindings, disclosures, commitments,
    one live contract per engagement) run one at a time and each sees what the previous one committed.
    """
    row = await (_PRODUCTION_LOCKED if lock else _PRODUCTION).first(id=production_id)
    if row is None or not may_read(principal, row["company_slug"]):
        raise NotFound(f"production {production_id} not found")
    if write and not principal.has_role(row["company_slug"], Role.producer):
        raise Forbidden(
            f"only producers of {row['company_slug']!r} may change its productions", rule="company_producer"
        )
    return row


# --- bound versions: the one loader ---------------------------------------------------------------


def _parse(versions: list[dict[str, Any]], skip_unreadable: bool) -> dict[UUID, Terms]:
    """Each version's stored terms, parsed once by :func:`load_terms` (shared by all its bindings)."""
    parsed: dict[UUID, Terms] = {}
    for v in versions:
        try:
            parsed[v["id"]] = load_terms(v["terms"])
        except ValueError:
            if not skip_unreadable:
                raise
            _log.warning("productions.unreadable_terms", version_id=str(v["id"]))
    return parsed


async def bindings(
    production_ids: Sequence[UUID] | None = None, *, compact_id: UUID | None = None, skip_unreadable: bool = False
) -> list[Binding]:
    """The bindings of these productions (or, with ``compact_id``, of every production bound to that compact;
    with both, of these productions to that compact), by compact slug then production: two queries
    whatever their number, each version's terms parsed once and shared by its bindings.

    ``skip_unreadable``: a version whose stored terms this code cannot read is left out (logged) instead
    of raising ``ValueError``. Call inside a transaction."""
    if production_ids is None and compact_id is None:
        raise ValueError("bindings of which productions or compact?")
    where = []
    if production_ids is not None:
        if not production_ids:
            return []
        where.append(ProductionBinding.production.is_in(sorted(set(production_ids))))
    if compact_id is not None:
        where.append(ProductionBinding.compact == compact_id)
    rows = (
        await ProductionBinding.select(
            ProductionBinding.production,
            ProductionBinding.bound_at,
            ProductionBinding.compact,
            ProductionBinding.compact.slug.as_alias("compact_slug"),
            ProductionBinding.compact.title.as_alias("compact_title"),
            ProductionBinding.compact.convening_org.as_alias("convening_org"),
            ProductionBinding.version,
            ProductionBinding.version.number.as_alias("version_number"),
            ProductionBinding.version_hash,
        )
        .where(*where)
        .order_by(ProductionBinding.compact.slug)
        .order_by(ProductionBinding.production)
    )
    if not rows:
        return []
    versions = await CompactVersion.select(CompactVersion.id, CompactVersion.terms).where(
        CompactVersion.id.is_in(sorted({r["version"] for r in rows}))
    )
    terms = _parse(versions, skip_unreadable)
    shared: dict[tuple[UUID, str], BoundVersion] = {}
    out = []
    for r in rows:
        if r["version"] not in terms:
            continue
        key = (r["version"], r["version_hash"])
        if key not in shared:
            shared[key] = BoundVersion(
                version_id=r["version"],
                compact_id=r["compact"],
                compact_slug=r["compact_slug"],
                compact_title=r["compact_title"],
                version_number=r["version_number"],
                version_hash=r["version_hash"],
                terms=terms[r["version"]],
            )
        out.append(Binding(r["production"], r["bound_at"], r["convening_org"], shared[key]))
    return out


async def bound_versions(production_id: UUID) -> list[BoundVersion]:
    """The compact versions a production is bound to, by compact slug. Call inside a transaction."""
    return [b.version for b in await bindings([production_id])]


async def versions_by_hash(hashes: Collection[str]) -> dict[str, BoundVersion]:
    """Compact versions by the SHA-256 of their terms (those a contract cites), parsed like bound ones."""
    if not hashes:
        return {}
    rows = await CompactVersion.select(
        CompactVersion.id,
        CompactVersion.compact,
        CompactVersion.compact.slug.as_alias("compact_slug"),
        CompactVersion.compact.title.as_alias("compact_title"),
        CompactVersion.number,
        CompactVersion.terms_hash,
        CompactVersion.terms,
    ).where(CompactVersion.terms_hash.is_in(sorted(set(hashes))))
    terms = _parse(rows, skip_unreadable=False)
    return {
        r["terms_hash"]: BoundVersion(
            version_id=r["id"],
            compact_id=r["compact"],
            compact_slug=r["compact_slug"],
            compact_title=r["compact_title"],
            version_number=r["number"],
            version_hash=r["terms_hash"],
            terms=terms[r["id"]],
        )
        for r in rows
    }


async def assert_can_check(principal: Principal, production_id: UUID) -> None:
    """Producers and officers of the company may run an on-demand check."""
    async with read_tx():
        await production_row(principal, production_id)


async def assert_can_change(principal: Principal, production_id: UUID) -> None:
    """Producers of the company may change a production: 404 for outsiders, 403 for its other readers."""
    async with read_tx():
        await production_row(principal, production_id, write=True)
