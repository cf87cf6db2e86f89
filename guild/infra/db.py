"""Engine construction, start-up, transactions and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeAlias, cast

import asyncpg
import structlog
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.columns import Column, ForeignKey
from piccolo.engine.base import BaseTransaction, Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

from guild.infra.settings import Settings
from guild.infra.sqlite import KeptSQLiteEngine

_log = structlog.get_logger("guild.db")

Row: TypeAlias = dict[str, Any]
"""A row of a raw query or a Piccolo ``select``: column name to value (Piccolo types results as Any)."""

Transaction: TypeAlias = AbstractAsyncContextManager[BaseTransaction, None]
"""A Piccolo transaction, for ``async with``. Piccolo annotates its ``__aexit__`` as returning ``bool``,
yet it never suppresses an exception (it returns ``exception is None``); with ``bool`` mypy would take
every ``async with`` block that returns for one that may fall through ("missing return")."""


def make_engine(settings: Settings) -> PostgresEngine | KeptSQLiteEngine:
    if settings.is_postgres:
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # timeout = SQLite busy timeout in seconds: writers wait for the lock instead of failing.
    return KeptSQLiteEngine(path=str(path), timeout=30)


_ENGINE: list[Engine[BaseTransaction]] = []


def engine() -> Engine[BaseTransaction]:
    """The engine of ``PICCOLO_CONF`` (looked up once: Piccolo's finder imports the module each call)."""
    if not _ENGINE:
        db = engine_finder()
        assert db is not None, "PICCOLO_CONF did not provide an engine"
        _ENGINE.append(db)
    return _ENGINE[0]


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


def write_tx() -> Transaction:
    """A transaction for work that writes. SQLite: IMMEDIATE, so the write lock is taken up front."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        return cast(Transaction, db.transaction(transaction_type=TransactionType.immediate))
    if isinstance(db.current_transaction.get(), _HeldConnection):
        raise RuntimeError("a write transaction cannot start inside read_tx()")
    return cast(Transaction, db.transaction())


def read_tx() -> AbstractAsyncContextManager[Any]:
    """The unit of work of a read: its statements on one connection.

    SQLite: a kept connection's deferred transaction, one snapshot for all statements
    (:mod:`guild.infra.sqlite`). PostgreSQL: one pooled connection held for the statements, without
    BEGIN/COMMIT: at READ COMMITTED every statement takes its own snapshot inside a transaction too, so
    a transaction would only add two round trips.
    """
    db = engine()
    if isinstance(db, KeptSQLiteEngine):
        return db.read_snapshot()
    return _held_connection(cast(PostgresEngine, db))


class _HeldConnection:
    """Stands as the current transaction of a PostgreSQL read: Piccolo runs queries on ``connection``."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection


@asynccontextmanager
async def _held_connection(db: PostgresEngine) -> AsyncIterator[None]:
    if db.current_transaction.get() is not None:
        yield
        return
    if db.pool is None:  # no pool (a CLI command): a transaction holds the one connection
        async with db.transaction():
            yield
        return
    async with db.pool.acquire() as conn:
        token = db.current_transaction.set(cast(PostgresTransaction, _HeldConnection(conn)))
        try:
            yield
        finally:
            db.current_transaction.reset(token)


async def xact_lock(key: int) -> None:
    """Serialise writers on ``key`` until the transaction ends (PostgreSQL advisory lock).

    On SQLite an IMMEDIATE transaction already holds the single write lock.
    """
    db = engine()
    if isinstance(db, PostgresEngine):
        await raw("SELECT pg_advisory_xact_lock({})", key)


def for_update(query: Any, *of: type[Table]) -> Any:
    """A Piccolo SELECT that row-locks what it reads (the rows of ``of``) until the transaction ends.

    PostgreSQL: ``FOR NO KEY UPDATE`` -- a second locker of the same row waits for the first to commit
    and then reads the committed state; inserts of rows referencing it (foreign keys) do not wait.
    SQLite: unchanged, the IMMEDIATE write transaction (``write_tx``) already holds the only write lock.
    Lock the parent row before a check-then-act (count, exists, read status) so it has one winner.
    """
    if isinstance(engine(), PostgresEngine):
        return query.lock_rows("NO KEY UPDATE", of=of)
    return query


async def present(query: Any) -> Row:
    """The first row of a query whose row must exist (e.g. one just written, or re-read under its lock);
    its absence is a broken invariant, not an answer."""
    row: Row | None = await query.first()
    if row is None:
        raise LookupError(f"expected a row from {query}")
    return row


async def raw(sql: str, *args: Any) -> list[Row]:
    """Run SQL with ``{}`` placeholders on the current transaction's connection, if any."""
    return cast(list[Row], await engine().run_querystring(QueryString(sql, *args)))


async def rows(query: Any) -> list[Sequence[Any]]:
    """A Piccolo SELECT's (or a ``QueryString``'s) rows as positional records, in the order the columns
    were selected. Every selected column needs a distinct name (SQLite rows arrive as dicts).

    For the big set-based reads of the compliance sweep: the driver converts the values (asyncpg's
    codecs; SQLite's declared-type converters) and no dict is built per row. Runs on the current
    transaction's connection, if any.
    """
    db = engine()
    (querystring,) = [query] if isinstance(query, QueryString) else query.querystrings
    if isinstance(db, PostgresEngine):
        sql, args = querystring.compile_string(engine_type=db.engine_type)
        return await _pg_fetch(db, sql, args)
    return [tuple(row.values()) for row in await db.run_querystring(querystring)]


async def _fetch(conn: asyncpg.Connection, sql: str, args: Sequence[Any]) -> list[Sequence[Any]]:
    """asyncpg's ``fetch`` (asyncpg ships no type hints): its ``Record`` rows are sequences."""
    return cast(list[Sequence[Any]], await conn.fetch(sql, *args))


class Param:
    """A named parameter of a :class:`Prepared` query, in place of a value."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Param({self.name!r})"


class Prepared:
    """A Piccolo SELECT built and compiled once per engine, then run with new values for its parameters.

    Building a Piccolo query (columns copied, joins resolved, SQL assembled) costs more Python than an
    indexed read costs either database; the read paths every request takes build theirs once.
    ``build`` returns the SELECT with :class:`Param` objects where values go; parameters stand for
    single values (``==``, ``<``, ...; not ``is_in``) and arrive as the driver takes them. The results
    are Piccolo's (its own post-processing: ``first()``, JSON columns, aliases).
    """

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._compiled: dict[str, tuple[Any, str, list[Any]]] = {}

    def _compiled_for(self, engine_type: str) -> tuple[Any, str, list[Any]]:
        compiled = self._compiled.get(engine_type)
        if compiled is None:
            query = self._build()
            (querystring,) = query.querystrings
            sql, args = querystring.compile_string(engine_type=engine_type)
            compiled = self._compiled[engine_type] = (query, sql, args)
        return compiled

    async def rows(self, **values: Any) -> list[Row]:
        db = engine()
        query, sql, template = self._compiled_for(db.engine_type)
        args = [values[a.name] if isinstance(a, Param) else a for a in template]
        if isinstance(db, KeptSQLiteEngine):
            results = await db.run_compiled(sql, args)
        else:
            results = await _pg_fetch(cast(PostgresEngine, db), sql, args)
        return cast(list[Row], await query._process_results(results))

    async def plain(self, **values: Any) -> list[Row]:
        """The rows with values as the driver gives them, for a response model to parse in one call:
        SQLite's stored text and numbers (no per-value converter: UUIDs, dates and times stay ISO
        text), asyncpg's decoded values. No Piccolo post-processing (JSON columns stay text)."""
        db = engine()
        _, sql, template = self._compiled_for(db.engine_type)
        args = [values[a.name] if isinstance(a, Param) else a for a in template]
        if isinstance(db, KeptSQLiteEngine):
            return await db.run_plain(sql, args)
        return [dict(r.items()) for r in await _pg_fetch(cast(PostgresEngine, db), sql, args)]

    async def first(self, **values: Any) -> Row | None:
        """The first row (build the query with ``.limit(1)`` when more could match)."""
        found = await self.rows(**values)
        return found[0] if found else None


async def _pg_fetch(db: PostgresEngine, sql: str, args: Sequence[Any]) -> list[Any]:
    tx = db.current_transaction.get()
    if tx is not None:
        return await _fetch(tx.connection, sql, args)
    if db.pool is not None:
        async with db.pool.acquire() as conn:
            return await _fetch(conn, sql, args)
    conn = await db.get_new_connection()
    try:
        return await _fetch(conn, sql, args)
    finally:
        await conn.close()


def in_list(expression: str, values: Sequence[Any]) -> QueryString:
    """``expression IN (values)`` as a ``QueryString`` fragment: one array parameter on PostgreSQL
    (``= ANY``: one plan whatever the count), one placeholder per value on SQLite."""
    if isinstance(engine(), PostgresEngine):
        return QueryString(f"{expression} = ANY({{}})", list(values))
    if not values:
        return QueryString("1 = 0")
    return QueryString(f"{expression} IN ({', '.join('{}' for _ in values)})", *values)


async def insert_many(table: type[Table], columns: Sequence[Column], values: Sequence[Sequence[Any]]) -> None:
    """INSERT many rows with one prepared statement (the driver's ``executemany``), inside the caller's
    transaction. ``values`` are plain Python values in ``columns`` order; JSON columns take JSON text."""
    if not values:
        return
    db = engine()
    tx = db.current_transaction.get()
    if not isinstance(tx, PostgresTransaction | SQLiteTransaction):  # None: no transaction
        raise RuntimeError("insert_many runs inside the caller's transaction")
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    if isinstance(db, PostgresEngine):
        marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    else:
        marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({marks})'
    await tx.connection.executemany(sql, values if isinstance(db, PostgresEngine) else _sqlite_adapted(values))


def _sqlite_adapted(values: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """``values`` with UUIDs, dates and datetimes already in the text the registered sqlite3 adapters
    (Piccolo's) make of them, column by column: the same stored text, but each distinct date converted
    once instead of sqlite3 calling back into Python for every value (half of a bulk insert's time)."""
    columns: list[Sequence[Any]] = list(zip(*values, strict=True))
    for i, column in enumerate(columns):
        sample = next((v for v in column if v is not None), None)
        kind = type(sample)
        adapter = sqlite3.adapters.get((kind, sqlite3.PrepareProtocol))
        if adapter is None:
            continue
        if kind is uuid.UUID:  # keys: distinct, nothing to share
            columns[i] = [adapter(v) if type(v) is kind else v for v in column]
            continue
        seen: dict[Any, Any] = {}
        columns[i] = [
            (seen[v] if v in seen else seen.setdefault(v, adapter(v))) if type(v) is kind else v for v in column
        ]
    return list(zip(*columns, strict=True))


def uuid4s(n: int) -> list[uuid.UUID]:
    """``n`` random (version 4) UUIDs from one read of the system's random source: the keys of a bulk write."""
    raw = os.urandom(16 * n)
    return [uuid.UUID(bytes=raw[i : i + 16], version=4) for i in range(0, 16 * n, 16)]


async def copy_many(table: type[Table], columns: Sequence[Column], values: Sequence[Sequence[Any]]) -> None:
    """Bulk INSERT inside the caller's transaction: PostgreSQL's COPY (binary, through asyncpg), SQLite's
    ``executemany``. ``values`` are plain Python values in ``columns`` order. Foreign keys are checked at
    the end of the statement on PostgreSQL and per row on SQLite: rows that point at each other are
    written first without the link (see :func:`update_many`)."""
    if not values:
        return
    db = engine()
    tx = db.current_transaction.get()
    if isinstance(db, PostgresEngine) and isinstance(tx, PostgresTransaction):
        await tx.connection.copy_records_to_table(
            table._meta.tablename, records=values, columns=[c._meta.db_column_name for c in columns]
        )
        return
    await insert_many(table, columns, values)


async def update_many(table: type[Table], column: Column, key: Column, pairs: Sequence[tuple[Any, Any]]) -> None:
    """``UPDATE table SET column = value WHERE key = k`` for many ``(k, value)`` pairs in one round trip,
    inside the caller's transaction (PostgreSQL: one statement over two arrays; SQLite: ``executemany``)."""
    if not pairs:
        return
    db = engine()
    tx = db.current_transaction.get()
    if not isinstance(tx, PostgresTransaction | SQLiteTransaction):
        raise RuntimeError("update_many runs inside the caller's transaction")
    name, target, where = table._meta.tablename, column._meta.db_column_name, key._meta.db_column_name
    if isinstance(db, PostgresEngine):
        key_type, value_type = _pg_type(key), _pg_type(column)
        await tx.connection.execute(
            f'UPDATE "{name}" AS t SET "{target}" = v.value FROM unnest($1::{key_type}[], $2::{value_type}[]) '
            f'AS v(key, value) WHERE t."{where}" = v.key',
            [k for k, _ in pairs],
            [v for _, v in pairs],
        )
        return
    await tx.connection.executemany(
        f'UPDATE "{name}" SET "{target}" = ? WHERE "{where}" = ?', [(v, k) for k, v in pairs]
    )


def _pg_type(column: Column) -> str:
    """The PostgreSQL type of a column, for array casts (a foreign key has its target's key type)."""
    if isinstance(column, ForeignKey):
        column = column._foreign_key_meta.resolved_references._meta.primary_key
    return str(column.column_type)


async def _released(connection: asyncpg.Connection) -> None:
    """What a pooled connection needs when it goes back: nothing more than asyncpg's own step (it rolls
    back a transaction left open). guild sets no session state (no ``SET``, ``LISTEN`` or session-level
    advisory locks: its locks end with their transaction), so the default ``RESET ALL; UNLISTEN *; ...``
    would cost every unit of work a round trip for nothing."""


async def startup(settings: Settings) -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=settings.pg_pool_max, reset=_released)
        await raw("SELECT 1")  # fail start-up loudly when the database is unreachable
    else:
        await _ensure_wal()
    if settings.should_migrate_on_start:
        await migrate()


async def _ensure_wal(attempts: int = 50) -> None:
    """WAL lets readers proceed while one writer commits; it persists in the file.

    Switching needs the file to itself, which the busy timeout does not wait for: several processes
    starting at once on a new file retry briefly, and nobody switches a file that is already WAL.
    """

    for attempt in range(attempts):
        try:
            mode = await raw("PRAGMA journal_mode")
            if mode and str(next(iter(mode[0].values()))).lower() == "wal":
                return
            await raw("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            await asyncio.sleep(0.1)


async def shutdown() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()
    elif isinstance(db, KeptSQLiteEngine):
        db.close_kept()


async def migrate() -> None:
    """Apply every pending migration (``piccolo migrations forwards all``)."""

    # Piccolo prints its progress (a banner, a line per migration): kept out of stdout, where a server writes
    # only JSON log lines, and logged as one structured line instead.
    printed = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    with contextlib.redirect_stdout(printed):
        result = await run_forwards(app_name="all", migration_id="all", fake=False)
    printed.seek(0)
    lines = [line.strip() for line in printed.read().splitlines() if line.strip() and set(line.strip()) != {"-"}]
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}; {' / '.join(lines[-5:])}")
    applied = [line.removeprefix("- ").split(" ")[0] for line in lines if line.startswith("- ")]
    if applied:
        _log.info("database.migrated", applied=applied)


def is_unique_violation(exc: BaseException) -> bool:
    """A unique index refused the write (asyncpg or sqlite3)."""

    if isinstance(exc, asyncpg.exceptions.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)
