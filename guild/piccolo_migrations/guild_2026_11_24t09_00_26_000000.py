"""Composite unique index on membership (organization, user, role).

Written as raw SQL because SQLite cannot ALTER TABLE ... ADD CONSTRAINT; the index is portable.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T09:00:26:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique (organization, user, role) on membership"


class _Raw(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="guild", description=DESCRIPTION)

    async def create_index() -> None:
        await _Raw.raw('CREATE UNIQUE INDEX membership_org_user_role ON membership (organization, "user", role)')

    async def drop_index() -> None:
        await _Raw.raw("DROP INDEX membership_org_user_role")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
