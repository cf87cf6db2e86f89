# ruff: noqa: F401, F811  # ``world``: the fixture imported from the engine tests
"""Amendments that follow reality: a ratified amendment moves the productions bound to the version it replaces
(audited, re-checked by the next incremental sweep against the new terms); a producer re-binds to a newer
version in one call; contracts issued under the old version are re-checked against the new one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from guild.compacts.terms import Terms
from tests.integration.test_compliance_engine import (
    T0,
    World,
    _terms,
    engage,
    findings,
    new_run,
    world,
)

SLUG = "screen-guild"
OFFICER = "o.perf@example.org"
SHOOT = {"start_date": "2040-03-05", "end_date": "2040-05-04"}  # a Monday; nine weeks
RATE = "apprenticeship[0].min_rate_minor_per_week"


def amended(**changes: Any) -> Terms:
    """``_terms()`` (camera quota: 1 apprentice at EUR 600.00 a week) with the camera rule's fields changed,
    and, with ``commitments``, other commitment rules."""
    data = _terms().model_dump(mode="json")
    commitments = changes.pop("commitments", None)
    data["apprenticeship"][0].update(changes)
    if commitments is not None:
        data["apprenticeship_commitments"] = commitments
    return Terms.model_validate(data)


async def ratify_amendment(w: World, terms: Terms, *, followers: bool = True, monkeypatch=None) -> Any:
    """Draft, propose and ratify an amendment of screen-guild (one party: its convening officer ratifies alone).
    ``followers=False``: as before bindings followed amendments (a production left on the superseded version)."""
    from guild.compacts import service as compacts
    from guild.compacts.schemas import AmendmentCreate, DecisionCreate

    officer = await w.scenario.principal(OFFICER)
    draft = await compacts.amend(officer, SLUG, AmendmentCreate(terms=terms))
    await compacts.propose(officer, SLUG, draft.number)
    if not followers:
        monkeypatch.setattr(compacts, "_followers", [])
    decision = DecisionCreate(organization="performers", decision="approve")
    ratified = await compacts.decide(officer, SLUG, draft.number, decision)
    if not followers:
        monkeypatch.undo()
    assert ratified.status == "ratified"
    return await w.scenario._version(SLUG, draft.number)


async def binding(pid: UUID) -> dict[str, Any]:
    from guild.infra.tables import ProductionBinding

    rows = await ProductionBinding.select(
        ProductionBinding.version, ProductionBinding.version_hash, ProductionBinding.version.number.as_alias("number")
    ).where(ProductionBinding.production == pid)
    assert len(rows) == 1, rows
    return rows[0]


async def bound_events(pid: UUID) -> list[dict[str, Any]]:
    from guild.infra.tables import AuditEvent

    return (
        await AuditEvent.select(AuditEvent.actor_id, AuditEvent.data)
        .where((AuditEvent.action == "production.bound") & (AuditEvent.entity_id == str(pid)))
        .order_by(AuditEvent.seq)
        .output(load_json=True)
    )


async def marked(pid: UUID) -> bool:
    """Changed since its last evaluation: the incremental sweep will re-evaluate it."""
    from guild.infra.tables import Production

    row = await Production.select(Production.inputs_rev, Production.evaluated_rev).where(Production.id == pid).first()
    return row["inputs_rev"] != row["evaluated_rev"]


async def sweep(w: World, at, *, full: bool) -> tuple[UUID, Any]:
    from guild.compliance.service import sweep_compact

    run = await new_run(trigger="scheduled", job_id=f"sweep:{SLUG}:{full}", slot=at, compact=w.compact_id, full=full)
    return run, await sweep_compact(w.compact_id, run, "", at)


async def shoot(w: World, title: str, **kw: Any) -> UUID:
    """A production of kestrel with a nine-week shoot from 5 March 2040, bound to screen-guild v1."""
    return UUID(await w.scenario.production("kestrel", title, by=w.producer_headers, bind=[SLUG], **{**SHOOT, **kw}))


async def camera_pair(w: World, pid: UUID, rate: int = 65_000) -> tuple[UUID, UUID]:
    """A journey-level focus puller and the camera apprentice they mentor, paid ``rate`` a week."""
    mentor = await engage(w, pid, "Mara Journey", department="camera", role="Focus puller")
    trainee = await engage(
        w,
        pid,
        "Ari Apprentice",
        department="camera",
        role="Camera trainee",
        level="apprentice",
        rate_minor_per_week=rate,
        mentor_engagement_id=str(mentor),
    )
    return mentor, trainee


# --- the binding follows the amendment ---------------------------------------------------------------------


async def test_a_ratified_amendment_moves_bound_productions_and_the_next_check_uses_its_terms(world):
    from guild.infra.audit import rows_without_events
    from guild.infra.tables import Commitment

    pid = await shoot(world, "The Harbour")
    other = await shoot(world, "The Lighthouse")
    _, trainee = await camera_pair(world, pid)  # EUR 650.00 a week: above v1's EUR 600.00
    _, stats = await sweep(world, T0, full=True)
    assert stats.productions == 2
    opened = {(r["rule"], r["subject"]): r["id"] for r in await findings(pid, status="open")}
    before = set(opened)
    assert before == {("contract_missing", str(e)) for e in await _engagement_ids(pid)}  # no contracts yet
    assert not await marked(pid)
    commitments = {r["key"]: r for r in await _commitments(pid)}
    assert {k: (r["due_date"], r["status"]) for k, r in commitments.items()} == {
        "skills_plan": (date(2040, 2, 20), "open"),  # 10 working days before Monday 5 March
        "final_plan": (date(2040, 3, 19), "open"),  # two weeks after the start (a shoot of at least 6 weeks)
    }

    # v2: apprentices earn at least EUR 700.00 a week; the skills plan is due three weeks before; no final plan
    skills = {"key": "skills_plan", "title": "Skills plan", "anchor": "shoot_start", "offset_weeks": -3}
    v2 = await ratify_amendment(world, amended(min_rate_minor_per_week=70_000, commitments=[skills]))

    for p in (pid, other):
        assert await binding(p) == {"version": v2.id, "version_hash": v2.terms_hash, "number": 2}
        assert await marked(p), "the moved binding marks the production for the incremental sweep"
        [first, moved] = await bound_events(p)
        assert first["data"]["version"] == 1 and "previous_version" not in first["data"]
        assert moved["data"] == {
            "compact": SLUG,
            "version": 2,
            "version_hash": v2.terms_hash,
            "previous_version": 1,
            "previous_version_hash": world.version_hash,
            "cause": "amendment_ratified",
        }
        assert moved["actor_id"] == str((await world.scenario.principal(OFFICER)).id)  # the ratifying officer
    # every binding has the event of the version it is bound to now (the fixture's webhook rows have none)
    assert [m.what for m in await rows_without_events() if "webhook" not in m.what] == []

    # the commitments moved with the binding (the same rows) and follow v2's rules
    after = {r["key"]: r for r in await _commitments(pid)}
    assert {k: (r["id"], r["version"], r["due_date"], r["status"]) for k, r in after.items()} == {
        "skills_plan": (commitments["skills_plan"]["id"], v2.id, date(2040, 2, 13), "open"),
        "final_plan": (commitments["final_plan"]["id"], v2.id, date(2040, 3, 19), "withdrawn"),
    }
    assert await Commitment.count().where(Commitment.version == world.version_id) == 0

    # the next incremental sweep re-evaluates both, against v2: the apprentice is now underpaid
    run, stats = await sweep(world, T0 + timedelta(days=1), full=False)
    assert stats.productions == 2
    open_now = await findings(pid, status="open")
    assert {r["version"] for r in open_now} == {v2.id}
    assert {r["rule"] for r in open_now} == {"contract_missing", "apprenticeship_underpaid", "apprenticeship_quota"}
    [underpaid] = [r for r in open_now if r["rule"] == "apprenticeship_underpaid"]
    assert underpaid["subject"] == str(trainee)
    assert (underpaid["evidence"]["min_rate_minor_per_week"], underpaid["evidence"]["rate_minor_per_week"]) == (
        70_000,
        65_000,
    )
    assert underpaid["evidence"]["version_number"] == 2 and "screen-guild v2" in underpaid["remediation"]
    # the same obligations carried over to v2 in place (one finding per obligation): not resolved and reopened
    assert {(r["rule"], r["subject"]): r["id"] for r in open_now if r["rule"] == "contract_missing"} == opened
    assert await findings(pid, version=world.version_id) == [] and await findings(pid, status="resolved") == []


async def _engagement_ids(pid: UUID) -> list[UUID]:
    from guild.infra.tables import Engagement

    return [r["id"] for r in await Engagement.select(Engagement.id).where(Engagement.production == pid)]


async def _commitments(pid: UUID) -> list[dict[str, Any]]:
    from guild.infra.tables import Commitment

    return await Commitment.select(
        Commitment.id, Commitment.key, Commitment.version, Commitment.due_date, Commitment.status
    ).where(Commitment.production == pid)


async def test_a_producer_rebinds_to_the_newer_version_in_one_call_and_never_to_an_older_one(
    world, client, monkeypatch
):
    pid = await shoot(world, "The Harbour")
    # ratified as before bindings followed amendments: the production is left on v1, now superseded
    v2 = await ratify_amendment(
        world, amended(min_rate_minor_per_week=70_000), followers=False, monkeypatch=monkeypatch
    )
    assert (await binding(pid))["number"] == 1
    url = f"/api/v1/productions/{pid}/bindings"
    h = world.producer_headers

    r = await client.post(url, json={"compact": SLUG, "version": 2}, headers=h)
    assert r.status_code == 200, r.text  # an update of the binding (200, not 201), not a 409
    assert [(b["compact"], b["version_number"], b["version_hash"]) for b in r.json()["bindings"]] == [
        (SLUG, 2, v2.terms_hash)
    ]
    assert await binding(pid) == {"version": v2.id, "version_hash": v2.terms_hash, "number": 2}
    moved = (await bound_events(pid))[-1]
    assert moved["actor_id"] == str(world.user_id)
    assert (moved["data"]["previous_version"], moved["data"]["version"], moved["data"]["cause"]) == (
        1,
        2,
        "rebound_by_producer",
    )
    assert {r["version"] for r in await _commitments(pid)} == {v2.id}  # the commitments went along

    older = await client.post(url, json={"compact": SLUG, "version": 1}, headers=h)
    assert older.status_code == 409
    problem = older.json()
    assert problem["rule"] == "older_version" and (problem["bound_version"], problem["requested_version"]) == (2, 1)
    assert "bound to screen-guild v2; v1 is older" in problem["detail"]
    same = await client.post(url, json={"compact": SLUG, "version": 2}, headers=h)
    assert same.status_code == 409 and same.json()["rule"] == "already_bound"
    assert len(await bound_events(pid)) == 2  # refusals change nothing
    assert await binding(pid) == {"version": v2.id, "version_hash": v2.terms_hash, "number": 2}

    # a newer version that is not ratified yet: refused as any binding to it would be
    from guild.compacts import service as compacts
    from guild.compacts.schemas import AmendmentCreate

    await compacts.propose(
        await world.scenario.principal(OFFICER),
        SLUG,
        (await compacts.amend(await world.scenario.principal(OFFICER), SLUG, AmendmentCreate())).number,
    )
    proposed = await client.post(url, json={"compact": SLUG, "version": 3}, headers=h)
    assert proposed.status_code == 422 and proposed.json()["errors"][0]["rule"] == "ratified_only"
    # and another company's producer cannot move it
    stranger = await world.scenario.user("p.blue@example.org")
    r = await client.post(url, json={"compact": SLUG, "version": 2}, headers=stranger.headers)
    assert r.status_code == 404


# --- contracts issued under the old version are re-checked ---------------------------------------------------


def _clause(key: str, **params: Any) -> dict[str, Any]:
    defaults: dict[str, dict[str, Any]] = {
        "fees_and_schedule": {
            "rate_minor_per_week": 200_000,
            "currency": "EUR",
            "payment_terms_days": 14,
            "schedule": "weekly",
        },
        "no_required_generative_tools": {"worker_may_be_required_to_use": False},
        "no_training_ingestion": {"ingestion_without_licence_permitted": False},
        "apprenticeship_placement": {
            "rate_minor_per_week": 65_000,
            "currency": "EUR",
            "weeks": 13,
            "mentor_required": True,
        },
    }
    return {"key": key, "version": 1, "params": {**defaults[key], **params}}


async def issue(
    client, w: World, pid: UUID, eid: UUID, *clauses: dict[str, Any], supersedes: UUID | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"engagement_id": str(eid), "contract_type": "crew", "clauses": list(clauses)}
    if supersedes is not None:
        body["supersedes"] = str(supersedes)
    r = await client.post(f"/api/v1/productions/{pid}/contracts", json=body, headers=w.producer_headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_contracts_under_the_old_version_are_rechecked_once_and_only_the_broken_ones_are_findings(world, client):
    from guild.compliance import service as compliance_engine
    from guild.compliance.rules import evaluate_production
    from guild.infra.db import read_tx
    from guild.infra.tables import Contract, ContractRecheck

    pid = await shoot(world, "The Harbour")
    mentor, trainee = await camera_pair(world, pid)  # the apprentice is paid EUR 650.00 a week
    kit = (_clause("no_required_generative_tools"), _clause("no_training_ingestion"))
    await issue(client, world, pid, mentor, _clause("fees_and_schedule"), *kit)
    await issue(
        client,
        world,
        pid,
        trainee,
        _clause("fees_and_schedule", rate_minor_per_week=65_000),
        *kit,
        _clause("apprenticeship_placement"),
    )
    stored = {r["engagement"]: r for r in await Contract.select().output(load_json=True)}
    _, stats = await sweep(world, T0, full=True)
    assert await findings(pid, status="open") == []  # everything complies with v1

    v2 = await ratify_amendment(world, amended(min_rate_minor_per_week=70_000))
    run, stats = await sweep(world, T0 + timedelta(days=1), full=False)
    assert stats.productions == 1

    # the mentor's contract still complies with v2: no finding; the apprentice's does not (and, paid below
    # v2's minimum, the apprentice is underpaid and no longer counts toward the quota)
    assert {(r["rule"], r["subject"]) for r in await findings(pid, status="open")} == {
        ("contract_noncompliant", str(trainee)),
        ("apprenticeship_underpaid", str(trainee)),
        ("apprenticeship_quota", "camera"),
    }
    noncompliant = await findings(pid, status="open", rule="contract_noncompliant")
    assert [r["subject"] for r in noncompliant] == [str(trainee)]
    [finding] = noncompliant
    assert finding["version"] == v2.id
    assert finding["evidence"]["term_paths"] == [RATE]
    [violation] = finding["evidence"]["recheck"]["violations"]
    assert (violation["term_path"], violation["rule"], violation["version_number"]) == (RATE, "min_rate", 2)
    assert (violation["required"]["min"], violation["actual"]) == (70_000, 65_000)  # EUR 700.00 required
    assert finding["remediation"] == (
        "Re-issue Ari Apprentice's contract under screen-guild v2, the version the production is bound to now "
        f"(under it the contract breaks {RATE}): issue a new contract checked against it, superseding the old one."
    )
    assert finding["evidence"]["checked_against"] == [world.version_hash]
    # issued contracts never change: document, report and facts as issued
    for row in await Contract.select().output(load_json=True):
        before = stored[row["engagement"]]
        assert (row["document"], row["compliance"], row["document_sha256"], row["version_hashes"]) == (
            before["document"],
            before["compliance"],
            before["document_sha256"],
            [world.version_hash],
        )
    # the re-checks are kept, one per contract and version
    rechecks = {
        r["contract"]: r["compliant"]
        for r in await ContractRecheck.select().where(ContractRecheck.version_hash == v2.terms_hash)
    }
    contract_of = {e: stored[e]["id"] for e in (mentor, trainee)}
    assert rechecks == {contract_of[mentor]: True, contract_of[trainee]: False}

    # the next sweep computes nothing again, and counts the mentor as settled (their contract complies with v2)
    _, again = await sweep(world, T0 + timedelta(days=2), full=True)
    assert again.opened == 0 and again.resolved == 0
    assert await ContractRecheck.count() == 2
    async with read_tx():
        counted = await compliance_engine._load([pid], T0.date())
        whole = await compliance_engine._load([pid], T0.date(), settle=False)
    assert counted.new_rechecks == [] and whole.new_rechecks == []
    assert [e.id for e in counted.facts[str(pid)].engagements] == [trainee]
    assert [(h.department, h.level, h.count) for h in counted.facts[str(pid)].settled] == [("camera", "journey", 1)]
    versions = [b.version for b in counted.bindings[str(pid)]]
    assert evaluate_production(counted.facts[str(pid)], versions) == evaluate_production(
        whole.facts[str(pid)], versions
    )

    # paid the new minimum and re-issued under v2, superseding the old contract: the finding resolves
    from guild.infra.tables import Engagement

    await Engagement.update({Engagement.rate_minor_per_week: 70_000}).where(Engagement.id == trainee)
    reissued = await issue(
        client,
        world,
        pid,
        trainee,
        _clause("fees_and_schedule", rate_minor_per_week=70_000),
        *kit,
        _clause("apprenticeship_placement", rate_minor_per_week=70_000),
        supersedes=contract_of[trainee],
    )
    assert reissued["status"] == "issued"
    _, stats = await sweep(world, T0 + timedelta(days=3), full=False)
    assert (stats.productions, stats.resolved, stats.opened) == (1, 3, 0)
    assert await findings(pid, status="open") == []


async def test_bindings_made_while_an_amendment_is_ratified_end_on_the_version_in_force(world, client):
    """A ratification that moves bindings, producers binding other productions to the version it supersedes
    and changing a bound production's shoot at the same moment: each binding is made before the ratification
    (and moved by it) or refused after it (v1 is superseded); nothing fails, nothing is left behind."""
    from guild.compacts import service as compacts
    from guild.compacts.schemas import AmendmentCreate, DecisionCreate
    from guild.infra.tables import ProductionBinding
    from tests.integration.concurrency import together

    h = world.producer_headers
    bound = [await shoot(world, f"Bound {i}") for i in range(3)]
    fresh = [await world.scenario.production("kestrel", f"Fresh {i}", by=h) for i in range(4)]
    officer = await world.scenario.principal(OFFICER)
    draft = await compacts.amend(officer, SLUG, AmendmentCreate(terms=amended(min_rate_minor_per_week=70_000)))
    await compacts.propose(officer, SLUG, draft.number)
    decision = DecisionCreate(organization="performers", decision="approve")

    results = await together(
        [
            compacts.decide(officer, SLUG, draft.number, decision),
            *[
                client.post(f"/api/v1/productions/{p}/bindings", json={"compact": SLUG, "version": 1}, headers=h)
                for p in fresh
            ],
            client.patch(f"/api/v1/productions/{bound[0]}", json={"end_date": "2040-06-01"}, headers=h),
        ]
    )
    assert results[0].status == "ratified"
    binds, patch = results[1:-1], results[-1]
    assert patch.status_code == 200, patch.text
    assert {r.status_code for r in binds} <= {201, 422}
    assert all(r.json()["errors"][0]["rule"] == "ratified_only" for r in binds if r.status_code == 422)
    made = {UUID(p) for p, r in zip(fresh, binds, strict=True) if r.status_code == 201}
    rows = await ProductionBinding.select(ProductionBinding.production, ProductionBinding.version.number.as_alias("n"))
    assert {(r["production"], r["n"]) for r in rows} == {(p, 2) for p in {*bound, *made}}
