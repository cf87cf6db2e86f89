"""Compliance inputs triggers: every write to a production's compliance inputs marks the production changed.

Incremental sweeps re-evaluate only the productions whose ``inputs_rev`` moved past their ``evaluated_rev``
(plus those whose ``next_check_at`` has come). The mark is made by the database, in the transaction of the
write, whoever writes (services, imports, raw SQL, COPY): engagements (the roster, mentors), asset
disclosures, contracts (issued, voided, superseded), bindings, commitments, and the production's own budget,
currency and company.

PostgreSQL: statement-level triggers with transition tables (one UPDATE of the production rows however many
rows a statement writes: bulk imports stay bulk) and a row-level BEFORE UPDATE trigger on the production's
own columns. SQLite: row-level triggers. A production already marked (``inputs_rev <> evaluated_rev``) is
not written again: the mark says "changed since the last evaluation", and a bulk import of 5,000 rows
then writes its production once, not 5,000 times. (Under the sweep's lock on the production row a
writer's mark waits for the batch to commit and is then made on the evaluated row.)
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T17:29:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "compliance inputs triggers"

TABLES = ("engagement", "asset_disclosure", "contract", "production_binding", "commitment")
OWN = ("budget_minor", "currency", "company")
INDEX = "CREATE INDEX production_unevaluated ON production (id) WHERE inputs_rev <> evaluated_rev"


class _Raw(Table):
    pass


def _postgres() -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in OWN)
    sql = [
        """CREATE FUNCTION guild_inputs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE production SET inputs_rev = inputs_rev + 1
    WHERE id IN (SELECT DISTINCT production FROM changed_rows) AND inputs_rev = evaluated_rev;
    RETURN NULL;
END $$""",
        """CREATE FUNCTION guild_inputs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE production SET inputs_rev = inputs_rev + 1
    WHERE id IN (SELECT production FROM changed_rows UNION SELECT production FROM old_rows)
        AND inputs_rev = evaluated_rev;
    RETURN NULL;
END $$""",
        f"""CREATE FUNCTION guild_production_inputs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {changed} THEN
        NEW.inputs_rev := OLD.inputs_rev + 1;
    END IF;
    RETURN NEW;
END $$""",
        f"CREATE TRIGGER production_inputs_changed BEFORE UPDATE OF {', '.join(OWN)} ON production "
        "FOR EACH ROW EXECUTE FUNCTION guild_production_inputs_changed()",
    ]
    for t in TABLES:
        sql += [
            f"CREATE TRIGGER {t}_inputs_inserted AFTER INSERT ON {t} REFERENCING NEW TABLE AS changed_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION guild_inputs_changed()",
            f"CREATE TRIGGER {t}_inputs_deleted AFTER DELETE ON {t} REFERENCING OLD TABLE AS changed_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION guild_inputs_changed()",
            f"CREATE TRIGGER {t}_inputs_updated AFTER UPDATE ON {t} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS changed_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION guild_inputs_updated()",
        ]
    return sql


def _sqlite() -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in OWN)
    sql = [
        f"CREATE TRIGGER production_inputs_changed AFTER UPDATE OF {', '.join(OWN)} ON production "
        f"WHEN {changed} BEGIN UPDATE production SET inputs_rev = inputs_rev + 1 WHERE id = NEW.id; END"
    ]
    for t in TABLES:
        sql += [
            f"CREATE TRIGGER {t}_inputs_inserted AFTER INSERT ON {t} "
            "BEGIN UPDATE production SET inputs_rev = inputs_rev + 1 "
            "WHERE id = NEW.production AND inputs_rev = evaluated_rev; END",
            f"CREATE TRIGGER {t}_inputs_deleted AFTER DELETE ON {t} "
            "BEGIN UPDATE production SET inputs_rev = inputs_rev + 1 "
            "WHERE id = OLD.production AND inputs_rev = evaluated_rev; END",
            f"CREATE TRIGGER {t}_inputs_updated AFTER UPDATE ON {t} "
            "BEGIN UPDATE production SET inputs_rev = inputs_rev + 1 "
            "WHERE id IN (OLD.production, NEW.production) AND inputs_rev = evaluated_rev; END",
        ]
    return sql


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="guild", description=DESCRIPTION)

    async def create() -> None:
        postgres = _Raw._meta.db.engine_type == "postgres"
        for statement in [INDEX, *(_postgres() if postgres else _sqlite())]:
            await _Raw.raw(statement)

    async def drop() -> None:
        postgres = _Raw._meta.db.engine_type == "postgres"
        for t in TABLES:
            for kind in ("inserted", "deleted", "updated"):
                await _Raw.raw(f"DROP TRIGGER {t}_inputs_{kind}" + (f" ON {t}" if postgres else ""))
        await _Raw.raw("DROP TRIGGER production_inputs_changed" + (" ON production" if postgres else ""))
        if postgres:
            for f in ("guild_inputs_changed", "guild_inputs_updated", "guild_production_inputs_changed"):
                await _Raw.raw(f"DROP FUNCTION {f}()")
        await _Raw.raw("DROP INDEX production_unevaluated")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
