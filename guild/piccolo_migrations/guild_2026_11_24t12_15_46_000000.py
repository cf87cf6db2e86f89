"""Backfill the contract fact columns (clause keys, planned AI uses, compact version hashes, compliant)
from each contract's stored document and report. Both never change, so the facts are derived once.

The derivation is written out here, as it stood when this migration was made, rather than imported
from the application: a migration must mean the same thing whatever the application becomes."""

import json

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T12:15:46:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill contract facts"
BATCH = 1000


class _Raw(Table):
    pass


def _loaded(value):
    return json.loads(value) if isinstance(value, str | bytes) else value


def _facts(document: dict, report: dict) -> tuple[list[str], list[str], list[str], bool]:
    """Clause keys, planned AI uses, compact version hashes and compliance of a ``guild.contract/1`` document."""
    return (
        sorted({c["key"] for c in document.get("clauses") or []}),
        sorted(set(document.get("planned_ai_uses") or [])),
        sorted({c["hash"] for c in document.get("compacts") or []}),
        report.get("compliant") is True,
    )


async def backfill() -> None:
    after = None
    while True:
        if after is None:
            rows = await _Raw.raw("SELECT id, document, compliance FROM contract ORDER BY id LIMIT {}", BATCH)
        else:
            rows = await _Raw.raw(
                "SELECT id, document, compliance FROM contract WHERE id > {} ORDER BY id LIMIT {}", after, BATCH
            )
        for row in rows:
            clause_keys, ai_uses, hashes, compliant = _facts(_loaded(row["document"]), _loaded(row["compliance"]))
            await _Raw.raw(
                "UPDATE contract SET clause_keys = {}, planned_ai_uses = {}, version_hashes = {}, compliant = {} "
                "WHERE id = {}",
                clause_keys, ai_uses, hashes, compliant, row["id"],
            )
        if len(rows) < BATCH:
            return
        after = rows[-1]["id"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="guild", description=DESCRIPTION)
    manager.add_raw(backfill)
    return manager
