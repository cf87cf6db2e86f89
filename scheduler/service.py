"""The scheduler process: one APScheduler 3.11 ``AsyncIOScheduler`` firing compliance sweeps.

APScheduler's job store is per process (its documentation: a job store must never be shared
between schedulers), so every scheduler process — the one embedded in each app instance, or
``guild scheduler run`` processes — fires every job. Exactly-once comes from the database instead:
each firing computes its slot (the latest cron fire time <= now) and goes through
:func:`scheduler.runs.run_slot`, whose ``compliance_run`` row per (job, slot) lets one process
run the slot and the others skip it, and lets a crashed run be resumed from its cursor.

Jobs: ``sync`` (every 60 s) re-reads which compacts have a ratified version, and keeps one job
``sweep:<compact slug>`` per such compact on its ``terms.compliance.cron`` (UTC). ``reaper`` (every
half lease) finds running runs whose owner's lease lapsed — it was killed, or froze — and resumes
them here from their cursor, whatever the cron schedule; runs that cannot be resumed (on-demand
checks) are closed as failed. Whichever process gets there first takes the run; the others skip it.
``webhooks`` (every 30 s) and ``mail`` (every 20 s) deliver their outboxes; each claims its rows with
SKIP LOCKED (PostgreSQL) or the single write lock (SQLite), so several processes never send one twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from uuid import UUID

import httpx
import structlog
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import undefined

from guild.compacts.terms import load_terms
from guild.domain.statuses import VersionStatus
from guild.infra import db
from guild.infra.audit import write_checkpoint
from guild.infra.settings import Settings, get_settings
from guild.infra.tables import CompactVersion
from guild.mail import deliver_due as deliver_mail
from guild.webhooks import deliver_due
from scheduler.runs import (
    LeaseTiming,
    Outcome,
    Work,
    close_orphan,
    default_owner,
    lapsed_runs,
    run_slot,
    slot_for,
)

log = structlog.get_logger("guild.scheduler")

SYNC_JOB_ID = "sync"
WEBHOOK_JOB_ID = "webhooks"
WEBHOOK_SECONDS = 30
MAIL_JOB_ID = "mail"
MAIL_SECONDS = 20
REAPER_JOB_ID = "reaper"
AUDIT_CHECKPOINT_JOB_ID = "audit-checkpoint"
SWEEP_PREFIX = "sweep:"
_RATIFIED = VersionStatus.ratified.value
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}


def sweep_job_id(compact_slug: str) -> str:
    return f"{SWEEP_PREFIX}{compact_slug}"


@dataclass
class ReapReport:
    resumed: list[tuple[str, datetime]] = field(default_factory=list)  # (job, slot) handed to a resumption task
    closed: list[UUID] = field(default_factory=list)  # unresumable runs closed as failed


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
    )
    schedules: dict[str, tuple[UUID, str]] = {}
    for row in rows:  # ordered by ratification: should two be ratified, the latest wins
        try:
            cron = load_terms(row["terms"]).compliance.cron
        except ValueError:  # never let one compact's unreadable terms stop the others' sweeps
            log.error("scheduler.sync.no_cron", compact=row["slug"])
            continue
        schedules[sweep_job_id(row["slug"])] = (row["compact_id"], cron)
    return schedules


class GuildScheduler:
    """APScheduler with an in-memory job store; the database makes each (job, slot) run once.

    ``catch_up``: a sweep job added to this process (start-up, newly ratified compact, changed
    cron) fires once at once for its latest slot <= now. A slot already done anywhere is skipped
    with one query; a slot missed while no scheduler ran runs then. This is what "misfires after
    downtime run once" needs with a job store that does not survive restarts.

    ``timing``: the lease of the runs this process claims, its heartbeat, the reaper's interval
    (half the lease) and the take-over limit; default: from the GUILD_SCHEDULER_* settings. A run
    killed or released mid-sweep anywhere is resumed by the first reaper that sees its lease lapsed.
    """

    def __init__(
        self,
        *,
        owner: str | None = None,
        work: Work | None = None,
        timing: LeaseTiming | None = None,
        sync_seconds: float = 60,
        catch_up: bool = True,
    ) -> None:
        self.owner = owner or default_owner()
        self.work = work
        self.timing = timing or LeaseTiming.from_settings(get_settings())
        self.sync_seconds = sync_seconds
        self.catch_up = catch_up
        self.scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=dict(JOB_DEFAULTS))  # memory job store
        self._running: set[asyncio.Task] = set()
        self._here: Counter[tuple[str, datetime]] = Counter()  # (job, slot) being run in this process
        self.outcomes: list[tuple[str, datetime, Outcome]] = []  # recent (job, slot, outcome), newest last

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def start(self) -> None:
        """Start on the running event loop, with the periodic ``sync``, ``webhooks``, ``mail`` and ``reaper`` jobs
        (call :meth:`sync_jobs` too)."""
        self.scheduler.add_job(
            self._sync_job,
            IntervalTrigger(seconds=self.sync_seconds, timezone=UTC),
            id=SYNC_JOB_ID,
            name="sync compact sweep jobs",
            replace_existing=True,
        )
        self.scheduler.add_job(
            self._deliver_webhooks,
            IntervalTrigger(seconds=WEBHOOK_SECONDS, timezone=UTC),
            id=WEBHOOK_JOB_ID,
            name="deliver due webhooks",
            replace_existing=True,
        )
        self.scheduler.add_job(
            self._deliver_mail,
            IntervalTrigger(seconds=MAIL_SECONDS, timezone=UTC),
            id=MAIL_JOB_ID,
            name="deliver due e-mail",
            replace_existing=True,
        )
        self.scheduler.add_job(
            self._reap_job,
            IntervalTrigger(seconds=self.timing.reap_every.total_seconds(), timezone=UTC),
            id=REAPER_JOB_ID,
            name="resume or close runs whose lease lapsed",
            replace_existing=True,
            next_run_time=datetime.now(UTC),  # at start too: a process that starts after a crash resumes at once
        )
        self.scheduler.add_job(
            self._audit_checkpoint,
            IntervalTrigger(minutes=get_settings().audit_checkpoint_minutes, timezone=UTC),
            id=AUDIT_CHECKPOINT_JOB_ID,
            name="anchor the audit log (checkpoint)",
            replace_existing=True,
        )
        self.scheduler.start()
        log.info("scheduler.started", owner=self.owner)
        if not get_settings().smtp_configured:
            structlog.get_logger("guild.mail").warning(
                "mail.log_only",
                detail="no SMTP server configured (GUILD_SMTP_HOST is unset): e-mail such as invitations and "
                "password resets is written to this log, links included, and not sent",
            )

    async def _audit_checkpoint(self) -> None:
        """Checkpoint the audit chain's head. Safe in several processes: one writes per head."""

        try:
            await write_checkpoint()
        except Exception:
            log.exception("scheduler.audit_checkpoint.failed")

    async def _deliver_webhooks(self) -> None:
        """Send due webhook deliveries. Safe in several processes: deliveries are claimed with SKIP LOCKED."""

        try:
            async with httpx.AsyncClient(follow_redirects=False) as client:
                await deliver_due(client)
        except Exception:
            log.exception("scheduler.webhooks.failed")

    async def _deliver_mail(self) -> None:
        """Send due e-mail (or log it when no SMTP is configured). Safe in several processes: SKIP LOCKED."""

        try:
            await deliver_mail()
        except Exception:
            log.exception("scheduler.mail.failed")

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
                self._sweep_job,
                trigger,
                id=job_id,
                name=f"compliance sweep {job_id[len(SWEEP_PREFIX) :]}",
                kwargs=kwargs,
                replace_existing=True,
                next_run_time=now if self.catch_up else undefined,
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
        key = (job_id, slot_for(cron, datetime.now(UTC)))
        self._here[key] += 1
        try:
            return await self._run_slot(job_id, key[1], compact_id)
        finally:
            self._left(key)

    def _left(self, key: tuple[str, datetime]) -> None:
        self._here[key] -= 1
        if self._here[key] <= 0:
            del self._here[key]

    def _left_task(self, key: tuple[str, datetime], _task: asyncio.Task) -> None:
        self._left(key)

    async def _run_slot(
        self, job_id: str, slot: datetime, compact_id: UUID | None, now: datetime | None = None
    ) -> Outcome | None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            outcome = await run_slot(job_id, slot, compact_id, self.owner, self.work, self.timing, now=now)
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

    async def reap(self, now: datetime | None = None) -> ReapReport:
        """Resume (in tasks of their own) the scheduled runs nobody holds; close the unresumable ones.

        Each resumption goes through :func:`run_slot`, whose conditional take-over lets exactly one
        process have the run, and which closes a run abandoned too often as failed. Slots this process
        is running already are left alone.
        """
        report = ReapReport()
        for orphan in await lapsed_runs(now, self.timing):
            if orphan.job_id is None or orphan.slot is None:  # an on-demand check: nothing to resume it with
                if await close_orphan(orphan, now, self.timing):
                    report.closed.append(orphan.run_id)
                continue
            key = (orphan.job_id, orphan.slot)
            if key in self._here:
                continue
            self._here[key] += 1
            task = asyncio.create_task(self._run_slot(orphan.job_id, orphan.slot, orphan.compact_id, now))
            self._running.add(task)  # kept until done: shutdown cancels it, which releases the run
            task.add_done_callback(self._running.discard)
            task.add_done_callback(partial(self._left_task, key))
            report.resumed.append(key)
        if report.resumed or report.closed:
            log.warning(
                "scheduler.reaper",
                resumed=[f"{j}@{s.isoformat()}" for j, s in report.resumed],
                closed=[str(r) for r in report.closed],
            )
        return report

    async def _reap_job(self) -> None:
        try:
            await self.reap()
        except Exception:  # the database may be briefly away: the next pass tries again
            log.exception("scheduler.reaper.failed")


async def run_forever(settings: Settings, *, stop: asyncio.Event | None = None, **options: Any) -> None:
    """The ``guild scheduler run`` process: open the database, schedule, run until SIGTERM/SIGINT."""

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    options.setdefault("timing", LeaseTiming.from_settings(settings))
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
        for handled_sig in handled:
            loop.remove_signal_handler(handled_sig)
