"""An engagement's external_ref is unique within its production when given: a unique index on
(production, external_ref), raw SQL portable to SQLite. Rows without one (NULL, every row before this
version) never collide: both engines treat NULLs as distinct in a unique index."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T20:55:33:000000"
VERSION = "1.38.0"
DESCRIPTION = "engagement external_ref unique per production"

INDEX = "engagement_external_ref"


class _Raw(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="guild", description=DESCRIPTION)

    async def create() -> None:
        await _Raw.raw(f"CREATE UNIQUE INDEX {INDEX} ON engagement (production, external_ref)")

    async def drop() -> None:
        await _Raw.raw(f"DROP INDEX {INDEX}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
