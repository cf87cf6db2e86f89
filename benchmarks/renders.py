"""Renders never slow reads: read p99 idle vs while two PDFs render continuously, and memory over 1,000 renders.

    .venv/bin/python benchmarks/renders.py [--engine sqlite|postgres|both] [--seconds 10] [--connections 4]
        [--renders 1000] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--json PATH]

For each engine: a fresh database with the demo data (a temporary SQLite file; a database
``guild_bench_renders_<random>`` on the server of ``--pg-url``, dropped at the end) and ``guild run`` on it
(one process with its PDF workers, default settings, no embedded scheduler), on a port in 18700–18799.

1. Warm-up: a few renders (the PDF workers start on the first one) and reads.
2. Idle: ``wrk -t2 -c<connections> -d<seconds>s --latency`` on ``GET /api/v1/productions/{id}`` (a
   producer's bearer token): its p99.
3. Loaded: two clients (threads here) request ``GET /api/v1/compacts/writers-source-material/versions/1/pdf``
   back to back, each request a real render (a draft's document is rendered on every request: drafts change,
   proposed and ratified versions are rendered once and served from storage); the same wrk run alongside:
   its p99, and the ratio loaded / idle (goal: <= 2x).
4. The two clients go on until ``--renders`` documents were rendered; the resident memory of the server
   process plus its PDF worker processes (``/proc/<pid>/status`` VmRSS) is read after the warm-up (``0``)
   and at 1/4, 1/2 and all of the renders (goal: within +-10% of the first reading). The workers' count
   includes multiprocessing's resource tracker process.

It also prints the CPU priority (nice) of the server and of its PDF workers, read from ``/proc``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from _common import (
    DEFAULT_PG_URL,
    PRODUCER,
    children,
    cmdline,
    demo_database,
    engine_name,
    free_port,
    get_json,
    guild_server,
    nice_of,
    row,
    rss_mb,
    token,
    write_json,
    wrk,
)

BENCHMARK = "renders"
PORTS = (18700, 18799)
DRAFT_OFFICER = ("officer.writers@demo.guild.example", "demo-password-2026")
DRAFT_PDF = "/api/v1/compacts/writers-source-material/versions/1/pdf"


@dataclass
class Renders:
    """Two clients requesting draft PDFs back to back until told to stop."""

    url: str
    token: str
    done: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def one(self) -> None:
        request = urllib.request.Request(self.url, headers={"Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                body = response.read()
            if not body.startswith(b"%PDF"):
                raise RuntimeError("not a PDF")
            with self.lock:
                self.done += 1
        except urllib.error.HTTPError as exc:
            with self.lock:
                if exc.code == 503:
                    self.refused += 1
                else:
                    self.errors.append(f"HTTP {exc.code}")
            time.sleep(0.2)
        except Exception as exc:  # counted, shown at the end
            with self.lock:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.2)

    def _loop(self) -> None:
        while not self.stop.is_set():
            self.one()

    def start(self, clients: int = 2) -> None:
        for i in range(clients):
            thread = threading.Thread(target=self._loop, name=f"render-client-{i}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(180)

    def wait_until(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.done < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {self.done} of {count} renders in {timeout:.0f} s; errors: {self.errors[:3]}")
            if len(self.errors) > 20:
                raise SystemExit(f"render requests fail: {self.errors[:3]}")
            time.sleep(0.05)


@dataclass
class Memory:
    renders: int
    server_mb: float
    workers_mb: float
    workers: int

    @property
    def total_mb(self) -> float:
        return self.server_mb + self.workers_mb


def memory(server_pid: int, renders: int) -> Memory:
    workers = children(server_pid)
    return Memory(renders, rss_mb(server_pid), sum(rss_mb(p) for p in workers), len(workers))


@dataclass
class Result:
    engine: str
    idle_p99: float
    idle_rps: float
    loaded_p99: float
    loaded_rps: float
    renders_during_wrk: int
    render_seconds: float
    server_nice: int | None
    worker_nice: list[int | None]
    memory: list[Memory]
    refused: int

    @property
    def ratio(self) -> float:
        return self.loaded_p99 / self.idle_p99


def run_engine(engine: str, seconds: int, connections: int, renders: int, pg_url: str) -> Result:
    with demo_database(engine, pg_url, "guild_bench_renders") as env:
        port = free_port(*PORTS)
        with guild_server(env, port) as server:
            base = f"http://127.0.0.1:{port}"
            reader = token(base, *PRODUCER)
            pid = get_json(base + "/api/v1/productions", reader)[0]["id"]  # type: ignore[index]
            read_url = f"{base}/api/v1/productions/{pid}"
            load = Renders(base + DRAFT_PDF, token(base, *DRAFT_OFFICER))
            for _ in range(4):  # the workers start on the first render
                load.one()
            if load.done < 4:
                raise SystemExit(f"warm-up renders failed: {load.errors[:3]}")
            wrk(read_url, 2, connections, reader)  # warm the read path too
            idle_rps, idle_p99 = wrk(read_url, seconds, connections, reader)
            worker_pids = [p for p in children(server.pid) if "spawn_main" in cmdline(p)]  # not the resource tracker
            niceness = (nice_of(server.pid), [nice_of(p) for p in worker_pids])
            samples = [memory(server.pid, 0)]
            base_count = load.done
            load.start(2)
            try:
                load.wait_until(base_count + 2, 120)  # both clients are rendering
                before = load.done
                loaded_rps, loaded_p99 = wrk(read_url, seconds, connections, reader)
                during = load.done - before
                started, counted = time.monotonic(), load.done
                for mark in (renders // 4, renders // 2, renders):
                    load.wait_until(base_count + mark, 3600)
                    samples.append(memory(server.pid, mark))
                per_render = (time.monotonic() - started) / max(1, load.done - counted)
            finally:
                load.finish()
            if load.errors:
                raise SystemExit(f"{len(load.errors)} render requests failed: {load.errors[:3]}")
            return Result(
                engine=engine,
                idle_p99=idle_p99,
                idle_rps=idle_rps,
                loaded_p99=loaded_p99,
                loaded_rps=loaded_rps,
                renders_during_wrk=during,
                render_seconds=per_render,
                server_nice=niceness[0],
                worker_nice=niceness[1],
                memory=samples,
                refused=load.refused,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--renders", type=int, default=1000)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--json", metavar="PATH", help="write the result rows there as JSON")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # each engine's figures as they come
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    rows = []
    print(
        f"read p99 (GET production, wrk -t2 -c{args.connections} -d{args.seconds}s), idle vs while two clients "
        f"render draft compact PDFs back to back (goal: <= 2x); RSS of server + PDF workers over "
        f"{args.renders:,} renders (goal: within +-10%)"
    )
    for engine in engines:
        r = run_engine(engine, args.seconds, args.connections, args.renders, args.pg_url)
        name = engine_name(engine)
        print(f"\n{name}: server nice {r.server_nice}, PDF workers nice {r.worker_nice}")
        print(
            f"  idle    p99 {r.idle_p99:7.1f} ms  {r.idle_rps:8,.0f} req/s\n"
            f"  loaded  p99 {r.loaded_p99:7.1f} ms  {r.loaded_rps:8,.0f} req/s  "
            f"({r.renders_during_wrk} renders meanwhile, {r.render_seconds:.2f} s per render with two clients)\n"
            f"  ratio   {r.ratio:.2f}x  (goal <= 2x)"
        )
        first = r.memory[0].total_mb
        print(f"  {'renders':>8} {'server MB':>10} {'workers MB':>11} {'workers':>8} {'total MB':>9} {'vs 0':>7}")
        for m in r.memory:
            print(
                f"  {m.renders:>8,} {m.server_mb:>10.1f} {m.workers_mb:>11.1f} {m.workers:>8} {m.total_mb:>9.1f} "
                f"{m.total_mb / first - 1:>+7.1%}"
            )
        if r.refused:
            print(f"  ({r.refused} render requests were refused with 503 and retried)")
        drift = max(abs(m.total_mb / first - 1) for m in r.memory)
        rows += [
            row(BENCHMARK, "read p99 idle", name, f"{r.idle_p99:.1f} ms", "-", True),
            row(BENCHMARK, "read p99 while 2 PDFs render", name, f"{r.loaded_p99:.1f} ms", "-", True),
            row(BENCHMARK, "read p99 rendering / idle", name, f"{r.ratio:.2f}×", "≤ 2×", r.ratio <= 2.0),
            row(
                BENCHMARK,
                f"RSS server + PDF workers over {args.renders:,} renders, largest change",
                name,
                f"{drift:.1%}",
                "≤ ±10%",
                drift <= 0.10,
            ),
        ]
    write_json(args.json, rows)


if __name__ == "__main__":
    main()
