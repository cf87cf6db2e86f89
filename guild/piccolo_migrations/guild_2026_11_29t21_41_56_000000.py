"""One obligation, one finding (raw SQL, portable to SQLite).

Until now a production bound to several compacts had one open finding per version for the same rule
and subject. From here:

- every finding cites its own compact version (``finding_citation``, backfilled; one row per finding
  and version: the unique index ``finding_citation_one``);
- open duplicates of one (production, rule, subject) are merged into the one first seen (earliest
  ``first_seen_at``, then id): it cites every version the others were under, is due at the earliest of
  their due dates and escalated when the earliest of them was; the others are resolved (kept as history,
  never deleted: findings are not) and audited as ``finding.merged`` naming the one they were merged
  into. No webhook is sent: no check ran. The next check brings the kept one's evidence, severity and
  primary version up to date;
- the partial unique index ``finding_one_open`` (production, version, rule, subject) gives way to
  ``finding_one_obligation`` (production, rule, subject) over open findings.

Backwards drops the new indexes and restores ``finding_one_open`` (merged rows stay resolved).
"""

from datetime import UTC, datetime
from uuid import uuid4

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T21:41:56:000000"
VERSION = "1.38.0"
DESCRIPTION = "one open finding per obligation, citing every compact version"

OLD_INDEX = "finding_one_open"
OLD_TARGET = "finding (production, version, rule, subject) WHERE status = 'open'"
INDEX = "finding_one_obligation"
TARGET = "finding (production, rule, subject) WHERE status = 'open'"
CITATION_INDEX = "finding_citation_one"
CITATION_TARGET = "finding_citation (finding, version)"
_CHUNK = 200  # rows per INSERT: 4 parameters each, well inside SQLite's limit


class _Raw(Table):
    pass


async def _cite(rows: list[tuple]) -> None:
    """Insert citations (finding, compact, version)."""
    for i in range(0, len(rows), _CHUNK):
        chunk = rows[i : i + _CHUNK]
        values = ", ".join("({}, {}, {}, {})" for _ in chunk)
        args = [value for finding, compact, version in chunk for value in (uuid4(), finding, compact, version)]
        await _Raw.raw(f"INSERT INTO finding_citation (id, finding, compact, version) VALUES {values}", *args)


async def backfill_citations() -> int:
    """Every finding without a citation cites its own compact version. Returns how many were cited."""
    rows = await _Raw.raw(
        "SELECT f.id, f.compact, f.version FROM finding f"
        " WHERE NOT EXISTS (SELECT 1 FROM finding_citation c WHERE c.finding = f.id) ORDER BY f.id"
    )
    await _cite([(r["id"], r["compact"], r["version"]) for r in rows])
    return len(rows)


async def merge_open_duplicates() -> int:
    """Merge open findings of one (production, rule, subject) into the first seen. Returns how many were
    merged into another (and resolved)."""
    from guild.infra import audit

    groups = await _Raw.raw(
        "SELECT production, rule, subject FROM finding WHERE status = 'open'"
        " GROUP BY production, rule, subject HAVING count(*) > 1 ORDER BY production, rule, subject"
    )
    now = datetime.now(UTC)
    merged = 0
    for g in groups:
        rows = await _Raw.raw(
            "SELECT id, due_at, escalated_at FROM finding"
            " WHERE status = 'open' AND production = {} AND rule = {} AND subject = {} ORDER BY first_seen_at, id",
            g["production"],
            g["rule"],
            g["subject"],
        )
        kept, others = rows[0], rows[1:]
        cited = await _Raw.raw(
            "SELECT DISTINCT c.compact, c.version FROM finding_citation c JOIN finding f ON f.id = c.finding"
            " WHERE f.status = 'open' AND f.production = {} AND f.rule = {} AND f.subject = {}"
            " AND NOT EXISTS (SELECT 1 FROM finding_citation k WHERE k.finding = {} AND k.version = c.version)",
            g["production"],
            g["rule"],
            g["subject"],
            kept["id"],
        )
        await _cite([(kept["id"], c["compact"], c["version"]) for c in cited])
        due = min(r["due_at"] for r in rows)
        escalated = [r["escalated_at"] for r in rows if r["escalated_at"] is not None]
        await _Raw.raw(
            "UPDATE finding SET due_at = {}, escalated_at = {} WHERE id = {}",
            due,
            min(escalated) if escalated else None,
            kept["id"],
        )
        for r in others:
            await _Raw.raw(
                "UPDATE finding SET status = 'resolved', resolved_at = {} WHERE id = {}",
                now,
                r["id"],
            )
            await audit.record(
                None,
                "finding.merged",
                "finding",
                r["id"],
                {"into": str(kept["id"]), "reason": "one open finding per obligation (migration)"},
            )
        merged += len(others)
    return merged


async def create_indexes() -> None:
    await _Raw.raw(f"DROP INDEX {OLD_INDEX}")
    await _Raw.raw(f"CREATE UNIQUE INDEX {INDEX} ON {TARGET}")


async def drop_indexes() -> None:
    await _Raw.raw(f"DROP INDEX {INDEX}")
    await _Raw.raw(f"DROP INDEX {CITATION_INDEX}")
    await _Raw.raw(f"CREATE UNIQUE INDEX {OLD_INDEX} ON {OLD_TARGET}")


async def create_citation_index() -> None:
    await _Raw.raw(f"CREATE UNIQUE INDEX {CITATION_INDEX} ON {CITATION_TARGET}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="guild", description=DESCRIPTION)
    manager.add_raw(create_citation_index)
    manager.add_raw(backfill_citations)
    manager.add_raw(merge_open_duplicates)
    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
