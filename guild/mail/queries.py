"""Read models of the outbox: what was queued, for whom, and how its delivery went (never the body text,
which may hold single-use links)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from guild.infra.tables import MailMessage

MAX_LIST = 1000


@dataclass(frozen=True)
class MailRead:
    id: UUID
    kind: str
    to: str
    subject: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


_COLUMNS = (
    MailMessage.id,
    MailMessage.kind,
    MailMessage.to_address,
    MailMessage.subject,
    MailMessage.status,
    MailMessage.attempts,
    MailMessage.last_error,
    MailMessage.created_at,
    MailMessage.next_attempt_at,
    MailMessage.sent_at,
)


def _read(r: dict[str, Any]) -> MailRead:
    return MailRead(
        id=r["id"],
        kind=r["kind"],
        to=r["to_address"],
        subject=r["subject"],
        status=r["status"],
        attempts=r["attempts"],
        last_error=r["last_error"],
        created_at=r["created_at"],
        next_attempt_at=r["next_attempt_at"],
        sent_at=r["sent_at"],
    )


async def list_messages(status: str | None = None, limit: int = 50) -> list[MailRead]:
    """The newest ``limit`` messages (at most 1000), newest first; only those in ``status`` when given."""
    query = (
        MailMessage.select(*_COLUMNS)
        .order_by(MailMessage.created_at, ascending=False)
        .order_by(MailMessage.id, ascending=False)
        .limit(max(1, min(limit, MAX_LIST)))
    )
    if status is not None:
        query = query.where(MailMessage.status == status)
    return [_read(r) for r in await query]


async def get_message(message_id: UUID) -> MailRead | None:
    row = await MailMessage.select(*_COLUMNS).where(MailMessage.id == message_id).first()
    return _read(row) if row is not None else None
