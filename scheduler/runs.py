"""Exactly-once execution of a scheduled (job, slot): claim, resume, heartbeat, finish.

Pure database logic, no APScheduler. Every process that fires a job calls :func:`run_slot`; the
``compliance_run`` row for (job_id, slot) decides which one does the work:

- the row is made by the first claimant (unique index ``compliance_run_job_slot``; on PostgreSQL
  claims of one job are also serialised by a transaction-level advisory lock, on SQLite by the
  IMMEDIATE write transaction);
- ``completed`` or ``failed`` → the slot is done, everyone else skips it;
- ``running`` with a fresh heartbeat → someone is on it, skip;
- ``running`` with a stale heartbeat (or released by a process that shut down) → the owner died:
  take it over and resume after ``cursor``, the last item whose results were committed together
  with that cursor.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid4

import structlog
from apscheduler.triggers.cron import CronTrigger

from guild.db import is_unique_violation, write_tx, xact_lock
from guild.tables import ComplianceRun

log = structlog.get_logger("guild.scheduler")

RUNNING, COMPLETED, FAILED = "running", "completed", "failed"
DEFAULT_STALE_AFTER = timedelta(minutes=10)
MAX_ERROR_CHARS = 4000

# work(compact_id, run_id, resume_from, now): e.g. guild.compliance.engine.sweep_compact.
# It commits results and advances ComplianceRun.cursor in the same transaction, batch by batch.
Work = Callable[[UUID | None, UUID, str, datetime], Awaitable[Any]]
Outcome = Literal["ran", "resumed", "skipped", "failed"]


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


def _run_key(job_id: str, slot: datetime):
    return (ComplianceRun.job_id == job_id) & (ComplianceRun.slot == slot)


async def claim(
    job_id: str,
    slot: datetime,
    compact_id: UUID | None,
    owner: str,
    now: datetime,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
) -> Claim | None:
    """Make this process the owner of (job_id, slot), or return None when it is not to run here.

    None: already completed or failed, or running under a live owner, or another process won the
    insert race. A Claim with ``resumed=True`` takes over a run whose owner stopped heart-beating
    (or released it on shutdown): the work resumes after ``resume_from``.
    """
    slot = normalize_slot(slot)
    now = _utc(now)
    try:
        async with write_tx():
            await xact_lock(lock_key(job_id))  # PostgreSQL: per job, released at commit/rollback
            row = (
                await ComplianceRun.select(
                    ComplianceRun.id, ComplianceRun.status, ComplianceRun.owner, ComplianceRun.cursor,
                    ComplianceRun.heartbeat_at,
                )
                .where(_run_key(job_id, slot))
                .first()
            )
            if row is None:
                run_id = uuid4()
                await ComplianceRun.insert(
                    ComplianceRun(
                        id=run_id, trigger="scheduled", job_id=job_id, slot=slot, compact=compact_id,
                        status=RUNNING, owner=owner, cursor="", started_at=now, heartbeat_at=now,
                    )
                )
                return Claim(run_id=run_id, resume_from="", resumed=False, now=now)
            if row["status"] != RUNNING:
                return None  # completed, or failed (a failed slot is done; the next slot checks again)
            # Conditional on the row still being abandoned, so a heartbeat committed after the read
            # above (the owner is alive after all) makes the take-over a no-op.
            cutoff = now - stale_after
            taken = (
                await ComplianceRun.update({ComplianceRun.owner: owner, ComplianceRun.heartbeat_at: now})
                .where(
                    (ComplianceRun.id == row["id"])
                    & (ComplianceRun.status == RUNNING)
                    & ((ComplianceRun.owner == "") | (ComplianceRun.heartbeat_at < cutoff))
                )
                .returning(ComplianceRun.cursor)
            )
            if not taken:
                return None  # a live owner is on it
            log.warning(
                "scheduler.run.taken_over", job_id=job_id, slot=slot.isoformat(), run_id=str(row["id"]),
                previous_owner=row["owner"], last_heartbeat=str(row["heartbeat_at"]), cursor=taken[0]["cursor"],
            )
            return Claim(run_id=row["id"], resume_from=taken[0]["cursor"] or "", resumed=True, now=now)
    except Exception as exc:
        if is_unique_violation(exc):  # another process inserted the row first
            return None
        raise


async def _update_running(run_id: UUID, values: dict, owner: str | None) -> bool:
    where = (ComplianceRun.id == run_id) & (ComplianceRun.status == RUNNING)
    if owner is not None:
        where &= ComplianceRun.owner == owner
    async with write_tx():
        return bool(await ComplianceRun.update(values).where(where).returning(ComplianceRun.id))


async def heartbeat(run_id: UUID, *, owner: str | None = None) -> bool:
    """Tell other processes this run is alive. False: not running any more, or (with ``owner``) not ours."""
    return await _update_running(run_id, {ComplianceRun.heartbeat_at: datetime.now(UTC)}, owner)


async def finish(run_id: UUID, status: str, error: str = "", *, owner: str | None = None) -> bool:
    """Close a running run as ``completed`` or ``failed``. False when it was not ours to close."""
    if status not in (COMPLETED, FAILED):
        raise ValueError(f"finish status must be {COMPLETED} or {FAILED}, not {status!r}")
    at = datetime.now(UTC)
    values = {
        ComplianceRun.status: status,
        ComplianceRun.error: error[:MAX_ERROR_CHARS],
        ComplianceRun.finished_at: at,
        ComplianceRun.heartbeat_at: at,
    }
    return await _update_running(run_id, values, owner)


async def release(run_id: UUID, owner: str) -> bool:
    """Give a running run back (clean shutdown): the next claimant resumes it without waiting for staleness."""
    return await _update_running(run_id, {ComplianceRun.owner: ""}, owner)


# --- running a slot --------------------------------------------------------------------------


def _default_work() -> Work:
    from guild.compliance.engine import sweep_compact  # written separately; imported when first needed

    return sweep_compact


async def _keep_alive(run_id: UUID, owner: str, every: float, worker: asyncio.Task) -> None:
    """Heartbeat while the work runs; if the run was taken over (we looked dead), stop the work."""
    while True:
        await asyncio.sleep(every)
        try:
            ours = await heartbeat(run_id, owner=owner)
        except Exception as exc:  # a database blip: try again next beat
            log.warning("scheduler.run.heartbeat_failed", run_id=str(run_id), error=repr(exc))
            continue
        if not ours:
            log.error("scheduler.run.lost_ownership", run_id=str(run_id), owner=owner)
            worker.cancel()
            return


async def _stop(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(BaseException):
        await task


async def run_slot(
    job_id: str,
    slot: datetime,
    compact_id: UUID | None,
    owner: str,
    work: Work | None = None,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    *,
    now: datetime | None = None,
) -> Outcome:
    """Run (job_id, slot) here if no other process has done or is doing it.

    ``ran``: a new run completed; ``resumed``: a crashed or released run was finished from its
    cursor; ``skipped``: done already or in progress elsewhere; ``failed``: the work raised, the
    run is closed as failed with the error (logged, not raised: the next slot checks again).
    Cancellation (shutdown) releases the run for another process to resume, and propagates.
    """
    work = work or _default_work()
    slot = normalize_slot(slot)
    got = await claim(job_id, slot, compact_id, owner, now or datetime.now(UTC), stale_after)
    bound = log.bind(job_id=job_id, slot=slot.isoformat(), owner=owner)
    if got is None:
        bound.info("scheduler.run.skipped")
        return "skipped"
    bound = bound.bind(run_id=str(got.run_id))
    bound.info("scheduler.run.started", resumed=got.resumed, resume_from=got.resume_from)

    worker = asyncio.create_task(work(compact_id, got.run_id, got.resume_from, got.now))
    beat = asyncio.create_task(
        _keep_alive(got.run_id, owner, max(stale_after.total_seconds() / 3, 0.05), worker)
    )
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
            await asyncio.shield(release(got.run_id, owner))
        bound.warning("scheduler.run.released")
        raise
    except Exception as exc:
        await _stop(beat)
        await finish(got.run_id, FAILED, f"{type(exc).__name__}: {exc}", owner=owner)
        bound.exception("scheduler.run.failed")
        return "failed"
    finally:
        await _stop(beat)
    if not await finish(got.run_id, COMPLETED, owner=owner):
        bound.error("scheduler.run.lost_ownership_before_finish")
        return "skipped"
    bound.info("scheduler.run.completed", resumed=got.resumed)
    return "resumed" if got.resumed else "ran"


__all__ = [
    "COMPLETED", "DEFAULT_STALE_AFTER", "FAILED", "RUNNING", "Claim", "Outcome", "Work", "claim", "default_owner",
    "finish", "heartbeat", "latest_fire_at_or_before", "lock_key", "normalize_slot", "release", "run_slot",
    "slot_for",
]
