# ruff: noqa: F401, F811  # ``world``: the fixture imported from the engine tests
"""Incremental sweeps: only productions whose inputs changed (or whose time-driven rules came due) are
re-evaluated, with the findings a full sweep would give; several workers share one run's batches."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from tests.engines import engines_only
from tests.integration.test_compliance_engine import (
    GRACE,
    T0,
    World,
    camera_team,
    commit_to,
    contract,
    disclose,
    engage,
    findings,
    new_run,
    production,
    utc,
    world,
)

ESCALATE = timedelta(days=30)  # example_terms(): escalate_after_days


async def sweep(w: World, at: datetime, *, full: bool, **kw: Any) -> tuple[UUID, Any]:
    from guild.compliance.service import sweep_compact

    job = f"sweep:screen-guild:{'full' if full else 'incremental'}"
    run = await new_run(trigger="scheduled", job_id=job, slot=at, compact=w.compact_id, full=full)
    return run, await sweep_compact(w.compact_id, run, "", at, **kw)


async def checked_by(run: UUID) -> set[UUID]:
    from guild.infra.tables import Production

    return {r["id"] for r in await Production.select(Production.id).where(Production.checked_run == run)}


async def open_state() -> set[tuple[Any, ...]]:
    """The open findings as a user reads them (what, how severe, why, what to do)."""
    return {
        (r["production"], r["rule"], r["subject"], r["severity"], str(r["evidence"]), r["remediation"])
        for r in await findings(status="open")
    }


async def test_each_kind_of_input_change_is_picked_up_and_nothing_else(world):
    from guild.infra.tables import Commitment, Contract, Engagement, Production

    ids = [await production(world, f"Film {i}") for i in range(8)]
    teams = {}
    for pid in ids:
        teams[pid] = await camera_team(world, pid)
        await disclose(pid, "vfx_shot", 100, 10)
    lone = await engage(world, ids[2], "Lone Crew")
    lone_contract = await contract(world, ids[2], lone)
    await commit_to(world, ids[3], "placement-plan", T0.date() + timedelta(days=200))
    unbound = UUID(
        await world.scenario.production("kestrel", "Unbound yet", by=world.producer_headers, budget_minor=30_000_000)
    )
    t1 = T0 + timedelta(days=1)
    first, stats = await sweep(world, T0, full=True)
    assert stats.productions == 8
    run, stats = await sweep(world, t1, full=False)
    assert (stats.productions, await checked_by(run)) == (0, set()), "nothing changed: nothing re-evaluated"

    # one change of each kind, each on its own production, through the paths the application writes
    await engage(world, ids[0], "New Crew")  # roster: a new engagement (contract_missing)
    await Engagement.update({Engagement.rate_minor_per_week: 50_000}).where(Engagement.id == teams[ids[1]][1])
    await Contract.update({Contract.status: "void"}).where(Contract.id == lone_contract)  # a contract voided
    await Commitment.update({Commitment.status: "done"}).where(Commitment.production == ids[3])  # commitment done
    await disclose(ids[4], "vfx_shot", 100, 90)  # disclosures
    await Production.update({Production.budget_minor: 60_000_000}).where(Production.id == ids[5])  # budget band
    await world.scenario.bind(str(unbound), "screen-guild", by=world.producer_headers)  # a binding
    await contract(world, ids[6], await engage(world, ids[6], "Signed Crew"))  # engagement + contract issued
    changed = {ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], unbound}

    t2 = T0 + timedelta(days=2)
    run, stats = await sweep(world, t2, full=False)
    assert await checked_by(run) == changed and stats.productions == len(changed)
    assert ids[7] not in await checked_by(run)
    incremental = await open_state()
    rules = {(r[0], r[1]) for r in incremental}
    assert {(ids[0], "contract_missing"), (ids[1], "apprenticeship_underpaid"), (ids[2], "contract_missing")} <= rules
    assert (ids[4], "ai_share_exceeded") in rules and (unbound, "contract_missing") not in rules

    # a full re-evaluation at the same instant finds exactly the same
    full_run, stats = await sweep(world, t2, full=True)
    assert (stats.productions, stats.opened, stats.resolved, stats.escalated) == (9, 0, 0, 0)
    assert await open_state() == incremental


async def test_time_driven_rules_come_due_without_any_write(world):
    from guild.infra.tables import Production

    pid = await production(world)
    await camera_team(world, pid)
    await commit_to(world, pid, "placement-plan", T0.date() + timedelta(days=3))
    other = await production(world, "No deadlines")
    await camera_team(world, other)
    await engage(world, other, "No Contract")  # contract_missing, opened at T0, due at T0 + grace

    await sweep(world, T0, full=True)
    rows = {r["id"]: r["next_check_at"] for r in await Production.select(Production.id, Production.next_check_at)}
    assert utc(rows[pid]) == datetime(2027, 4, 5, tzinfo=T0.tzinfo)  # the day after the due date, midnight UTC
    assert utc(rows[other]) == T0 + GRACE + ESCALATE + timedelta(microseconds=1)

    run, stats = await sweep(world, T0 + timedelta(days=3), full=False)
    assert stats.productions == 0  # due on the 4th: not overdue yet
    run, stats = await sweep(world, T0 + timedelta(days=4), full=False)
    assert await checked_by(run) == {pid} and stats.opened == 1
    assert [r["rule"] for r in await findings(pid, status="open")] == ["commitment_overdue"]
    run, stats = await sweep(world, T0 + timedelta(days=5), full=False)  # days late moves on: due again daily
    assert await checked_by(run) == {pid}
    assert [r["evidence"]["days_late"] for r in await findings(pid, status="open")] == [2]

    escalation = T0 + GRACE + ESCALATE + timedelta(hours=1)
    run, stats = await sweep(world, escalation, full=False)
    assert other in await checked_by(run) and stats.escalated == 1
    assert [r["severity"] for r in await findings(other, status="open")] == ["critical"]


async def test_a_newly_ratified_version_makes_the_next_scheduled_run_full(world):
    from guild.compliance import runs
    from guild.infra.tables import CompactVersion, ComplianceRun

    assert await runs.needs_full(world.compact_id)  # never swept in full
    run, _ = await sweep(world, T0, full=True)
    await ComplianceRun.update({ComplianceRun.status: "completed"}).where(ComplianceRun.id == run)
    assert not await runs.needs_full(world.compact_id)
    # a version ratified after that run (here: the ratification moved later, as an amendment's would be)
    await CompactVersion.update({CompactVersion.ratified_at: T0 + timedelta(days=1)}).where(
        CompactVersion.id == world.version_id
    )
    assert await runs.needs_full(world.compact_id)
    lease = await runs.start_scheduled("sweep:screen-guild", T0 + timedelta(days=2), world.compact_id, "me", T0, GRACE)
    assert await runs.is_full(lease.run_id)


async def test_the_cli_checks_changed_productions_unless_asked_for_all(world):
    from guild.compliance.service import run_check

    ids = [await production(world, f"Film {i}") for i in range(3)]
    for pid in ids:
        await engage(world, pid, "No Contract")
    assert (await run_check("screen-guild", lambda *_: None)).productions == 3  # never evaluated
    assert (await run_check("screen-guild", lambda *_: None)).productions == 0
    await engage(world, ids[1], "Second")
    assert (await run_check("screen-guild", lambda *_: None)).productions == 1
    assert (await run_check("screen-guild", lambda *_: None, full=True)).productions == 3


@engines_only("postgres", reason="SKIP LOCKED: several processes share a run's batches on PostgreSQL")
async def test_two_workers_share_one_run_and_check_each_production_once(world):
    from guild.compliance import service
    from guild.infra.tables import ComplianceRun

    ids = [await production(world, f"Film {i}") for i in range(12)]
    for pid in ids:
        await engage(world, pid, "No Contract")  # contract_missing + camera quota each
    run = await new_run(trigger="scheduled", job_id="sweep:screen-guild", slot=T0, compact=world.compact_id)

    checked: list[UUID] = []
    real = service._check_in_tx

    async def slow(production_ids, run_id, now):  # long enough that the other worker claims meanwhile
        stats = await real(production_ids, run_id, now)
        checked.extend(production_ids)
        await asyncio.sleep(0.05)
        return stats

    service._check_in_tx = slow
    try:
        owner, helper = await asyncio.gather(
            service.sweep_compact(world.compact_id, run, "", T0, batch_size=2),
            service.sweep_compact(world.compact_id, run, "", T0, batch_size=2, helping=True),
        )
    finally:
        service._check_in_tx = real
    assert sorted(checked) == sorted(ids) and len(checked) == len(set(checked))  # each once
    assert owner.batches > 0 and helper.batches > 0  # both took batches
    assert owner.productions + helper.productions == 12 and owner.opened + helper.opened == 24
    row = await ComplianceRun.select().where(ComplianceRun.id == run).first()
    assert (row["productions_checked"], row["findings_opened"]) == (12, 24)
    assert len(await findings(status="open")) == 24


@engines_only("postgres", reason="SKIP LOCKED: a dead worker's batch is re-claimed on PostgreSQL")
async def test_a_worker_dying_mid_batch_leaves_its_batch_to_the_others(world):
    from guild.compliance import service

    ids = [await production(world, f"Film {i}") for i in range(6)]
    for pid in ids:
        await engage(world, pid, "No Contract")
    run = await new_run(trigger="scheduled", job_id="sweep:screen-guild", slot=T0, compact=world.compact_id)
    claimed = asyncio.Event()
    real = service._check_in_tx

    async def dies(production_ids, run_id, now):
        await real(production_ids, run_id, now)
        claimed.set()
        await asyncio.sleep(3600)  # killed here, its findings written but not committed

    service._check_in_tx = dies
    doomed = asyncio.create_task(service.sweep_compact(world.compact_id, run, "", T0, batch_size=2, helping=True))
    await claimed.wait()
    service._check_in_tx = real
    survivor = asyncio.create_task(service.sweep_compact(world.compact_id, run, "", T0, batch_size=2))
    await asyncio.sleep(0.3)
    assert not survivor.done()  # it waits for the batch the other worker holds
    doomed.cancel()  # its transaction rolls back; the rows it locked are free again
    with pytest.raises(asyncio.CancelledError):
        await doomed
    stats = await asyncio.wait_for(survivor, 30)
    assert stats.productions == 6 and stats.opened == 12
    rows = await findings(status="open")
    assert len(rows) == 12 and len({(r["production"], r["rule"]) for r in rows}) == 12
