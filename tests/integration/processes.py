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
from typing import IO
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
    out: IO[bytes] | None = None  # what it wrote to stdout and stderr so far (files)
    err: IO[bytes] | None = None

    def lines(self) -> list[str]:
        """Every line it wrote so far, stdout's then stderr's."""
        found: list[str] = []
        for stream in (self.out, self.err):
            if stream is not None:
                stream.flush()
                with open(stream.name, "rb") as fh:
                    found += fh.read().decode(errors="replace").splitlines()
        return found


@contextlib.contextmanager
def guild_server(*args: str, **env: str) -> Iterator[Server]:
    """A ``guild run`` (``args`` after it) on this test's database (scheduler off, no migration, warnings only;
    ``env`` over that), once it answers /health/live. On exit it and every process it started are killed, whatever
    the test did to them; a server that does not start fails with the end of its log."""
    name, value = "GUILD_TEST_SERVER_MARK", uuid4().hex
    defaults = {"GUILD_SCHEDULER_ENABLED": "false", "GUILD_MIGRATE_ON_START": "false", "GUILD_LOG_LEVEL": "WARNING"}
    environment = guild_env(**{**defaults, **env})
    environment[name] = value
    port = free_port()
    # files, not pipes: a server that logs much must never block on them
    out, log = tempfile.NamedTemporaryFile(suffix=".out"), tempfile.NamedTemporaryFile(suffix=".err")
    proc = subprocess.Popen(
        [sys.executable, "-m", "guild", "run", "--host", "127.0.0.1", "--port", str(port), *args],
        cwd=ROOT,
        env=environment,
        stdout=out,
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
        yield Server(proc, base, f"{name}={value}", out, log)
    finally:
        _end(proc, f"{name}={value}")
        out.close()
        log.close()


def _end(proc: subprocess.Popen[bytes], marker: str) -> None:
    """Kill ``proc`` and every process it started (found by ``marker`` in their environment)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)
    for pid in marked_processes(marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def guild_scheduler(*args: str, ready: str = "scheduler.ready", **env: str) -> Iterator[Server]:
    """A ``guild scheduler run`` (``args`` after it) on this test's database, once it logged ``ready``;
    killed on exit like :func:`guild_server`'s server (``base`` is empty: it serves no HTTP)."""
    name, value = "GUILD_TEST_SERVER_MARK", uuid4().hex
    environment = guild_env(**{"GUILD_MIGRATE_ON_START": "false", **env})
    environment[name] = value
    out, err = tempfile.NamedTemporaryFile(suffix=".out"), tempfile.NamedTemporaryFile(suffix=".err")
    proc = subprocess.Popen(
        [sys.executable, "-m", "guild", "scheduler", "run", *args], cwd=ROOT, env=environment, stdout=out, stderr=err
    )
    process = Server(proc, "", f"{name}={value}", out, err)
    try:
        wait_for_line(process, ready)
        yield process
    finally:
        _end(proc, f"{name}={value}")
        out.close()
        err.close()


def wait_for_line(process: Server, text: str, count: int = 1, timeout: float = 60) -> list[str]:
    """Wait until ``count`` lines of the process's output contain ``text``; those lines."""
    for _ in range(int(timeout / 0.1)):
        found = [line for line in process.lines() if text in line]
        if len(found) >= count:
            return found
        if process.proc.poll() is not None:
            break
        time.sleep(0.1)
    tail = "\n".join(process.lines()[-40:])
    raise AssertionError(f"{count} line(s) with {text!r} not seen (exit code {process.proc.poll()}):\n{tail}")
