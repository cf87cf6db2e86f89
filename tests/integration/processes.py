"""``guild`` processes run as a user runs them, on the running test's database: their environment, and a
real ``guild run`` server (uvicorn on a free loopback port) that leaves nothing running behind it.

Such a process reads its database from GUILD_DATABASE_URL through the application's own Piccolo
configuration (``PICCOLO_CONF=guild.piccolo_conf``), not the tests' (tests/engines.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx

from tests.integration.database import DATABASE

ROOT = Path(__file__).resolve().parents[2]


def guild_env(**overrides: str) -> dict[str, str]:
    """The environment of a ``guild`` process on this test's database (SQLite: the test's own copy), with
    ``overrides`` over it."""
    return {
        **os.environ,
        "PICCOLO_CONF": "guild.piccolo_conf",
        "GUILD_DATABASE_URL": DATABASE.current_url(),
        **overrides,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def marked_processes(marker: str) -> set[int]:
    """Live processes whose environment carries ``marker`` (a server and everything it started, even
    after they were reparented). Empty where there is no /proc."""
    needle = marker.encode()
    found = set()
    for entry in os.listdir("/proc") if Path("/proc/self/environ").exists() else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle in fh.read():
                    found.add(int(entry))
        except (PermissionError, FileNotFoundError, ProcessLookupError):
            continue
    return found


@dataclass(frozen=True)
class Server:
    proc: subprocess.Popen[bytes]
    base: str  # http://127.0.0.1:<port>
    marker: str  # NAME=value in the environment of the server and of every process it starts


@contextlib.contextmanager
def guild_server(**env: str) -> Iterator[Server]:
    """A ``guild run`` on this test's database (scheduler off, no migration, warnings only; ``env`` over
    that), once it answers /health/live. On exit it and every process it started are killed, whatever
    the test did to them; a server that does not start fails with the end of its log."""
    name, value = "GUILD_TEST_SERVER_MARK", uuid4().hex
    environment = guild_env(
        GUILD_SCHEDULER_ENABLED="false", GUILD_MIGRATE_ON_START="false", GUILD_LOG_LEVEL="WARNING", **env
    )
    environment[name] = value
    port = free_port()
    log = tempfile.TemporaryFile()  # not a pipe: a server that logs much must never block on it
    proc = subprocess.Popen(
        [sys.executable, "-m", "guild", "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read().decode(errors='replace')[-4000:]}")
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        yield Server(proc, base, f"{name}={value}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for pid in marked_processes(f"{name}={value}"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        log.close()
