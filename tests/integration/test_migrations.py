"""Migrations run forwards from an empty database on this engine, and the server applies them at start."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

from tests.engines import engine_is
from tests.integration.database import DATABASE
from tests.integration.processes import ROOT, guild_env


def _run_migrate(env_overrides: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = guild_env(**env_overrides, GUILD_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run(
        [sys.executable, "-m", "guild", "db", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _table_names_sqlite(path: Path) -> set[str]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


async def _table_names_pg(url: str) -> set[str]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


def _expected_tables() -> set[str]:
    from guild.piccolo_app import APP_CONFIG

    return {t._meta.tablename for t in APP_CONFIG.table_classes}


def test_guild_db_migrate_from_empty_twice(tmp_path):
    if engine_is("sqlite"):
        path = tmp_path / "fresh.sqlite"
        first = _run_migrate({"GUILD_DATABASE_URL": f"sqlite:///{path}"}, tmp_path)
        assert first.returncode == 0, first.stderr
        tables = _table_names_sqlite(path)
        again = _run_migrate({"GUILD_DATABASE_URL": f"sqlite:///{path}"}, tmp_path)
        assert again.returncode == 0, again.stderr
    else:
        name = f"guild_mig_{uuid4().hex[:8]}"
        url = DATABASE.url_of(name)
        asyncio.run(DATABASE.create(name))
        try:
            first = _run_migrate({"GUILD_DATABASE_URL": url}, tmp_path)
            assert first.returncode == 0, first.stderr
            tables = asyncio.run(_table_names_pg(url))
            again = _run_migrate({"GUILD_DATABASE_URL": url}, tmp_path)
            assert again.returncode == 0, again.stderr
        finally:
            asyncio.run(DATABASE.drop(name))
    assert _expected_tables() <= tables
    assert "migration" in tables
