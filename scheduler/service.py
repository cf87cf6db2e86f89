"""The scheduler process: one APScheduler 3.11 ``AsyncIOScheduler`` firing compliance sweeps.

APScheduler's job store is per process (its documentation: a job store must never be shared
between schedulers), so every scheduler process — the one embedded in each app instance, or
``guild scheduler run`` processes — fires every job. Exactly-once comes from the database instead:
each firing computes its slot (the latest cron fire time <= now) and goes through
:func:`scheduler.runs.run_slot`, whose ``compliance_run`` row per (job, slot) lets one process
run the slot and the others skip it, and lets a crashed run be resumed from its cursor.

Jobs: ``sync`` (every 60 s) re-reads which compacts have a ratified version, and keeps one job
``sweep:<compact slug>`` per such compact on its ``terms.compliance.cron`` (UTC).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import undefined

from guild.settings import Settings, get_settings
from guild.tables import CompactVersion
from scheduler.runs import DEFAULT_STALE_AFTER, Outcome, Work, default_owner, run_slot, slot_for

log = structlog.get_logger("guild.scheduler")

SYNC_JOB_ID = "sync"
WEBHOOK_JOB_ID = "webhooks"
WEBHOOK_SECONDS = 30
AUDIT_CHECKPOINT_JOB_ID = "audit-checkpoint"
SWEEP_PREFIX = "sweep:"
_RATIFIED = "ratified"
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}


def sweep_job_id(compact_slug: str) -> str:
    return f"{SWEEP_PREFIX}{compact_slug}"


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


async def ratified_schedules() -> dict[str, tuple[UUID, str]]:
    """``{job id: (compact id, cron)}`` for every compact with a ratified version in force."""
    rows = (
        await CompactVersion.select(
            CompactVersion.compact.id.as_alias("compact_id"),
            CompactVersion.compact.slug.as_alias("slug"),
            CompactVersion.terms,
            CompactVersion.ratified_at,
        )
        .where(CompactVersion.status == _RATIFIED)
        .order_by(CompactVersion.ratified_at)
        .output(load_json=True)
    )
    schedules: dict[str, tuple[UUID, str]] = {}
    for row in rows:  # ordered by ratification: should two be ratified, the latest wins
        cron = ((row["terms"] or {}).get("compliance") or {}).get("cron")
        if not cron:
            log.error("scheduler.sync.no_cron", compact=row["slug"])
            continue
        schedules[sweep_job_id(row["slug"])] = (row["compact_id"], cron)
    return schedules


class GuildScheduler:
    """APScheduler with an in-memory job store; the database makes each (job, slot) run once.

    ``catch_up``: a sweep job added to this process (start-up, newly ratified compact, changed
    cron) fires once at once for its latest slot <= now. A slot already done anywhere is skipped
    with one query; a slot missed while no scheduler ran, or released by a process that shut
    down mid-sweep, runs (or resumes) then. This is what "misfires after downtime run once" needs
    with a job store that does not survive restarts.
    """

    def __init__(
        self,
        *,
        owner: str | None = None,
        work: Work | None = None,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
        sync_seconds: float = 60,
        catch_up: bool = True,
    ) -> None:
        self.owner = owner or default_owner()
        self.work = work
        self.stale_after = stale_after
        self.sync_seconds = sync_seconds
        self.catch_up = catch_up
        self.scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=dict(JOB_DEFAULTS))  # memory job store
        self._running: set[asyncio.Task] = set()
        self.outcomes: list[tuple[str, datetime, Outcome]] = []  # recent (job, slot, outcome), newest last

    @property
    def running(self) -> bool:
        return self.scheduler.running

    def start(self) -> None:
        """Start on the running event loop, with the periodic ``sync`` job (call :meth:`sync_jobs` too)."""
        self.scheduler.add_job(
            self._sync_job, IntervalTrigger(seconds=self.sync_seconds, timezone=UTC), id=SYNC_JOB_ID,
            name="sync compact sweep jobs", replace_existing=True,
        )
        self.scheduler.add_job(
            self._deliver_webhooks, IntervalTrigger(seconds=WEBHOOK_SECONDS, timezone=UTC), id=WEBHOOK_JOB_ID,
            name="deliver due webhooks", replace_existing=True,
        )
        self.scheduler.add_job(
            self._audit_checkpoint,
            IntervalTrigger(minutes=get_settings().audit_checkpoint_minutes, timezone=UTC),
            id=AUDIT_CHECKPOINT_JOB_ID, name="anchor the audit log (checkpoint)", replace_existing=True,
        )
        self.scheduler.start()
        log.info("scheduler.started", owner=self.owner)

    async def _audit_checkpoint(self) -> None:
        """Checkpoint the audit chain's head. Safe in several processes: one writes per head."""
        from guild.audit import write_checkpoint

        try:
            await write_checkpoint()
        except Exception:  # noqa: BLE001 - the next interval tries again
            log.exception("scheduler.audit_checkpoint.failed")

    async def _deliver_webhooks(self) -> None:
        """Send due webhook deliveries. Safe in several processes: deliveries are claimed with SKIP LOCKED."""
        import httpx

        from guild.webhooks import deliver_due

        try:
            async with httpx.AsyncClient(follow_redirects=False) as client:
                await deliver_due(client)
        except Exception:  # noqa: BLE001 - a failed pass is retried at the next interval
            log.exception("scheduler.webhooks.failed")

    async def shutdown(self, timeout: float = 30.0) -> None:
        """Stop firing; cancel sweeps in progress, which release their runs for another process to resume."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        tasks = [t for t in self._running if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        await asyncio.sleep(0)  # let APScheduler's loop-side shutdown run
        log.info("scheduler.stopped", owner=self.owner, interrupted=len(tasks))

    def sweep_jobs(self) -> dict[str, Job]:
        return {job.id: job for job in self.scheduler.get_jobs() if job.id.startswith(SWEEP_PREFIX)}

    async def sync_jobs(self) -> SyncReport:
        """Make the ``sweep:*`` jobs match the compacts that have a ratified version, and their crons."""
        desired = await ratified_schedules()
        current = self.sweep_jobs()
        report = SyncReport()
        for job_id in sorted(current.keys() - desired.keys()):
            self.scheduler.remove_job(job_id)
            report.removed.append(job_id)
        now = datetime.now(UTC)
        for job_id, (compact_id, cron) in sorted(desired.items()):
            kwargs = {"job_id": job_id, "compact_id": compact_id, "cron": cron}
            job = current.get(job_id)
            if job is not None and job.kwargs == kwargs:
                report.kept.append(job_id)
                continue
            try:
                trigger = CronTrigger.from_crontab(cron, timezone=UTC)
            except ValueError as exc:  # terms are validated on the way in; never let one compact stop the rest
                log.error("scheduler.sync.bad_cron", job_id=job_id, cron=cron, error=str(exc))
                continue
            self.scheduler.add_job(
                self._sweep_job, trigger, id=job_id, name=f"compliance sweep {job_id[len(SWEEP_PREFIX):]}",
                kwargs=kwargs, replace_existing=True, next_run_time=now if self.catch_up else undefined,
            )
            (report.replaced if job is not None else report.added).append(job_id)
        if report.added or report.replaced or report.removed:
            log.info("scheduler.sync", added=report.added, replaced=report.replaced, removed=report.removed)
        return report

    async def _sync_job(self) -> None:
        try:
            await self.sync_jobs()
        except Exception:  # the database may be briefly away: the next sync tries again
            log.exception("scheduler.sync.failed")

    async def _sweep_job(self, job_id: str, compact_id: UUID, cron: str) -> Outcome | None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            slot = slot_for(cron, datetime.now(UTC))
            outcome = await run_slot(job_id, slot, compact_id, self.owner, self.work, self.stale_after)
            self.outcomes = [*self.outcomes[-99:], (job_id, slot, outcome)]
            return outcome
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduler.sweep.error", job_id=job_id)
            return None
        finally:
            if task is not None:
                self._running.discard(task)


async def run_forever(settings: Settings, *, stop: asyncio.Event | None = None, **options: Any) -> None:
    """The ``guild scheduler run`` process: open the database, schedule, run until SIGTERM/SIGINT."""
    from guild import db

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    scheduler = GuildScheduler(**options)
    try:
        await db.startup(settings)
        try:
            scheduler.start()
            report = await scheduler.sync_jobs()
            log.info("scheduler.ready", owner=scheduler.owner, jobs=report.added)
            await stop.wait()
        finally:
            await scheduler.shutdown()
            await db.shutdown()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
