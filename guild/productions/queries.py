"""Reading productions with who-sees-what: the access-checked production row and its bound versions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from guild.domain.errors import Forbidden, NotFound
from guild.domain.principal import Principal, Role
from guild.infra.db import for_update, read_tx
from guild.infra.tables import (
    Production,
    ProductionBinding,
)

READERS = (Role.producer, Role.officer)


async def production_row(
    principal: Principal, production_id: UUID, *, write: bool = False, lock: bool = False
) -> dict[str, Any]:
    """The production if this user may see it (write: may change it); 404 for outsiders, 403 for readers.

    ``lock`` (in a write transaction): the production row stays locked until commit, so the writers that
    check something of a production and then change it (its fields, bindings, disclosures, commitments,
    one live contract per engagement) run one at a time and each sees what the previous one committed.
    """
    query = Production.select(*Production.all_columns(), Production.company.slug.as_alias("company_slug")).where(
        Production.id == production_id
    )
    row = await (for_update(query, Production) if lock else query).first()
    if row is None or not (principal.is_admin or principal.has_role(row["company_slug"], *READERS)):
        raise NotFound(f"production {production_id} not found")
    if write and not principal.has_role(row["company_slug"], Role.producer):
        raise Forbidden(
            f"only producers of {row['company_slug']!r} may change its productions", rule="company_producer"
        )
    return row


async def bound_versions(production_id: UUID) -> list[dict[str, Any]]:
    """The compact versions a production is bound to, with their terms (JSON) and hashes."""
    return (
        await ProductionBinding.select(
            ProductionBinding.compact.slug.as_alias("compact_slug"),
            ProductionBinding.compact.title.as_alias("compact_title"),
            ProductionBinding.version.number.as_alias("version_number"),
            ProductionBinding.version.terms.as_alias("terms"),
            ProductionBinding.version_hash,
            ProductionBinding.bound_at,
        )
        .where(ProductionBinding.production == production_id)
        .order_by(ProductionBinding.compact.slug)
        .output(load_json=True)
    )


async def assert_can_check(principal: Principal, production_id: UUID) -> None:
    """Producers and officers of the company may run an on-demand check."""
    async with read_tx():
        await production_row(principal, production_id)
