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


def pytest_report_header(config: pytest.Config) -> str:
    return f"guild test engine: {ENGINE} (PICCOLO_CONF={PICCOLO_CONF}, integration tests only; unit tests: none)"


FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <cachedir>{cache}</cachedir>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
</fontconfig>
"""


@pytest.fixture
def private_font_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests whose PDF workers are starved of memory on purpose: fontconfig in such a worker reads no
    font and, where the system cache is writable (as root), stores that empty list in /var/cache/fontconfig,
    so every later PDF on the machine renders without fonts (or crashes). Processes started from here on
    write their font cache to a folder of their own first."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(FONTCONFIG.format(cache=tmp_path / "fontconfig"))
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
