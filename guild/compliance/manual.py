"""On-demand checks from the CLI (`guild check run`): one run row, batches with progress."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

from guild.compliance.service import check_batch
from guild.domain.errors import NotFound
from guild.domain.statuses import RunStatus, RunTrigger
from guild.infra.db import read_tx, write_tx
from guild.infra.tables import Compact, ComplianceRun, ProductionBinding

BATCH = 200


async def productions_to_check(compact_slug: str | None) -> tuple[UUID | None, list[UUID]]:
    async with read_tx():
        compact_id = None
        query = ProductionBinding.select(ProductionBinding.production)
        if compact_slug:
            row = await Compact.select(Compact.id).where(Compact.slug == compact_slug).first()
            if row is None:
                raise NotFound(f"compact {compact_slug!r} not found")
            compact_id = row["id"]
            query = query.where(ProductionBinding.compact == compact_id)
        rows = await query
    return compact_id, sorted({r["production"] for r in rows}, key=str)


async def run_check(compact_slug: str | None, progress: Callable[[int, int], None]) -> dict[str, int]:
    compact_id, ids = await productions_to_check(compact_slug)
    run_id, now = uuid4(), datetime.now(UTC)
    async with write_tx():
        await ComplianceRun.insert(
            ComplianceRun(
                id=run_id,
                trigger=RunTrigger.on_demand.value,
                compact=compact_id,
                status=RunStatus.running.value,
                owner="cli",
                started_at=now,
                heartbeat_at=now,
            )
        )
    totals = {"productions": 0, "opened": 0, "resolved": 0, "escalated": 0, "still_open": 0}
    try:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            stats = await check_batch(chunk, run_id, now)
            async with write_tx():  # alive: the scheduler's reaper closes runs silent for too long
                await ComplianceRun.update({ComplianceRun.heartbeat_at: datetime.now(UTC)}).where(
                    ComplianceRun.id == run_id
                )
            for key in totals:
                totals[key] += getattr(stats, key)
            progress(len(chunk), len(ids))
        status, error = RunStatus.completed.value, ""
    except Exception as exc:
        status, error = RunStatus.failed.value, f"{type(exc).__name__}: {exc}"
        raise
    finally:
        async with write_tx():
            await ComplianceRun.update(
                {
                    ComplianceRun.status: status,
                    ComplianceRun.error: error,
                    ComplianceRun.finished_at: datetime.now(UTC),
                    ComplianceRun.productions_checked: totals["productions"],
                    ComplianceRun.findings_opened: totals["opened"],
                    ComplianceRun.findings_resolved: totals["resolved"],
                }
            ).where(ComplianceRun.id == run_id)
    return totals
