"""Shared by hand-written migrations: unique indexes in raw SQL.

SQLite cannot ``ALTER TABLE ... ADD CONSTRAINT``; ``CREATE UNIQUE INDEX`` (including partial indexes
with ``WHERE``) works on both SQLite and PostgreSQL. Keep this stable: released migrations call it.
"""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class _Raw(Table):
    pass


def unique_indexes(migration_id: str, description: str, indexes: dict[str, str]) -> MigrationManager:
    """A migration creating ``{name: "table (columns) [WHERE ...]"}`` unique indexes (dropped backwards)."""
    manager = MigrationManager(migration_id=migration_id, app_name="guild", description=description)

    async def create() -> None:
        for name, target in indexes.items():
            await _Raw.raw(f"CREATE UNIQUE INDEX {name} ON {target}")

    async def drop() -> None:
        for name in indexes:
            await _Raw.raw(f"DROP INDEX {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
