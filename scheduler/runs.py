"""Exactly-once execution of a scheduled (job, slot): claim, lease, resume, finish.

The scheduler's mechanics, no APScheduler and no rules. Every process that fires a job calls
:func:`run_slot`; the ``compliance_run`` row for (job_id, slot) decides which one does the work. This
module decides when to claim, take over, renew, give up or close; the run rows themselves are written
by :mod:`guild.compliance.runs`, and the work is a compliance service (``sweep_compact``):

- the row is made by the first claimant (unique index ``compliance_run_job_slot``; on PostgreSQL
  claims of one job are also serialised by a transaction-level advisory lock, on SQLite by the
  IMMEDIATE write transaction), with a lease of :attr:`LeaseTiming.lease` for its owner;
- ``completed`` or ``failed`` → the slot is done, everyone else skips it;
- ``running`` under a live lease → the owner is on it, skip. The owner renews the lease with a
  heartbeat (every :attr:`LeaseTiming.heartbeat`, well inside the lease) and with every batch it commits;
- ``running`` with a lapsed lease (the owner died or froze), or handed back by a process that shut
  down → take it over with one conditional UPDATE (exactly one taker however many try) and resume
  after ``cursor``, the last item whose results were committed together with that cursor. The
  take-over bumps ``lease_epoch``; every write of the owner (batch commit, renewal, final status) is
  conditional on the epoch it claimed, so an owner that lost its lease has its next write refused
  and stops: two processes never both commit a batch of one run;
- a run taken over from dead owners :attr:`LeaseTiming.max_takeovers` times (a batch that kills
  every process that tries it) is closed as ``failed`` with an error saying so.

:func:`lapsed_runs` lists running runs nobody holds; every scheduler process looks for them
periodically (``scheduler.service``, the ``reaper`` job) and resumes them, or closes those that
cannot be resumed (on-demand checks), so no run stays ``running`` without a live owner.

Leases compare the owner's clock (the expiry it wrote) with the claimant's: keep the machines'
clocks in sync (NTP) to well within the lease length.

Slots are the latest cron fire time at or before "now" (:func:`slot_for`), so every process that
fires for the same schedule, on time or late (coalesced after downtime), names the same slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import socket
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import structlog
from apscheduler.triggers.cron import CronTrigger

from guild.compliance import runs as compliance_runs
from guild.compliance.runs import COMPLETED, FAILED, RUNNING, RunLease, RunState
from guild.compliance.service import sweep_compact
from guild.infra.db import is_unique_violation, write_tx, xact_lock
from guild.infra.metrics import SWEEP_SECONDS

if TYPE_CHECKING:
    from guild.infra.settings import Settings

log = structlog.get_logger("guild.scheduler")


# work(compact_id, run_id, resume_from, now, *, lease): e.g. guild.compliance.service.sweep_compact.
# It commits results and advances ComplianceRun.cursor in the same transaction, batch by batch, each
# commit conditional on ``lease.held()`` (and renewing it) so that a run taken over stops its old owner.
Work = Callable[..., Coroutine[Any, Any, Any]]
Outcome = Literal["ran", "resumed", "skipped", "failed"]


@dataclass(frozen=True)
class LeaseTiming:
    """How long claims last and how often their owners renew them (GUILD_SCHEDULER_* settings)."""

    lease: timedelta = timedelta(seconds=60)
    heartbeat_every: timedelta | None = None  # default: a third of the lease
    max_takeovers: int = 3
    # Runs with no lease at all (on-demand checks; rows from before leases existed) count as abandoned
    # this long after their last heartbeat.
    unleased_after: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        if self.lease <= timedelta(0):
            raise ValueError("the lease must be positive")
        if not timedelta(0) < self.heartbeat <= self.lease / 2:
            raise ValueError("the heartbeat interval must be positive and at most half of the lease")
        if self.max_takeovers < 0:
            raise ValueError("max_takeovers must be >= 0")

    @property
    def heartbeat(self) -> timedelta:
        return self.heartbeat_every if self.heartbeat_every is not None else self.lease / 3

    @property
    def reap_every(self) -> timedelta:
        """How often each process looks for lapsed runs: a lapsed run waits at most this long for a taker."""
        return self.lease / 2

    @classmethod
    def from_settings(cls, settings: Settings) -> LeaseTiming:
        beat = settings.scheduler_heartbeat_seconds
        return cls(
            lease=timedelta(seconds=settings.scheduler_lease_seconds),
            heartbeat_every=None if beat is None else timedelta(seconds=beat),
            max_takeovers=settings.scheduler_max_takeovers,
        )


DEFAULT_TIMING = LeaseTiming()


def default_owner() -> str:
    """hostname:pid, plus a short random tag (containers often all run as pid 1)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: pass an aware (UTC) datetime")
    return at.astimezone(UTC)


def normalize_slot(slot: datetime) -> datetime:
    """The canonical form stored in ``compliance_run.slot``: UTC, whole minute (crontab resolution)."""
    return _utc(slot).replace(second=0, microsecond=0)


def lock_key(job_id: str) -> int:
    """A stable signed 64-bit advisory-lock key for a job (``hash()`` is salted per process)."""
    digest = hashlib.sha256(f"guild:compliance_run:{job_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# --- slots -----------------------------------------------------------------------------------

_MAX_LOOKBACK = timedelta(days=366 * 9)  # "0 0 29 2 *" fires at most 8 years apart


def latest_fire_at_or_before(cron: str, now: datetime) -> datetime:
    """The latest fire time of a 5-field crontab (UTC) that is <= ``now``; exactly ``now`` counts.

    APScheduler only computes fire times forwards (first fire >= t), so: widen a look-back window
    until it contains a fire time, then binary-search (in whole minutes: crontab fires on second 0)
    the latest start t whose first fire is still <= now. That fire is the answer: O(log) trigger
    calls whatever the cron, including rare ones such as "0 0 29 2 *".
    """
    trigger = CronTrigger.from_crontab(cron, timezone=UTC)
    now = _utc(now).replace(second=0, microsecond=0)  # a fire at T <= now iff T <= now floored to the minute

    def first_fire_from(minutes_back: int) -> datetime | None:
        fire = trigger.get_next_fire_time(None, now - timedelta(minutes=minutes_back))
        return None if fire is None else fire.astimezone(UTC)

    def fits(minutes_back: int) -> bool:
        fire = first_fire_from(minutes_back)
        return fire is not None and fire <= now

    if fits(0):
        return now
    lo, hi = 0, 1  # invariant: lo does not fit (its first fire is after now), hi is the candidate
    while not fits(hi):
        lo, hi = hi, hi * 2
        if timedelta(minutes=hi) > _MAX_LOOKBACK:
            raise ValueError(f"cron {cron!r} has no fire time in the {_MAX_LOOKBACK.days} days before {now}")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            hi = mid
        else:
            lo = mid
    return first_fire_from(hi)  # type: ignore[return-value]


def slot_for(cron: str, now: datetime) -> datetime:
    """The slot a job firing at ``now`` works on: the latest fire time <= now, in UTC, to the minute.

    A job running a little late (or coalesced after downtime) still names the slot it was due for;
    every process computes the same value for the same schedule.
    """
    return normalize_slot(latest_fire_at_or_before(cron, now))


# --- claiming --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    run_id: UUID
    resume_from: str  # the cursor: "" = from the beginning
    resumed: bool  # True when a crashed or released run was taken over
    now: datetime
    lease: RunLease


def _gave_up_error(run: RunState) -> str:
    return (
        f"abandoned {run.takeovers + 1} times: every process that worked on this run stopped without finishing "
        f"or handing it back (last owner {run.owner!r}, cursor {run.cursor!r}). A production after the cursor "
        "may be crashing the sweep; the run is closed instead of being taken over again, and the next slot checks again."
    )


async def claim(
    job_id: str,
    slot: datetime,
    compact_id: UUID | None,
    owner: str,
    now: datetime,
    timing: LeaseTiming = DEFAULT_TIMING,
) -> Claim | None:
    """Make this process the owner of (job_id, slot), or return None when it is not to run here.

    None: already completed or failed, or running under a live lease, or another process won the
    insert or take-over race, or the run has been abandoned too often and is closed as failed here.
    A Claim with ``resumed=True`` takes over a run whose lease lapsed (or that was released on
    shutdown): the work resumes after ``resume_from``.
    """
    slot = normalize_slot(slot)
    now = _utc(now)
    try:
        async with write_tx():
            await xact_lock(lock_key(job_id))  # PostgreSQL: per job, released at commit/rollback
            run = await compliance_runs.scheduled_run(job_id, slot)
            if run is None:
                lease = await compliance_runs.start_scheduled(job_id, slot, compact_id, owner, now, timing.lease)
                return Claim(lease.run_id, "", False, now, lease)
            if run.status != RUNNING:
                return None  # completed, or failed (a failed slot is done; the next slot checks again)
            return await _take_over(run, owner, now, timing, job_id=job_id, slot=slot.isoformat())
    except Exception as exc:
        if is_unique_violation(exc):  # another process inserted the row first
            return None
        raise


async def _take_over(run: RunState, owner: str, now: datetime, timing: LeaseTiming, **context: Any) -> Claim | None:
    """Take a running run from a dead (lapsed) or departed (released) owner: one conditional UPDATE.

    Conditional on the run being exactly as read (same owner, same epoch) and on its lease being
    lapsed at ``now`` when it has an owner, so a renewal or another take-over committed in between
    makes this a no-op: of any number of concurrent takers, exactly one gets the run.
    """
    released = run.owner == ""  # handed back on shutdown: not a crash, does not count against the run
    unleased_after = None if released else timing.unleased_after
    if not released and run.takeovers >= timing.max_takeovers:
        if await compliance_runs.close_unheld(run, _gave_up_error(run), now, unleased_after):
            log.error(
                "scheduler.run.gave_up",
                run_id=str(run.run_id),
                previous_owner=run.owner,
                takeovers=run.takeovers,
                cursor=run.cursor,
                **context,
            )
        return None
    taken = await compliance_runs.take_over(
        run, owner, now, timing.lease, counts=not released, unleased_after=unleased_after
    )
    if taken is None:
        return None  # the owner renewed its lease after all, or another process took the run first
    lease, cursor = taken
    log.warning(
        "scheduler.run.taken_over",
        run_id=str(run.run_id),
        previous_owner=run.owner or None,
        released=released,
        lease_expired_at=str(run.lease_expires_at),
        cursor=cursor,
        epoch=lease.epoch,
        takeovers=run.takeovers + (0 if released else 1),
        **context,
    )
    return Claim(run.run_id, cursor, True, now, lease)


async def renew(lease: RunLease, now: datetime | None = None) -> bool:
    """Extend the lease (heartbeat). False: the run is not ours any more (taken over, or finished)."""
    return await compliance_runs.renew(lease, _utc(now or datetime.now(UTC)))


async def finish(lease: RunLease, status: str, error: str = "") -> bool:
    """Close our running run as ``completed`` or ``failed``. False when it was not ours to close any more."""
    return await compliance_runs.finish_held(lease, status, error)


async def release(lease: RunLease) -> bool:
    """Give our running run back (clean shutdown): its lease ends now, any live process resumes it at once."""
    return await compliance_runs.release(lease)


# --- runs nobody holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class Orphan:
    """A running run whose lease lapsed (or that was released): resumable when it is a scheduled slot
    (``job_id`` and ``slot`` set), to be closed when it is an on-demand check."""

    run_id: UUID
    job_id: str | None
    slot: datetime | None
    compact_id: UUID | None
    owner: str
    lease_epoch: int
    run: RunState


async def lapsed_runs(
    now: datetime | None = None, timing: LeaseTiming = DEFAULT_TIMING, limit: int = 100
) -> list[Orphan]:
    """Running runs nobody holds at ``now``, the longest abandoned first."""
    now = _utc(now or datetime.now(UTC))
    return [
        Orphan(r.run_id, r.job_id, r.slot, r.compact_id, r.owner, r.lease_epoch, r)
        for r in await compliance_runs.unheld_runs(now, timing.unleased_after, limit)
    ]


async def close_orphan(orphan: Orphan, now: datetime | None = None, timing: LeaseTiming = DEFAULT_TIMING) -> bool:
    """Close a run that cannot be resumed (an on-demand check whose process died) as ``failed``.

    Conditional like a take-over (same owner and epoch, still lapsed): False when its owner came back
    or another process closed it first. An on-demand check commits its results in one transaction, so
    nothing of an abandoned one was kept; the caller may check again.
    """
    now = _utc(now or datetime.now(UTC))
    error = (
        f"abandoned: the process running this check ({orphan.owner or 'unknown'}) stopped before finishing it; "
        "nothing of it was kept, check again"
    )
    async with write_tx():
        closed = await compliance_runs.close_unheld(orphan.run, error, now, timing.unleased_after)
    if closed:
        log.warning("scheduler.run.closed_abandoned", run_id=str(orphan.run_id), owner=orphan.owner)
    return closed


# --- running a slot --------------------------------------------------------------------------


def _default_work() -> Work:
    return sweep_compact


async def _keep_alive(lease: RunLease, every: float, worker: asyncio.Task) -> None:
    """Renew the lease while the work runs; if the run was taken over (we looked dead), stop the work."""
    while True:
        await asyncio.sleep(every)
        try:
            ours = await renew(lease)
        except Exception as exc:  # noqa: BLE001  # a database blip: try again next beat (the lease outlasts a few)
            log.warning("scheduler.run.heartbeat_failed", run_id=str(lease.run_id), error=repr(exc))
            continue
        if not ours:
            log.error("scheduler.run.lost_lease", run_id=str(lease.run_id), owner=lease.owner)
            worker.cancel()
            return


async def _stop(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(BaseException):
        await task


async def _help(helper: Work, job_id: str, slot: datetime, compact_id: UUID | None, owner: str, bound: Any) -> None:
    """Another process owns the running run of (job, slot): take batches of it too, until none is left to
    claim (each batch claims its productions with ``SKIP LOCKED``; a production is checked once per run).
    The owner finishes the run; a failure here is logged, and the owner or a later run covers the rest."""
    run = await compliance_runs.scheduled_run(job_id, slot)
    if run is None or run.status != RUNNING or run.owner in ("", owner):
        return
    try:
        stats = await helper(compact_id, run.run_id, run.cursor, datetime.now(UTC))
    except Exception as exc:  # noqa: BLE001  # the owner still holds the run and covers what is left
        bound.warning("scheduler.run.help_failed", run_id=str(run.run_id), error=f"{type(exc).__name__}: {exc}")
        return
    bound.info("scheduler.run.helped", run_id=str(run.run_id), batches=getattr(stats, "batches", None))


async def run_slot(
    job_id: str,
    slot: datetime,
    compact_id: UUID | None,
    owner: str,
    work: Work | None = None,
    timing: LeaseTiming = DEFAULT_TIMING,
    *,
    now: datetime | None = None,
) -> Outcome:
    """Run (job_id, slot) here if no other process has done or is doing it.

    ``ran``: a new run completed; ``resumed``: a crashed or released run was finished from its
    cursor; ``skipped``: done already, in progress elsewhere, or taken over from us meanwhile;
    ``failed``: the work raised, the run is closed as failed with the error (logged, not raised:
    the next slot checks again). Cancellation (shutdown) releases the run for another process to
    resume at once, and propagates. With the default work (the compliance sweep), a process that finds
    the slot running under another owner's live lease helps it: it takes batches of the same run.
    """
    helper = partial(sweep_compact, helping=True) if work is None else None
    work = work or _default_work()
    slot = normalize_slot(slot)
    got = await claim(job_id, slot, compact_id, owner, now or datetime.now(UTC), timing)
    bound = log.bind(job_id=job_id, slot=slot.isoformat(), owner=owner)
    if got is None:
        if helper is not None:
            await _help(helper, job_id, slot, compact_id, owner, bound)
        bound.info("scheduler.run.skipped")
        return "skipped"
    bound = bound.bind(run_id=str(got.run_id), epoch=got.lease.epoch)
    bound.info("scheduler.run.started", resumed=got.resumed, resume_from=got.resume_from)

    started = time.perf_counter()
    worker = asyncio.create_task(work(compact_id, got.run_id, got.resume_from, got.now, lease=got.lease))
    beat = asyncio.create_task(_keep_alive(got.lease, timing.heartbeat.total_seconds(), worker))
    try:
        await worker
    except asyncio.CancelledError:
        me = asyncio.current_task()
        if me is None or not me.cancelling():
            # The keep-alive stopped the work: another process took the run over (we looked dead).
            bound.error("scheduler.run.abandoned")
            return "skipped"
        # We are being cancelled (shutdown): stop the work and hand the run back for resumption.
        if not worker.done():
            worker.cancel()
            with contextlib.suppress(BaseException):
                await worker
        with contextlib.suppress(Exception):
            await asyncio.shield(release(got.lease))
        bound.warning("scheduler.run.released")
        raise
    except Exception as exc:  # noqa: BLE001  # any failure of the work closes the run as failed, logged
        await _stop(beat)
        if not await finish(got.lease, FAILED, f"{type(exc).__name__}: {exc}"):
            # Not ours any more: the work most likely stopped because its batch commit was refused.
            bound.error("scheduler.run.lost_lease_during_work", error=f"{type(exc).__name__}: {exc}")
            return "skipped"
        bound.exception("scheduler.run.failed")
        SWEEP_SECONDS.labels("failed").observe(time.perf_counter() - started)
        return "failed"
    finally:
        await _stop(beat)
    if not await finish(got.lease, COMPLETED):
        bound.error("scheduler.run.lost_lease_before_finish")
        return "skipped"
    outcome: Outcome = "resumed" if got.resumed else "ran"
    seconds = time.perf_counter() - started
    SWEEP_SECONDS.labels(outcome).observe(seconds)
    bound.info("scheduler.run.completed", resumed=got.resumed, duration_s=round(seconds, 3))
    return outcome


__all__ = [
    "COMPLETED",
    "DEFAULT_TIMING",
    "FAILED",
    "RUNNING",
    "Claim",
    "LeaseTiming",
    "Orphan",
    "Outcome",
    "Work",
    "claim",
    "close_orphan",
    "default_owner",
    "finish",
    "lapsed_runs",
    "latest_fire_at_or_before",
    "lock_key",
    "normalize_slot",
    "release",
    "renew",
    "run_slot",
    "slot_for",
]
