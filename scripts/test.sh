#!/usr/bin/env bash
# The whole test suite, once on SQLite and once on PostgreSQL.
# PostgreSQL: GUILD_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres); the tests
# create and drop their own database there. No server reachable: the PostgreSQL run is skipped with
# a clear line, except under CI=true where that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
PG_URL=${GUILD_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
export GUILD_TEST_PG_URL=$PG_URL

echo "== guild tests on SQLite =="
GUILD_TEST_ENGINE=sqlite "$BIN/pytest" "$@"

if "$BIN/python" - "$PG_URL" <<'PY'
import asyncio, sys
import asyncpg
async def probe():
    conn = await asyncpg.connect(sys.argv[1], timeout=5)
    await conn.close()
try:
    asyncio.run(probe())
except Exception as exc:
    print(f"PostgreSQL not reachable at {sys.argv[1]}: {exc}")
    sys.exit(1)
PY
then
  echo "== guild tests on PostgreSQL ($PG_URL) =="
  GUILD_TEST_ENGINE=postgres "$BIN/pytest" "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "FAILED: CI requires the PostgreSQL run and no PostgreSQL server is reachable at $PG_URL"
  exit 1
else
  echo "SKIPPED: the PostgreSQL run (no server at $PG_URL; set GUILD_TEST_PG_URL to point at one)"
fi
