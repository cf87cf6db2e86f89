"""One review per custom clause version, compact version and term path (raw SQL, portable to SQLite)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T20:56:03:000000"
VERSION = "1.38.0"
DESCRIPTION = "one review per clause, version and term"

INDEX = "custom_clause_review_one"


class _Raw(Table):
    pass


async def create_index() -> None:
    await _Raw.raw(f"CREATE UNIQUE INDEX {INDEX} ON custom_clause_review (custom_clause, compact_version, term_path)")


async def drop_index() -> None:
    await _Raw.raw(f"DROP INDEX {INDEX}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="guild", description=DESCRIPTION)
    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
