"""``make bench``: every benchmark in turn, then one table of their figures, ratios and goals.

    .venv/bin/python benchmarks/table.py [--only reads,renders,imports,contracts,sweep] [--out bench.md]
    .venv/bin/python benchmarks/table.py --use reads.json sweep.json ...   # format earlier results only

Each script runs as ``make bench-<name>`` would, with ``--json`` into a temporary folder; their rows
(``benchmarks/_common.row``) become one Markdown table, printed and, with ``--out``, written to a file
(the README's "Latest figures" is such a table). A script that fails is reported as a row, and the run
goes on. Also prints the machine (cores, CPU model, load average before the run), since every figure
depends on it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

SCRIPTS: dict[str, list[str]] = {
    "reads": ["benchmarks/reads.py"],
    "renders": ["benchmarks/renders.py"],
    "imports": ["benchmarks/roster_import.py"],
    "contracts": ["benchmarks/contract_issuance.py"],
    "sweep": ["benchmarks/compliance_sweep.py", "--productions", "10000"],
}


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores, {model or platform.processor()}, Python {platform.python_version()}, load {load:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default=",".join(SCRIPTS), help="comma-separated: " + ", ".join(SCRIPTS))
    parser.add_argument("--out", help="also write the table (Markdown) here")
    parser.add_argument(
        "--use", nargs="+", metavar="JSON", help="only format these result files (each script's --json), run nothing"
    )
    args = parser.parse_args()
    chosen = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in SCRIPTS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}")
    header = f"machine: {machine()}"
    print(header, flush=True)
    rows: list[dict[str, object]] = []
    for path in args.use or []:
        rows.extend(json.loads(Path(path).read_text()))
    with tempfile.TemporaryDirectory(prefix="guild-bench-") as folder:
        for name in [] if args.use else chosen:
            out = Path(folder) / f"{name}.json"
            print(f"\n== {name} ==", flush=True)
            started = time.monotonic()
            done = subprocess.run([PY, *SCRIPTS[name], "--json", str(out)], cwd=ROOT, check=False)
            took = time.monotonic() - started
            if done.returncode != 0 or not out.exists():
                rows.append(
                    {
                        "benchmark": name,
                        "figure": "(script failed)",
                        "engine": "-",
                        "value": f"exit {done.returncode}",
                        "goal": "-",
                        "met": False,
                    }
                )
                continue
            rows.extend(json.loads(out.read_text()))
            print(f"({name}: {took:.0f} s)", flush=True)
    lines = [
        header,
        "",
        "| benchmark | figure | engine | value | goal | met |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r['benchmark']} | {r['figure']} | {r['engine']} | {r['value']} | {r['goal']} | "
            f"{'yes' if r['met'] else '**no**'} |"
            for r in rows
        ),
    ]
    table = "\n".join(lines)
    print("\n" + table)
    if args.out:
        Path(args.out).write_text(table + "\n")


if __name__ == "__main__":
    main()
