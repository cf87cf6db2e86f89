"""Attempt limits (sign-in throttling): fixed-window counters in the database.

One mechanism for every limit that guards an expensive or guessable operation (sign-in now;
invitation and password-reset requests reuse it). Counters live in ``rate_limit_counter`` so that
several app instances on one PostgreSQL share them; an upsert makes each hit atomic. Subjects are
hashed before they are stored.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from guild.domain.errors import TooManyRequests
from guild.infra.db import raw

_PRUNE_EVERY = 200
_calls = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``max_hits`` per ``window_seconds`` for one subject of limit ``name``."""

    name: str
    max_hits: int
    window_seconds: int
    detail: str

    def key(self, subject: str) -> str:
        return hashlib.sha256(f"{self.name}\x00{subject}".encode()).hexdigest()


def _now(now: datetime | None) -> int:
    return int((now or datetime.now(UTC)).timestamp())


def _refusal(limit: Limit, window_start: int, now: int) -> TooManyRequests:
    retry_after = max(1, window_start + limit.window_seconds - now)
    return TooManyRequests(limit.detail, retry_after=retry_after)


async def hit(limit: Limit, subject: str, now: datetime | None = None) -> None:
    """Count one attempt; raise :class:`TooManyRequests` once the window holds more than allowed.

    Runs on the caller's transaction, if any (make it a write transaction).
    """
    at = _now(now)
    cutoff = at - limit.window_seconds
    rows = await raw(
        "INSERT INTO rate_limit_counter (key, window_start, hits) VALUES ({}, {}, 1) "
        "ON CONFLICT (key) DO UPDATE SET "
        "hits = CASE WHEN rate_limit_counter.window_start <= {} THEN 1 ELSE rate_limit_counter.hits + 1 END, "
        "window_start = CASE WHEN rate_limit_counter.window_start <= {} THEN {} "
        "ELSE rate_limit_counter.window_start END "
        "RETURNING hits, window_start",
        limit.key(subject),
        at,
        cutoff,
        cutoff,
        at,
    )
    if next(_calls) % _PRUNE_EVERY == 0:
        await raw("DELETE FROM rate_limit_counter WHERE window_start < {}", at - 86400)
    hits, window_start = rows[0]["hits"], rows[0]["window_start"]
    if hits > limit.max_hits:
        raise _refusal(limit, window_start, at)


async def reset(limit: Limit, subject: str) -> None:
    await raw("DELETE FROM rate_limit_counter WHERE key = {}", limit.key(subject))
