"""What every test shares, unit and integration alike: a private data folder and quiet defaults. No database.

The database (which engine, a migrated one per session, a clean one per test) is set up by
tests/integration/conftest.py for the integration tests only; tests/engines.py says which engine.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.engines import ENGINE, PICCOLO_CONF

TMP = Path(tempfile.mkdtemp(prefix="guild-test-"))

os.environ["GUILD_DATA_DIR"] = str(TMP / "data")  # the secret key and PDFs; shared with the processes tests start
os.environ["GUILD_SCHEDULER_ENABLED"] = "false"
os.environ["GUILD_MIGRATE_ON_START"] = "false"
os.environ["GUILD_PDF_WORKERS"] = "1"
os.environ["GUILD_WEBHOOK_PRIVATE_TARGETS"] = "true"  # the tests' receivers listen on 127.0.0.1
os.environ.pop("GUILD_SECRET_KEY", None)
for _name in [n for n in os.environ if n.startswith(("GUILD_SMTP_", "GUILD_MAIL_"))]:
    del os.environ[_name]  # no e-mail to a developer's real SMTP server: tests start their own (mailbox)


def pytest_report_header(config: pytest.Config) -> str:
    return f"guild test engine: {ENGINE} (PICCOLO_CONF={PICCOLO_CONF}, integration tests only; unit tests: none)"
