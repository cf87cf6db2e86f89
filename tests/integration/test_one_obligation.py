"""One obligation, one finding: a production bound to two compacts that require the same thing of the
same subject gets one finding citing both, seen by both compacts' party officers and sent to both
convening organisations; unbinding one compact or meeting the obligation carries it on or resolves it;
the migration merges the duplicates findings of earlier versions left open."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from guild.compacts.terms import Terms
from tests.integration.test_compliance_engine import T0, _terms, contract, deliveries, engage, findings, new_run, utc

MIGRATION = "guild.piccolo_migrations.guild_2026_11_29t21_41_56_000000"


def _fund_terms() -> Terms:
    """screen-guild's terms, but two camera apprentices required and a grace period of 7 days (not 14)."""
    data = _terms().model_dump(mode="json")
    data["apprenticeship"][0]["min_apprentices"] = 2
    data["compliance"]["grace_period_days"] = 7
    return Terms.model_validate(data)


@dataclass
class Two:
    scenario: Any
    producer: Any  # Person
    company: UUID
    performers: UUID
    fund: UUID
    screen: Any  # Version
    film: Any  # Version
    headers: dict[str, dict[str, str]]
    user_id: UUID
    version_hash: str
    producer_headers: dict[str, str]


@pytest.fixture
async def two(scenario) -> Two:
    """kestrel's production "Two Masters" bound to screen-guild (performers) and film-fund (fund), with a
    webhook endpoint for each organisation; an officer of each guild and of an unrelated one."""
    from guild.infra.tables import WebhookEndpoint

    orgs = await scenario.organizations(
        {"performers": "guild", "fund": "guild", "others": "guild", "kestrel": "production_company"}
    )
    perf = await scenario.user("o.perf@example.org", ("performers", "officer"))
    fund = await scenario.user("o.fund@example.org", ("fund", "officer"))
    other = await scenario.user("o.other@example.org", ("others", "officer"))
    producer = await scenario.user("p.kestrel@example.org", ("kestrel", "producer"))
    screen = await scenario.compact("screen-guild", convening="performers", by=perf, terms=_terms())
    film = await scenario.compact("film-fund", convening="fund", by=fund, terms=_fund_terms())
    for org in (orgs["kestrel"], orgs["performers"], orgs["fund"]):
        await WebhookEndpoint.insert(
            WebhookEndpoint(
                id=uuid4(),
                organization=org,
                url=f"https://hooks.example.org/{org}",
                secret="s",
                active=True,
                created_at=T0,
            )
        )
    headers = {"producer": producer.headers, "perf": perf.headers, "fund": fund.headers, "other": other.headers}
    return Two(
        scenario,
        producer,
        orgs["kestrel"],
        orgs["performers"],
        orgs["fund"],
        screen,
        film,
        headers,
        producer.id,
        screen.terms_hash,
        producer.headers,
    )


async def production(w: Two) -> UUID:
    by = w.producer_headers
    return UUID(await w.scenario.production("kestrel", "Two Masters", by=by, bind=["screen-guild", "film-fund"]))


async def citations(finding_id: UUID) -> set[UUID]:
    from guild.infra.tables import FindingCitation

    rows = await FindingCitation.select(FindingCitation.version).where(FindingCitation.finding == finding_id)
    return {r["version"] for r in rows}


async def unbind(pid: UUID, compact_id: UUID) -> None:
    from guild.infra.tables import ProductionBinding

    await ProductionBinding.delete().where(
        (ProductionBinding.production == pid) & (ProductionBinding.compact == compact_id)
    )


async def test_two_compacts_requiring_the_same_thing_give_one_finding_both_sides_see(two, client):
    from guild.compliance.service import check_batch

    pid = await production(two)
    missing = await engage(two, pid, "No Contract")
    half = await engage(two, pid, "Half Signed")
    await contract(two, pid, half, hashes=[two.screen.terms_hash])  # checked against screen-guild only
    stats = await check_batch([pid], await new_run(production=pid), T0)
    assert (stats.opened, stats.resolved) == (3, 0)

    rows = {r["rule"]: r for r in await findings(pid)}
    assert set(rows) == {"contract_missing", "contract_noncompliant", "apprenticeship_quota"}
    gone = rows["contract_missing"]
    assert gone["subject"] == str(missing) and gone["compact"] == two.film.compact_id  # film-fund sorts first
    assert await citations(gone["id"]) == {two.screen.id, two.film.id}
    assert utc(gone["due_at"]) == T0 + timedelta(days=7)  # film-fund's grace period, the shorter
    assert [c["compact"] for c in gone["evidence"]["cited_by"]] == ["film-fund", "screen-guild"]
    assert "required by film-fund v1 and screen-guild v1" in gone["remediation"]
    # the quota: film-fund's 2 apprentices, the stricter, stated; screen-guild's 1 cited
    quota = rows["apprenticeship_quota"]
    assert (quota["version"], quota["evidence"]["required"], quota["evidence"]["missing"]) == (two.film.id, 2, 2)
    assert [(c["compact"], c["required"]) for c in quota["evidence"]["cited_by"]] == [
        ("film-fund", 2),
        ("screen-guild", 1),
    ]
    assert await citations(quota["id"]) == {two.screen.id, two.film.id}
    stale = rows["contract_noncompliant"]
    assert (stale["subject"], stale["version"]) == (str(half), two.film.id)
    assert await citations(stale["id"]) == {two.film.id}  # screen-guild does not require it

    # webhooks: each finding to the company and every citing compact's convening organisation
    opened = [(d["payload"]["data"]["rule"], d["org"]) for d in await deliveries("finding.opened")]
    assert sorted(opened, key=str) == sorted(
        [
            *[
                (rule, org)
                for rule in ("apprenticeship_quota", "contract_missing")
                for org in (two.company, two.performers, two.fund)
            ],
            *[("contract_noncompliant", org) for org in (two.company, two.fund)],
        ],
        key=str,
    )

    # who sees what: each compact's party officers what it cites; the company all; others nothing
    def ids(rs):
        return {f["rule"] for f in rs}

    h = two.headers
    perf = await client.get("/api/v1/compacts/screen-guild/findings", headers=h["perf"])
    assert ids(perf.json()) == {"contract_missing", "apprenticeship_quota"}
    fund = await client.get("/api/v1/compacts/film-fund/findings", headers=h["fund"])
    assert ids(fund.json()) == set(rows)
    assert ids((await client.get(f"/api/v1/productions/{pid}/findings", headers=h["perf"])).json()) == ids(perf.json())
    assert ids((await client.get(f"/api/v1/productions/{pid}/findings", headers=h["fund"])).json()) == set(rows)
    assert ids((await client.get(f"/api/v1/productions/{pid}/findings", headers=h["producer"])).json()) == set(rows)
    assert (await client.get(f"/api/v1/productions/{pid}/findings", headers=h["other"])).status_code == 404
    assert (await client.get("/api/v1/compacts/screen-guild/findings", headers=h["fund"])).status_code == 404

    # checked again: the same three, nothing opened twice
    again = await check_batch([pid], await new_run(production=pid), T0 + timedelta(hours=1))
    assert (again.opened, again.resolved, again.still_open) == (0, 0, 3)
    assert len(await findings(pid, status="open")) == 3


async def test_unbinding_one_compact_carries_the_finding_on_and_meeting_it_resolves_it_for_all(two):
    from guild.compliance.service import check_batch

    pid = await production(two)
    missing = await engage(two, pid, "No Contract")
    half = await engage(two, pid, "Half Signed")
    await contract(two, pid, half, hashes=[two.screen.terms_hash])
    await check_batch([pid], await new_run(production=pid), T0)
    before = {r["rule"]: r for r in await findings(pid)}

    await unbind(pid, two.film.compact_id)
    later = T0 + timedelta(days=1)
    stats = await check_batch([pid], await new_run(production=pid), later)
    assert (stats.opened, stats.resolved, stats.still_open) == (0, 1, 2)  # only film-fund required the re-issue
    after = {r["rule"]: r for r in await findings(pid)}
    assert after["contract_noncompliant"]["status"] == "resolved"
    for rule in ("contract_missing", "apprenticeship_quota"):
        row = after[rule]
        # the same finding, not resolved and reopened: now under screen-guild alone, due after its 14 days
        assert (row["id"], row["status"], row["version"]) == (before[rule]["id"], "open", two.screen.id)
        assert await citations(row["id"]) == {two.screen.id}
        assert utc(row["first_seen_at"]) == T0 and utc(row["due_at"]) == T0 + timedelta(days=14)
        assert [c["compact"] for c in row["evidence"]["cited_by"]] == ["screen-guild"]
    assert after["apprenticeship_quota"]["evidence"]["required"] == 1
    resolved = [(d["payload"]["data"]["rule"], d["org"]) for d in await deliveries("finding.resolved")]
    assert sorted(resolved, key=str) == sorted(
        [("contract_noncompliant", two.company), ("contract_noncompliant", two.fund)], key=str
    )

    # bound again to film-fund and the contract issued: the missing contract resolves, told to all three
    await two.scenario.bind(str(pid), "film-fund", by=two.producer_headers)
    await contract(two, pid, missing, hashes=[two.screen.terms_hash, two.film.terms_hash])
    await check_batch([pid], await new_run(production=pid), later + timedelta(hours=1))
    row = next(r for r in await findings(pid) if r["rule"] == "contract_missing")
    assert row["status"] == "resolved"
    told = {
        d["org"] for d in await deliveries("finding.resolved") if d["payload"]["data"]["rule"] == "contract_missing"
    }
    assert told == {two.company, two.performers}  # film-fund was no longer citing it when it resolved
    quota = next(r for r in await findings(pid) if r["rule"] == "apprenticeship_quota")
    assert await citations(quota["id"]) == {two.screen.id, two.film.id} and quota["version"] == two.film.id


async def test_the_migration_merges_open_duplicates_into_the_first_seen(two):
    from guild.compliance.service import check_batch
    from guild.infra.audit import verify_chain
    from guild.infra.db import is_unique_violation, raw
    from guild.infra.tables import AuditEvent, Finding

    migration = importlib.import_module(MIGRATION)
    pid = await production(two)
    missing = await engage(two, pid, "No Contract")

    def row(version: Any, first_seen: datetime, grace: int, rule: str = "contract_missing") -> Finding:
        return Finding(
            id=uuid4(),
            production=pid,
            compact=version.compact_id,
            version=version.id,
            rule=rule,
            subject=str(missing),
            severity="violation",
            status="open",
            evidence={},
            remediation="old",
            first_seen_at=first_seen,
            last_seen_at=first_seen,
            due_at=first_seen + timedelta(days=grace),
        )

    # as before: one open finding per version for the same obligation
    await raw(f"DROP INDEX {migration.INDEX}")
    try:
        older, newer = row(two.screen, T0, 14), row(two.film, T0 + timedelta(days=2), 7)
        single = row(two.screen, T0, 14, rule="contract_noncompliant")
        await Finding.insert(older, newer, single)
        assert await migration.backfill_citations() == 3
        assert await migration.merge_open_duplicates() == 1
    finally:
        await raw(f"CREATE UNIQUE INDEX {migration.INDEX} ON {migration.TARGET}")

    rows = {r["id"]: r for r in await findings(pid)}
    kept, merged = rows[older.id], rows[newer.id]
    assert (kept["status"], merged["status"], rows[single.id]["status"]) == ("open", "resolved", "open")
    assert await citations(kept["id"]) == {two.screen.id, two.film.id}
    assert utc(kept["due_at"]) == T0 + timedelta(days=9)  # the earlier due date: the other's, 2 + 7 days
    assert await citations(single.id) == {two.screen.id}
    events = (
        await AuditEvent.select(AuditEvent.entity_id, AuditEvent.data)
        .where(AuditEvent.action == "finding.merged")
        .output(load_json=True)
    )
    assert [(e["entity_id"], e["data"]["into"]) for e in events] == [(str(newer.id), str(kept["id"]))]
    assert (await verify_chain()).ok
    with pytest.raises(Exception) as refused:
        await Finding.insert(row(two.film, T0, 7))
    assert is_unique_violation(refused.value)

    # the next check carries the kept one on; the stale one no rule gives resolves; the camera quota opens
    stats = await check_batch([pid], await new_run(production=pid), T0 + timedelta(days=3))
    assert (stats.opened, stats.still_open, stats.resolved) == (1, 1, 1)
    now = {r["id"]: r for r in await findings(pid)}
    assert now[kept["id"]]["status"] == "open" and now[single.id]["status"] == "resolved"
    assert now[kept["id"]]["version"] == two.film.id  # the primary, brought up to date
    assert utc(now[kept["id"]]["due_at"]) == T0 + timedelta(days=7)  # first seen + the shortest grace period


async def test_one_obligation_escalates_once_on_the_strictest_schedule_and_tells_every_citing_compact(two):
    from guild.compliance.service import check_batch

    pid = await production(two)
    await engage(two, pid, "No Contract")
    await check_batch([pid], await new_run(production=pid), T0)
    # due after film-fund's 7 days (not screen-guild's 14), escalated 30 days after that (both say 30)
    just_before = T0 + timedelta(days=37)
    assert (await check_batch([pid], await new_run(production=pid), just_before)).escalated == 0
    stats = await check_batch([pid], await new_run(production=pid), just_before + timedelta(seconds=1))
    assert stats.escalated == 2  # the missing contract and the camera quota
    [row] = [r for r in await findings(pid) if r["rule"] == "contract_missing"]
    assert (row["severity"], utc(row["escalated_at"])) == ("critical", just_before + timedelta(seconds=1))
    told = [
        d["org"] for d in await deliveries("finding.escalated") if d["payload"]["data"]["rule"] == "contract_missing"
    ]
    assert sorted(told, key=str) == sorted([two.company, two.performers, two.fund], key=str)
    assert (await check_batch([pid], await new_run(production=pid), just_before + timedelta(days=1))).escalated == 0
