"""The e-mail outbox: messages queued in a transaction, delivered over SMTP to a real local server (aiosmtpd).

Every SMTP connection in this module goes to a server the test starts on 127.0.0.1 (tests/integration/mail.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from uuid import UUID

import pytest
import structlog

from tests.integration.mail import closed_port, mail_settings, running_mailbox, self_signed

LINK = "http://127.0.0.1:8000/invitations/accept?token=Zm9vYmFy-ü"


async def queue(to: str = "Ann@Example.org", subject: str = "Your invitation to guild-a", text: str | None = None):
    from guild.infra.db import write_tx
    from guild.mail import enqueue

    async with write_tx():
        return await enqueue(
            to=to,
            subject=subject,
            text=text if text is not None else f"Grüße, Ann!\n\nAccept here: {LINK}\n\n— guild\n",
            kind="invitation",
        )


async def rows() -> list[dict]:
    from guild.infra.tables import MailMessage

    return await MailMessage.select().order_by(MailMessage.created_at)


async def row(message_id: UUID) -> dict:
    from guild.infra.tables import MailMessage

    found = await MailMessage.select().where(MailMessage.id == message_id).first()
    assert found is not None
    return found


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- delivery ---------------------------------------------------------------------------------------


async def test_a_queued_message_arrives_with_its_headers_and_body(mailbox):
    message_id = await queue(subject="Einladung: guild-a — Kostüm")
    before = datetime.now(UTC)

    [message] = await mailbox.deliver()

    assert message["From"] == "guild <guild@localhost>"
    assert message["To"] == "ann@example.org"
    assert message["Subject"] == "Einladung: guild-a — Kostüm"
    assert message["Message-ID"] == f"<{message_id}@localhost>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert abs(parsedate_to_datetime(message["Date"]) - before) < timedelta(minutes=1)
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    assert mailbox.text(message) == f"Grüße, Ann!\n\nAccept here: {LINK}\n\n— guild\n"
    assert mailbox.links(to="ann@example.org") == [LINK]
    assert mailbox.envelopes == [("guild@localhost", ["ann@example.org"])]

    stored = await row(message_id)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == ("sent", 1, "")
    assert stored["sent_at"] is not None
    assert await mailbox.deliver() == []  # sent once


async def test_the_sender_is_the_configured_one(mailbox):
    with mail_settings({**mailbox.environment(), "GUILD_MAIL_FROM": "Guild of Gaffers <noreply@gaffers.example.org>"}):
        message_id = await queue()
        [message] = await mailbox.deliver()
    assert message["From"] == "Guild of Gaffers <noreply@gaffers.example.org>"
    assert message["Message-ID"] == f"<{message_id}@gaffers.example.org>"
    assert mailbox.envelopes[0][0] == "noreply@gaffers.example.org"


async def test_a_rolled_back_transaction_queues_nothing(mailbox):
    from guild.infra.db import write_tx
    from guild.mail import enqueue

    class Refused(Exception):
        pass

    with pytest.raises(Refused):
        async with write_tx():
            await enqueue(to="ann@example.org", subject="Reset", text="a link", kind="password_reset")
            raise Refused
    assert await rows() == []
    assert await mailbox.deliver() == []


async def test_several_messages_go_over_one_pass(mailbox):
    for n in range(5):
        await queue(to=f"person{n}@example.org", subject=f"Message {n}")
    received = await mailbox.deliver()
    assert sorted(str(m["To"]) for m in received) == [f"person{n}@example.org" for n in range(5)]
    assert {r["status"] for r in await rows()} == {"sent"}


# --- refusals, retries, giving up ----------------------------------------------------------------------


async def test_a_permanent_refusal_of_the_recipient_fails_at_once(mailbox):
    from guild.mail import deliver_due

    mailbox.refuse["nobody@example.org"] = "550 5.1.1 <nobody@example.org>: no such user"
    gone = await queue(to="nobody@example.org")
    fine = await queue(to="ann@example.org")

    stats = await deliver_due()
    assert (stats.claimed, stats.sent, stats.failed, stats.retrying) == (2, 1, 1, 0)
    refused = await row(gone)
    assert (refused["status"], refused["attempts"]) == ("failed", 1)
    assert "550" in refused["last_error"] and "no such user" in refused["last_error"]
    assert (await row(fine))["status"] == "sent"  # the connection went on after the refusal
    assert [str(m["To"]) for m in mailbox.messages] == ["ann@example.org"]


async def test_an_address_that_cannot_be_sent_to_fails_at_once(mailbox):
    from guild.mail import deliver_due

    broken = await queue(to="no at sign")
    fine = await queue(to="ann@example.org")
    stats = await deliver_due()
    assert (stats.claimed, stats.sent, stats.failed) == (2, 1, 1)
    stored = await row(broken)
    assert (stored["status"], stored["attempts"]) == ("failed", 1)
    assert stored["last_error"].startswith("unsendable: ")
    assert (await row(fine))["status"] == "sent"


async def test_a_temporary_refusal_is_retried_with_growing_backoff_until_accepted(mailbox):
    from guild.mail import deliver_due

    mailbox.refuse["*"] = "451 4.3.0 mailbox busy, try later"
    message_id = await queue()
    now = datetime.now(UTC)
    delays = []
    for attempt in (1, 2, 3):
        stats = await deliver_due(now=now)
        assert (stats.claimed, stats.retrying) == (1, 1)
        stored = await row(message_id)
        assert (stored["status"], stored["attempts"]) == ("pending", attempt)
        assert "451" in stored["last_error"]
        delays.append(aware(stored["next_attempt_at"]) - now)
        assert (await deliver_due(now=now + delays[-1] - timedelta(seconds=1))).claimed == 0  # not due before
        now += delays[-1]
    assert timedelta(minutes=1) <= delays[0] <= timedelta(minutes=1.1)
    assert delays[0] < delays[1] < delays[2] and delays[2] >= timedelta(minutes=4)
    assert mailbox.messages == []

    del mailbox.refuse["*"]
    [message] = await mailbox.deliver(now=now)
    stored = await row(message_id)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == ("sent", 4, "")
    assert message["Message-ID"] == f"<{message_id}@localhost>"


async def test_no_server_listening_is_retried_then_given_up_after_the_last_attempt():
    from guild.infra.settings import get_settings
    from guild.mail import deliver_due

    with mail_settings(
        {"GUILD_SMTP_HOST": "127.0.0.1", "GUILD_SMTP_PORT": str(closed_port()), "GUILD_SMTP_TLS": "none"}
    ):
        message_id = await queue()
        max_attempts = get_settings().mail_max_attempts
        now = datetime.now(UTC)
        for attempt in range(1, max_attempts + 1):
            stats = await deliver_due(now=now)
            assert stats.claimed == 1
            stored = await row(message_id)
            assert stored["attempts"] == attempt
            assert stored["last_error"].startswith("cannot connect to 127.0.0.1")
            if attempt < max_attempts:
                assert stored["status"] == "pending" and stats.retrying == 1
                now = aware(stored["next_attempt_at"])
        assert (stored["status"], stats.failed) == ("failed", 1)
        assert (await deliver_due(now=now + timedelta(days=7))).claimed == 0  # given up: never again


async def test_a_claim_is_leased_and_recovered_after_a_crash(mailbox):
    from guild.mail import deliver_due
    from guild.mail.delivery import LEASE, _claim

    await queue()
    now = datetime.now(UTC)
    assert len(await _claim(now, 10)) == 1  # a deliverer claims it and dies before sending
    assert await mailbox.deliver(now=now + LEASE - timedelta(seconds=1)) == []
    stats = await deliver_due(now=now + LEASE + timedelta(seconds=1))
    assert (stats.claimed, stats.sent) == (1, 1)
    assert len(mailbox.messages) == 1


async def test_two_deliverers_at_once_send_each_message_once(mailbox):
    from guild.mail import deliver_due
    from tests.integration.concurrency import together

    ids = [await queue(to=f"person{n}@example.org") for n in range(12)]
    results = await together([deliver_due(limit=4) for _ in range(4)])

    assert sum(s.claimed for s in results) == 12 and sum(s.sent for s in results) == 12
    assert sum(1 for s in results if s.claimed) >= 3  # at most 4 each: the work was shared, not taken by one
    message_ids = [str(m["Message-ID"]) for m in mailbox.messages]
    assert len(message_ids) == 12 and len(set(message_ids)) == 12
    assert set(message_ids) == {f"<{i}@localhost>" for i in ids}
    assert {(r["status"], r["attempts"]) for r in await rows()} == {("sent", 1)}


# --- TLS ----------------------------------------------------------------------------------------------


async def test_starttls_with_a_trusted_certificate(tmp_path):
    context, certificate = self_signed(tmp_path)
    async with running_mailbox(context, tls="starttls", ca_file=certificate) as box:
        await queue()
        [message] = await box.deliver()
        assert box.tls == [True]
        assert box.links() == [LINK]


async def test_starttls_is_required_not_opportunistic(tmp_path):
    from guild.mail import deliver_due

    context, _ = self_signed(tmp_path)
    async with running_mailbox(context, tls="starttls") as box:  # the certificate is not trusted
        message_id = await queue()
        assert (await deliver_due()).retrying == 1
        assert "certificate" in (await row(message_id))["last_error"].lower()
        assert box.messages == []
    async with running_mailbox(None, tls="starttls") as box:  # the server offers no STARTTLS: nothing in clear
        stats = await deliver_due(now=datetime.now(UTC) + timedelta(hours=1))
        assert stats.retrying == 1
        assert "starttls" in (await row(message_id))["last_error"].lower()
        assert box.messages == []


# --- no SMTP configured: the log ------------------------------------------------------------------------


async def test_without_smtp_each_message_is_written_to_the_log_and_marked_sent():
    from guild.mail import deliver_due
    from guild.mail.rules import LOGGED

    with mail_settings({}):
        message_id = await queue()
        with structlog.testing.capture_logs() as logs:
            stats = await deliver_due()
    assert (stats.claimed, stats.logged, stats.sent) == (1, 1, 0)
    [entry] = [e for e in logs if e["event"] == "mail.logged_not_sent"]
    assert entry["to"] == "ann@example.org" and entry["subject"] == "Your invitation to guild-a"
    assert LINK in entry["text"] and entry["mail_id"] == str(message_id)
    assert "no SMTP configured" in entry["reason"]
    stored = await row(message_id)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == ("sent", 1, LOGGED)


async def test_the_scheduler_has_a_mail_job_and_says_when_mail_is_only_logged():
    from scheduler.service import MAIL_JOB_ID, GuildScheduler

    with mail_settings({}):
        scheduler = GuildScheduler(catch_up=False)
        with structlog.testing.capture_logs() as logs:
            scheduler.start()
        try:
            job = scheduler.scheduler.get_job(MAIL_JOB_ID)
            assert job is not None and job.max_instances == 1 and job.coalesce is True
        finally:
            await scheduler.shutdown()
    assert any(e["event"] == "mail.log_only" and "not sent" in e["detail"] for e in logs)


async def test_the_scheduler_job_delivers(mailbox):
    from scheduler.service import GuildScheduler

    await queue()
    scheduler = GuildScheduler(catch_up=False)
    await scheduler._deliver_mail()
    assert len(mailbox.messages) == 1
    await asyncio.sleep(0)


# --- the CLI ------------------------------------------------------------------------------------------


def _cli(*args: str):
    import click
    from click.testing import CliRunner

    from guild.cli import register

    group = click.Group()
    register(group)
    return CliRunner().invoke(group, list(args))


def test_mail_send_test_and_list_from_the_command_line():
    import json
    import threading

    from tests.integration.mail import Mailbox

    loop = asyncio.new_event_loop()  # the CLI runs its own event loop: the server gets a thread of its own
    box = Mailbox()
    loop.run_until_complete(box.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        with mail_settings(box.environment()):
            sent = _cli("mail", "send-test", "--to", "Ops@Example.org")
            assert sent.exit_code == 0, sent.output
            assert "sent: ops@example.org (accepted by the SMTP server)" in sent.output
            bad = _cli("mail", "send-test", "--to", "not-an-address")
            assert bad.exit_code == 2 and "not an e-mail address" in bad.output
        with mail_settings({}):
            logged = _cli("mail", "send-test", "--to", "ops@example.org")
            assert logged.exit_code == 1 and "no SMTP configured" in logged.output
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(box.stop())
        loop.close()
    [message] = box.messages
    assert message["To"] == "ops@example.org" and message["Subject"] == "guild: test message"

    listed = _cli("mail", "list")
    assert listed.exit_code == 0 and "2 message(s)" in listed.output
    as_json = json.loads(_cli("mail", "list", "--json", "--status", "sent").output)
    assert [(m["to"], m["kind"], m["status"]) for m in as_json] == [("ops@example.org", "test", "sent")] * 2
    assert all("text" not in m and "body_text" not in m for m in as_json)
    assert _cli("mail", "list", "--status", "failed").output.strip() == "0 message(s)"
