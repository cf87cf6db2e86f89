"""What several benchmark scripts share: ports, waiting for a server, wrk, small HTTP calls, a demo server,
process memory, and the ``--json`` result rows the coordinator's ``make bench`` table is built from.

Standard library only (the scripts run with the project's virtualenv, but this module imports nothing of
guild), so that a benchmark's helper processes stay light.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PRODUCER = ("producer.blueharbor@demo.guild.example", "demo-password-2026")
DEFAULT_PG_URL = os.environ.get("GUILD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port(first: int | None = None, last: int | None = None) -> int:
    """A free TCP port on 127.0.0.1: the OS's choice, or the first free one in ``first..last``."""
    if first is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    for port in range(first, (last or first + 99) + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {first}..{last}")


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


def wrk(url: str, seconds: int, connections: int, token: str | None = None) -> tuple[float, float]:
    """``wrk -t2 -c<connections> -d<seconds>s --latency``: (requests/s, p99 in ms); any non-2xx answer ends the run."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} non-2xx responses")
    return rps, float(p99.group(1)) * scale


def post_json(url: str, body: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def get_json(url: str, token: str) -> object:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def token(base: str, email: str, password: str) -> str:
    return str(post_json(base + "/api/v1/auth/token", {"email": email, "password": password})["access_token"])


# --- a demo database and a server on it --------------------------------------------------------------


@contextlib.contextmanager
def demo_database(engine: str, pg_url: str, prefix: str) -> Iterator[dict[str, str]]:
    """The environment of a fresh, migrated database with the demo data: a temporary SQLite file, or a
    database ``<prefix>_<random>`` on the server of ``pg_url`` (dropped at the end)."""
    folder = tempfile.mkdtemp(prefix=f"{prefix.replace('_', '-')}-")
    env = {**os.environ, "GUILD_DATA_DIR": folder, "GUILD_SCHEDULER_ENABLED": "false", "GUILD_LOG_LEVEL": "WARNING"}
    dbname = None
    if engine == "sqlite":
        env["GUILD_DATABASE_URL"] = f"sqlite:///{folder}/guild.sqlite"
    else:
        dbname = f"{prefix}_{uuid4().hex[:8]}"
        subprocess.run(["psql", pg_url, "-qc", f'CREATE DATABASE "{dbname}"'], check=True)
        env["GUILD_DATABASE_URL"] = pg_url.rsplit("/", 1)[0] + "/" + dbname
    try:
        subprocess.run([str(BIN / "guild"), "db", "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([str(BIN / "guild"), "demo"], env=env, check=True, capture_output=True)
        yield env
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if dbname:
            subprocess.run(["psql", pg_url, "-qc", f'DROP DATABASE IF EXISTS "{dbname}"'], check=False)


@contextlib.contextmanager
def guild_server(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``guild run`` on ``env``'s database (one process, no embedded scheduler), answering on ``port``."""
    proc = subprocess.Popen(
        [str(BIN / "guild"), "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health/live")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# --- processes ---------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (Linux ``/proc``)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_mb(pid: int) -> float:
    """Resident set size of one process in MiB (0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def nice_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[16])
    except OSError:
        return None


# --- results -----------------------------------------------------------------------------------------


def row(benchmark: str, figure: str, engine: str, value: str, goal: str, met: bool) -> dict[str, Any]:
    """One result row of ``--json``; ``engine`` is ``sqlite``, ``postgresql`` or ``-``."""
    return {"benchmark": benchmark, "figure": figure, "engine": engine, "value": value, "goal": goal, "met": met}


def write_json(path: str | None, rows: list[dict[str, Any]]) -> None:
    if path:
        Path(path).write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")


def engine_name(engine: str) -> str:
    """The ``engine`` of a result row: ``postgres`` (the scripts' option) is ``postgresql`` there."""
    return "postgresql" if engine == "postgres" else engine
