from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-11-29T15:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "status choices"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="guild", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Commitment",
        tablename="commitment",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "CommitmentStatus",
                {"open": "open", "done": "done", "withdrawn": "withdrawn"},
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="CompactVersion",
        tablename="compact_version",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "VersionStatus",
                {
                    "draft": "draft",
                    "proposed": "proposed",
                    "ratified": "ratified",
                    "superseded": "superseded",
                    "rejected": "rejected",
                    "withdrawn": "withdrawn",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="ComplianceRun",
        tablename="compliance_run",
        column_name="trigger",
        db_column_name="trigger",
        params={
            "choices": Enum(
                "RunTrigger", {"scheduled": "scheduled", "on_demand": "on_demand"}
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="ComplianceRun",
        tablename="compliance_run",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "RunStatus",
                {
                    "running": "running",
                    "completed": "completed",
                    "failed": "failed",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Contract",
        tablename="contract",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "ContractStatus",
                {"issued": "issued", "void": "void", "superseded": "superseded"},
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Finding",
        tablename="finding",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "FindingStatus", {"open": "open", "resolved": "resolved"}
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Production",
        tablename="production",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "ProductionStatus",
                {
                    "development": "development",
                    "pre_production": "pre_production",
                    "shooting": "shooting",
                    "post_production": "post_production",
                    "released": "released",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="RatificationDecision",
        tablename="ratification_decision",
        column_name="decision",
        db_column_name="decision",
        params={
            "choices": Enum(
                "Decision", {"approved": "approved", "rejected": "rejected"}
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="WebhookDelivery",
        tablename="webhook_delivery",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "DeliveryStatus",
                {
                    "pending": "pending",
                    "delivered": "delivered",
                    "failed": "failed",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
