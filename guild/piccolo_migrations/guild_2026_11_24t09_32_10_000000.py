"""Unique indexes for productions, custom clauses and contracts (raw SQL, portable to SQLite).

- a production binds to one version per compact
- custom clause keys are versioned per organisation
- an Idempotency-Key issues at most one contract per production
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T09:32:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes for productions, custom clauses and contracts"

INDEXES = {
    "production_binding_production_compact": "production_binding (production, compact)",
    "custom_clause_org_key_version": "custom_clause (organization, key, version)",
    "contract_production_idempotency_key": "contract (production, idempotency_key)",
}


class _Raw(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="guild", description=DESCRIPTION)

    async def create() -> None:
        for name, target in INDEXES.items():
            await _Raw.raw(f"CREATE UNIQUE INDEX {name} ON {target}")

    async def drop() -> None:
        for name in INDEXES:
            await _Raw.raw(f"DROP INDEX {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
