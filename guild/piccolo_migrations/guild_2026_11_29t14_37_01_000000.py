"""Index for the scheduler's reaper: the running runs by lease expiry (partial: finished runs are most rows).

Every scheduler process looks for running runs whose lease lapsed every few seconds; without this
index that is a scan of every run ever made (on-demand checks add one per production check).
Raw SQL: partial indexes are written the same way on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T14:37:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "index running compliance runs by lease expiry"


class _Raw(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="guild", description=DESCRIPTION)

    async def create() -> None:
        await _Raw.raw(
            "CREATE INDEX compliance_run_running_lease ON compliance_run (lease_expires_at) WHERE status = 'running'"
        )

    async def drop() -> None:
        await _Raw.raw("DROP INDEX compliance_run_running_lease")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
