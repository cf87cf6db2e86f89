"""Scheduled runs: exactly once per (job, slot) across calls and processes, crash resumption, slots, job sync.

The work functions here are real jobs: each item's result (an audit event) is committed in the
same transaction that advances the run's cursor, as the compliance sweep does with its findings.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import signal
import sys
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from tests.engines import engine_is
from tests.integration.processes import ROOT, guild_env
from tests.integration.scenario import person

ITEMS = [f"item-{i}" for i in range(1, 6)]  # processed in this (sorted) order; the cursor is the last done
ITEM_ACTION = "test.sweep_item"


class LeaseLost(RuntimeError):
    pass


async def sweep_items(
    compact_id, run_id: UUID, after: str, now: datetime, *, limit: int | None = None, lease=None
) -> int:
    """Process ITEMS after ``after``: one transaction per item writes its result and advances the cursor,
    conditional on still holding the run (as the compliance sweep's batches are)."""
    from guild.infra import audit
    from guild.infra.db import write_tx
    from guild.infra.tables import ComplianceRun

    done = 0
    for item in (i for i in ITEMS if i > after):
        if limit is not None and done >= limit:
            break
        async with write_tx():
            await audit.record(None, ITEM_ACTION, "compliance_run", run_id, {"item": item})
            values = {
                ComplianceRun.cursor: item,
                ComplianceRun.productions_checked: ComplianceRun.productions_checked + 1,
                ComplianceRun.heartbeat_at: datetime.now(UTC),
            }
            where = ComplianceRun.id == run_id
            if lease is not None:
                values.update(lease.renewal(datetime.now(UTC)))
                where &= lease.held()
            if not await ComplianceRun.update(values).where(where).returning(ComplianceRun.id):
                raise LeaseLost(f"run {run_id} is not ours any more")  # rolls the item back
        done += 1
    return done


async def _runs(job_id: str | None = None) -> list[dict]:
    from guild.infra.tables import ComplianceRun

    query = ComplianceRun.select().order_by(ComplianceRun.slot)
    if job_id is not None:
        query = query.where(ComplianceRun.job_id == job_id)
    return await query


async def _items_done() -> list[str]:
    from guild.infra.tables import AuditEvent

    rows = (
        await AuditEvent.select(AuditEvent.data)
        .where(AuditEvent.action == ITEM_ACTION)
        .order_by(AuditEvent.seq)
        .output(load_json=True)
    )
    return [r["data"]["item"] for r in rows]


SLOT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def timing(lease: float = 600, **kw):
    from scheduler.runs import LeaseTiming

    return LeaseTiming(lease=timedelta(seconds=lease), **kw)


TEN_MINUTES = 600


# --- claim / run_slot ------------------------------------------------------------------------


async def test_same_slot_runs_once_and_a_new_slot_runs_again():
    from scheduler.runs import run_slot

    calls: list[UUID] = []

    async def work(compact_id, run_id, after, now, *, lease):
        calls.append(run_id)
        await sweep_items(compact_id, run_id, after, now, lease=lease)

    assert await run_slot("sweep:demo", SLOT, None, "a", work) == "ran"
    assert await run_slot("sweep:demo", SLOT, None, "b", work) == "skipped"
    # the same slot given with seconds, or in another time zone, is the same slot
    assert await run_slot("sweep:demo", SLOT.replace(second=30), None, "b", work) == "skipped"
    assert await run_slot("sweep:demo", SLOT.astimezone(timedelta_tz(2)), None, "b", work) == "skipped"
    runs = await _runs()
    assert len(runs) == 1 and len(calls) == 1
    run = runs[0]
    assert (run["status"], run["trigger"], run["job_id"], run["owner"]) == ("completed", "scheduled", "sweep:demo", "a")
    assert run["slot"] == SLOT and run["cursor"] == "item-5" and run["productions_checked"] == 5
    assert run["finished_at"] is not None

    next_slot = SLOT + timedelta(days=7)
    assert await run_slot("sweep:demo", next_slot, None, "b", work) == "ran"
    assert await run_slot("sweep:other", SLOT, None, "b", work) == "ran"  # another job, same slot
    assert sorted((r["job_id"], r["slot"]) for r in await _runs()) == [
        ("sweep:demo", SLOT),
        ("sweep:demo", next_slot),
        ("sweep:other", SLOT),
    ]
    assert len(await _runs()) == 3 and len(calls) == 3


def timedelta_tz(hours: int):
    from datetime import timezone

    return timezone(timedelta(hours=hours))


async def test_claim_refuses_a_live_lease_and_takes_over_a_lapsed_one():
    from scheduler.runs import claim, renew

    now = datetime.now(UTC)
    first = await claim("sweep:demo", SLOT, None, "a", now, timing(TEN_MINUTES))
    assert first is not None and first.resume_from == "" and not first.resumed and first.lease.epoch == 0
    assert await claim("sweep:demo", SLOT, None, "b", now + timedelta(minutes=9), timing(TEN_MINUTES)) is None
    later = await claim("sweep:demo", SLOT, None, "b", now + timedelta(minutes=11), timing(TEN_MINUTES))
    assert later is not None and later.run_id == first.run_id and later.resumed and later.lease.epoch == 1
    assert not await renew(first.lease)  # "a" lost it: its heartbeats say so
    assert await renew(later.lease)
    (run,) = await _runs()
    assert (run["owner"], run["status"], run["takeovers"], run["lease_epoch"]) == ("b", "running", 1, 1)


async def test_lease_renewal_keeps_the_owner():
    """Renewed leases are never taken over, however long the work; one that stops being renewed is."""
    from scheduler.runs import claim, renew

    t0 = datetime.now(UTC)
    a = await claim("sweep:demo", SLOT, None, "a", t0, timing(60))
    for beat in range(1, 10):  # nine heartbeats 40 s apart: six minutes, six times the lease
        at = t0 + timedelta(seconds=40 * beat)
        assert await renew(a.lease, at)
        assert await claim("sweep:demo", SLOT, None, "b", at + timedelta(seconds=59), timing(60)) is None
    last_beat = t0 + timedelta(seconds=360)
    taken = await claim("sweep:demo", SLOT, None, "b", last_beat + timedelta(seconds=61), timing(60))
    assert taken is not None and taken.resumed
    (run,) = await _runs()
    assert (run["owner"], run["takeovers"]) == ("b", 1)


async def test_a_long_run_keeps_its_lease_through_its_heartbeats():
    """In real time: work lasting several lease lengths stays with its owner; other processes'
    claims and reapers, trying all along, find it held."""
    from scheduler.runs import claim, run_slot
    from scheduler.service import GuildScheduler

    short = timing(2, heartbeat_every=timedelta(seconds=0.25))
    finished = asyncio.Event()

    async def long_work(compact_id, run_id, after, now, *, lease):
        await asyncio.sleep(5)  # two and a half leases
        await sweep_items(compact_id, run_id, after, now, lease=lease)
        finished.set()

    other = GuildScheduler(owner="b", work=sweep_items, timing=short)
    task = asyncio.create_task(run_slot("sweep:demo", SLOT, None, "a", long_work, short))
    attempts = 0
    while not finished.is_set():
        await asyncio.sleep(0.2)
        if finished.is_set():
            break
        assert await claim("sweep:demo", SLOT, None, "b", datetime.now(UTC), short) is None
        assert (await other.reap()).resumed == []
        attempts += 1
    assert await asyncio.wait_for(task, 30) == "ran"
    assert attempts >= 5
    (run,) = await _runs()
    assert (run["status"], run["owner"], run["takeovers"], run["lease_epoch"]) == ("completed", "a", 0, 0)
    assert await _items_done() == ITEMS


async def test_crash_mid_sweep_resumes_from_the_cursor_without_duplicates():
    from guild.infra.audit import verify_chain
    from scheduler.runs import claim, run_slot

    t0 = datetime.now(UTC)
    got = await claim("sweep:demo", SLOT, None, "crashed-host:1", t0, timing(TEN_MINUTES))
    assert got is not None
    assert await sweep_items(None, got.run_id, got.resume_from, t0, limit=2) == 2
    # ... and the process dies here: no finish, the run stays 'running' with its last heartbeat.
    (run,) = await _runs()
    assert (run["status"], run["cursor"], run["productions_checked"]) == ("running", "item-2", 2)

    resumed_from: list[str] = []

    async def work(compact_id, run_id, after, now, *, lease):
        resumed_from.append(after)
        await sweep_items(compact_id, run_id, after, now, lease=lease)

    # within its lease the owner is presumed alive
    assert await run_slot("sweep:demo", SLOT, None, "b", work, timing(), now=t0 + timedelta(minutes=5)) == "skipped"
    assert resumed_from == []
    assert await run_slot("sweep:demo", SLOT, None, "b", work, timing(), now=t0 + timedelta(minutes=11)) == "resumed"
    assert resumed_from == ["item-2"]
    assert await run_slot("sweep:demo", SLOT, None, "c", work, timing(), now=t0 + timedelta(hours=2)) == "skipped"

    assert await _items_done() == ITEMS  # all five, each once, in order
    (run,) = await _runs()
    assert (run["status"], run["owner"], run["cursor"], run["productions_checked"]) == ("completed", "b", "item-5", 5)
    assert run["takeovers"] == 1
    assert (await verify_chain()).ok


async def test_failed_work_closes_the_slot_with_the_error():
    from scheduler.runs import run_slot

    async def broken(compact_id, run_id, after, now, *, lease):
        await sweep_items(compact_id, run_id, after, now, limit=1, lease=lease)
        raise RuntimeError("the terms document is unreadable")

    assert await run_slot("sweep:demo", SLOT, None, "a", broken) == "failed"
    (run,) = await _runs()
    assert run["status"] == "failed" and "RuntimeError: the terms document is unreadable" in run["error"]
    assert run["cursor"] == "item-1" and run["finished_at"] is not None
    assert await run_slot("sweep:demo", SLOT, None, "b", broken) == "skipped"  # a failed slot is done
    assert await run_slot("sweep:demo", SLOT + timedelta(days=7), None, "b", sweep_items) == "ran"


async def test_cancelled_run_is_released_and_resumed_at_once_elsewhere():
    from scheduler.runs import run_slot

    gate = asyncio.Event()

    async def slow(compact_id, run_id, after, now, *, lease):
        await sweep_items(compact_id, run_id, after, now, limit=3, lease=lease)
        gate.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(run_slot("sweep:demo", SLOT, None, "a", slow))
    await asyncio.wait_for(gate.wait(), 10)
    task.cancel()  # a clean shutdown
    with pytest.raises(asyncio.CancelledError):
        await task
    (run,) = await _runs()
    assert (run["status"], run["owner"], run["cursor"]) == ("running", "", "item-3")
    # no waiting for the lease: the released run is taken over and finished from its cursor
    assert await run_slot("sweep:demo", SLOT, None, "b", sweep_items) == "resumed"
    assert await _items_done() == ITEMS
    (run,) = await _runs()
    assert (run["status"], run["owner"]) == ("completed", "b")
    assert (run["takeovers"], run["lease_epoch"]) == (0, 1)  # a hand-over, not a take-over from a dead owner


async def test_a_run_taken_over_stops_its_old_owner():
    from scheduler.runs import claim, run_slot

    started, cancelled = asyncio.Event(), asyncio.Event()

    async def long_work(compact_id, run_id, after, now, *, lease):
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    short = timing(1.2, heartbeat_every=timedelta(seconds=0.2))
    task = asyncio.create_task(run_slot("sweep:demo", SLOT, None, "a", long_work, short))
    await asyncio.wait_for(started.wait(), 10)
    # "a" froze long enough for another process to see its lease lapsed and take the run over
    taken = await claim("sweep:demo", SLOT, None, "b", datetime.now(UTC) + timedelta(hours=1), short)
    assert taken is not None
    assert await asyncio.wait_for(task, 10) == "skipped"
    assert cancelled.is_set()
    (run,) = await _runs()
    assert (run["status"], run["owner"], run["lease_epoch"]) == ("running", "b", 1)  # "a" did not close b's run


async def test_concurrent_inserts_lose_to_the_unique_index(monkeypatch):
    """Without the advisory lock the unique index alone still lets exactly one claim win.

    PostgreSQL: the lock is replaced by a barrier, so all six transactions look for the row before
    any inserts it; five then hit the unique index. SQLite's IMMEDIATE transactions run one at a time.
    """
    from guild.infra import db
    from scheduler import runs

    n = 6
    barrier = asyncio.Barrier(n)
    violations: list[BaseException] = []

    async def everyone_at_once(key: int) -> None:
        if engine_is("postgres"):
            await asyncio.wait_for(barrier.wait(), 30)

    def counting(exc: BaseException) -> bool:
        hit = db.is_unique_violation(exc)
        if hit:
            violations.append(exc)
        return hit

    monkeypatch.setattr(runs, "xact_lock", everyone_at_once)
    monkeypatch.setattr(runs, "is_unique_violation", counting)
    now = datetime.now(UTC)
    claims = await asyncio.gather(*(runs.claim("sweep:race", SLOT, None, f"p{i}", now) for i in range(n)))
    assert sum(c is not None for c in claims) == 1
    assert len(await _runs("sweep:race")) == 1
    # How many losers reach the INSERT (and hit the index) rather than seeing the winner's committed
    # row depends on timing under load; what must hold is one winner and one row.
    assert len(violations) <= (0 if engine_is("sqlite") else n - 1)


# --- leases: take-over races, fencing, the poison limit, the reaper ---------------------------


async def _wait_run(job_id: str | None, done, timeout: float = 60) -> dict:
    """Poll the run of ``job_id`` (or the only run) until ``done(run)``; fail with the last state seen."""
    run = None
    for _ in range(int(timeout / 0.1)):
        runs = await _runs(job_id)
        run = runs[0] if runs else None
        if run is not None and done(run):
            return run
        await asyncio.sleep(0.1)
    raise AssertionError(f"run of {job_id} not done in {timeout} s: {run}")


@pytest.mark.parametrize("advisory_lock", [True, False], ids=["with-job-lock", "update-alone"])
async def test_a_lapsed_lease_is_taken_by_exactly_one_of_many_claimers(monkeypatch, advisory_lock):
    """Six processes see the same dead owner at once: one takes the run, the others get nothing.

    ``update-alone``: the per-job advisory lock is replaced by a barrier (PostgreSQL), so all six
    transactions read the abandoned row before any updates it; the conditional take-over UPDATE
    (same owner and epoch, lease lapsed) alone lets exactly one through. SQLite serialises writers.
    """
    from scheduler import runs

    dead = await runs.claim("sweep:race", SLOT, None, "dead", datetime.now(UTC) - timedelta(minutes=5), timing(60))
    n = 6
    if not advisory_lock:
        barrier = asyncio.Barrier(n)

        async def everyone_at_once(key: int) -> None:
            if engine_is("postgres"):
                await asyncio.wait_for(barrier.wait(), 30)

        monkeypatch.setattr(runs, "xact_lock", everyone_at_once)
    now = datetime.now(UTC)
    claims = await asyncio.gather(*(runs.claim("sweep:race", SLOT, None, f"p{i}", now, timing(60)) for i in range(n)))
    winners = [c for c in claims if c is not None]
    assert len(winners) == 1 and winners[0].resumed and winners[0].lease.epoch == 1
    (run,) = await _runs("sweep:race")
    assert (run["owner"], run["takeovers"], run["lease_epoch"]) == (winners[0].lease.owner, 1, 1)
    assert not await runs.renew(dead.lease)
    assert await runs.renew(winners[0].lease)


async def _sweep_world(scenario, n: int) -> tuple[UUID, list[UUID]]:
    """A ratified compact (weekly cron) and ``n`` productions bound to it, each breaking its AI-share
    rule; the production ids in sweep order."""
    from guild.infra.tables import AssetDisclosure

    await scenario.organizations({"performers": "guild", "kestrel": "production_company"})
    h = await scenario.people(
        officer=person("o.perf@example.org", ("performers", "officer")),
        producer=person("p.kestrel@example.org", ("kestrel", "producer")),
    )
    compact = await scenario.compact("screen-guild", convening="performers", by="o.perf@example.org")
    ids = []
    for i in range(n):
        pid = UUID(await scenario.production("kestrel", f"Film {i}", by=h["producer"], bind=["screen-guild"]))
        await AssetDisclosure.insert(
            AssetDisclosure(
                id=uuid4(),
                production=pid,
                category="vfx_shot",
                total_count=100,
                ai_generated_count=90,
                updated_at=datetime.now(UTC),
            )
        )
        ids.append(pid)
    return compact.compact_id, sorted(ids)  # UUID order is the sweep's order on both engines


async def _findings_by_production() -> dict[UUID, list[dict]]:
    from guild.infra.tables import Finding

    out: dict[UUID, list[dict]] = {}
    for row in await Finding.select(
        Finding.production, Finding.rule, Finding.subject, Finding.first_run, Finding.last_run, Finding.status
    ):
        out.setdefault(row["production"], []).append(row)
    return out


def _checked_once_each(findings: dict[UUID, list[dict]], ids: list[UUID], run_id: UUID) -> None:
    """Every production has the same findings (identical set-ups), opened and last seen by this run."""
    assert sorted(findings) == ids
    shapes = {tuple(sorted((f["rule"], f["subject"]) for f in rows)) for rows in findings.values()}
    assert len(shapes) == 1 and next(iter(shapes))
    assert {(f["first_run"], f["last_run"], f["status"]) for rows in findings.values() for f in rows} == {
        (run_id, run_id, "open")
    }


async def test_the_old_owner_cannot_commit_a_batch_after_losing_its_lease(scenario):
    """A frozen owner wakes up after its run was taken over: its next batch is refused and rolled back,
    and the new owner's sweep checks every production once."""
    from guild.compliance.service import SweepConflict, sweep_compact
    from scheduler.runs import COMPLETED, FAILED, claim, finish, renew

    compact_id, ids = await _sweep_world(scenario, 5)
    t0 = datetime.now(UTC)
    a = await claim("sweep:screen-guild", SLOT, compact_id, "a", t0, timing(60))
    b = await claim("sweep:screen-guild", SLOT, compact_id, "b", t0 + timedelta(minutes=2), timing(60))
    assert b is not None and b.resumed

    with pytest.raises(SweepConflict, match="no longer held"):
        await sweep_compact(compact_id, a.run_id, a.resume_from, t0, batch_size=2, lease=a.lease)
    assert await _findings_by_production() == {}  # nothing of the refused batch was kept
    (run,) = await _runs()
    assert (run["cursor"], run["productions_checked"], run["owner"]) == ("", 0, "b")
    assert not await renew(a.lease)

    stats = await sweep_compact(compact_id, b.run_id, b.resume_from, t0, batch_size=2, lease=b.lease)
    assert (stats.productions, stats.batches) == (5, 3)
    assert not await finish(a.lease, FAILED, "the old owner gives up")  # not a's to close
    assert await finish(b.lease, COMPLETED)
    (run,) = await _runs()
    assert (run["status"], run["owner"], run["productions_checked"], run["cursor"]) == (
        "completed",
        "b",
        5,
        str(ids[-1]),
    )
    _checked_once_each(await _findings_by_production(), ids, run["id"])


async def test_a_run_abandoned_too_often_ends_failed():
    """A batch that kills every process trying it: after ``max_takeovers`` take-overs the next taker
    (here a reaper) closes the run as failed with an error saying why, instead of trying again."""
    from scheduler.runs import claim, run_slot
    from scheduler.service import GuildScheduler

    poison = timing(60, max_takeovers=2)
    t0 = datetime.now(UTC)  # the take-overs below happen minutes "later": each owner's lease has lapsed
    got = await claim("sweep:demo", SLOT, None, "p0", t0, poison)
    assert await sweep_items(None, got.run_id, got.resume_from, t0, limit=1, lease=got.lease) == 1
    for i in (1, 2):  # each owner dies on the next item: the next process takes over once its lease lapsed
        got = await claim("sweep:demo", SLOT, None, f"p{i}", t0 + timedelta(minutes=2 * i), poison)
        assert got is not None and got.resumed and got.resume_from == "item-1"
    (run,) = await _runs()
    assert (run["status"], run["takeovers"]) == ("running", 2)

    reaper = GuildScheduler(owner="p3", work=sweep_items, timing=poison)
    report = await reaper.reap(now=t0 + timedelta(minutes=6))
    assert report.resumed == [("sweep:demo", SLOT)]
    run = await _wait_run("sweep:demo", lambda r: r["status"] != "running")
    assert (run["status"], run["owner"], run["takeovers"], run["cursor"]) == ("failed", "p2", 2, "item-1")
    assert "abandoned 3 times" in run["error"] and "'p2'" in run["error"] and "'item-1'" in run["error"]
    assert run["finished_at"] is not None
    assert await _items_done() == ["item-1"]  # the crashing item was never committed, nothing else ran
    assert await run_slot("sweep:demo", SLOT, None, "p4", sweep_items, poison) == "skipped"  # the slot is done
    assert (await reaper.reap()).resumed == []


async def test_the_reaper_resumes_a_lapsed_run_and_closes_abandoned_checks():
    """A started scheduler whose cron would not fire for days: its reaper job resumes the dead owner's
    run from the cursor at once, closes an on-demand check whose process died, and leaves a live one."""
    from guild.infra.tables import ComplianceRun
    from scheduler.runs import claim
    from scheduler.service import REAPER_JOB_ID, GuildScheduler

    now = datetime.now(UTC)
    got = await claim("sweep:demo", SLOT, None, "dead", now, timing(2))
    await sweep_items(None, got.run_id, "", now, limit=2, lease=got.lease)  # ... and its process was killed
    abandoned, live = uuid4(), uuid4()
    for run_id, beat in ((abandoned, now - timedelta(hours=1)), (live, now)):
        await ComplianceRun.insert(
            ComplianceRun(
                id=run_id, trigger="on_demand", status="running", owner="cli", started_at=beat, heartbeat_at=beat
            )
        )

    sched = GuildScheduler(owner="survivor", work=sweep_items, timing=timing(2))
    sched.start()  # no ratified compact: no sweep job at all, only the reaper can finish the run
    try:
        job = sched.scheduler.get_job(REAPER_JOB_ID)
        assert job.trigger.interval == timedelta(seconds=1)  # half the lease
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 3600)
        run = await _wait_run("sweep:demo", lambda r: r["status"] != "running")
    finally:
        await sched.shutdown()
    assert (run["status"], run["owner"], run["takeovers"], run["productions_checked"]) == (
        "completed",
        "survivor",
        1,
        5,
    )
    assert await _items_done() == ITEMS  # the first two once, by the dead owner; the rest once, resumed
    assert ("sweep:demo", SLOT, "resumed") in sched.outcomes
    rows = {r["id"]: r for r in await ComplianceRun.select().where(ComplianceRun.trigger == "on_demand")}
    assert rows[abandoned]["status"] == "failed" and "abandoned" in rows[abandoned]["error"]
    assert rows[live]["status"] == "running"


# --- two scheduler processes -----------------------------------------------------------------

WORKER = r"""
import asyncio, json, os, sys
from datetime import UTC, datetime

async def main():
    from guild.infra import audit, db
    from guild.infra.settings import get_settings
    from guild.infra.tables import ComplianceRun
    from scheduler.runs import run_slot

    await db.startup(get_settings().model_copy(update={"migrate_on_start": False, "pg_pool_max": 4}))
    owner = f"proc-{os.getpid()}"

    async def work(compact_id, run_id, after, now, *, lease):
        await asyncio.sleep(0.4)  # long enough for the other process to try the same slot meanwhile
        async with db.write_tx():
            await audit.record(None, "test.process_work", "compliance_run", run_id, {"owner": owner})
            await ComplianceRun.update({ComplianceRun.cursor: "done", ComplianceRun.productions_checked: 1,
                                        ComplianceRun.heartbeat_at: datetime.now(UTC)}).where(ComplianceRun.id == run_id)

    print("ready", flush=True)
    sys.stdin.readline()  # wait for "go" so both processes start at the same moment
    outcomes = [await run_slot("sweep:demo", datetime.fromisoformat(s), None, owner, work) for s in sys.argv[1:]]
    print(json.dumps({"owner": owner, "outcomes": outcomes}), flush=True)
    await db.shutdown()

asyncio.run(main())
"""


def _child_env() -> dict[str, str]:
    return guild_env(PYTHONPATH=str(ROOT), GUILD_MIGRATE_ON_START="false")


async def _run_processes(*slot_lists: list[datetime]) -> list[dict]:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER,
            *[s.isoformat() for s in slots],
            cwd=ROOT,
            env=_child_env(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for slots in slot_lists
    ]
    try:
        for p in procs:
            line = await asyncio.wait_for(p.stdout.readline(), 60)
            assert line.strip() == b"ready", line
        for p in procs:  # both are connected and waiting: release them together
            p.stdin.write(b"go\n")
        await asyncio.gather(*(p.stdin.drain() for p in procs))
        results = []
        for p in procs:
            out, _ = await asyncio.wait_for(p.communicate(), 60)
            assert p.returncode == 0, out
            results.append(json.loads(out.decode().strip().splitlines()[-1]))
        return results
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()


async def _process_work_count() -> int:
    from guild.infra.tables import AuditEvent

    return await AuditEvent.count().where(AuditEvent.action == "test.process_work")


async def test_two_scheduler_processes_run_a_slot_once():
    """Two real processes fire the same job for the same slot at the same moment: one runs it."""
    a, b = await _run_processes([SLOT], [SLOT])
    assert sorted(a["outcomes"] + b["outcomes"]) == ["ran", "skipped"]
    runs = await _runs("sweep:demo")
    assert len(runs) == 1 and runs[0]["status"] == "completed" and runs[0]["cursor"] == "done"
    winner = a if a["outcomes"] == ["ran"] else b
    assert runs[0]["owner"] == winner["owner"]
    assert await _process_work_count() == 1

    slots = [SLOT + timedelta(hours=h) for h in (1, 2, 3)]
    a, b = await _run_processes(slots, list(reversed(slots)))  # opposite orders: they collide mid-way
    ran = [o for o in a["outcomes"] + b["outcomes"] if o == "ran"]
    assert len(ran) == 3 and sorted(a["outcomes"] + b["outcomes"]).count("skipped") == 3
    runs = await _runs("sweep:demo")
    assert sorted(r["slot"] for r in runs) == [SLOT, *slots] and all(r["status"] == "completed" for r in runs)
    assert await _process_work_count() == 4


KILL_WORKER = r"""
import asyncio, functools, sys

from guild.compliance import service as engine
from guild.infra.settings import get_settings
from scheduler.service import run_forever

role = sys.argv[1]
if role == "victim":
    # Stop inside the third batch's transaction, its findings written but not committed: the parent
    # SIGKILLs the process there, as a crash mid-batch would.
    advance, calls = engine._advance, [0]

    async def stopped_in_third_batch(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 3:
            print("stopped mid-batch", flush=True)
            await asyncio.Event().wait()
        return await advance(*args, **kwargs)

    engine._advance = stopped_in_third_batch

work = functools.partial(engine.sweep_compact, batch_size=2)
asyncio.run(run_forever(get_settings(), owner=role, work=work, catch_up=role == "victim"))
"""


class _Child:
    """A scheduler process whose output (stdout and stderr) is collected as it comes."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.out = bytearray()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, role: str, env: dict[str, str]) -> _Child:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            KILL_WORKER,
            role,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(proc)

    async def _read(self) -> None:
        while line := await self.proc.stdout.readline():
            self.out += line

    async def wait_for(self, text: bytes, timeout: float = 60) -> None:
        for _ in range(int(timeout / 0.05)):
            if text in self.out:
                return
            if self._reader.done():
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"{text!r} not seen; output:\n{self.out.decode(errors='replace')[-4000:]}")

    async def stop(self, sig: int = signal.SIGKILL) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), 60)
        await self._reader
        return code


async def test_a_sweep_killed_mid_run_is_finished_by_the_surviving_process(scenario):
    """Two scheduler processes; the one sweeping a slot is killed with SIGKILL in its third batch. The
    survivor, whose cron would not fire for days, takes the run over once the lease lapsed and finishes
    the slot from the cursor: every production checked exactly once, one owner change.

    Exactly once: the run's ``productions_checked`` (committed with each batch) is the number of
    productions, and every production's findings were opened by this run, so no batch was committed
    twice, lost, or kept from the killed transaction.
    """
    n = 9  # batches of 2: the victim commits two, dies in the third; the survivor does the other three
    compact_id, ids = await _sweep_world(scenario, n)
    env = {**_child_env(), "GUILD_SCHEDULER_LEASE_SECONDS": "2"}
    survivor = await _Child.start("survivor", env)
    victim = None
    try:
        await survivor.wait_for(b"scheduler.ready")
        victim = await _Child.start("victim", env)  # catches up: runs the latest slot at once
        await victim.wait_for(b"stopped mid-batch")
        (run,) = await _runs("sweep:screen-guild")
        assert (run["status"], run["owner"], run["productions_checked"], run["cursor"]) == (
            "running",
            "victim",
            4,
            str(ids[3]),
        )
        assert sorted(await _findings_by_production()) == ids[:4]  # the third batch is not committed

        assert await victim.stop(signal.SIGKILL) == -signal.SIGKILL
        run = await _wait_run("sweep:screen-guild", lambda r: r["status"] != "running", timeout=120)
        await survivor.wait_for(b"scheduler.run.completed")
        assert b"scheduler.reaper" in survivor.out and b"scheduler.run.taken_over" in survivor.out
        assert await survivor.stop(signal.SIGTERM) == 0, survivor.out.decode(errors="replace")
    finally:
        for child in (victim, survivor):
            if child is not None and child.proc.returncode is None:
                await child.stop(signal.SIGKILL)

    assert len(await _runs("sweep:screen-guild")) == 1
    assert (run["status"], run["owner"], run["takeovers"], run["lease_epoch"], run["error"]) == (
        "completed",
        "survivor",
        1,
        1,
        "",
    )
    assert (run["productions_checked"], run["cursor"], run["compact"]) == (n, str(ids[-1]), compact_id)
    _checked_once_each(await _findings_by_production(), ids, run["id"])


# --- slots -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "now", "expected"),
    [
        # Monday 06:00 weekly (2026-11-23 is a Monday)
        ("0 6 * * mon", "2026-11-24T12:00:00", "2026-11-23T06:00:00"),
        ("0 6 * * mon", "2026-11-23T06:00:00", "2026-11-23T06:00:00"),  # exactly on the boundary
        ("0 6 * * mon", "2026-11-23T06:00:00.000001", "2026-11-23T06:00:00"),
        ("0 6 * * mon", "2026-11-23T05:59:59.999999", "2026-11-16T06:00:00"),  # just before: last week
        ("0 6 * * mon", "2026-11-30T05:59:00", "2026-11-23T06:00:00"),
        # every 15 minutes
        ("*/15 * * * *", "2026-11-24T12:15:00", "2026-11-24T12:15:00"),
        ("*/15 * * * *", "2026-11-24T12:14:59.999999", "2026-11-24T12:00:00"),
        ("*/15 * * * *", "2026-11-24T12:29:00", "2026-11-24T12:15:00"),
        ("*/15 * * * *", "2026-11-25T00:05:00", "2026-11-25T00:00:00"),  # across midnight
        ("*/15 * * * *", "2026-01-01T00:00:30", "2026-01-01T00:00:00"),
        ("*/15 * * * *", "2025-12-31T23:59:59", "2025-12-31T23:45:00"),  # across the year
        # rare schedules stay cheap
        ("0 0 29 2 *", "2026-11-24T00:00:00", "2024-02-29T00:00:00"),
        ("* * * * *", "2026-11-24T12:00:30", "2026-11-24T12:00:00"),
    ],
)
def test_slot_is_the_latest_fire_time_at_or_before_now(cron, now, expected):
    from scheduler.runs import latest_fire_at_or_before, slot_for

    at = datetime.fromisoformat(now).replace(tzinfo=UTC)
    want = datetime.fromisoformat(expected).replace(tzinfo=UTC)
    assert latest_fire_at_or_before(cron, at) == want
    assert slot_for(cron, at) == want
    assert slot_for(cron, at.astimezone(timedelta_tz(-5))) == want  # the caller's zone does not matter


def test_slot_agrees_with_apscheduler_over_a_month():
    """Against APScheduler's own forward iteration: at, just before and just after every fire time of
    a month, and at an odd stride in between, the slot is the last fire time <= now."""
    from apscheduler.triggers.cron import CronTrigger

    from scheduler.runs import slot_for

    start, end = datetime(2026, 10, 30, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    for cron in ("0 6 * * mon", "*/15 * * * *", "30 2 1,15 * *"):
        trigger = CronTrigger.from_crontab(cron, timezone=UTC)
        fires, t = [], start - timedelta(days=40)
        while (t := trigger.get_next_fire_time(None, t)) < end + timedelta(days=31):
            fires.append(t)
            t += timedelta(seconds=1)
        probes = {start + timedelta(minutes=m) for m in range(0, 30 * 24 * 60, 97)}
        for f in fires:
            if start <= f < end:
                probes |= {f, f - timedelta(microseconds=1), f + timedelta(seconds=59)}
        for now in sorted(probes):
            assert slot_for(cron, now) == fires[bisect.bisect_right(fires, now) - 1], (cron, now)


def test_naive_times_are_refused():
    from scheduler.runs import slot_for

    with pytest.raises(ValueError, match="naive"):
        slot_for("0 6 * * mon", datetime(2026, 11, 23, 6, 0))


# --- GuildScheduler --------------------------------------------------------------------------


async def _officer(scenario):
    await scenario.org("performers", "guild")
    return await scenario.principal(await scenario.user("o.perf@example.org", ("performers", "officer")))


async def _ratify(principal, slug: str, number: int) -> None:
    from guild.compacts import service
    from guild.compacts.schemas import DecisionCreate

    await service.propose(principal, slug, number)
    await service.decide(principal, slug, number, DecisionCreate(organization="performers", decision="approve"))


def _fields(trigger) -> dict[str, str]:
    return {f.name: str(f) for f in trigger.fields}


async def test_sync_jobs_follows_ratified_compacts_and_their_cron(scenario):
    from apscheduler.triggers.cron import CronTrigger

    from guild.compacts import service
    from guild.compacts.schemas import AmendmentCreate, CompactCreate
    from guild.compacts.terms import example_terms
    from guild.infra.tables import CompactVersion
    from scheduler.runs import slot_for
    from scheduler.service import SYNC_JOB_ID, GuildScheduler

    officer = await _officer(scenario)
    terms = example_terms().model_copy(update={"quorum": None})
    assert terms.compliance.cron == "0 6 * * mon"
    await service.create_compact(
        officer,
        CompactCreate(slug="screen-guild", title="Screen Guild", convening_org="performers", parties=[], terms=terms),
    )
    await service.create_compact(
        officer,
        CompactCreate(slug="draft-only", title="Draft Only", convening_org="performers", parties=[], terms=terms),
    )

    sched = GuildScheduler(owner="test-scheduler", work=sweep_items)
    sched.start()
    try:
        job = sched.scheduler.get_job(SYNC_JOB_ID)
        assert job is not None and job.trigger.interval == timedelta(seconds=60)
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 3600)

        reaper = sched.scheduler.get_job("reaper")
        assert reaper is not None and (reaper.coalesce, reaper.max_instances) == (True, 1)

        assert (await sched.sync_jobs()).added == []  # drafts have no schedule
        assert sched.sweep_jobs() == {}

        await _ratify(officer, "screen-guild", 1)
        report = await sched.sync_jobs()
        assert report.added == ["sweep:screen-guild"] and report.removed == []
        job = sched.scheduler.get_job("sweep:screen-guild")
        assert _fields(job.trigger) == _fields(CronTrigger.from_crontab("0 6 * * mon", timezone=UTC))
        assert _fields(job.trigger)["day_of_week"] == "mon" and _fields(job.trigger)["hour"] == "6"
        assert str(job.trigger.timezone) == "UTC" and (job.coalesce, job.max_instances) == (True, 1)
        assert job.kwargs["cron"] == "0 6 * * mon"

        # catch-up: the new job fired at once for its latest slot, through the database
        expected_slot = slot_for("0 6 * * mon", datetime.now(UTC))
        for _ in range(200):
            runs = await _runs("sweep:screen-guild")
            if runs and runs[0]["status"] == "completed":
                break
            await asyncio.sleep(0.05)
        assert [(r["slot"], r["status"], r["owner"]) for r in runs] == [(expected_slot, "completed", "test-scheduler")]
        assert runs[0]["compact"] is not None
        assert sched.scheduler.get_job("sweep:screen-guild").next_run_time > datetime.now(UTC)

        assert (await sched.sync_jobs()).kept == ["sweep:screen-guild"]  # nothing changed: left alone

        # an amendment with another cron, ratified: the job is replaced with the new trigger
        amended = terms.model_copy(update={"compliance": terms.compliance.model_copy(update={"cron": "*/15 * * * *"})})
        await service.amend(officer, "screen-guild", AmendmentCreate(terms=amended))
        await _ratify(officer, "screen-guild", 2)
        report = await sched.sync_jobs()
        assert report.replaced == ["sweep:screen-guild"]
        job = sched.scheduler.get_job("sweep:screen-guild")
        assert _fields(job.trigger) == _fields(CronTrigger.from_crontab("*/15 * * * *", timezone=UTC))
        assert _fields(job.trigger)["minute"] == "*/15"

        # nothing ratified any more (no service does this to a ratified version yet: set it directly)
        await CompactVersion.update({CompactVersion.status: "superseded"}).where(CompactVersion.status == "ratified")
        report = await sched.sync_jobs()
        assert report.removed == ["sweep:screen-guild"]
        assert sched.sweep_jobs() == {} and sched.scheduler.get_job(SYNC_JOB_ID) is not None
    finally:
        await sched.shutdown()
    assert not sched.running


async def test_scheduler_process_stops_cleanly_on_sigterm():
    """``run_forever`` as its own process: starts, schedules, and exits 0 on SIGTERM."""
    script = (
        "import asyncio\n"
        "from guild.infra.settings import get_settings\n"
        "from scheduler.service import run_forever\n"
        "async def work(*args, **kwargs):\n"
        "    pass\n"
        "asyncio.run(run_forever(get_settings(), work=work))\n"
        "print('stopped cleanly', flush=True)\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        cwd=ROOT,
        env=_child_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        seen = b""
        while b"scheduler.ready" not in seen:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line, seen
            seen += line
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, seen + out
        assert b"stopped cleanly" in out
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
