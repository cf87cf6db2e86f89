"""The compliance engine against a real database: findings open, persist, escalate and resolve; sweeps resume."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from guild.compacts.terms import Terms, example_terms
from tests.integration.scenario import Scenario

T0 = datetime(2027, 4, 1, 6, 0, tzinfo=UTC)
GRACE = timedelta(days=14)


def _terms() -> Terms:
    data = example_terms().model_dump(mode="json")
    data["quorum"] = None
    data["apprenticeship"] = data["apprenticeship"][:1]  # camera, EUR [0, 50M): 1 apprentice, 60_000/week, 4..26 weeks
    return Terms.model_validate(data)


@dataclass
class World:
    scenario: Scenario
    producer: Any  # Principal
    producer_headers: dict[str, str]
    user_id: UUID
    company: UUID
    convening: UUID
    compact_id: UUID
    version_id: UUID
    version_hash: str


@pytest.fixture
async def world(scenario) -> World:
    """Compact screen-guild (performers; camera quota only), ratified; kestrel's producer; a webhook endpoint
    of each organisation."""
    from guild.infra.tables import WebhookEndpoint

    orgs = await scenario.organizations({"performers": "guild", "kestrel": "production_company"})
    await scenario.user("o.perf@example.org", ("performers", "officer"))
    producer = await scenario.user("p.kestrel@example.org", ("kestrel", "producer"))
    version = await scenario.compact(
        "screen-guild", title="Screen Guild", convening="performers", by="o.perf@example.org", terms=_terms()
    )
    for org in (orgs["kestrel"], orgs["performers"]):
        await WebhookEndpoint.insert(
            WebhookEndpoint(
                id=uuid4(),
                organization=org,
                url=f"https://hooks.example.org/{org}",
                secret="s3cret",
                active=True,
                created_at=T0,
            )
        )
    return World(
        scenario=scenario,
        producer=await scenario.principal(producer),
        producer_headers=producer.headers,
        user_id=producer.id,
        company=orgs["kestrel"],
        convening=orgs["performers"],
        compact_id=version.compact_id,
        version_id=version.id,
        version_hash=version.terms_hash,
    )


# --- building productions ------------------------------------------------------------------------------


async def production(w: World, title: str = "The Harbour", budget: int = 30_000_000) -> UUID:
    """A production of kestrel bound to screen-guild."""
    by = w.producer_headers
    return UUID(await w.scenario.production("kestrel", title, by=by, budget_minor=budget, bind=["screen-guild"]))


async def engage(w: World, pid: UUID, name: str, **kw: Any) -> UUID:
    """A journey-level crew member of the production department, 1 March to 28 May 2027 (``kw`` over that)."""
    return UUID(await w.scenario.engagement(str(pid), name, by=w.producer_headers, **{"role": "Crew", **kw}))


async def contract(
    w: World,
    pid: UUID,
    eid: UUID,
    *,
    clauses=("fees_and_schedule",),
    planned=(),
    hashes=None,
    contract_type: str = "crew",
    status: str = "issued",
) -> UUID:
    """A stored contract row with the document parts the engine reads (issuing real ones renders PDFs)."""
    from contracts.rules import contract_facts
    from guild.infra.tables import Contract

    cid = uuid4()
    document = {
        "clauses": [{"key": k, "version": 1, "params": {}, "text": "..."} for k in clauses],
        "planned_ai_uses": list(planned),
        "compacts": [{"slug": "screen-guild", "version": 1, "hash": h} for h in (hashes or [w.version_hash])],
    }
    report = {"compliant": True, "violations": []}
    digest = hashlib.sha256(cid.bytes).hexdigest()
    await Contract.insert(
        Contract(
            id=cid,
            production=pid,
            engagement=eid,
            contract_type=contract_type,
            status=status,
            document=document,
            document_sha256=digest,
            compliance=report,
            pdf=b"%PDF-1.7",
            pdf_sha256=digest,
            idempotency_key=None,
            request_sha256=digest,
            issued_by=w.user_id,
            issued_at=datetime.now(UTC),
            **contract_facts(document, report)._asdict(),
        )
    )
    return cid


async def disclose(pid: UUID, category: str, total: int, ai: int) -> None:
    from guild.infra.tables import AssetDisclosure

    existing = (
        await AssetDisclosure.select(AssetDisclosure.id)
        .where((AssetDisclosure.production == pid) & (AssetDisclosure.category == category))
        .first()
    )
    if existing:
        counts = {AssetDisclosure.total_count: total, AssetDisclosure.ai_generated_count: ai}
        await AssetDisclosure.update(counts).where(AssetDisclosure.id == existing["id"])
    else:
        await AssetDisclosure.insert(
            AssetDisclosure(
                id=uuid4(), production=pid, category=category, total_count=total, ai_generated_count=ai, updated_at=T0
            )
        )


async def camera_team(w: World, pid: UUID, **apprentice: Any) -> tuple[UUID, UUID]:
    mentor = await engage(w, pid, "Mara Journey", department="camera", role="Focus puller")
    trainee = await engage(
        w,
        pid,
        "Ari Apprentice",
        **{
            "department": "camera",
            "role": "Camera trainee",
            "level": "apprentice",
            "rate_minor_per_week": 70_000,
            "mentor_engagement_id": str(mentor),
            **apprentice,
        },
    )
    for eid in (mentor, trainee):
        await contract(w, pid, eid)
    return mentor, trainee


async def new_run(**kw: Any) -> UUID:
    from guild.infra.tables import ComplianceRun

    run_id = uuid4()
    await ComplianceRun.insert(
        ComplianceRun(
            id=run_id, trigger=kw.pop("trigger", "on_demand"), status="running", started_at=T0, heartbeat_at=T0, **kw
        )
    )
    return run_id


async def findings(pid: UUID | None = None, **where: Any) -> list[dict[str, Any]]:
    from guild.infra.tables import Finding

    query = Finding.select().output(load_json=True).order_by(Finding.rule).order_by(Finding.subject)
    if pid is not None:
        query = query.where(Finding.production == pid)
    rows = await query
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


async def deliveries(event: str | None = None) -> list[dict[str, Any]]:
    from guild.infra.tables import WebhookDelivery

    rows = await WebhookDelivery.select(
        WebhookDelivery.event, WebhookDelivery.payload, WebhookDelivery.endpoint.organization.as_alias("org")
    ).output(load_json=True)
    return [r for r in rows if event is None or r["event"] == event]


def utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


# --- the tests -----------------------------------------------------------------------------------------


async def test_a_production_that_keeps_every_rule_has_no_findings(world, client):
    from guild.compliance.service import check_production
    from guild.infra.tables import ComplianceRun

    pid = await production(world)
    await disclose(pid, "vfx_shot", 100, 20)  # weight 5: exactly the 20 % maximum
    await disclose(pid, "sound_effect", 40, 8)  # weight 0.25: (100 + 2) / (500 + 10) = 20 %
    await camera_team(world, pid)
    actor = await engage(world, pid, "Ada Actor", role="Lead")
    # one real, issued contract: the engine reads its stored document
    replica = {
        "notice_hours": 48,
        "consent_scope": "per_use",
        "pay_multiple_of_scale": 1.0,
        "use_description": "Crowd extension in the harbour sequence (scenes 40-44).",
        "separate_signature": True,
    }
    params = {
        "fees_and_schedule": {
            "rate_minor_per_week": 200_000,
            "currency": "EUR",
            "payment_terms_days": 14,
            "schedule": "weekly",
        },
        "no_required_generative_tools": {"worker_may_be_required_to_use": False},
        "no_training_ingestion": {"ingestion_without_licence_permitted": False},
        "no_scan_condition_of_hire": {"consent_is_condition_of_hire": False},
        "digital_replica_consent": replica,
    }
    body = {
        "engagement_id": str(actor),
        "contract_type": "performer",
        "planned_ai_uses": ["performer_digital_replica"],
        "clauses": [{"key": k, "version": 1, "params": p} for k, p in params.items()],
    }
    r = await client.post(f"/api/v1/productions/{pid}/contracts", json=body, headers=world.producer_headers)
    assert r.status_code == 201, r.text

    run_id = await check_production(pid, world.user_id)
    assert await findings(pid) == []
    run = await ComplianceRun.select().where(ComplianceRun.id == run_id).first()
    assert (run["trigger"], run["status"], run["production"], run["productions_checked"]) == (
        "on_demand",
        "completed",
        pid,
        1,
    )
    assert run["findings_opened"] == 0 and run["finished_at"] is not None
    assert await deliveries() == []


async def failing_production(w: World) -> dict[str, UUID]:
    """A production that breaks each rule once (the two-week placement: the quota and its length)."""
    pid = await production(w)
    await disclose(pid, "vfx_shot", 100, 21)  # 21 % > 20 %
    _, trainee = await camera_team(w, pid, end_date="2027-03-14")  # two weeks: too short, does not count
    missing = await engage(w, pid, "No Contract")
    stale = await engage(w, pid, "Old Terms")
    await contract(w, pid, stale, hashes=["f" * 64])
    replica = await engage(w, pid, "Rep Lica")
    await contract(w, pid, replica, contract_type="performer", planned=["performer_digital_replica"])
    writer = await engage(w, pid, "Wri Ter", department="writing")
    await contract(w, pid, writer, contract_type="writer", planned=["script_generation"])
    return {
        "production": pid,
        "missing": missing,
        "stale": stale,
        "replica": replica,
        "writer": writer,
        "trainee": trainee,
    }


async def test_each_rule_opens_one_finding_with_evidence_due_date_and_webhooks(world):
    from guild.compliance.service import check_batch

    p = await failing_production(world)
    pid = p["production"]
    run = await new_run(production=pid)
    stats = await check_batch([pid], run, T0)
    assert (stats.productions, stats.opened, stats.resolved, stats.escalated, stats.still_open) == (1, 7, 0, 0, 0)

    rows = await findings(pid)
    assert {(r["rule"], r["subject"], r["severity"]) for r in rows} == {
        ("ai_share_exceeded", "production", "violation"),
        ("apprenticeship_quota", "camera", "violation"),
        ("apprenticeship_too_short", str(p["trainee"]), "warning"),
        ("contract_missing", str(p["missing"]), "violation"),
        ("contract_noncompliant", str(p["stale"]), "violation"),
        ("ai_use_without_consent", str(p["replica"]), "critical"),
        ("ai_use_prohibited", str(p["writer"]), "critical"),
    }
    for r in rows:
        assert r["status"] == "open" and r["remediation"]
        assert r["version"] == world.version_id and r["compact"] == world.compact_id
        assert utc(r["first_seen_at"]) == utc(r["last_seen_at"]) == T0 and utc(r["due_at"]) == T0 + GRACE
        assert r["first_run"] == r["last_run"] == run and r["resolved_at"] is None
    by_rule = {r["rule"]: r for r in rows}
    assert by_rule["ai_share_exceeded"]["evidence"]["share_pct"] == 21.0
    quota = by_rule["apprenticeship_quota"]["evidence"]
    assert (quota["required"], quota["counted"], quota["not_counted"][0]["reason"]) == (1, 0, "too_short")
    assert by_rule["ai_use_prohibited"]["evidence"]["planned_uses"] == ["script_generation"]
    short = by_rule["apprenticeship_too_short"]
    assert (short["evidence"]["weeks"], short["evidence"]["min_weeks"]) == (2, 4)
    assert short["remediation"] == (
        "Extend Ari Apprentice's placement in camera to at least 4 weeks as screen-guild v1 requires "
        "(it runs 2 week(s), 2027-03-01 to 2027-03-14); until then it does not count toward the quota."
    )

    opened = await deliveries("finding.opened")
    assert len(opened) == 14  # seven findings, to the company and to the convening organisation
    assert {d["org"] for d in opened} == {world.company, world.convening}
    data = [d["payload"]["data"] for d in opened if d["org"] == world.company]
    assert {d["rule"] for d in data} == set(by_rule) and all(d["compact"] == "screen-guild" for d in data)


async def test_findings_persist_escalate_once_and_resolve_without_duplicates(world):
    from guild.compliance.service import check_batch
    from guild.infra.tables import Finding

    p = await failing_production(world)
    pid = p["production"]
    run1, run2, run3, run4, run5 = [await new_run(production=pid) for _ in range(5)]

    await check_batch([pid], run1, T0)
    first = {(r["rule"], r["subject"]): r for r in await findings(pid)}

    # run 2, before the due date: the same rows, touched, nothing new
    stats = await check_batch([pid, pid], run2, T0 + timedelta(days=1))
    assert (stats.opened, stats.still_open, stats.escalated, stats.resolved) == (0, 7, 0, 0)
    second = {(r["rule"], r["subject"]): r for r in await findings(pid)}
    assert await Finding.count() == 7
    for key, row in second.items():
        assert row["id"] == first[key]["id"] and row["first_run"] == run1 and row["last_run"] == run2
        assert utc(row["first_seen_at"]) == T0 and utc(row["last_seen_at"]) == T0 + timedelta(days=1)
        assert row["severity"] == first[key]["severity"] and row["escalated_at"] is None

    # past the due date but within escalate_after_days (30 in these terms): not yet escalated
    stats = await check_batch([pid], run3, T0 + GRACE + timedelta(hours=1))
    assert (stats.opened, stats.escalated, stats.still_open) == (0, 0, 7)
    # run 3, escalate_after_days past the due date: each still-open finding escalates one step, once
    late = T0 + GRACE + timedelta(days=30, hours=1)
    stats = await check_batch([pid], run3, late)
    assert (stats.opened, stats.escalated, stats.still_open) == (0, 7, 7)
    third = {(r["rule"], r["subject"]): r for r in await findings(pid)}
    assert third[("contract_missing", str(p["missing"]))]["severity"] == "critical"
    assert third[("ai_use_prohibited", str(p["writer"]))]["severity"] == "critical"  # stays at the top
    assert all(utc(r["escalated_at"]) == late for r in third.values())
    escalated = await deliveries("finding.escalated")
    assert third[("apprenticeship_too_short", str(p["trainee"]))]["severity"] == "violation"  # from warning
    assert len(escalated) == 14
    assert {d["payload"]["data"]["previous_severity"] for d in escalated} == {"warning", "violation", "critical"}
    stats = await check_batch([pid], run4, late + timedelta(days=1))
    assert stats.escalated == 0 and len(await deliveries("finding.escalated")) == 14

    # the producer fixes the AI share and the missing contract: those two resolve, rows kept
    await disclose(pid, "vfx_shot", 100, 15)
    await contract(world, pid, p["missing"])
    fixed_at = late + timedelta(days=2)
    stats = await check_batch([pid], run5, fixed_at)
    assert (stats.resolved, stats.still_open, stats.opened) == (2, 5, 0)
    rows = await findings(pid)
    assert len(rows) == 7
    resolved = [r for r in rows if r["status"] == "resolved"]
    assert {r["rule"] for r in resolved} == {"ai_share_exceeded", "contract_missing"}
    assert all(utc(r["resolved_at"]) == fixed_at and r["last_run"] == run5 for r in resolved)
    assert {r["id"] for r in resolved} <= {r["id"] for r in first.values()}
    events = await deliveries("finding.resolved")
    assert len(events) == 4 and all(e["payload"]["data"]["status"] == "resolved" for e in events)

    # it breaks again: a new open finding next to the resolved one (history is kept)
    await disclose(pid, "vfx_shot", 100, 30)
    run6 = await new_run(production=pid)
    stats = await check_batch([pid], run6, fixed_at + timedelta(days=1))
    assert stats.opened == 1
    share = await findings(pid, rule="ai_share_exceeded")
    assert sorted(r["status"] for r in share) == ["open", "resolved"]
    assert [r["escalated_at"] for r in share if r["status"] == "open"] == [None]


async def test_a_finding_of_a_version_no_longer_bound_resolves(world):
    from guild.compliance.service import check_batch
    from guild.infra.tables import ProductionBinding

    pid = await production(world)
    await engage(world, pid, "No Contract")
    await check_batch([pid], await new_run(), T0)
    assert [r["status"] for r in await findings(pid)] == ["open", "open"]  # contract + camera quota
    await ProductionBinding.delete().where(ProductionBinding.production == pid)
    stats = await check_batch([pid], await new_run(), T0 + timedelta(days=1))
    assert stats.resolved == 2 and [r["status"] for r in await findings(pid)] == ["resolved", "resolved"]


async def test_loading_a_batch_costs_the_same_queries_for_one_or_many_productions(world, monkeypatch):
    from guild.compliance import service as compliance_engine
    from guild.infra.db import engine

    ids = [await production(world, f"Film {i}", budget=60_000_000) for i in range(12)]  # above the quota band
    for pid in ids:
        e = await engage(world, pid, "Crew")
        await contract(world, pid, e)
        await disclose(pid, "vfx_shot", 10, 1)
        await commit_to(world, pid, "skills_plan", date(2027, 5, 3))  # not due yet
    run = await new_run()
    engine_class = type(engine())
    calls: list[str] = []
    original = engine_class.run_querystring

    async def counting(self, querystring, *args, **kwargs):
        calls.append(str(querystring)[:60])
        return await original(self, querystring, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counting)
    await compliance_engine.check_batch(ids[:1], run, T0)
    one = len(calls)
    calls.clear()
    stats = await compliance_engine.check_batch(ids, run, T0)
    assert stats.productions == 12 and stats.opened == 0
    assert len(calls) == one <= 10, calls


async def test_sweep_resumes_after_the_last_committed_batch_without_duplicates(world, monkeypatch):
    from guild.compliance import service as compliance_engine
    from guild.infra.tables import ComplianceRun, Finding

    ids = [await production(world, f"Film {i}") for i in range(3)]
    for pid in ids:
        await engage(world, pid, "No Contract")  # contract_missing + camera quota: two findings each
    other = await production(world, "Unbound")
    from guild.infra.tables import ProductionBinding

    await ProductionBinding.delete().where(ProductionBinding.production == other)
    order = sorted(str(i) for i in ids)
    run = await new_run(trigger="scheduled", job_id="sweep:screen-guild", slot=T0, compact=world.compact_id)

    real_advance = compliance_engine._advance
    advances = 0

    async def crash_on_second_batch(*args, **kwargs):
        nonlocal advances
        advances += 1
        if advances == 2:  # the second batch wrote its findings, then the process died before commit
            raise RuntimeError("killed")
        return await real_advance(*args, **kwargs)

    monkeypatch.setattr(compliance_engine, "_advance", crash_on_second_batch)
    with pytest.raises(RuntimeError, match="killed"):
        await compliance_engine.sweep_compact(world.compact_id, run, "", T0, batch_size=1)
    stored = await ComplianceRun.select().where(ComplianceRun.id == run).first()
    assert stored["cursor"] == order[0] and stored["productions_checked"] == 1 and stored["findings_opened"] == 2
    assert {str(r["production"]) for r in await findings()} == {order[0]}  # batch 2 rolled back

    monkeypatch.setattr(compliance_engine, "_advance", real_advance)
    stats = await compliance_engine.sweep_compact(world.compact_id, run, stored["cursor"], T0, batch_size=1)
    assert (stats.batches, stats.productions, stats.opened, stats.cursor) == (2, 2, 4, order[-1])
    stored = await ComplianceRun.select().where(ComplianceRun.id == run).first()
    assert (stored["cursor"], stored["productions_checked"], stored["findings_opened"]) == (order[-1], 3, 6)
    rows = await findings()
    assert len(rows) == 6 and len({(r["production"], r["rule"], r["subject"]) for r in rows}) == 6
    assert other not in {r["production"] for r in rows}

    # at the end: nothing left for this run, whatever cursor it is given (what is left is on the production rows)
    done = await compliance_engine.sweep_compact(world.compact_id, run, "", T0, batch_size=1)
    assert (done.batches, done.productions) == (0, 0)
    # a run that is no longer running takes no batch: refused, nothing of it kept
    await ComplianceRun.update({ComplianceRun.status: "completed"}).where(ComplianceRun.id == run)
    late = await production(world, "Bound after the run")
    await engage(world, late, "No Contract")
    with pytest.raises(compliance_engine.SweepConflict):
        await compliance_engine.sweep_compact(world.compact_id, run, "", T0 + timedelta(days=1), batch_size=2)
    assert await Finding.count() == 6
    assert {utc(r["last_seen_at"]) for r in await findings()} == {T0}  # the refused batch rolled back


async def test_a_whole_sweep_in_default_batches_then_a_repeat_changes_nothing(world):
    from guild.compliance.service import sweep_compact
    from guild.infra.tables import ComplianceRun

    ids = [await production(world, f"Film {i}") for i in range(4)]
    for pid in ids:
        await engage(world, pid, "No Contract")
    run = await new_run(trigger="scheduled", job_id="sweep:screen-guild", slot=T0, compact=world.compact_id)
    stats = await sweep_compact(world.compact_id, run, "", T0)
    assert (stats.batches, stats.productions, stats.opened) == (1, 4, 8)
    again = await new_run(
        trigger="scheduled", job_id="sweep:screen-guild", slot=T0 + timedelta(days=7), compact=world.compact_id
    )
    stats = await sweep_compact(world.compact_id, again, "", T0 + timedelta(days=7))
    assert (stats.opened, stats.still_open, stats.resolved) == (0, 8, 0)
    row = await ComplianceRun.select().where(ComplianceRun.id == again).first()
    assert row["productions_checked"] == 4 and row["cursor"] == max(str(i) for i in ids)
    assert len(await findings()) == 8


async def commit_to(w: World, pid: UUID, key: str, due: date, status: str = "open") -> UUID:
    """A commitment row, inserted directly (binding creates them from the terms; here the dates are chosen)."""
    from guild.infra.tables import Commitment

    cid = uuid4()
    await Commitment.insert(
        Commitment(
            id=cid,
            production=pid,
            compact=w.compact_id,
            version=w.version_id,
            key=key,
            title=f"{key} filed",
            due_date=due,
            status=status,
            done_at=T0 if status == "done" else None,
            created_at=T0,
        )
    )
    return cid


async def test_underpaid_apprentices_and_the_ratio_driven_quota_are_findings(world):
    from guild.compliance.service import check_batch

    pid = await production(world)
    _, trainee = await camera_team(world, pid, rate_minor_per_week=59_000)  # minimum 60_000 per week
    stats = await check_batch([pid], await new_run(production=pid), T0)
    assert stats.opened == 2
    rows = {r["rule"]: r for r in await findings(pid)}
    assert set(rows) == {"apprenticeship_quota", "apprenticeship_underpaid"}
    underpaid = rows["apprenticeship_underpaid"]
    assert (underpaid["subject"], underpaid["severity"]) == (str(trainee), "violation")
    assert (
        underpaid["evidence"]["rate_minor_per_week"],
        underpaid["evidence"]["min_rate_minor_per_week"],
        underpaid["evidence"]["shortfall_minor_per_week"],
    ) == (59_000, 60_000, 1_000)
    assert underpaid["remediation"] == (
        "Raise Ari Apprentice's pay to at least EUR 600.00 per week as screen-guild v1 requires (it is EUR 590.00); "
        "until then the placement does not count toward the camera quota."
    )
    quota = rows["apprenticeship_quota"]["evidence"]
    assert (quota["required"], quota["counted"], quota["missing"]) == (1, 0, 1)
    assert quota["not_counted"] == [
        {
            "engagement": str(trainee),
            "person_name": "Ari Apprentice",
            "reason": "below_min_rate",
            "detail": "paid EUR 590.00 per week; at least EUR 600.00 required",
            "reasons": ["below_min_rate"],
            "details": ["paid EUR 590.00 per week; at least EUR 600.00 required"],
        }
    ]
    assert "Not counted: Ari Apprentice (paid EUR 590.00 per week" in quota["explanation"]
    assert "Paid below the minimum of EUR 600.00 per week: Ari Apprentice." in quota["explanation"]
    assert quota["label"] == "screen-guild v1" and quota["term_path"] == "apprenticeship[0]"
    assert quota["rule"]["min_rate_minor_per_week"] == 60_000

    # paid the minimum: both resolve on the next run
    from guild.infra.tables import Engagement

    await Engagement.update({Engagement.rate_minor_per_week: 60_000}).where(Engagement.id == trainee)
    stats = await check_batch([pid], await new_run(production=pid), T0 + timedelta(days=1))
    assert (stats.resolved, stats.opened) == (2, 0)


async def test_open_commitments_past_their_due_date_are_overdue_until_done(world):
    from guild.compliance.service import check_batch
    from guild.infra.tables import Commitment

    pid = await production(world)
    await camera_team(world, pid)  # the quota is met: only commitments can produce findings here
    late = await commit_to(world, pid, "skills_plan", date(2027, 3, 18))  # T0 is 1 April 2027
    await commit_to(world, pid, "final_plan", T0.date())  # due today: not late yet
    await commit_to(world, pid, "old_plan", date(2027, 3, 1), status="done")
    stats = await check_batch([pid], await new_run(production=pid), T0)
    assert stats.opened == 1
    [row] = await findings(pid)
    assert (row["rule"], row["subject"], row["severity"]) == ("commitment_overdue", "skills_plan", "violation")
    assert row["evidence"]["due_date"] == "2027-03-18" and row["evidence"]["days_late"] == 14
    assert row["evidence"]["checked_on"] == "2027-04-01" and row["evidence"]["version_hash"] == world.version_hash
    assert row["remediation"].startswith("File the skills_plan commitment") and "mark it done" in row["remediation"]

    # the next day: the same finding, one more day late; final_plan is now overdue too
    stats = await check_batch([pid], await new_run(production=pid), T0 + timedelta(days=1))
    assert (stats.opened, stats.still_open) == (1, 1)
    by_key = {r["subject"]: r for r in await findings(pid, rule="commitment_overdue")}
    assert by_key["skills_plan"]["id"] == row["id"] and by_key["skills_plan"]["evidence"]["days_late"] == 15
    assert by_key["final_plan"]["evidence"]["days_late"] == 1

    # marked done: resolved (kept)
    await Commitment.update({Commitment.status: "done", Commitment.done_at: T0}).where(Commitment.id == late)
    stats = await check_batch([pid], await new_run(production=pid), T0 + timedelta(days=2))
    assert (stats.resolved, stats.still_open) == (1, 1)
    assert {(r["subject"], r["status"]) for r in await findings(pid)} == {
        ("skills_plan", "resolved"),
        ("final_plan", "open"),
    }


async def test_check_production_of_an_unknown_production_is_not_found(world):
    from guild.compliance.service import check_production
    from guild.domain.errors import NotFound
    from guild.infra.tables import ComplianceRun

    with pytest.raises(NotFound):
        await check_production(uuid4(), None)
    assert await ComplianceRun.count() == 0


async def test_superseded_contracts_are_history_the_sweep_reads_the_live_one(world):
    """An engagement whose contract was superseded is checked against its live contract; one whose
    replacement was voided since has no live contract (contract_missing, citing the void one)."""
    from guild.compliance.service import check_batch

    pid = await production(world)
    replaced = await engage(world, pid, "Replaced Contract")
    await contract(world, pid, replaced, hashes=["f" * 64], status="superseded")  # against an old version
    await contract(world, pid, replaced)  # its live one, compliant with the bound version
    lapsed = await engage(world, pid, "Lapsed Contract")
    await contract(world, pid, lapsed, status="superseded")
    voided = await contract(world, pid, lapsed, status="void")

    await check_batch([pid], await new_run(production=pid), T0)
    assert await findings(pid, subject=str(replaced)) == []
    [missing] = await findings(pid, subject=str(lapsed))
    assert missing["rule"] == "contract_missing"
    assert missing["evidence"]["contract"] == str(voided) and missing["evidence"]["contract_status"] == "void"


async def test_the_one_live_contract_migration_supersedes_older_duplicates(world):
    """Databases from before the partial unique index may hold several issued contracts for one
    engagement: the migration keeps the latest issued, marks the others superseded by it (audited), and
    then the index refuses a second live one."""
    import importlib

    from guild.infra.audit import verify_chain
    from guild.infra.db import is_unique_violation, raw
    from guild.infra.tables import AuditEvent, Contract

    migration = importlib.import_module("guild.piccolo_migrations.guild_2026_11_29t14_41_01_000000")
    pid = await production(world)
    twice, once = await engage(world, pid, "Issued Thrice"), await engage(world, pid, "Issued Once")
    await migration.drop_index()
    try:
        older = [await contract(world, pid, twice) for _ in range(2)]
        latest = await contract(world, pid, twice)
        single = await contract(world, pid, once)
        assert await migration.supersede_duplicates() == 2
    finally:
        await migration.create_index()

    rows = {r["id"]: r for r in await Contract.select(Contract.id, Contract.status, Contract.superseded_by)}
    assert [rows[c]["status"] for c in (*older, latest, single)] == ["superseded", "superseded", "issued", "issued"]
    assert [rows[c]["superseded_by"] for c in older] == [latest, latest]
    events = (
        await AuditEvent.select(AuditEvent.entity_id, AuditEvent.data)
        .where(AuditEvent.action == "contract.superseded")
        .output(load_json=True)
    )
    assert sorted((e["entity_id"], e["data"]["by"]) for e in events) == sorted((str(c), str(latest)) for c in older)
    assert (await verify_chain()).ok
    with pytest.raises(Exception) as refused:
        await contract(world, pid, twice)
    assert is_unique_violation(refused.value)
    assert len(await raw("SELECT id FROM contract WHERE status = 'issued'")) == 2


async def test_engagements_settled_in_sql_are_those_the_rules_call_settled_and_evaluate_the_same(world):
    """The sweep's query counts settled engagements by department and level instead of loading them (its SQL
    states ``rules.settled``): it leaves out exactly those the rule's predicate names, and every production
    evaluates to the same drafts as with its whole roster listed, also where the settled ones are the
    journey-level headcount a ratio-driven quota is computed from."""
    from collections import Counter

    from guild.compliance import service as compliance_engine
    from guild.compliance.rules import evaluate_production, settled
    from guild.infra.db import read_tx
    from guild.infra.tables import Contract

    terms = example_terms().model_copy(update={"quorum": None})  # camera from 50M: 1 per journey, then 1 per 3
    crew = await world.scenario.compact("crew-guild", convening="performers", by="o.perf@example.org", terms=terms)
    both = [world.version_hash, crew.terms_hash]
    by = world.producer_headers
    big = UUID(
        await world.scenario.production(
            "kestrel", "The Big One", by=by, budget_minor=60_000_000, bind=["screen-guild", "crew-guild"]
        )
    )
    crew_ids = []
    for i in range(5):  # settled: journey camera crew, in order with both versions
        crew_ids.append(await engage(world, big, f"Cam {i}", department="camera", role="Operator"))
        await contract(world, big, crew_ids[-1], hashes=both)
    one_version = await engage(world, big, "Sen Ior", department="camera", level="senior", role="DoP")
    await contract(world, big, one_version)  # checked against screen-guild only: listed
    apprentice = await engage(
        world,
        big,
        "Ari Apprentice",
        department="camera",
        level="apprentice",
        role="Camera trainee",
        rate_minor_per_week=70_000,
        mentor_engagement_id=str(crew_ids[0]),
    )
    await contract(world, big, apprentice, hashes=both)  # in order, but a placement: listed
    await engage(world, big, "No Contract")
    voided = await engage(world, big, "Void Ed")
    await contract(world, big, voided, hashes=both, status="void")
    replica = await engage(world, big, "Rep Lica")
    await contract(world, big, replica, hashes=both, contract_type="performer", planned=["performer_digital_replica"])
    flagged = await engage(world, big, "Not Compliant", department="writing")
    flagged_contract = await contract(world, big, flagged, hashes=both, contract_type="writer")
    await Contract.update({Contract.compliant: False}).where(Contract.id == flagged_contract)
    renewed = await engage(world, big, "Re Newed")
    await contract(world, big, renewed, hashes=["f" * 64], status="superseded")
    await contract(world, big, renewed, hashes=both)  # its live contract is in order: settled
    small = await production(world, "The Small One")
    for name in ("Mara Journey", "Lu Cas"):
        await contract(world, small, await engage(world, small, name, department="camera"))
    unbound = await production(world, "Unbound")
    from guild.infra.tables import ProductionBinding

    await ProductionBinding.delete().where(ProductionBinding.production == unbound)
    await contract(world, unbound, await engage(world, unbound, "Any One"))

    ids = [big, small, unbound]
    async with read_tx():
        whole = await compliance_engine._load(ids, T0.date(), settle=False)
        counted = await compliance_engine._load(ids, T0.date())
    for pid in map(str, ids):
        roster, facts = whole.facts[pid], counted.facts[pid]
        versions = [b.version for b in whole.bindings.get(pid, [])]
        hashes = [v.version_hash for v in versions]
        assert roster.settled == []
        assert facts.engagements == [e for e in roster.engagements if not settled(e, hashes)]
        expected = Counter((str(e.department), str(e.level)) for e in roster.engagements if settled(e, hashes))
        assert {(h.department, h.level): h.count for h in facts.settled} == expected
        assert evaluate_production(facts, versions) == evaluate_production(roster, versions)

    big_facts = counted.facts[str(big)]
    assert {(h.department, h.level): h.count for h in big_facts.settled} == {
        ("camera", "journey"): 5,
        ("production", "journey"): 1,
    }
    assert len(big_facts.engagements) == 6 and counted.facts[str(unbound)].engagements == []
    drafts = evaluate_production(big_facts, [b.version for b in counted.bindings[str(big)]])
    [quota] = [d for d in drafts if d.key == ("apprenticeship_quota", "camera")]
    # 5 settled + 1 listed journey workers; band [1]: one for the first, then one per whole group of 3: 1 + 1
    assert crew.id in quota.citing and quota.evidence["journey_level"] == 6
    assert [c["required"] for c in quota.evidence["cited_by"] if c["compact"] == "crew-guild"] == [2]
    assert {d.rule for d in drafts} >= {
        "contract_missing",
        "contract_noncompliant",
        "ai_use_without_consent",
    }


async def recheck_row(cid: UUID, version_hash: str, compliant: bool, term_paths: tuple[str, ...] = ()) -> None:
    """A stored re-check of a contract against a version (the engine makes these once; here they are chosen)."""
    from guild.infra.tables import ContractRecheck

    violations = [
        {"term_path": p, "rule": "min_rate", "required": {"min": 70_000}, "actual": 65_000, "message": "too low"}
        for p in term_paths
    ]
    await ContractRecheck.insert(
        ContractRecheck(
            id=uuid4(),
            contract=cid,
            version_hash=version_hash,
            compliant=compliant,
            violations=violations,
            checked_at=T0,
        )
    )


async def test_settled_in_sql_and_in_the_rules_agree_on_contracts_rechecked_against_the_bound_version(world):
    """A contract issued under another version counts as in order with the bound one when its stored re-check
    says it complies (``contract_recheck``): the sweep's SQL and ``rules.settled`` agree on it, and a re-check
    that fails is a contract_noncompliant finding naming the broken term."""
    from guild.compliance import service as compliance_engine
    from guild.compliance.rules import evaluate_production, settled
    from guild.infra.db import read_tx
    from guild.infra.tables import ContractRecheck

    old = "e" * 64  # the version the contracts were issued under (an amendment's parent)
    pid = await production(world)
    await camera_team(world, pid)  # in order with the bound version: settled / the quota met
    rechecked = await engage(world, pid, "Re Checked")
    await recheck_row(await contract(world, pid, rechecked, hashes=[old]), world.version_hash, True)
    broken = await engage(world, pid, "Bro Ken")
    broken_contract = await contract(world, pid, broken, hashes=[old])
    await recheck_row(broken_contract, world.version_hash, False, ("apprenticeship[0].min_rate_minor_per_week",))
    planning = await engage(world, pid, "Plan Ning")
    planned = await contract(world, pid, planning, hashes=[old], contract_type="writer", planned=["script_generation"])
    await recheck_row(planned, world.version_hash, True)
    elsewhere = await engage(world, pid, "Else Where")
    await recheck_row(await contract(world, pid, elsewhere, hashes=[old]), "d" * 64, True)  # another version's
    voided = await engage(world, pid, "Void Ed")
    await recheck_row(await contract(world, pid, voided, hashes=[old], status="void"), world.version_hash, True)

    async with read_tx():
        whole = await compliance_engine._load([pid], T0.date(), settle=False)
        counted = await compliance_engine._load([pid], T0.date())
    roster, facts = whole.facts[str(pid)], counted.facts[str(pid)]
    versions = [b.version for b in whole.bindings[str(pid)]]
    hashes = [world.version_hash]
    assert facts.engagements == [e for e in roster.engagements if not settled(e, hashes)]
    assert sorted(e.person_name for e in facts.engagements) == [
        "Ari Apprentice",  # a placement
        "Bro Ken",  # its re-check failed
        "Else Where",  # re-checked against another version only: re-checked now (its stored document cannot be)
        "Plan Ning",  # plans an AI use
        "Void Ed",  # no live contract
    ]
    assert {(h.department, h.level): h.count for h in facts.settled} == {
        ("camera", "journey"): 1,
        ("production", "journey"): 1,
    }
    assert evaluate_production(facts, versions) == evaluate_production(roster, versions)
    # the one the batch re-checked for the first time is kept by the check, not by loading
    assert [(cid, h, r.compliant) for cid, h, r in counted.new_rechecks] == [
        (e.contract.id, world.version_hash, False) for e in facts.engagements if e.person_name == "Else Where"
    ]

    await check_batch_now(pid)
    by_subject = {r["subject"]: r for r in await findings(pid, rule="contract_noncompliant")}
    assert set(by_subject) == {str(broken), str(elsewhere)}
    assert by_subject[str(broken)]["evidence"]["term_paths"] == ["apprenticeship[0].min_rate_minor_per_week"]
    assert "breaks apprenticeship[0].min_rate_minor_per_week" in by_subject[str(broken)]["remediation"]
    assert by_subject[str(elsewhere)]["evidence"]["recheck"]["violations"][0]["rule"] == "contract_unreadable"
    assert await ContractRecheck.count() == 6  # five stored, one made by the check


async def check_batch_now(pid: UUID) -> None:
    from guild.compliance.service import check_batch

    await check_batch([pid], await new_run(production=pid), T0)
