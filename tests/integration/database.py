"""The integration tests' database on the engine under test (tests/engines.py): where it is, how the session
makes and drops it, how each test gets a clean one, and which one a test works on.

SQLite: a template file in a temporary folder, migrated once; each test works on its own copy.
PostgreSQL: a database of its own on the server at ``GUILD_TEST_PG_URL`` (default
postgresql://postgres@127.0.0.1:5432/postgres), named ``<GUILD_TEST_PG_DB_PREFIX>_<pid>_<random>``
(prefix default ``guild_test``), migrated once and dropped at the end; each test starts from empty tables.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import asyncpg
from piccolo.engine.sqlite import SQLiteEngine

from guild.infra.db import engine, raw
from tests.engines import ENGINE


class SQLiteDatabase:
    def __init__(self) -> None:
        self.template = Path(tempfile.mkdtemp(prefix="guild-test-sqlite-")) / "template.sqlite"
        self.url = f"sqlite:///{self.template}"

    async def create(self) -> None:
        """Nothing to do: migrating the template creates the file."""

    async def drop(self) -> None:
        shutil.rmtree(self.template.parent, ignore_errors=True)

    @contextlib.asynccontextmanager
    async def clean(self, folder: Path) -> AsyncIterator[None]:
        """A fresh copy of the migrated template in ``folder`` for one test."""
        db = self._engine()
        path = folder / "guild.sqlite"
        shutil.copy(self.template, path)
        original, db.path = db.path, str(path)
        try:
            yield
        finally:
            db.path = original

    def current_url(self) -> str:
        return f"sqlite:///{self._engine().path}"

    @staticmethod
    def _engine() -> SQLiteEngine:
        db = engine()
        assert isinstance(db, SQLiteEngine), db
        return db


class PostgresDatabase:
    def __init__(self) -> None:
        self.admin_url = os.environ.get("GUILD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        self.name = f"{os.environ.get('GUILD_TEST_PG_DB_PREFIX', 'guild_test')}_{os.getpid()}_{uuid4().hex[:6]}"
        self.url = self.url_of(self.name)

    def url_of(self, name: str) -> str:
        """The URL of database ``name`` on the same server."""
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self, name: str | None = None) -> None:
        await self._admin(f'CREATE DATABASE "{name or self.name}"')

    async def drop(self, name: str | None = None) -> None:
        name = name or self.name
        await self._admin(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
            "AND pid <> pg_backend_pid()"
        )
        await self._admin(f'DROP DATABASE IF EXISTS "{name}"')

    @contextlib.asynccontextmanager
    async def clean(self, folder: Path) -> AsyncIterator[None]:
        """Every table emptied before the test (``folder`` is for SQLite's copy)."""
        from guild.piccolo_app import APP_CONFIG

        names = ", ".join(f'"{t._meta.tablename}"' for t in APP_CONFIG.table_classes)
        await raw(f"TRUNCATE {names} CASCADE")
        yield

    def current_url(self) -> str:
        return self.url


DATABASE: SQLiteDatabase | PostgresDatabase = SQLiteDatabase() if ENGINE == "sqlite" else PostgresDatabase()
"""The session's database on the engine under test."""
