"""Append-only audit events, each hash-chained to the one before it.

``record`` must run inside the caller's write transaction, so an event exists exactly when the
change it describes was committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from guild.canonical import canonical_hash
from guild.db import xact_lock
from guild.tables import AuditEvent

GENESIS = "0" * 64
_AUDIT_LOCK = 0x6775696C64  # "guild": advisory lock key serialising chain appends on PostgreSQL


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    *, seq: int, at: datetime, actor_id: str | None, action: str, entity_type: str, entity_id: str, data: Any,
    prev_hash: str,
) -> str:
    return canonical_hash(
        {
            "seq": seq,
            "at": _utc_text(at),
            "actor_id": actor_id,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "data": data,
            "prev_hash": prev_hash,
        }
    )


async def record(
    actor_id: UUID | str | None, action: str, entity_type: str, entity_id: UUID | str, data: dict[str, Any] | None = None
) -> None:
    await xact_lock(_AUDIT_LOCK)
    last = (
        await AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
        .order_by(AuditEvent.seq, ascending=False)
        .first()
    )
    seq = (last["seq"] + 1) if last else 1
    prev = last["hash"] if last else GENESIS
    at = datetime.now(UTC)
    actor = str(actor_id) if actor_id is not None else None
    payload = data or {}
    digest = event_hash(
        seq=seq, at=at, actor_id=actor, action=action, entity_type=entity_type, entity_id=str(entity_id),
        data=payload, prev_hash=prev,
    )
    await AuditEvent.insert(
        AuditEvent(
            id=uuid4(), seq=seq, at=at, actor_id=actor, action=action, entity_type=entity_type,
            entity_id=str(entity_id), data=payload, prev_hash=prev, hash=digest,
        )
    )


@dataclass(frozen=True)
class ChainReport:
    events: int
    ok: bool
    broken_at_seq: int | None = None
    reason: str = ""


async def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the chain in order and recompute every hash; report the first event that does not fit."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    after = 0
    while True:
        rows = (
            await AuditEvent.select()
            .where(AuditEvent.seq > after)
            .order_by(AuditEvent.seq)
            .limit(batch)
            .output(load_json=True)
        )
        if not rows:
            return ChainReport(events=count, ok=True)
        for row in rows:
            if row["seq"] != expected_seq:
                return ChainReport(count, False, row["seq"], f"sequence gap: expected {expected_seq}")
            if row["prev_hash"] != expected_prev:
                return ChainReport(count, False, row["seq"], "prev_hash does not match the previous event")
            digest = event_hash(
                seq=row["seq"], at=row["at"], actor_id=row["actor_id"], action=row["action"],
                entity_type=row["entity_type"], entity_id=row["entity_id"], data=row["data"],
                prev_hash=row["prev_hash"],
            )
            if digest != row["hash"]:
                return ChainReport(count, False, row["seq"], "content does not match its hash")
            expected_prev, expected_seq, count = row["hash"], expected_seq + 1, count + 1
        after = rows[-1]["seq"]
