"""On-demand checks, findings visibility per role, and the `guild check run` / `guild findings` commands."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from guild.compacts.terms import example_terms


@pytest.fixture
async def world(users, client):
    await users.org("guild-a", "guild")
    await users.org("fund", "film_fund")
    await users.org("kestrel", "production_company")
    await users.org("blue", "production_company")
    h = {
        "officer": await users.user("o@example.org", ("guild-a", "officer")),
        "member": await users.user("m@example.org", ("guild-a", "member")),
        "fund_officer": await users.user("f@example.org", ("fund", "officer")),
        "producer": await users.user("p@example.org", ("kestrel", "producer")),
        "other": await users.user("b@example.org", ("blue", "producer")),
    }
    await users.ratified_compact("o@example.org", "c1", "guild-a", example_terms().model_copy(update={"quorum": None}))
    pid = (
        await client.post(
            "/api/v1/productions",
            json={"company": "kestrel", "title": "Harbour", "budget_minor": 30_000_000, "currency": "EUR"},
            headers=h["producer"],
        )
    ).json()["id"]
    await client.post(
        f"/api/v1/productions/{pid}/bindings", json={"compact": "c1", "version": 1}, headers=h["producer"]
    )
    r = await client.post(
        f"/api/v1/productions/{pid}/engagements",
        json={
            "person_name": "Sam Grip",
            "department": "grip",
            "role": "Grip",
            "level": "journey",
            "rate_minor_per_week": 150_000,
            "currency": "EUR",
            "start_date": "2027-03-01",
            "end_date": "2027-04-30",
        },
        headers=h["producer"],
    )
    assert r.status_code == 201
    await client.put(
        f"/api/v1/productions/{pid}/disclosures",
        json={"disclosures": [{"category": "vfx_shot", "total_count": 100, "ai_generated_count": 60}]},
        headers=h["producer"],
    )
    return {"h": h, "pid": pid}


async def test_on_demand_check_opens_findings_that_the_right_people_see(client, world):
    h, pid = world["h"], world["pid"]
    assert (await client.post(f"/api/v1/productions/{pid}/compliance-checks", headers=h["other"])).status_code == 404
    r = await client.post(f"/api/v1/productions/{pid}/compliance-checks", headers=h["producer"])
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "completed" and r.json()["findings_opened"] >= 2

    findings = (await client.get(f"/api/v1/productions/{pid}/findings?status=open", headers=h["producer"])).json()
    rules = {f["rule"] for f in findings}
    assert {"contract_missing", "ai_share_exceeded"} <= rules
    share = next(f for f in findings if f["rule"] == "ai_share_exceeded")
    assert share["compact"] == "c1" and share["remediation"] and share["due_at"] > share["first_seen_at"]

    # officers of the compact's parties see them; a member of the party, another company and a non-party do not
    assert {f["id"] for f in (await client.get("/api/v1/compacts/c1/findings", headers=h["officer"])).json()} == {
        f["id"] for f in findings
    }
    assert (await client.get(f"/api/v1/productions/{pid}/findings", headers=h["officer"])).status_code == 200
    for who in ("member", "other", "fund_officer"):
        assert (await client.get("/api/v1/compacts/c1/findings", headers=h[who])).status_code == 404, who
        assert (await client.get(f"/api/v1/productions/{pid}/findings", headers=h[who])).status_code == 404, who

    runs = (await client.get(f"/api/v1/productions/{pid}/compliance-checks", headers=h["producer"])).json()
    assert [r["trigger"] for r in runs] == ["on_demand"]

    # a second check finds the same problems: no duplicates
    await client.post(f"/api/v1/productions/{pid}/compliance-checks", headers=h["producer"])
    again = (await client.get(f"/api/v1/productions/{pid}/findings?status=open", headers=h["producer"])).json()
    assert sorted(f["id"] for f in again) == sorted(f["id"] for f in findings)

    # fixing the disclosure resolves that finding; it stays in history
    await client.put(
        f"/api/v1/productions/{pid}/disclosures",
        json={"disclosures": [{"category": "vfx_shot", "total_count": 100, "ai_generated_count": 5}]},
        headers=h["producer"],
    )
    await client.post(f"/api/v1/productions/{pid}/compliance-checks", headers=h["producer"])
    resolved = (await client.get(f"/api/v1/productions/{pid}/findings?status=resolved", headers=h["producer"])).json()
    assert [f["rule"] for f in resolved] == ["ai_share_exceeded"] and resolved[0]["resolved_at"]


async def test_cli_check_run_and_findings(world):
    from guild.infra.db import engine, is_sqlite

    env = dict(os.environ)
    if is_sqlite():
        env["GUILD_DATABASE_URL"] = f"sqlite:///{engine().path}"

    def guild(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "guild", *args], env=env, capture_output=True, text=True, timeout=120
        )

    run = guild("check", "run", "--compact", "c1")
    assert run.returncode == 0, run.stderr
    assert "productions 1, opened 4" in run.stdout  # contract missing, AI share, camera + editing quotas
    listed = guild("findings", "--compact", "c1")
    assert listed.returncode == 0 and "contract_missing" in listed.stdout and "4 finding(s)" in listed.stdout
    assert "apprenticeship_quota" in listed.stdout
    assert guild("check", "run", "--compact", "nope").returncode == 1
    assert guild("check", "run", "--production", "not-a-uuid").returncode == 2
