"""The deliverer: sends queued e-mail over SMTP (``aiosmtplib``) and records each outcome on its outbox row.

``deliver_due`` claims due messages in a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
single IMMEDIATE write lock on SQLite) and leases them by moving ``next_attempt_at`` forward, so a concurrent
deliverer never takes the same message; it then sends them over one SMTP connection outside any transaction
and records each outcome (sent, retried after a backoff, failed) on the row, only if the claim is still its
own. With no SMTP server configured (``GUILD_SMTP_HOST`` unset) each message is written to the log, whole,
and marked sent with ``last_error`` saying it was logged. When to retry and when to give up:
:mod:`guild.mail.rules`.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import aiosmtplib
import structlog

from guild.domain.statuses import MailStatus
from guild.infra.db import engine, is_sqlite, write_tx
from guild.infra.settings import Settings, get_settings
from guild.infra.tables import MailMessage
from guild.mail.rules import LOGGED, backoff, compose, is_permanent, log_record, outcome


def _log() -> Any:
    """The mail log, looked up at each use (so it follows the logging configuration in force: the app's, a test's)."""
    return structlog.get_logger("guild.mail")


LEASE = timedelta(minutes=5)  # a claimed message is invisible to other deliverers this long
DEFAULT_LIMIT = 50
_ERROR_LENGTH = 1000


@dataclass
class MailStats:
    claimed: int = 0
    sent: int = 0
    logged: int = 0  # no SMTP configured: written to the log (and counted as sent)
    retrying: int = 0
    failed: int = 0
    released: int = 0  # claimed but not tried: the pass ran out of time; due again at once


@dataclass(frozen=True)
class _Claimed:
    id: UUID
    kind: str
    to: str
    subject: str
    text: str
    attempts: int


def _in_transaction() -> bool:
    return engine().current_transaction.get() is not None


async def _claim(now: datetime, limit: int) -> list[_Claimed]:
    """Take up to ``limit`` due messages and lease them; a concurrent deliverer skips them."""
    async with write_tx():
        query = (
            MailMessage.select(
                MailMessage.id,
                MailMessage.kind,
                MailMessage.to_address,
                MailMessage.subject,
                MailMessage.body_text,
                MailMessage.attempts,
            )
            .where((MailMessage.status == MailStatus.pending.value) & (MailMessage.next_attempt_at <= now))
            .order_by(MailMessage.next_attempt_at)
            .order_by(MailMessage.id)
            .limit(limit)
        )
        if not is_sqlite():  # SQLite: the IMMEDIATE transaction already holds the only write lock
            query = query.lock_rows("UPDATE", skip_locked=True, of=(MailMessage,))
        rows = await query
        if not rows:
            return []
        await MailMessage.update({MailMessage.next_attempt_at: now + LEASE}).where(
            MailMessage.id.is_in([r["id"] for r in rows])
        )
    return [
        _Claimed(
            id=r["id"],
            kind=r["kind"],
            to=r["to_address"],
            subject=r["subject"],
            text=r["body_text"],
            attempts=r["attempts"],
        )
        for r in rows
    ]


async def _write(item: _Claimed, values: dict[Any, Any]) -> None:
    async with write_tx():
        # Only the holder of this claim may write its outcome (attempts did not move meanwhile).
        await MailMessage.update(values).where(
            (MailMessage.id == item.id)
            & (MailMessage.status == MailStatus.pending.value)
            & (MailMessage.attempts == item.attempts)
        )


async def _record(
    item: _Claimed, *, sent: bool, error: str, permanent: bool, at: datetime, settings: Settings, stats: MailStats
) -> None:
    attempts = item.attempts + 1
    status = outcome(attempts, sent=sent, permanent=permanent, max_attempts=settings.mail_max_attempts)
    values: dict[Any, Any] = {MailMessage.attempts: attempts, MailMessage.last_error: error[:_ERROR_LENGTH]}
    if status is MailStatus.sent:
        values |= {MailMessage.status: status.value, MailMessage.sent_at: at, MailMessage.next_attempt_at: at}
        if error == LOGGED:
            stats.logged += 1
        else:
            stats.sent += 1
    elif status is MailStatus.failed:
        values |= {MailMessage.status: status.value, MailMessage.next_attempt_at: at}
        stats.failed += 1
        _log().warning("mail.failed", mail_id=str(item.id), kind=item.kind, attempts=attempts, error=error)
    else:
        values[MailMessage.next_attempt_at] = at + backoff(attempts)
        stats.retrying += 1
        _log().info("mail.retrying", mail_id=str(item.id), kind=item.kind, attempts=attempts, error=error)
    await _write(item, values)


async def _release(item: _Claimed, at: datetime, stats: MailStats) -> None:
    """Give a claimed message back untried (no attempt counted): due again at ``at``."""
    await _write(item, {MailMessage.next_attempt_at: at})
    stats.released += 1


def _tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.smtp_tls == "none":
        return None
    cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file is not None else None
    return ssl.create_default_context(cafile=cafile)


def smtp_client(settings: Settings) -> aiosmtplib.SMTP:
    """An SMTP client for the configured server (not yet connected). STARTTLS is required, not opportunistic,
    when ``GUILD_SMTP_TLS=starttls``; certificates are verified against the system's or the given CAs."""
    assert settings.smtp_host is not None
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password is not None else None,
        use_tls=settings.smtp_tls == "tls",
        start_tls=settings.smtp_tls == "starttls",
        tls_context=_tls_context(settings),
        timeout=settings.smtp_timeout_seconds,
    )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _refusal(exc: aiosmtplib.SMTPException) -> tuple[str, bool]:
    """(last_error, permanent) of a refusal while sending one message."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        text = "; ".join(f"{r.code} {r.message}".strip() for r in exc.recipients)
        return f"recipient refused: {text}", all(is_permanent(c, recipient_or_message=True) for c in codes)
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return f"message refused: {exc.code} {exc.message}", is_permanent(exc.code, recipient_or_message=True)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.code} {exc.message}", False
    return _describe(exc), False


def _now(fixed: datetime | None) -> datetime:
    return fixed or datetime.now(UTC)


async def _log_all(claimed: list[_Claimed], now: datetime | None, settings: Settings, stats: MailStats) -> None:
    for item in claimed:
        _log().warning(
            "mail.logged_not_sent",
            **log_record(message_id=item.id, kind=item.kind, to=item.to, subject=item.subject, text=item.text),
        )
        await _record(item, sent=True, error=LOGGED, permanent=False, at=_now(now), settings=settings, stats=stats)


async def _send_all(claimed: list[_Claimed], now: datetime | None, settings: Settings, stats: MailStats) -> None:
    """Send over one connection (made again once if it breaks); give back what a long pass has no time for."""
    started = time.monotonic()
    smtp: aiosmtplib.SMTP | None = None
    remaining = list(claimed)
    try:
        while remaining:
            item = remaining[0]
            if time.monotonic() - started > LEASE.total_seconds() / 2:  # stay well inside the lease
                for left in remaining:
                    await _release(left, _now(now), stats)
                return
            if smtp is None:
                client = smtp_client(settings)
                try:
                    await client.connect()
                except Exception as exc:  # noqa: BLE001 - no server, TLS or auth failure: every message waits
                    error = f"cannot connect to {settings.smtp_host}: {_describe(exc)}"
                    for left in remaining:
                        await _record(
                            left, sent=False, error=error, permanent=False, at=_now(now), settings=settings, stats=stats
                        )
                    return
                smtp = client
            try:
                message = compose(
                    sender=settings.mail_from,
                    to=item.to,
                    subject=item.subject,
                    text=item.text,
                    message_id=item.id,
                    date=datetime.now(UTC),
                )
            except ValueError as exc:  # an address the e-mail package refuses: never sendable
                await _record(
                    item,
                    sent=False,
                    error=f"unsendable: {exc}",
                    permanent=True,
                    at=_now(now),
                    settings=settings,
                    stats=stats,
                )
                remaining.pop(0)
                continue
            try:
                await smtp.send_message(message)
            except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as exc:
                error, permanent = _refusal(exc)  # the connection stays usable (the client reset it)
                await _record(
                    item, sent=False, error=error, permanent=permanent, at=_now(now), settings=settings, stats=stats
                )
            except ValueError as exc:  # an address aiosmtplib cannot send safely
                await _record(
                    item,
                    sent=False,
                    error=f"unsendable: {exc}",
                    permanent=True,
                    at=_now(now),
                    settings=settings,
                    stats=stats,
                )
            except Exception as exc:  # noqa: BLE001 - connection lost or timed out: retried; reconnect for the next
                await _record(
                    item,
                    sent=False,
                    error=_describe(exc),
                    permanent=False,
                    at=_now(now),
                    settings=settings,
                    stats=stats,
                )
                smtp.close()
                smtp = None
            else:
                await _record(item, sent=True, error="", permanent=False, at=_now(now), settings=settings, stats=stats)
                _log().info("mail.sent", mail_id=str(item.id), kind=item.kind, attempts=item.attempts + 1)
            remaining.pop(0)
    finally:
        if smtp is not None:
            try:
                await smtp.quit()
            except Exception:  # noqa: BLE001 - the messages are sent; a rude goodbye changes nothing
                smtp.close()


async def deliver_due(
    now: datetime | None = None, limit: int = DEFAULT_LIMIT, settings: Settings | None = None
) -> MailStats:
    """Deliver every pending message whose ``next_attempt_at`` is at or before ``now``, up to ``limit`` of them.

    ``now`` (default: the current time) is the clock for due-ness, backoff and ``sent_at``; the Date header is
    always the real send time. ``settings`` default to :func:`get_settings`. Must not run inside a transaction:
    SMTP exchanges never hold a database connection or lock.
    """
    if _in_transaction():
        raise RuntimeError("deliver_due must not run inside a transaction")
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    settings = settings or get_settings()
    stats = MailStats()
    claimed = await _claim(_now(now), limit)
    stats.claimed = len(claimed)
    if not claimed:
        return stats
    if settings.smtp_configured:
        await _send_all(claimed, now, settings, stats)
    else:
        await _log_all(claimed, now, settings, stats)
    return stats
