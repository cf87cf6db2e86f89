"""Queue an e-mail: one row in ``mail_message``, written on the caller's transaction.

A message is queued in the same transaction as the change it announces (an invitation, a reset
token), so that a rolled-back change sends nothing and a committed one is never forgotten; the
scheduler delivers queued messages over SMTP (:mod:`guild.mail.delivery`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from guild.domain.statuses import MailStatus
from guild.infra.db import write_tx
from guild.infra.tables import MailMessage
from guild.mail.delivery import deliver_due
from guild.mail.queries import MailRead, get_message

MAX_SUBJECT = 200


async def enqueue(*, to: str, subject: str, text: str, kind: str) -> UUID:
    """Queue a plain-text message to ``to``; call it inside the ``write_tx()`` that makes the change."""
    message_id = uuid4()
    now = datetime.now(UTC)
    await MailMessage.insert(
        MailMessage(
            id=message_id,
            kind=kind,
            to_address=to.strip().lower(),
            subject=subject[:MAX_SUBJECT],
            body_text=text,
            status=MailStatus.pending.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return message_id


TEST_KIND = "test"


async def send_test(to: str) -> MailRead:
    """Queue a test message to ``to`` and run the deliverer once (``guild mail send-test``): how it went."""
    async with write_tx():
        message_id = await enqueue(
            to=to,
            subject="guild: test message",
            text="This is a test message from guild (guild mail send-test).\n\n"
            "If you can read it, guild's SMTP settings work.\n",
            kind=TEST_KIND,
        )
    await deliver_due()
    message = await get_message(message_id)
    assert message is not None
    return message
