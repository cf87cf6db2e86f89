"""Application settings: one pydantic-settings class, prefix ``GUILD_``."""

from __future__ import annotations

import os
import secrets
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUILD_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Folder for the SQLite file, the secret key and PDFs.")
    database_url: str | None = Field(
        default=None,
        description="sqlite:///path/file.sqlite or postgresql://user@host:port/db; default: SQLite in data_dir.",
    )
    secret_key: str | None = Field(default=None, description="JWT signing key; generated into data_dir when unset.")
    scheduler_enabled: bool = Field(default=True, description="Run the scheduler inside the app (embedded mode).")
    migrate_on_start: bool | None = Field(
        default=None, description="Apply migrations at start-up; default: on for SQLite, off for PostgreSQL."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    token_ttl_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    pdf_workers: int | None = Field(default=None, ge=1, le=64, description="PDF render processes; default: CPU count")
    pdf_recycle_after: int = Field(default=50, ge=1, description="A PDF worker is replaced after this many documents.")
    pdf_queue_max: int = Field(
        default=64,
        ge=1,
        description="PDF documents waiting or rendering, all tenants together; more get 503 + Retry-After.",
    )
    pdf_tenant_queue_max: int = Field(
        default=8,
        ge=1,
        description="PDF documents one tenant (a production company, a compact) may have waiting or rendering; "
        "more get 503 + Retry-After. Tenants are served round-robin.",
    )
    pdf_timeout_seconds: float = Field(
        default=30, gt=0, le=600, description="A render that takes longer is stopped (its worker killed): 503."
    )
    pdf_worker_memory_mb: int = Field(
        default=1024,
        ge=0,
        description="Address-space cap of each PDF worker process (0: none); beyond it a render fails.",
    )
    pdf_worker_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much lower than the server's the PDF workers' CPU priority is (nice increment), "
        "so that renders never slow reads.",
    )
    pg_pool_max: int = Field(default=10, ge=1, le=200)
    principal_cache_seconds: float = Field(
        default=5,
        ge=0,
        le=300,
        description="How long a process keeps a signed-in user's roles between requests (0: load them every "
        "request). Membership and password changes apply at once in the process that makes them, in others after "
        "this (a token issued before a password change keeps working there for at most this long).",
    )
    signin_window_seconds: int = Field(default=900, ge=1, le=86400, description="Window of the sign-in limits.")
    signin_attempts_per_address: int = Field(
        default=60, ge=1, description="Sign-in attempts (right or wrong) one client address may make per window."
    )
    signin_failures_per_account: int = Field(
        default=10, ge=1, description="Wrong passwords one account (e-mail) may receive per window; then 429."
    )
    invitation_ttl_hours: int = Field(
        default=7 * 24, ge=1, le=90 * 24, description="How long an e-mailed invitation link stays valid."
    )
    password_reset_ttl_minutes: int = Field(
        default=60, ge=5, le=7 * 24 * 60, description="How long an e-mailed password reset link stays valid."
    )
    mail_limit_window_seconds: int = Field(
        default=3600, ge=1, le=86400, description="Window of the invitation and password-reset request limits."
    )
    invitations_per_officer: int = Field(
        default=100, ge=1, description="Invitations one officer may send per window; then 429."
    )
    invitations_per_address: int = Field(
        default=200, ge=1, description="Invitations one client address may send per window; then 429."
    )
    reset_requests_per_account: int = Field(
        default=5,
        ge=1,
        description="Password reset requests for one e-mail address per window (counted whether or not an account "
        "has it); then 429.",
    )
    reset_requests_per_address: int = Field(
        default=30, ge=1, description="Password reset requests one client address may make per window; then 429."
    )
    webhook_private_targets: bool = Field(
        default=False,
        description="Allow webhook URLs whose host is loopback or another non-public address (local development, "
        "receivers on an internal network). Off: such URLs are refused when registered and when delivered.",
    )
    scheduler_lease_seconds: float = Field(
        default=60,
        ge=1,
        le=3600,
        description="How long a scheduler process's claim on a running sweep lasts without renewal. Once it lapses "
        "(the process died or froze), any live scheduler process takes the sweep over and resumes it from its cursor.",
    )
    scheduler_heartbeat_seconds: float | None = Field(
        default=None,
        gt=0,
        description="How often the owner renews its lease; default: a third of the lease. At most half of the lease.",
    )
    scheduler_max_takeovers: int = Field(
        default=3,
        ge=0,
        le=100,
        description="How many times a sweep may be taken over from an owner whose lease lapsed (it died or froze on "
        "it); when its lease lapses once more, the sweep is closed as failed instead of being taken over again.",
    )

    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address users reach guild at (scheme, host, optional port and path prefix), used for the "
        "links guild hands out, such as calendar feed URLs; never taken from a request's Host header.",
    )
    audit_key: str | None = Field(
        default=None,
        description="Key of the audit log's HMAC (each event and each checkpoint); generated into data_dir "
        "(audit_key, mode 0600) when unset. Every app and scheduler instance needs the same key.",
    )
    audit_checkpoint_minutes: int = Field(
        default=10, ge=1, le=24 * 60, description="How often the scheduler records an audit checkpoint."
    )
    audit_checkpoint_log: Path | None = Field(
        default=None,
        description="File that every audit checkpoint is also appended to, outside the database; "
        "default: data_dir/audit-checkpoints.log.",
    )

    metrics_token: str | None = Field(
        default=None,
        description="Bearer token that /metrics (Prometheus) requires; unset: /metrics answers loopback clients only.",
    )

    smtp_host: str | None = Field(
        default=None,
        description="SMTP server that guild hands its e-mail (invitations, password resets) to. Unset: no SMTP; "
        "each message is written to the log instead (its links can be copied from there) and marked sent.",
    )
    smtp_port: int | None = Field(
        default=None, ge=1, le=65535, description="SMTP port; default: 465 for tls, 587 for starttls, 25 for none."
    )
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        default="starttls",
        description="starttls: plain connection upgraded with STARTTLS (required); tls: TLS from the first byte "
        "(SMTPS); none: no encryption (a relay on the same host or network only).",
    )
    smtp_username: str | None = Field(default=None, description="SMTP user name (AUTH); unset: no authentication.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password, with GUILD_SMTP_USERNAME.")
    smtp_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the certificate authorities that the SMTP server's certificate is checked against, "
        "instead of the system's (a private relay's own CA); default: the system's.",
    )
    smtp_timeout_seconds: float = Field(default=30, gt=0, le=300, description="Timeout of each SMTP exchange.")
    mail_from: str = Field(
        default="guild <guild@localhost>",
        description="Sender of guild's e-mail (From), such as 'Guild <noreply@guild.example.org>'.",
    )
    mail_max_attempts: int = Field(
        default=8,
        ge=1,
        le=30,
        description="Attempts to deliver a message before it is given up (failed); retries back off from one "
        "minute, doubling, to at most six hours apart.",
    )

    @field_validator("smtp_host", "smtp_username")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("mail_from")
    @classmethod
    def _sender_address(cls, value: str) -> str:
        if any(c in value for c in "\r\n"):
            raise ValueError("GUILD_MAIL_FROM must be one line")
        _, address = parseaddr(value)
        local, at, domain = address.rpartition("@")
        if not at or not local or not domain:
            raise ValueError("GUILD_MAIL_FROM must be an e-mail address, such as 'Guild <noreply@guild.example.org>'")
        return value.strip()

    @model_validator(mode="after")
    def _smtp_credentials_together(self) -> Settings:
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("GUILD_SMTP_USERNAME and GUILD_SMTP_PASSWORD are set together, or neither")
        return self

    @property
    def smtp_configured(self) -> bool:
        return self.smtp_host is not None

    @field_validator("public_base_url")
    @classmethod
    def _http_base(cls, value: str) -> str:

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("GUILD_PUBLIC_BASE_URL must be an http(s) URL such as https://guild.example.org")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _heartbeat_below_lease(self) -> Settings:
        beat = self.scheduler_heartbeat_seconds
        if beat is not None and beat > self.scheduler_lease_seconds / 2:
            raise ValueError("GUILD_SCHEDULER_HEARTBEAT_SECONDS must be at most half of GUILD_SCHEDULER_LEASE_SECONDS")
        return self

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("GUILD_DATABASE_URL must start with sqlite:/// or postgresql://")
        return value

    @property
    def is_postgres(self) -> bool:
        url = self.database_url
        return url is not None and url != "" and not url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        if self.database_url and self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return self.data_dir / "guild.sqlite"

    @property
    def should_migrate_on_start(self) -> bool:
        return (not self.is_postgres) if self.migrate_on_start is None else self.migrate_on_start

    def jwt_secret(self) -> str:
        """The configured secret, or one generated once and kept (0600) in the data folder."""
        if self.secret_key:
            return self.secret_key
        return self._kept_secret("secret_key")

    def audit_mac_key(self) -> bytes:
        """The audit HMAC key: ``GUILD_AUDIT_KEY``, or one generated once and kept (0600) in the data folder.

        Separate from the JWT secret, so rotating sign-in tokens never makes the audit log unverifiable."""
        return (self.audit_key or self._kept_secret("audit_key")).encode("utf-8")

    @property
    def audit_checkpoint_path(self) -> Path:
        return self.audit_checkpoint_log or self.data_dir / "audit-checkpoints.log"

    def _kept_secret(self, name: str) -> str:
        """A random secret made once in the data folder: written to a private temporary file, then linked
        into place, so a process starting at the same time never reads a half-written (empty) key."""
        path = self.data_dir / name
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.data_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            value = secrets.token_urlsafe(48)
            with os.fdopen(fd, "w") as fh:
                fh.write(value)
            try:
                os.link(tmp, path)
            except FileExistsError:  # another process made it first: use theirs
                pass
            except OSError:  # a file system without hard links: create it in place
                try:
                    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
                        fh.write(value)
                except FileExistsError:
                    pass
            finally:
                tmp.unlink()
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
