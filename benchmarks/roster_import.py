"""Roster import benchmark: a CSV and a JSON roster of N rows through the import path, vs the driver's floor.

    .venv/bin/python benchmarks/roster_import.py [--rows 5000] [--runs 3] [--engine sqlite|postgres|both]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--json PATH]

Each engine runs in a child process on a database of its own (a temporary SQLite file; a database
``guild_bench_import_<random>`` created on the server of ``--pg-url`` and dropped at the end). The roster
has distinct people across departments and levels, and one row in ten names a mentor of the same file.

Prints, per engine and format (best of ``--runs``, each on a new production):
  - parse:   seconds and rows/s of reading and validating the body (``parse_rows``: every row, every field)
  - write:   seconds and rows/s of ``import_engagements`` (e-mails and mentors resolved and checked, rows
             written, mentors linked, one audit event, all in one transaction)
  - total:   parse + write, rows/s (goal: >= 50,000 rows/s)
  - floor:   rows/s of the driver alone writing the same rows in one transaction (COPY on PostgreSQL,
             ``executemany`` on SQLite), no validation; and total / floor

Disclosure imports (``POST .../disclosures/import``) share the parsing, but a file holds at most one row
per asset category (10), so they have no bulk figure here.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

from _common import engine_name, row, write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEPARTMENTS = ["camera", "editing", "sound", "lighting", "art", "production"]
LEVELS = ["apprentice", "trainee", "junior", "journey", "senior", "head"]


def roster(n: int) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    journey_by_department: dict[str, str] = {}
    for i in range(n):
        department = DEPARTMENTS[i % len(DEPARTMENTS)]
        level = LEVELS[(i // len(DEPARTMENTS)) % len(LEVELS)]
        row = {
            "person_name": f"Person {i:06d}",
            "email": "",
            "department": department,
            "role": "Crew",
            "level": level,
            "rate_minor_per_week": str(60_000 + (i % 50) * 1_000),
            "currency": "EUR",
            "start_date": "2027-03-01",
            "end_date": "2027-05-28",
            "mentor_person_name": "",
        }
        if level in ("journey", "senior", "head"):
            journey_by_department.setdefault(department, row["person_name"])
        elif i % 10 == 0 and department in journey_by_department:
            row["mentor_person_name"] = journey_by_department[department]
        rows.append(row)
    return rows


def as_csv(rows: list[dict[str, str]], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def as_json(rows: list[dict[str, str]]) -> bytes:
    typed = [
        {
            k: (int(v) if k == "rate_minor_per_week" else v)
            for k, v in r.items()
            if v != "" or k not in ("email", "mentor_person_name")
        }
        for r in rows
    ]
    return json.dumps(typed).encode()


async def child(n: int, runs: int) -> dict[str, object]:
    from guild.domain.principal import Principal, Role
    from guild.infra import db
    from guild.infra.db import write_tx
    from guild.infra.settings import get_settings
    from guild.infra.tables import Engagement, Organization, Production, User
    from guild.productions import service
    from guild.productions.imports import parse_rows
    from guild.productions.schemas import ENGAGEMENT_COLUMNS, EngagementImportRow

    await db.startup(get_settings().model_copy(update={"migrate_on_start": True}))
    now = datetime.now(UTC)
    org_id, user_id = uuid4(), uuid4()
    async with write_tx():
        await Organization.insert(
            Organization(id=org_id, slug="bench-co", name="Bench Co", kind="production_company", created_at=now)
        )
        await User.insert(
            User(id=user_id, email="producer@bench.example", name="Producer", password_hash="x", created_at=now)
        )
    principal = Principal(
        id=user_id,
        email="producer@bench.example",
        name="Producer",
        is_admin=False,
        roles={"bench-co": frozenset({Role.producer})},
        org_ids={"bench-co": org_id},
    )

    async def new_production() -> object:
        pid = uuid4()
        async with write_tx():
            await Production.insert(
                Production(
                    id=pid,
                    company=org_id,
                    title=f"Bench {pid}",
                    budget_minor=500_000_000,
                    currency="EUR",
                    start_date=date(2027, 3, 1),
                    end_date=date(2027, 5, 28),
                    status="pre_production",
                    created_at=now,
                )
            )
        return pid

    rows = roster(n)
    bodies = {"csv": (as_csv(rows, ENGAGEMENT_COLUMNS), "text/csv"), "json": (as_json(rows), "application/json")}
    result: dict[str, object] = {}
    for name, (body, media) in bodies.items():
        best: tuple[float, float] | None = None
        for _ in range(runs):
            pid = await new_production()
            t0 = time.perf_counter()
            parsed = parse_rows(body, media, EngagementImportRow, ENGAGEMENT_COLUMNS)
            t1 = time.perf_counter()
            written = await service.import_engagements(principal, pid, parsed)  # type: ignore[arg-type]
            t2 = time.perf_counter()
            assert written == n
            if best is None or (t2 - t0) < sum(best):
                best = (t1 - t0, t2 - t1)
        assert best is not None
        result[name] = best

    # the driver's floor: the same rows, typed, written in one transaction without any validation
    columns = [
        Engagement.id,
        Engagement.production,
        Engagement.person_name,
        Engagement.department,
        Engagement.role,
        Engagement.level,
        Engagement.rate_minor_per_week,
        Engagement.currency,
        Engagement.start_date,
        Engagement.end_date,
        Engagement.created_at,
    ]
    floor_best = None
    for _ in range(runs):
        pid = await new_production()
        values = [
            (
                uuid4(),
                pid,
                r["person_name"],
                r["department"],
                r["role"],
                r["level"],
                int(r["rate_minor_per_week"]),
                r["currency"],
                date(2027, 3, 1),
                date(2027, 5, 28),
                now,
            )
            for r in rows
        ]
        t0 = time.perf_counter()
        async with write_tx():
            await db.copy_many(Engagement, columns, values)
        elapsed = time.perf_counter() - t0
        floor_best = elapsed if floor_best is None else min(floor_best, elapsed)
    result["floor"] = floor_best
    await db.shutdown()
    return result


def run_child(engine: str, n: int, runs: int, pg_url: str) -> dict[str, object]:
    env = dict(os.environ)
    folder = tempfile.mkdtemp(prefix="guild-bench-import-")
    env["GUILD_DATA_DIR"] = folder
    env["GUILD_SCHEDULER_ENABLED"] = "false"
    dbname = None
    if engine == "sqlite":
        env["GUILD_DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite"
    else:
        dbname = f"guild_bench_import_{uuid4().hex[:8]}"
        subprocess.run(["psql", pg_url, "-qc", f'CREATE DATABASE "{dbname}"'], check=True)
        env["GUILD_DATABASE_URL"] = pg_url.rsplit("/", 1)[0] + "/" + dbname
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--rows", str(n), "--runs", str(runs)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"{engine} run failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
    finally:
        if dbname:
            subprocess.run(["psql", pg_url, "-qc", f'DROP DATABASE IF EXISTS "{dbname}"'], check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--pg-url", default=os.environ.get("GUILD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--json", metavar="PATH", help="write the result rows there as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.rows, args.runs))))
        return
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    n = args.rows
    print(f"roster import, {n} rows, best of {args.runs} (goal: total >= 50,000 rows/s)")
    print(
        f"{'engine':<9} {'format':<6} {'parse s':>8} {'rows/s':>9} {'write s':>8} {'rows/s':>9} {'total rows/s':>13} {'floor rows/s':>13} {'total/floor':>12}"
    )
    rows: list[dict[str, object]] = []
    for engine in engines:
        result = run_child(engine, n, args.runs, args.pg_url)
        floor = n / float(result["floor"])  # type: ignore[arg-type]
        for fmt in ("csv", "json"):
            parse, write = result[fmt]  # type: ignore[misc]
            total = n / (parse + write)
            print(
                f"{engine:<9} {fmt:<6} {parse:>8.3f} {n / parse:>9,.0f} {write:>8.3f} {n / write:>9,.0f} "
                f"{total:>13,.0f} {floor:>13,.0f} {total / floor:>12.2f}"
            )
            name = engine_name(engine)
            rows.append(
                row(
                    "imports",
                    f"{fmt.upper()} roster import, {n:,} rows",
                    name,
                    f"{total:,.0f} rows/s",
                    "≥ 50,000 rows/s",
                    total >= 50_000,
                )
            )
            rows.append(
                row("imports", f"{fmt.upper()} roster import / driver floor", name, f"{total / floor:.2f}×", "-", True)
            )
        rows.append(row("imports", f"driver floor, {n:,} rows", engine_name(engine), f"{floor:,.0f} rows/s", "-", True))
    write_json(args.json, rows)


if __name__ == "__main__":
    main()
