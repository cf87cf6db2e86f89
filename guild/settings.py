"""Application settings: one pydantic-settings class, prefix ``GUILD_``."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
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
        default=64, ge=1, description="PDF documents waiting or rendering, all tenants together; more get 503 + Retry-After."
    )
    pdf_tenant_queue_max: int = Field(
        default=8, ge=1,
        description="PDF documents one tenant (a production company, a compact) may have waiting or rendering; "
        "more get 503 + Retry-After. Tenants are served round-robin.",
    )
    pdf_timeout_seconds: float = Field(
        default=30, gt=0, le=600, description="A render that takes longer is stopped (its worker killed): 503."
    )
    pdf_worker_memory_mb: int = Field(
        default=1024, ge=0, description="Address-space cap of each PDF worker process (0: none); beyond it a render fails."
    )
    pg_pool_max: int = Field(default=10, ge=1, le=200)
    webhook_private_targets: bool = Field(
        default=False,
        description="Allow webhook URLs whose host is loopback or another non-public address (local development, "
        "receivers on an internal network). Off: such URLs are refused when registered and when delivered.",
    )

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
        return bool(self.database_url) and not self.database_url.startswith("sqlite:")

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
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first: use theirs
                return path.read_text().strip()
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
