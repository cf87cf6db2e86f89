"""Test set-up shared by every test: which engine, a migrated database per session, a clean one per test.

GUILD_TEST_ENGINE=sqlite (default) or postgres. PostgreSQL tests make their own database
(guild_test_<pid>_<rand>) on GUILD_TEST_PG_URL and drop it at the end.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from uuid import uuid4

ENGINE = os.environ.get("GUILD_TEST_ENGINE", "sqlite")
PG_ADMIN_URL = os.environ.get("GUILD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TMP = Path(tempfile.mkdtemp(prefix="guild-test-"))
PG_DBNAME = f"guild_test_{os.getpid()}_{uuid4().hex[:6]}"

# Before anything imports guild.piccolo_conf (which builds the engine from these).
if ENGINE == "postgres":
    os.environ["GUILD_DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DBNAME
elif ENGINE == "sqlite":
    os.environ["GUILD_DATABASE_URL"] = f"sqlite:///{TMP / 'template.sqlite'}"
else:
    raise RuntimeError(f"GUILD_TEST_ENGINE must be sqlite or postgres, not {ENGINE!r}")
os.environ["GUILD_DATA_DIR"] = str(TMP / "data")
os.environ["GUILD_SCHEDULER_ENABLED"] = "false"
os.environ["GUILD_MIGRATE_ON_START"] = "false"
os.environ["GUILD_PDF_WORKERS"] = "1"
os.environ["GUILD_WEBHOOK_PRIVATE_TARGETS"] = "true"  # the tests' receivers listen on 127.0.0.1
os.environ.pop("GUILD_SECRET_KEY", None)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pytest_report_header(config):
    return f"guild test engine: {ENGINE} ({os.environ['GUILD_DATABASE_URL']})"


def pytest_sessionstart(session):
    from guild.infra import db

    if ENGINE == "postgres":
        asyncio.run(_pg_admin(f'CREATE DATABASE "{PG_DBNAME}"'))
    asyncio.run(db.migrate())


def pytest_sessionfinish(session, exitstatus):
    if ENGINE == "postgres":
        asyncio.run(
            _pg_admin(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{PG_DBNAME}' "
                "AND pid <> pg_backend_pid()"
            )
        )
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{PG_DBNAME}"'))
