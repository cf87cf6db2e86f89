"""At most one live (issued) contract per engagement: a partial unique index (raw SQL, portable to SQLite).

Before it exists, concurrent issuances could leave several issued contracts for one engagement. Of
those, the latest (by issue time, then id) stays issued; each earlier one becomes ``superseded`` by it,
audited as ``contract.superseded``. Backwards drops the index and leaves the statuses as they are.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T14:41:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "one live contract per engagement"

INDEX = "contract_one_live"
TARGET = "contract (engagement) WHERE status = 'issued'"


class _Raw(Table):
    pass


async def supersede_duplicates() -> int:
    """Mark every issued contract that has a later issued one for its engagement as superseded by the
    latest. Returns how many were marked."""
    from guild.infra import audit

    older = await _Raw.raw(
        "SELECT c.id, c.engagement FROM contract c WHERE c.status = 'issued' AND EXISTS ("
        " SELECT 1 FROM contract l WHERE l.engagement = c.engagement AND l.status = 'issued'"
        " AND (l.issued_at > c.issued_at OR (l.issued_at = c.issued_at AND l.id > c.id)))"
        " ORDER BY c.issued_at, c.id"
    )
    for row in older:
        [latest] = await _Raw.raw(
            "SELECT id, issued_at FROM contract WHERE engagement = {} AND status = 'issued'"
            " ORDER BY issued_at DESC, id DESC LIMIT 1",
            row["engagement"],
        )
        await _Raw.raw(
            "UPDATE contract SET status = 'superseded', superseded_by = {}, superseded_at = {} WHERE id = {}",
            latest["id"], latest["issued_at"], row["id"],
        )
        await audit.record(
            None, "contract.superseded", "contract", row["id"],
            {"by": str(latest["id"]), "reason": "one live contract per engagement (migration)"},
        )
    return len(older)


async def create_index() -> None:
    await _Raw.raw(f"CREATE UNIQUE INDEX {INDEX} ON {TARGET}")


async def drop_index() -> None:
    await _Raw.raw(f"DROP INDEX {INDEX}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="guild", description=DESCRIPTION)
    manager.add_raw(supersede_duplicates)
    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
