"""Unit tests run without a database: no engine is configured, nothing is migrated or connected."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any engine lookup (``guild.infra.db.engine()``, a table query) fails loudly instead of finding one."""
    monkeypatch.setenv("PICCOLO_CONF", "tests.unit.no_database")
