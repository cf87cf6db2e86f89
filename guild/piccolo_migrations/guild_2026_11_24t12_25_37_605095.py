from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-11-24T12:25:37:605095"
VERSION = "1.38.0"
DESCRIPTION = "finding status: no index of its own"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="guild", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Finding",
        tablename="finding",
        column_name="status",
        db_column_name="status",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
