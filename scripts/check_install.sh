#!/usr/bin/env bash
# A regular (non-editable) `pip install .` into a fresh venv, run from an empty folder far from the
# source tree: migrate, load the demo (which issues contracts, rendering their PDFs from the installed
# templates), take one contract PDF out of the database and verify it with `guild contracts verify`.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PY=${PYTHON:-python3}
echo "== non-editable install check in $WORK =="
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --upgrade pip
"$WORK/venv/bin/pip" install --quiet "$SRC"
cd "$WORK"
export GUILD_DATA_DIR="$WORK/data" GUILD_SCHEDULER_ENABLED=false
"$WORK/venv/bin/guild" db migrate
"$WORK/venv/bin/guild" demo
"$WORK/venv/bin/python" - "$WORK/data/guild.sqlite" "$WORK/contract.pdf" <<'PY'
import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute("SELECT pdf FROM contract WHERE pdf IS NOT NULL LIMIT 1").fetchone()
if row is None:
    sys.exit("the demo issued no contract PDF")
open(sys.argv[2], "wb").write(row[0])
print(f"contract PDF: {len(row[0])} bytes")
PY
"$WORK/venv/bin/guild" contracts verify "$WORK/contract.pdf"
"$WORK/venv/bin/python" - <<'PY'
# the web pages' templates, stylesheet and the offline Swagger UI files are installed with the package
from pathlib import Path
import templates
root = Path(templates.__file__).parent
needed = ["pages/base.html", "pages/signin.html", "static/site.css", "static/vendor/swagger-ui/swagger-ui-bundle.js"]
missing = [n for n in needed if not (root / n).is_file()]
if missing:
    raise SystemExit(f"not installed: {missing}")
print("page templates and static files installed")
PY
echo "non-editable install renders and verifies a contract PDF"
