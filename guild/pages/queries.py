"""Display names for rows a service has already let the person see (never a way to reach more rows)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from guild.infra.db import read_tx
from guild.infra.tables import Production


async def production_labels(production_ids: Iterable[UUID]) -> dict[UUID, tuple[str, str]]:
    """production id -> (film title, company name), for productions of contracts the caller may read."""
    ids = sorted(set(production_ids))
    if not ids:
        return {}
    async with read_tx():
        rows = await Production.select(
            Production.id, Production.title, Production.company.name.as_alias("company_name")
        ).where(Production.id.is_in(ids))
    return {r["id"]: (r["title"], r["company_name"]) for r in rows}
