"""On-demand checks, findings visibility per role, and the `guild check run` / `guild findings` commands."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.integration.processes import guild_env
from tests.integration.scenario import person


@pytest.fixture
async def world(scenario):
    """Harbour (kestrel) bound to guild-a's compact c1: a grip with no contract, 60 of 100 VFX shots made with AI."""
    await scenario.organizations(
        {"guild-a": "guild", "fund": "film_fund", "kestrel": "production_company", "blue": "production_company"}
    )
    h = await scenario.people(
        officer=person("o@example.org", ("guild-a", "officer")),
        member=person("m@example.org", ("guild-a", "member")),
        fund_officer=person("f@example.org", ("fund", "officer")),
        producer=person("p@example.org", ("kestrel", "producer")),
        other=person("b@example.org", ("blue", "producer")),
    )
    await scenario.compact("c1", convening="guild-a", by="o@example.org")
    pid = await scenario.production("kestrel", "Harbour", by=h["producer"], bind=["c1"])
    await scenario.engagement(
        pid,
        "Sam Grip",
        by=h["producer"],
        department="grip",
        role="Grip",
        rate_minor_per_week=150_000,
        end_date="2027-04-30",
    )
    await scenario.disclosures(
        pid, [{"category": "vfx_shot", "total_count": 100, "ai_generated_count": 60}], by=h["producer"]
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
    env = guild_env()

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
