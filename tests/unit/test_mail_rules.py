"""The mail rules without a database or network: backoff, when to give up, and what a message looks like."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guild.domain.statuses import MailStatus
from guild.infra.settings import Settings
from guild.mail.rules import (
    BASE_BACKOFF,
    JITTER,
    LOGGED,
    MAX_BACKOFF,
    backoff,
    compose,
    is_permanent,
    log_record,
    message_domain,
    outcome,
)


def test_backoff_doubles_from_one_minute_and_stops_at_six_hours():
    no_jitter = random.Random()
    no_jitter.uniform = lambda a, b: 0.0  # type: ignore[method-assign]
    assert [backoff(n, no_jitter) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(9, no_jitter) == timedelta(minutes=256)
    assert backoff(10, no_jitter) == MAX_BACKOFF == backoff(1000, no_jitter)


@given(st.integers(min_value=1, max_value=10_000), st.integers())
def test_backoff_jitter_only_lengthens_and_by_at_most_ten_percent(attempts, seed):
    base = min(BASE_BACKOFF * 2 ** min(attempts - 1, 20), MAX_BACKOFF)
    delay = backoff(attempts, random.Random(seed))
    assert base <= delay <= base * (1 + JITTER)


def test_outcome_sent_failed_or_retried():
    assert outcome(1, sent=True, permanent=False, max_attempts=8) is MailStatus.sent
    assert outcome(8, sent=True, permanent=False, max_attempts=8) is MailStatus.sent
    assert outcome(1, sent=False, permanent=True, max_attempts=8) is MailStatus.failed
    assert outcome(7, sent=False, permanent=False, max_attempts=8) is MailStatus.pending
    assert outcome(8, sent=False, permanent=False, max_attempts=8) is MailStatus.failed


@pytest.mark.parametrize(
    ("code", "recipient_or_message", "permanent"),
    [(550, True, True), (554, True, True), (451, True, False), (421, True, False), (None, True, False)],
)
def test_only_a_5xx_about_the_recipient_or_message_is_permanent(code, recipient_or_message, permanent):
    assert is_permanent(code, recipient_or_message=recipient_or_message) is permanent


def test_a_5xx_about_the_sender_or_credentials_is_retried():
    assert is_permanent(535, recipient_or_message=False) is False
    assert is_permanent(553, recipient_or_message=False) is False


def test_compose_makes_a_plain_utf8_message_with_every_header():
    message_id = uuid4()
    date = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    message = compose(
        sender="Guild <noreply@guild.example.org>",
        to="ann@example.org",
        subject="Einladung — Kostüm",
        text="Grüße\nhttps://guild.example.org/i/abc\n",
        message_id=message_id,
        date=date,
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["From"] == "Guild <noreply@guild.example.org>"
    assert parsed["To"] == "ann@example.org"
    assert parsed["Subject"] == "Einladung — Kostüm"
    assert parsed["Date"] == "Sun, 29 Nov 2026 23:00:00 +0000"
    assert parsed["Message-ID"] == f"<{message_id}@guild.example.org>"
    assert parsed.get_content_type() == "text/plain" and parsed.get_content_charset() == "utf-8"
    assert parsed.get_content().replace("\r\n", "\n") == "Grüße\nhttps://guild.example.org/i/abc\n"


def test_a_line_break_in_a_header_value_cannot_add_a_header():
    message = compose(
        sender="guild <guild@localhost>",
        to="ann@example.org",
        subject="Hello\r\nBcc: everyone@example.org",
        text="x",
        message_id=uuid4(),
        date=datetime.now(UTC),
    )
    assert message["Bcc"] is None
    assert message["Subject"] == "Hello Bcc: everyone@example.org"


def test_compose_needs_an_aware_date():
    with pytest.raises(ValueError, match="timezone-aware"):
        compose(sender="g <g@x.org>", to="a@x.org", subject="s", text="t", message_id=uuid4(), date=datetime.now())


def test_message_domain():
    assert message_domain("Guild <noreply@guild.example.org>") == "guild.example.org"
    assert message_domain("guild <guild@localhost>") == "localhost"
    assert message_domain("no address") == "guild.localhost"


def test_the_log_record_holds_the_whole_message():
    message_id = uuid4()
    record = log_record(
        message_id=message_id, kind="password_reset", to="a@x.org", subject="Reset", text="go: http://x"
    )
    assert record == {
        "mail_id": str(message_id),
        "kind": "password_reset",
        "to": "a@x.org",
        "subject": "Reset",
        "text": "go: http://x",
        "reason": LOGGED,
    }


def test_mail_settings(monkeypatch):
    for name in ("GUILD_SMTP_HOST", "GUILD_SMTP_USERNAME", "GUILD_SMTP_PASSWORD", "GUILD_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)
    default = Settings()
    assert (default.smtp_host, default.smtp_configured, default.smtp_tls) == (None, False, "starttls")
    assert default.mail_from == "guild <guild@localhost>"
    assert Settings(smtp_host="  ").smtp_configured is False
    configured = Settings(smtp_host="smtp.example.org", smtp_username="guild", smtp_password="s3cret")
    assert configured.smtp_configured and "s3cret" not in repr(configured)
    with pytest.raises(ValueError, match="GUILD_MAIL_FROM"):
        Settings(mail_from="not an address")
    with pytest.raises(ValueError, match="GUILD_MAIL_FROM"):
        Settings(mail_from="a@b.org\nBcc: c@d.org")
    with pytest.raises(ValueError, match="together"):
        Settings(smtp_host="smtp.example.org", smtp_username="guild")
    with pytest.raises(ValueError):
        Settings(smtp_tls="ssl")
