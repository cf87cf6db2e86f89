"""The embedded engine: Piccolo's SQLite engine with read connections kept for the process.

Piccolo's engine opens a connection (a thread, its pragmas, the schema parsed anew) for every
transaction and for every query outside one; a read that takes microseconds in SQLite then costs
milliseconds. Here reads go through connections the process keeps:

- a query outside any transaction that only reads (Piccolo's ``select`` queries, :func:`read_snapshot`
  statements) runs on a kept connection of the calling thread, in its own implicit transaction;
- :meth:`KeptSQLiteEngine.read_snapshot` (``guild.infra.db.read_tx``) lends a kept connection to one
  unit of work for a deferred transaction: one consistent snapshot for all its statements (WAL readers
  never wait for the writer), whatever else runs on the event loop between them.

They run on the event loop's thread: an indexed read in SQLite is a few microseconds of C, far
cheaper than the hop to a worker thread and back. The kept connections are ``query_only``: a write
that strays into a read path fails loudly instead of taking the write lock on the loop. Writes and
write transactions keep Piccolo's path (``guild.infra.db.write_tx``: its own connection, IMMEDIATE).
"""

from __future__ import annotations

import contextvars
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine, dict_factory
from piccolo.querystring import QueryString

_KEPT_MAX = 32
"""Idle snapshot connections kept; more may be open while that many units of work overlap."""


class _Snapshot:
    """A unit of reads: the kept connection it reads on, once it reads."""

    __slots__ = ("conn",)

    def __init__(self) -> None:
        self.conn: sqlite3.Connection | None = None


class KeptSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine; reads on connections kept for the process (see the module)."""

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._snapshot: contextvars.ContextVar[_Snapshot | None] = contextvars.ContextVar(
            f"sqlite_snapshot_{path}", default=None
        )
        self._idle: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._owner = (os.getpid(), path)

    # --- kept connections ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        kwargs = {**self.connection_kwargs, "check_same_thread": False}
        conn: sqlite3.Connection = sqlite3.connect(**kwargs)
        conn.row_factory = dict_factory
        conn.execute("PRAGMA foreign_keys = 1")
        conn.execute("PRAGMA query_only = 1")
        return conn

    def _current(self) -> None:
        """Forget kept connections of another file (the path was changed) or of the parent process."""
        owner = (os.getpid(), self.path)
        if owner != self._owner:
            self.close_kept()
            self._owner = owner

    def close_kept(self) -> None:
        """Close the idle kept connections (the engine's file changes, or the process stops)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        for name in ("reader", "plain"):
            kept: sqlite3.Connection | None = getattr(self._local, name, None)
            setattr(self._local, name, None)
            if kept is not None:
                kept.close()

    def _autocommit_reader(self) -> sqlite3.Connection:
        self._current()
        reader: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = self._connect()
        return reader

    def _plain_reader(self) -> sqlite3.Connection:
        """The calling thread's kept connection without Piccolo's converters: values as stored."""
        self._current()
        conn: sqlite3.Connection | None = getattr(self._local, "plain", None)
        if conn is None:
            conn = sqlite3.connect(**{**self.connection_kwargs, "detect_types": 0, "check_same_thread": False})
            conn.execute("PRAGMA query_only = 1")
            self._local.plain = conn
        return conn

    @asynccontextmanager
    async def read_snapshot(self) -> AsyncIterator[None]:
        """One consistent snapshot for the reads inside (nested: the outer one, or the outer write
        transaction, serves)."""
        if self._snapshot.get() is not None or self.current_transaction.get() is not None:
            yield
            return
        self._current()
        snapshot = _Snapshot()
        token = self._snapshot.set(snapshot)
        try:
            yield
        finally:
            self._snapshot.reset(token)
            conn = snapshot.conn
            if conn is not None:
                conn.execute("COMMIT")  # nothing to keep: a read-only transaction ends
                if len(self._idle) < _KEPT_MAX and self._owner == (os.getpid(), self.path):
                    self._idle.append(conn)
                else:
                    conn.close()

    def _snapshot_connection(self, snapshot: _Snapshot) -> sqlite3.Connection:
        """The unit's connection, its transaction begun at its first statement (a unit that reads
        nothing here costs nothing)."""
        if snapshot.conn is None:
            conn = self._idle.pop() if self._idle else self._connect()
            conn.execute("BEGIN")
            snapshot.conn = conn
        return snapshot.conn

    # --- running queries -----------------------------------------------------------------------------

    def _reader(self, select: bool) -> sqlite3.Connection | None:
        """The kept connection a query runs on, or None for Piccolo's own path (in a write transaction,
        or a write outside any)."""
        if self.current_transaction.get() is not None:
            return None
        snapshot = self._snapshot.get()
        if snapshot is not None:
            return self._snapshot_connection(snapshot)
        return self._autocommit_reader() if select else None

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        """Piccolo's entry point for every query."""
        conn = self._reader(querystring.query_type == "select")
        if conn is None:
            return await super().run_querystring(querystring, in_pool)
        sql, args = querystring.compile_string(engine_type=self.engine_type)
        if self.log_queries:
            self.print_query(query_id=self.get_query_id(), query=str(querystring))
        return conn.execute(sql, args).fetchall()

    async def run_plain(self, sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        """A compiled SELECT whose values go straight into a response model (pydantic parses the stored
        text in one call): no per-value converter. In its own statement, outside the unit's snapshot;
        inside a write transaction on its connection, converted (the model takes either)."""
        if self.current_transaction.get() is not None:
            return await self.run_compiled(sql, args)
        cursor = self._plain_reader().execute(sql, args)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    async def run_compiled(self, sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        """A compiled SELECT (``guild.infra.db.Prepared``) on the connection it belongs on."""
        conn = self._reader(True)
        if conn is not None:
            return conn.execute(sql, args).fetchall()
        tx = self.current_transaction.get()
        assert tx is not None
        async with tx.connection.execute(sql, args) as cursor:
            return list(await cursor.fetchall())
