"""Schemathesis against the running server's own OpenAPI: nothing a client can send gets a 5xx.

A real `guild run` server (uvicorn) is started on a loopback port against this test's database; every
operation gets generated requests, authenticated as a site admin and as a plain user.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def server(users):
    from guild.db import engine, is_sqlite

    await users.org("guild-a")
    admin = await users.user("admin@example.org", ("guild-a", "officer"), admin=True)
    plain = await users.user("plain@example.org", ("guild-a", "member"))
    env = {**os.environ, "GUILD_SCHEDULER_ENABLED": "false", "GUILD_MIGRATE_ON_START": "false", "GUILD_LOG_LEVEL": "WARNING"}
    if is_sqlite():
        env["GUILD_DATABASE_URL"] = f"sqlite:///{engine().path}"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "guild", "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError(proc.stderr.read().decode() if proc.poll() is not None else "server did not start")
        yield {"base": base, "admin": admin, "plain": plain}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_no_request_gets_a_server_error(server):
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{server['base']}/schema/openapi.json")
    failures: list[str] = []
    calls: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:
        @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def exercise(case) -> None:
            for who in ("admin", "plain"):
                response = case.call(base_url=server["base"], headers=server[who], timeout=30)
                calls.append(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} as {who}: {response.status_code} {response.text[:200]}")

        exercise()
    assert failures == []
    assert len(calls) > 200 and any(400 <= c < 500 for c in calls) and any(c < 300 for c in calls)
