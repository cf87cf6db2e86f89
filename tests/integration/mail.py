"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 (a free port), on the test's own event loop.

Use the ``mailbox`` fixture (tests/integration/conftest.py). It starts the server, points guild's settings
at it (``GUILD_SMTP_HOST``/``PORT``, no TLS) for the test, and keeps every message it accepts::

    async def test_an_invitation_arrives(client, mailbox):
        ...  # whatever queues the message (guild.mail.enqueue inside the request's transaction)
        [message] = await mailbox.deliver()          # runs guild's deliverer once; the messages it brought
        assert message["To"] == "ann@example.org"
        link = mailbox.links(to="ann@example.org")[-1]   # every http(s) URL in that person's messages

``mailbox.messages`` are parsed ``email.message.EmailMessage`` objects (``policy=email.policy.default``:
``message["Subject"]``, ``mailbox.text(message)`` for the plain-text body). ``mailbox.refuse["x@y"] =
"550 5.1.1 no such user"`` makes the server answer RCPT for that address (``"*"``: every address) with that
reply. ``await deliver_mail()`` runs the deliverer once with whatever the settings are, without a server.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

URL = re.compile(r"https?://[^\s<>\"']+")


async def deliver_mail(now: datetime | None = None) -> Any:
    """Run guild's mail deliverer once (what the scheduler's ``mail`` job does); returns its MailStats."""
    from guild.mail import deliver_due

    return await deliver_due(now=now)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.box.refuse.get(address.lower()) or self.box.refuse.get("*")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.box.messages.append(message)
        self.box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.box.tls.append(session.ssl is not None)
        return "250 Message accepted for delivery"


class Mailbox:
    """The server and what it received: ``messages`` (parsed), ``envelopes`` ((MAIL FROM, [RCPT TO])), ``tls``
    (whether each message came over TLS)."""

    def __init__(self, tls_context: ssl.SSLContext | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str | None, list[str]]] = []
        self.tls: list[bool] = []
        self.refuse: dict[str, str] = {}
        self.host = "127.0.0.1"
        self.port = 0
        self._tls_context = tls_context
        self._server: asyncio.Server | None = None

    async def start(self) -> Mailbox:
        loop = asyncio.get_running_loop()
        handler = _Handler(self)
        self._server = await loop.create_server(
            lambda: SMTP(
                handler,
                hostname="mail.test",
                enable_SMTPUTF8=True,
                tls_context=self._tls_context,
                require_starttls=self._tls_context is not None,
            ),
            self.host,
            0,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def deliver(self, now: datetime | None = None) -> list[EmailMessage]:
        """Run guild's deliverer once; the messages this server received during that pass."""
        before = len(self.messages)
        await deliver_mail(now)
        return self.messages[before:]

    def to(self, address: str) -> list[EmailMessage]:
        """Messages addressed to ``address`` (case-insensitive), oldest first."""
        return [m for m in self.messages if str(m["To"]).lower() == address.lower()]

    @staticmethod
    def text(message: EmailMessage) -> str:
        """The plain-text body, decoded, with the wire's CRLF line ends back to ``\\n``."""
        body = message.get_body(preferencelist=("plain",))
        assert body is not None, "no text/plain part"
        return str(body.get_content()).replace("\r\n", "\n")

    def links(self, to: str | None = None) -> list[str]:
        """Every http(s) URL in the text of the messages (to ``to`` only, when given), in order."""
        messages = self.to(to) if to is not None else self.messages
        return [url.rstrip(".,;:)") for m in messages for url in URL.findall(self.text(m))]

    def environment(self, tls: str = "none", ca_file: Path | None = None) -> dict[str, str]:
        """The GUILD_* settings that point guild at this server."""
        env = {"GUILD_SMTP_HOST": self.host, "GUILD_SMTP_PORT": str(self.port), "GUILD_SMTP_TLS": tls}
        if ca_file is not None:
            env["GUILD_SMTP_CA_FILE"] = str(ca_file)
            env["GUILD_SMTP_HOST"] = "localhost"  # the name on the test certificate
        return env


SMTP_VARIABLES = (
    "GUILD_SMTP_HOST",
    "GUILD_SMTP_PORT",
    "GUILD_SMTP_TLS",
    "GUILD_SMTP_USERNAME",
    "GUILD_SMTP_PASSWORD",
    "GUILD_SMTP_CA_FILE",
)


@contextmanager
def mail_settings(env: dict[str, str]) -> Iterator[None]:
    """guild's settings with these GUILD_* variables (every other SMTP variable unset) until the block ends."""
    from guild.infra.settings import get_settings

    names = set(env) | set(SMTP_VARIABLES)
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ.pop(name, None)
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


@asynccontextmanager
async def running_mailbox(tls_context: ssl.SSLContext | None = None, **environment: Any) -> AsyncIterator[Mailbox]:
    """A started :class:`Mailbox` with guild's settings pointing at it (``environment``: its arguments)."""
    box = await Mailbox(tls_context).start()
    try:
        with mail_settings(box.environment(**environment)):
            yield box
    finally:
        await box.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed): connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a fresh self-signed certificate for localhost / 127.0.0.1, and the
    certificate's PEM file (the CA a client must trust)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = folder / "smtp-cert.pem"
    key_file = folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file
