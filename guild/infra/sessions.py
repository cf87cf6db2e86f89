"""Litestar's key/value :class:`~litestar.stores.base.Store` over the ``web_session`` table.

The page sessions live in the database, not in files of one host: every app instance behind a load
balancer honours a session another one started. Expired rows read as absent and are pruned (at an
instance's first write, then every so many writes).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from litestar.stores.base import Store

from guild.infra.db import raw

_PRUNE_EVERY = 200


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def _seconds(expires_in: int | timedelta | None) -> int | None:
    if expires_in is None:
        return None
    return int(expires_in.total_seconds()) if isinstance(expires_in, timedelta) else int(expires_in)


class DatabaseStore(Store):
    """Sessions in ``web_session``; statements run on the caller's transaction, if any."""

    def __init__(self) -> None:
        self._writes = itertools.count(1)

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        seconds = _seconds(expires_in)
        expires_at = None if seconds is None else _now() + seconds
        await raw(
            "INSERT INTO web_session (key, value, expires_at) VALUES ({}, {}, {}) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at",
            key,
            data,
            expires_at,
        )
        if next(self._writes) % _PRUNE_EVERY == 1:  # the first write of a process, then every so many
            await self.delete_expired()

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        now = _now()
        seconds = _seconds(renew_for)
        if seconds is None:
            found = await raw(
                "SELECT value FROM web_session WHERE key = {} AND (expires_at IS NULL OR expires_at > {})", key, now
            )
        else:  # renewed only if it was set to expire at all
            found = await raw(
                "UPDATE web_session SET expires_at = CASE WHEN expires_at IS NULL THEN NULL ELSE CAST({} AS BIGINT) END "
                "WHERE key = {} AND (expires_at IS NULL OR expires_at > {}) RETURNING value",
                now + seconds,
                key,
                now,
            )
        return bytes(found[0]["value"]) if found else None

    async def delete(self, key: str) -> None:
        await raw("DELETE FROM web_session WHERE key = {}", key)

    async def delete_all(self) -> None:
        await raw("DELETE FROM web_session")

    async def delete_expired(self) -> None:
        await raw("DELETE FROM web_session WHERE expires_at <= {}", _now())

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        found = await raw("SELECT expires_at FROM web_session WHERE key = {} AND expires_at > {}", key, _now())
        return int(found[0]["expires_at"]) - _now() if found else None
