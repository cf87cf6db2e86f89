"""The mail rules, pure: what a message looks like, when a failed one is tried again, when it is given up.

* A message is a plain-text UTF-8 :class:`email.message.EmailMessage` with From, To, Subject, Date and a
  Message-ID made from the outbox row's id (the same on every attempt, so a receiver can tell a repeat).
* A refusal with a permanent (5xx) reply to the recipient or to the message ends it at once (``failed``);
  anything else (no connection, a timeout, a 4xx, authentication or sender refused: the deployment's
  problem, which an operator can fix) is retried after :func:`backoff` until ``max_attempts`` attempts
  have failed.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from uuid import UUID

from guild.domain.statuses import MailStatus

BASE_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)
JITTER = 0.1  # up to +10 % on every backoff, so the retries of one outage do not arrive in lock-step
LOGGED = "logged: no SMTP configured (GUILD_SMTP_HOST is unset); the message is in the log, not sent"

_WHITESPACE = re.compile(r"\s+")


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Delay after the ``attempts``-th failed attempt: 1 min * 2^(attempts-1), at most 6 h, plus up to 10 % jitter."""
    factor: int = 2 ** min(max(attempts - 1, 0), 20)
    base = min(BASE_BACKOFF * factor, MAX_BACKOFF)
    jitter: float = (rng or random).uniform(0, JITTER)
    return base * (1 + jitter)


def is_permanent(code: int | None, *, recipient_or_message: bool) -> bool:
    """Whether an SMTP refusal ends the message: a 5xx reply about its recipient or its content.

    A 5xx about the connection, the sender or the credentials is the deployment's to fix and is retried."""
    return recipient_or_message and code is not None and 500 <= code < 600


def outcome(attempts: int, *, sent: bool, permanent: bool, max_attempts: int) -> MailStatus:
    """The status after the ``attempts``-th attempt: sent; failed on a permanent refusal or once ``max_attempts``
    attempts have failed; else still pending (tried again after :func:`backoff`)."""
    if sent:
        return MailStatus.sent
    if permanent or attempts >= max_attempts:
        return MailStatus.failed
    return MailStatus.pending


def message_domain(sender: str) -> str:
    """The domain of the sender's address (for Message-IDs); ``guild.localhost`` when it has none."""
    _, address = parseaddr(sender)
    _, at, domain = address.rpartition("@")
    return domain.strip().strip(".") if at and domain.strip().strip(".") else "guild.localhost"


def one_line(text: str) -> str:
    """A header value: line breaks and runs of white space become one space (no header injection)."""
    return _WHITESPACE.sub(" ", text).strip()


def compose(*, sender: str, to: str, subject: str, text: str, message_id: UUID, date: datetime) -> EmailMessage:
    """The message as sent: plain text in UTF-8, dated ``date`` (timezone-aware).

    ValueError when it cannot be sent as is (an address the e-mail package refuses): a permanent failure."""
    if date.tzinfo is None:
        raise ValueError("date must be timezone-aware")
    message = EmailMessage()
    message["From"] = one_line(sender)
    message["To"] = one_line(to)
    message["Subject"] = one_line(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<{message_id}@{message_domain(sender)}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to guild
    message.set_content(text, charset="utf-8")
    return message


def log_record(*, message_id: UUID, kind: str, to: str, subject: str, text: str) -> dict[str, str]:
    """What the log says of a message when no SMTP server is configured: all of it, so its links can be used."""
    return {
        "mail_id": str(message_id),
        "kind": kind,
        "to": to,
        "subject": subject,
        "text": text,
        "reason": LOGGED,
    }
