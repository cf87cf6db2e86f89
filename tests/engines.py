"""Which database engine the integration tests run on, and markers for the tests that only hold on one.

The shape of Piccolo's own test suite: the engine is chosen by the Piccolo configuration module
(``PICCOLO_CONF=tests.sqlite_conf`` or ``tests.postgres_conf``), and engine-specific tests say so with
``engines_only(...)`` / ``engines_skip(...)``. Here the switch is ``GUILD_TEST_ENGINE`` (sqlite, the
default, or postgres), which names the configuration module; scripts/test.sh runs the suite once with
each. This module imports no Piccolo and touches no database: unit tests may use it.
"""

from __future__ import annotations

import os

import pytest

ENGINES = ("sqlite", "postgres")
ENGINE = os.environ.get("GUILD_TEST_ENGINE", "sqlite")
if ENGINE not in ENGINES:
    raise RuntimeError(f"GUILD_TEST_ENGINE must be one of {', '.join(ENGINES)}, not {ENGINE!r}")

PICCOLO_CONF = f"tests.{ENGINE}_conf"
"""The Piccolo configuration module of the engine under test (its ``DB`` and ``APP_REGISTRY``)."""


def _known(names: tuple[str, ...]) -> tuple[str, ...]:
    unknown = set(names) - set(ENGINES)
    if unknown or not names:
        raise ValueError(f"engines are {', '.join(ENGINES)}; got {names!r}")
    return names


def engine_is(*names: str) -> bool:
    """True when the engine under test is one of ``names`` (for a branch inside a test)."""
    return ENGINE in _known(names)


def engines_only(*names: str, reason: str) -> pytest.MarkDecorator:
    """Run the test only on these engines; elsewhere it is skipped, saying why."""
    return pytest.mark.skipif(
        not engine_is(*names), reason=f"{' and '.join(names)} only, this run is {ENGINE}: {reason}"
    )


def engines_skip(*names: str, reason: str) -> pytest.MarkDecorator:
    """Skip the test on these engines, saying why; it runs on the others."""
    return pytest.mark.skipif(engine_is(*names), reason=f"not on {ENGINE}: {reason}")
