"""Backfill the contract fact columns (clause keys, planned AI uses, compact version hashes, compliant)
from each contract's stored document and report. Both never change, so the facts are derived once."""

import json

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

from contracts.compliance import contract_facts

ID = "2026-11-24T12:15:46:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill contract facts"
BATCH = 1000


class _Raw(Table):
    pass


def _loaded(value):
    return json.loads(value) if isinstance(value, str | bytes) else value


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
            facts = contract_facts(_loaded(row["document"]), _loaded(row["compliance"]))
            await _Raw.raw(
                "UPDATE contract SET clause_keys = {}, planned_ai_uses = {}, version_hashes = {}, compliant = {} "
                "WHERE id = {}",
                facts.clause_keys, facts.planned_ai_uses, facts.version_hashes, facts.compliant, row["id"],
            )
        if len(rows) < BATCH:
            return
        after = rows[-1]["id"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="guild", description=DESCRIPTION)
    manager.add_raw(backfill)
    return manager
