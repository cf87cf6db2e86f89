"""Authenticated reads vs a bare Litestar app doing one raw-driver primary-key select of the same row.

    .venv/bin/python benchmarks/reads.py [--engine sqlite|postgres|both] [--seconds 10] [--connections 32]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

For each engine: a fresh database (a temporary SQLite file; a database ``guild_bench_reads_<random>`` on
the server of ``--pg-url``, dropped at the end) with the demo data, ``guild run`` on it (one process, no
embedded scheduler), and beside it, in the same run, a bare Litestar app (this file, ``--bare``) whose one
route selects the same production by primary key with the raw driver (``sqlite3`` with one connection
for the process; an ``asyncpg`` pool). ``wrk -t2 -c<connections> -d<seconds>s`` loads each in turn.

Prints requests/s and p99 latency, with a producer's bearer token, of ``GET /api/v1/productions/{id}``,
``GET /api/v1/me``, ``GET /api/v1/contracts/{id}`` (a contract's metadata), ``GET
/api/v1/compacts/{slug}/versions/1`` (a 150-field terms document) and ``GET
/api/v1/productions/{id}/engagements`` (a roster of 50, imported first), and of the bare select; each guild
figure as a share of the bare one (goal: >= 50%). ``--json PATH`` also writes the rows for ``make bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from uuid import uuid4

from _common import free_port, get_json, post_json, row, wait_for, write_json, wrk

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PRODUCER = ("producer.blueharbor@demo.guild.example", "demo-password-2026")
COMPACT = "ai-and-apprenticeship-2027"


def bare_app():  # type: ignore[no-untyped-def]
    """The baseline: Litestar, one route, one primary-key select through the raw driver."""
    from litestar import Litestar, get

    url = os.environ["BENCH_DATABASE_URL"]
    if url.startswith("sqlite:"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), check_same_thread=False)

        @get("/p/{pid:str}", sync_to_thread=False)
        def production(pid: str) -> dict[str, object]:
            row = conn.execute(
                "SELECT id, title, budget_minor, currency FROM production WHERE id = ?", (pid,)
            ).fetchone()
            return {"id": row[0], "title": row[1], "budget_minor": row[2], "currency": row[3]}

        return Litestar([production])

    import asyncpg

    pool: list[asyncpg.Pool] = []

    async def start() -> None:
        pool.append(await asyncpg.create_pool(url, min_size=2, max_size=10))

    @get("/p/{pid:str}")
    async def production_pg(pid: str) -> dict[str, object]:
        row = await pool[0].fetchrow(
            "SELECT id, title, budget_minor, currency FROM production WHERE id = $1::uuid", pid
        )
        return {
            "id": str(row["id"]),
            "title": row["title"],
            "budget_minor": row["budget_minor"],
            "currency": row["currency"],
        }

    return Litestar([production_pg], on_startup=[start])


def post(url: str, token: str, body: object) -> dict[str, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def fifty_engagements(base: str, token: str, company: str) -> str:
    """A production of the producer's company with a roster of 50 (the list read)."""
    production = post(
        base + "/api/v1/productions",
        token,
        {"company": company, "title": "Read benchmark", "budget_minor": 250_000_000, "currency": "EUR"},
    )
    departments = ["camera", "editing", "sound", "art", "production"]
    rows = [
        {
            "person_name": f"Crew Member {i:02d}",
            "department": departments[i % len(departments)],
            "role": "crew",
            "level": "journey",
            "rate_minor_per_week": 180_000 + i * 100,
            "currency": "EUR",
            "start_date": "2027-03-01",
            "end_date": "2027-05-28",
        }
        for i in range(50)
    ]
    post(f"{base}/api/v1/productions/{production['id']}/engagements/import", token, rows)
    return str(production["id"])


def run_engine(engine: str, seconds: int, connections: int, pg_url: str) -> list[tuple[str, float, float, float]]:
    folder = tempfile.mkdtemp(prefix="guild-bench-reads-")
    env = {**os.environ, "GUILD_DATA_DIR": folder, "GUILD_SCHEDULER_ENABLED": "false", "GUILD_LOG_LEVEL": "WARNING"}
    dbname = None
    if engine == "sqlite":
        env["GUILD_DATABASE_URL"] = f"sqlite:///{folder}/guild.sqlite"
    else:
        dbname = f"guild_bench_reads_{uuid4().hex[:8]}"
        subprocess.run(["psql", pg_url, "-qc", f'CREATE DATABASE "{dbname}"'], check=True)
        env["GUILD_DATABASE_URL"] = pg_url.rsplit("/", 1)[0] + "/" + dbname
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([str(BIN / "guild"), "db", "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([str(BIN / "guild"), "demo"], env=env, check=True, capture_output=True)
        guild_port, bare_port = free_port(), free_port()
        procs.append(
            subprocess.Popen(
                [str(BIN / "guild"), "run", "--host", "127.0.0.1", "--port", str(guild_port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        bare_env = {**env, "BENCH_DATABASE_URL": env["GUILD_DATABASE_URL"]}
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "uvicorn"),
                    "--factory",
                    "reads:bare_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(bare_port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                    "--app-dir",
                    str(ROOT / "benchmarks"),
                ],
                env=bare_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        base = f"http://127.0.0.1:{guild_port}"
        wait_for(base + "/health/live")
        token = str(
            post_json(base + "/api/v1/auth/token", {"email": PRODUCER[0], "password": PRODUCER[1]})["access_token"]
        )
        productions: list[dict[str, object]] = get_json(base + "/api/v1/productions", token)  # type: ignore[assignment]
        pid = productions[0]["id"]
        contract = next(
            c
            for p in productions
            for c in get_json(f"{base}/api/v1/productions/{p['id']}/contracts", token)  # type: ignore[attr-defined]
        )
        roster = fifty_engagements(base, token, str(productions[0]["company"]))
        wait_for(f"http://127.0.0.1:{bare_port}/p/{pid}")
        bare = wrk(f"http://127.0.0.1:{bare_port}/p/{pid}", seconds, connections)
        rows = [("bare raw-driver select", bare[0], bare[1], 1.0)]
        for name, path in [
            ("GET production", f"/api/v1/productions/{pid}"),
            ("GET me", "/api/v1/me"),
            ("GET contract", f"/api/v1/contracts/{contract['id']}"),
            ("GET compact version", f"/api/v1/compacts/{COMPACT}/versions/1"),
            ("GET 50 engagements", f"/api/v1/productions/{roster}/engagements"),
        ]:
            rps, p99 = wrk(base + path, seconds, connections, token)
            rows.append((name, rps, p99, rps / bare[0]))
        return rows
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
        if dbname:
            subprocess.run(["psql", pg_url, "-qc", f'DROP DATABASE IF EXISTS "{dbname}"'], check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--pg-url", default=os.environ.get("GUILD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--json", help="also write the result rows here (make bench's table)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    print(
        f"authenticated reads vs a bare raw-driver select, wrk -t2 -c{args.connections} -d{args.seconds}s (goal: >= 50%)"
    )
    print(f"{'engine':<9} {'endpoint':<24} {'req/s':>9} {'p99 ms':>8} {'of bare':>8}")
    results = []
    for engine in engines:
        for name, rps, p99, share in run_engine(engine, args.seconds, args.connections, args.pg_url):
            print(f"{engine:<9} {name:<24} {rps:>9,.0f} {p99:>8.1f} {share:>8.0%}")
            if name != "bare raw-driver select":
                results.append(
                    row(
                        "reads",
                        f"{name} / bare select",
                        "sqlite" if engine == "sqlite" else "postgresql",
                        f"{share:.0%} ({rps:,.0f} req/s)",
                        "≥ 50%",
                        share >= 0.5,
                    )
                )
    write_json(args.json, results)


if __name__ == "__main__":
    main()
