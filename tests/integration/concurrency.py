"""Race tests: N requests or service calls started at once, each on its own connection and transaction.

The application runs in this event loop (httpx's ASGI transport), so ``asyncio.gather`` interleaves the
requests at every database round trip. On PostgreSQL every transaction holds its own pooled
connection; on SQLite writers take turns (IMMEDIATE transactions), which the same assertions hold for.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import Any

from tests.engines import engine_is


async def _open_connections(n: int) -> None:
    """Grow the PostgreSQL pool to ``n`` open connections first: a pool that opens them on demand lets the
    first caller finish before the others are connected, and the race never happens."""
    from guild.infra.db import engine, raw

    if engine_is("postgres") and engine().pool is not None:
        await asyncio.gather(*(raw("SELECT pg_sleep(0.05)") for _ in range(n)))


async def together(calls: list[Awaitable[Any]]) -> list[Any]:
    """Run every call concurrently; results in the calls' order."""
    await _open_connections(len(calls))
    return await asyncio.gather(*calls)


def statuses(responses: list[Any]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


async def audit_events(action: str) -> list[dict[str, Any]]:
    from guild.infra.tables import AuditEvent

    return (
        await AuditEvent.select(AuditEvent.entity_id, AuditEvent.data)
        .where(AuditEvent.action == action)
        .order_by(AuditEvent.seq)
        .output(load_json=True)
    )
