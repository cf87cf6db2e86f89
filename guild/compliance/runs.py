"""Compliance runs: the one module that writes ``compliance_run`` rows.

A run is one compliance check: an on-demand check (a production from the API, or a compact or
everything from the CLI) or a scheduled sweep slot. Its row is created running (:func:`start`,
:func:`start_scheduled`), advanced with each batch the sweep commits (:func:`advance`: cursor and
counters, in the batch's transaction), kept alive (:func:`heartbeat`, :func:`renew`) and finished
(:func:`finish`: completed or failed, with its counters or its error).

Scheduled runs are worked on by one process at a time: the one whose claim is recorded on the row
(``owner`` and ``lease_epoch``) and whose lease (``lease_expires_at``) it keeps renewing. Any other
process may take a run over once its lease has lapsed (:func:`take_over`, which bumps
``lease_epoch``); one that shuts down hands it back (:func:`release`). ``lease_epoch`` is a fencing
token: every write that needs the lease (a batch's cursor, a renewal, the final status) is
conditional on the epoch the writer claimed (:meth:`RunLease.held`), so an owner that lost its lease
has its next write refused instead of racing the process that took over. *When* to claim, take over,
give up or close is the scheduler's exactly-once mechanics (:mod:`scheduler.runs`); the writes are here.

Unless a function says it opens its own transaction, it runs in the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from guild.domain.statuses import RunStatus, RunTrigger
from guild.infra.db import raw, write_tx
from guild.infra.tables import CompactVersion, ComplianceRun

__all__ = [
    "COMPLETED",
    "FAILED",
    "MAX_ERROR_CHARS",
    "RUNNING",
    "RunCounts",
    "RunLease",
    "RunState",
    "SweepConflict",
    "advance",
    "close_unheld",
    "finish",
    "finish_held",
    "heartbeat",
    "is_full",
    "needs_full",
    "release",
    "renew",
    "scheduled_run",
    "start",
    "start_scheduled",
    "take_over",
    "unheld_runs",
]

RUNNING, COMPLETED, FAILED = RunStatus.running, RunStatus.completed, RunStatus.failed
MAX_ERROR_CHARS = 4000


class SweepConflict(RuntimeError):
    """The run's stored cursor is not where this sweep left it: another process is on the same run."""


@dataclass(frozen=True)
class RunLease:
    """Proof of a claim on a running run: who claimed it, with which epoch, for how long at a time."""

    run_id: UUID
    owner: str
    epoch: int
    length: timedelta

    def held(self) -> Any:
        """WHERE clause: the run is still running under this very claim (nobody took it over since)."""
        return (
            (ComplianceRun.id == self.run_id)
            & (ComplianceRun.status == RUNNING)
            & (ComplianceRun.owner == self.owner)
            & (ComplianceRun.lease_epoch == self.epoch)
        )

    def renewal(self, now: datetime) -> dict[Any, Any]:
        """Column values that extend the lease from ``now`` (a heartbeat, or a committed batch)."""
        return {ComplianceRun.heartbeat_at: now, ComplianceRun.lease_expires_at: now + self.length}


@dataclass(frozen=True, slots=True)
class RunCounts:
    """What a run (or one of its batches) did: productions checked, findings opened and resolved."""

    productions: int = 0
    opened: int = 0
    resolved: int = 0


@dataclass(frozen=True, slots=True)
class RunState:
    """A running run as a claimant read it: the claim a conditional write expects to find unchanged."""

    run_id: UUID
    status: str
    owner: str  # "" = handed back
    cursor: str
    lease_epoch: int
    takeovers: int
    lease_expires_at: datetime | None = None
    job_id: str | None = None
    slot: datetime | None = None
    compact_id: UUID | None = None


def _now() -> datetime:
    return datetime.now(UTC)


# --- creating ------------------------------------------------------------------------------------


async def start(
    owner: str,
    now: datetime,
    *,
    compact_id: UUID | None = None,
    production_id: UUID | None = None,
    full: bool = True,
) -> UUID:
    """A new running on-demand run (no lease: it is closed by the process that started it, or as
    abandoned once silent for too long). ``full``: it checks every production in its scope, not only the
    changed or due ones. Returns its id."""
    run_id = uuid4()
    await ComplianceRun.insert(
        ComplianceRun(
            id=run_id,
            trigger=RunTrigger.on_demand,
            compact=compact_id,
            production=production_id,
            full=full,
            status=RUNNING,
            owner=owner,
            started_at=now,
            heartbeat_at=now,
        )
    )
    return run_id


async def scheduled_run(job_id: str, slot: datetime) -> RunState | None:
    """The run of a scheduled (job, slot), if there is one."""
    row = (
        await ComplianceRun.select(
            ComplianceRun.id,
            ComplianceRun.status,
            ComplianceRun.owner,
            ComplianceRun.cursor,
            ComplianceRun.lease_epoch,
            ComplianceRun.takeovers,
            ComplianceRun.lease_expires_at,
        )
        .where((ComplianceRun.job_id == job_id) & (ComplianceRun.slot == slot))
        .first()
    )
    if row is None:
        return None
    return RunState(
        run_id=row["id"],
        status=row["status"],
        owner=row["owner"],
        cursor=row["cursor"] or "",
        lease_epoch=row["lease_epoch"],
        takeovers=row["takeovers"],
        lease_expires_at=row["lease_expires_at"],
        job_id=job_id,
        slot=slot,
    )


async def start_scheduled(
    job_id: str, slot: datetime, compact_id: UUID | None, owner: str, now: datetime, lease: timedelta
) -> RunLease:
    """The run of a scheduled (job, slot), created running and held by ``owner`` for ``lease``: a full run
    when :func:`needs_full` says so, else an incremental one. A second run of the same (job, slot) violates
    the unique index ``compliance_run_job_slot``."""
    run_id = uuid4()
    await ComplianceRun.insert(
        ComplianceRun(
            id=run_id,
            trigger=RunTrigger.scheduled,
            job_id=job_id,
            slot=slot,
            compact=compact_id,
            full=await needs_full(compact_id),
            status=RUNNING,
            owner=owner,
            cursor="",
            started_at=now,
            heartbeat_at=now,
            lease_expires_at=now + lease,
            lease_epoch=0,
            takeovers=0,
        )
    )
    return RunLease(run_id, owner, 0, lease)


async def needs_full(compact_id: UUID | None) -> bool:
    """Whether a new sweep of the compact must re-evaluate every bound production: no full run of it (or of
    every compact) completed since its latest version was ratified, or none ever. None: every compact."""
    if compact_id is None:
        return True
    ratified = (
        await CompactVersion.select(CompactVersion.ratified_at)
        .where((CompactVersion.compact == compact_id) & CompactVersion.ratified_at.is_not_null())
        .order_by(CompactVersion.ratified_at, ascending=False)
        .first()
    )
    last_full = (
        await ComplianceRun.select(ComplianceRun.started_at)
        .where(
            ((ComplianceRun.compact == compact_id) | ComplianceRun.compact.is_null())
            & ComplianceRun.production.is_null()
            & (ComplianceRun.full == True)  # noqa: E712  # a Piccolo expression, not a comparison
            & (ComplianceRun.status == COMPLETED)
        )
        .order_by(ComplianceRun.started_at, ascending=False)
        .first()
    )
    if last_full is None:
        return True
    return ratified is not None and ratified["ratified_at"] > last_full["started_at"]


async def is_full(run_id: UUID) -> bool:
    """Whether the run re-evaluates every production in its scope (else only the changed or due ones)."""
    row = await ComplianceRun.select(ComplianceRun.full).where(ComplianceRun.id == run_id).first()
    return True if row is None else bool(row["full"])


# --- advancing and keeping alive -----------------------------------------------------------------


async def advance(run_id: UUID, cursor: str, batch: RunCounts, lease: RunLease | None) -> None:
    """Add a committed batch's results to the run, in the batch's transaction; the cursor (the highest
    production id committed) only moves forward. Only while the run is running and, with a ``lease``, only
    while its holder still holds it (renewing the lease): else :class:`SweepConflict`, and the caller's
    transaction (the batch) rolls back. Batches of several processes add up (one row, updated in turn)."""
    now = _now()
    sql = (
        'UPDATE compliance_run SET "cursor" = CASE WHEN "cursor" < {} THEN {} ELSE "cursor" END, '
        "productions_checked = productions_checked + {}, findings_opened = findings_opened + {}, "
        "findings_resolved = findings_resolved + {}, heartbeat_at = {}"
    )
    args: list[Any] = [cursor, cursor, batch.productions, batch.opened, batch.resolved, now]
    if lease is not None:
        sql += ", lease_expires_at = {} WHERE id = {} AND status = {} AND owner = {} AND lease_epoch = {}"
        args += [now + lease.length, run_id, RUNNING.value, lease.owner, lease.epoch]
    else:
        sql += " WHERE id = {} AND status = {}"
        args += [run_id, RUNNING.value]
    if not await raw(sql + " RETURNING id", *args):
        raise SweepConflict(
            f"compliance run {run_id}: no longer running, or no longer held by this process (its lease lapsed "
            "and another process took it over); the batch was not committed"
        )


async def heartbeat(run_id: UUID) -> None:
    """An on-demand run is alive (the reaper closes those silent for too long). Its own transaction."""
    async with write_tx():
        await ComplianceRun.update({ComplianceRun.heartbeat_at: _now()}).where(ComplianceRun.id == run_id)


async def _update_held(lease: RunLease, values: dict[Any, Any]) -> bool:
    async with write_tx():
        return bool(await ComplianceRun.update(values).where(lease.held()).returning(ComplianceRun.id))


async def renew(lease: RunLease, now: datetime) -> bool:
    """Extend the lease (a heartbeat). False: the run is not the holder's any more. Its own transaction."""
    return await _update_held(lease, lease.renewal(now))


async def release(lease: RunLease) -> bool:
    """Hand the run back (clean shutdown): its lease ends now. False: not the holder's any more. Its own
    transaction."""
    return await _update_held(lease, {ComplianceRun.owner: "", ComplianceRun.lease_expires_at: _now()})


# --- taking over ---------------------------------------------------------------------------------


def _unchanged(run: RunState) -> Any:
    """WHERE clause: the run is still running under the claim read in ``run`` (nobody claimed it since)."""
    return (
        (ComplianceRun.id == run.run_id)
        & (ComplianceRun.status == RUNNING)
        & (ComplianceRun.owner == run.owner)
        & (ComplianceRun.lease_epoch == run.lease_epoch)
    )


def _lapsed(now: datetime, unleased_after: timedelta) -> Any:
    """WHERE clause: nobody holds the run's lease at ``now`` (it lapsed, or the run never had one and has
    been silent for ``unleased_after``)."""
    return (ComplianceRun.lease_expires_at < now) | (
        ComplianceRun.lease_expires_at.is_null() & (ComplianceRun.heartbeat_at < now - unleased_after)
    )


def _still(run: RunState, now: datetime, unleased_after: timedelta | None) -> Any:
    """Unchanged since read and, with ``unleased_after``, still unheld at ``now``."""
    return _unchanged(run) if unleased_after is None else _unchanged(run) & _lapsed(now, unleased_after)


async def take_over(
    run: RunState, owner: str, now: datetime, lease: timedelta, *, counts: bool, unleased_after: timedelta | None
) -> tuple[RunLease, str] | None:
    """Make ``owner`` the holder of a run read as ``run``: one conditional UPDATE, so of any number of
    concurrent takers exactly one gets it. Conditional on the run being exactly as read and, with
    ``unleased_after``, on nobody holding it at ``now``. ``counts``: the take-over counts against the run
    (its owner died; not a clean hand-back). Returns the new lease and the cursor to resume after, or
    None when the owner renewed meanwhile or another process took the run first."""
    epoch = run.lease_epoch + 1
    taken = (
        await ComplianceRun.update(
            {
                ComplianceRun.owner: owner,
                ComplianceRun.lease_epoch: epoch,
                ComplianceRun.takeovers: run.takeovers + (1 if counts else 0),
                ComplianceRun.heartbeat_at: now,
                ComplianceRun.lease_expires_at: now + lease,
            }
        )
        .where(_still(run, now, unleased_after))
        .returning(ComplianceRun.cursor)
    )
    if not taken:
        return None
    return RunLease(run.run_id, owner, epoch, lease), taken[0]["cursor"] or ""


async def unheld_runs(now: datetime, unleased_after: timedelta, limit: int = 100) -> list[RunState]:
    """Running runs nobody holds at ``now`` (handed back, or their lease lapsed), the longest abandoned first."""
    rows = (
        await ComplianceRun.select(
            ComplianceRun.id,
            ComplianceRun.status,
            ComplianceRun.job_id,
            ComplianceRun.slot,
            ComplianceRun.compact,
            ComplianceRun.owner,
            ComplianceRun.cursor,
            ComplianceRun.lease_epoch,
            ComplianceRun.takeovers,
            ComplianceRun.lease_expires_at,
        )
        .where((ComplianceRun.status == RUNNING) & ((ComplianceRun.owner == "") | _lapsed(now, unleased_after)))
        .order_by(ComplianceRun.lease_expires_at)
        .limit(limit)
    )
    return [
        RunState(
            run_id=r["id"],
            status=r["status"],
            owner=r["owner"],
            cursor=r["cursor"] or "",
            lease_epoch=r["lease_epoch"],
            takeovers=r["takeovers"],
            lease_expires_at=r["lease_expires_at"],
            job_id=r["job_id"],
            slot=None if r["slot"] is None else r["slot"].astimezone(UTC),
            compact_id=r["compact"],
        )
        for r in rows
    ]


# --- finishing -----------------------------------------------------------------------------------


def _finished(status: str, error: str, at: datetime) -> dict[Any, Any]:
    if status not in (COMPLETED, FAILED):
        raise ValueError(f"finish status must be {COMPLETED} or {FAILED}, not {status!r}")
    return {ComplianceRun.status: status, ComplianceRun.error: error[:MAX_ERROR_CHARS], ComplianceRun.finished_at: at}


async def finish(run_id: UUID, status: str, *, error: str = "", counts: RunCounts | None = None) -> None:
    """Close an on-demand run as ``completed`` or ``failed`` (the error, cut to MAX_ERROR_CHARS), with its
    final ``counts`` when given."""
    at = _now()
    values = {**_finished(status, error, at), ComplianceRun.heartbeat_at: at}
    if counts is not None:
        values[ComplianceRun.productions_checked] = counts.productions
        values[ComplianceRun.findings_opened] = counts.opened
        values[ComplianceRun.findings_resolved] = counts.resolved
    await ComplianceRun.update(values).where(ComplianceRun.id == run_id)


async def finish_held(lease: RunLease, status: str, error: str = "") -> bool:
    """Close a held run as ``completed`` or ``failed``. False when it was not the holder's to close any
    more. Its own transaction."""
    at = _now()
    return await _update_held(lease, {**_finished(status, error, at), ComplianceRun.heartbeat_at: at})


async def close_unheld(run: RunState, error: str, now: datetime, unleased_after: timedelta | None) -> bool:
    """Close as ``failed`` a run read as ``run`` that nobody holds and that is not to be resumed. Conditional
    like :func:`take_over`: False when its owner came back or another process got there first."""
    closed = (
        await ComplianceRun.update(_finished(FAILED, error, now))
        .where(_still(run, now, unleased_after))
        .returning(ComplianceRun.id)
    )
    return bool(closed)
