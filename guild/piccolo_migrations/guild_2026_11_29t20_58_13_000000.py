"""Contract re-checks are made once: a unique index on (contract, version_hash) of ``contract_recheck``.

It is also the index the compliance sweep's settled-engagement query probes for each contract and bound
version hash. The table is new and empty here: nothing to backfill.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T20:58:13:000000"
VERSION = "1.38.0"
DESCRIPTION = "contract recheck once"

INDEX = "contract_recheck_once"


class _Raw(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="guild", description=DESCRIPTION)

    async def create() -> None:
        await _Raw.raw(f"CREATE UNIQUE INDEX {INDEX} ON contract_recheck (contract, version_hash)")

    async def drop() -> None:
        await _Raw.raw(f"DROP INDEX {INDEX}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
