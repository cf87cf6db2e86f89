"""Apprenticeship rules as the schemes write them, against a real database: placements too short, too
long, beyond the reimbursement cap or over a maximum are findings of the on-demand check and of the
scheduled sweep; working-day deadlines skip the public holidays of the compact's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from guild.compacts.terms import Terms, example_terms

T0 = datetime(2027, 4, 1, 6, 0, tzinfo=UTC)


def scheme_terms() -> Terms:
    data = example_terms().model_dump(mode="json")
    data["quorum"] = None
    data["apprenticeship"] = [
        {  # at least one camera apprentice, 4..26 weeks; the fund reimburses one placement
            "department": "camera",
            "budget_min_minor": 0,
            "currency": "EUR",
            "min_apprentices": 1,
            "min_rate_minor_per_week": 60_000,
            "min_weeks": 4,
            "max_weeks": 26,
            "mentor_required": False,
            "max_reimbursed_placements": 1,
        },
        {  # at most one editing apprentice per two journey workers for the first four, then one per four more
            "department": "editing",
            "direction": "maximum",
            "budget_min_minor": 0,
            "currency": "EUR",
            "min_apprentices": 0,
            "ratio_schedule": [{"first_journey": 1, "per_journey": 2}, {"first_journey": 5, "per_journey": 4}],
            "min_rate_minor_per_week": 60_000,
            "min_weeks": 4,
            "mentor_required": False,
        },
    ]
    data["working_calendar"] = {"country": "IE", "subdivision": None}
    return Terms.model_validate(data)


@pytest.fixture
async def world(scenario) -> dict[str, Any]:
    await scenario.organizations({"trades": "guild", "kestrel": "production_company"})
    await scenario.user("o@example.org", ("trades", "officer"))
    producer = await scenario.user("p@example.org", ("kestrel", "producer"))
    version = await scenario.compact("trade-scheme", convening="trades", by="o@example.org", terms=scheme_terms())
    return {"scenario": scenario, "by": producer.headers, "compact_id": version.compact_id}


def weeks_from(start: str, weeks: int) -> dict[str, str]:
    first = date.fromisoformat(start)
    return {"start_date": start, "end_date": (first + timedelta(days=7 * weeks - 1)).isoformat()}


async def crewed_production(world: dict[str, Any], title: str) -> tuple[str, dict[str, str]]:
    """A production bound to trade-scheme, shooting 22 March to 28 May 2027, with a roster that breaks each
    placement rule once (the engagements by name)."""
    s, by = world["scenario"], world["by"]
    pid = await s.production(
        "kestrel", title, by=by, start_date="2027-03-22", end_date="2027-05-28", bind=["trade-scheme"]
    )
    apprentice = {"level": "apprentice", "rate_minor_per_week": 70_000, "role": "Trainee"}
    people = {
        "Cam Counted": {"department": "camera", **apprentice, **weeks_from("2027-03-01", 13)},
        "Long Placement": {"department": "camera", **apprentice, **weeks_from("2027-03-02", 30)},  # > 26 weeks
        "Short Placement": {"department": "camera", **apprentice, **weeks_from("2027-03-03", 2)},  # < 4 weeks
        # three journey-level editors allow floor(3/2) = 1 editing apprentice; the later one is over it
        **{f"Editor {i}": {"department": "editing"} for i in (1, 2, 3)},
        "Ed First": {"department": "editing", **apprentice, **weeks_from("2027-03-01", 13)},
        "Ed Later": {"department": "editing", **apprentice, **weeks_from("2027-03-08", 12)},
    }
    ids = {name: await s.engagement(pid, name, by=by, **fields) for name, fields in people.items()}
    return pid, ids


def placement_findings(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["rule"], r["subject"]): r for r in rows if r["rule"].startswith("apprenticeship_")}


def expected(ids: dict[str, str]) -> dict[tuple[str, str], str]:
    return {
        ("apprenticeship_too_long", ids["Long Placement"]): "warning",
        ("apprenticeship_too_short", ids["Short Placement"]): "warning",
        ("apprenticeship_over_reimbursement_cap", "camera"): "warning",
        ("apprenticeship_over_maximum", "editing"): "violation",
    }


async def test_the_on_demand_check_finds_each_placement_problem(client, world):
    by = world["by"]
    pid, ids = await crewed_production(world, "Checked")
    r = await client.post(f"/api/v1/productions/{pid}/compliance-checks", headers=by)
    assert r.status_code == 201, r.text
    r = await client.get(f"/api/v1/productions/{pid}/findings", headers=by)
    assert r.status_code == 200, r.text
    found = placement_findings(r.json())
    assert {k: f["severity"] for k, f in found.items()} == expected(ids)  # the camera minimum is met

    long = found[("apprenticeship_too_long", ids["Long Placement"])]
    assert (long["evidence"]["weeks"], long["evidence"]["max_weeks"]) == (30, 26)
    assert long["evidence"]["term_path"] == "apprenticeship[0].max_weeks"
    assert long["remediation"].startswith(
        "End Long Placement's placement in camera within 26 weeks as trade-scheme v1 requires "
        "(it runs 30 week(s), 2027-03-02 to 2027-09-27)"
    )
    short = found[("apprenticeship_too_short", ids["Short Placement"])]
    assert (short["evidence"]["weeks"], short["evidence"]["min_weeks"]) == (2, 4)

    cap = found[("apprenticeship_over_reimbursement_cap", "camera")]
    # every placement claimed uses the cap, in order of start date: Cam Counted has it, the other two are beyond
    assert cap["evidence"]["reimbursable"] == [ids["Cam Counted"]]
    assert cap["evidence"]["not_reimbursable"] == [ids["Long Placement"], ids["Short Placement"]]
    assert cap["remediation"].startswith(
        "Do not claim reimbursement for Long Placement, Short Placement in camera: trade-scheme v1's fund "
        "reimburses at most 1 placement(s)"
    )

    over = found[("apprenticeship_over_maximum", "editing")]
    ev = over["evidence"]
    assert (ev["direction"], ev["journey_level"], ev["allowed"], ev["placements"], ev["excess"]) == (
        "maximum",
        3,
        1,
        2,
        1,
    )
    assert ev["over_maximum"] == [ids["Ed Later"]] and ev["counted_engagements"] == [ids["Ed First"]]
    assert over["remediation"] == (
        "editing has 2 apprentice(s) or trainee(s) where trade-scheme v1 allows at most 1: end or move 1 "
        "placement(s) (Ed Later, the latest to start); until then they are not counted or reimbursed."
    )
    assert "floor(3/2) = 1" in ev["explanation"]


async def test_the_sweep_finds_them_too_and_resolves_what_is_fixed(world):
    from guild.compliance.service import sweep_compact
    from guild.infra.tables import ComplianceRun, Engagement, Finding

    pid, ids = await crewed_production(world, "Swept")

    async def sweep(at: datetime) -> Any:
        run = uuid4()
        await ComplianceRun.insert(
            ComplianceRun(
                id=run,
                trigger="scheduled",
                job_id="sweep:trade-scheme",
                slot=at,
                compact=world["compact_id"],
                status="running",
                started_at=at,
                heartbeat_at=at,
            )
        )
        return await sweep_compact(world["compact_id"], run, "", at)

    async def open_findings() -> dict[tuple[str, str], str]:
        rows = await Finding.select(Finding.rule, Finding.subject, Finding.severity).where(
            (Finding.production == UUID(pid)) & (Finding.status == "open")
        )
        return {(r["rule"], r["subject"]): r["severity"] for r in rows if r["rule"].startswith("apprenticeship_")}

    await sweep(T0)
    assert await open_findings() == expected(ids)

    # the long placement is cut to 20 weeks and the later editing apprentice leaves: those two resolve
    await Engagement.update({Engagement.end_date: date(2027, 7, 19)}).where(
        Engagement.id == UUID(ids["Long Placement"])
    )
    await Engagement.delete().where(Engagement.id == UUID(ids["Ed Later"]))
    stats = await sweep(T0 + timedelta(days=7))
    assert stats.resolved == 3  # and Ed Later's contract_missing finding
    resolved = await Finding.select(Finding.rule, Finding.subject).where(
        (Finding.production == UUID(pid)) & (Finding.status == "resolved")
    )
    assert {(r["rule"], r["subject"]) for r in resolved} == {
        ("apprenticeship_too_long", ids["Long Placement"]),
        ("apprenticeship_over_maximum", "editing"),
        ("contract_missing", ids["Ed Later"]),
    }
    assert await open_findings() == {
        ("apprenticeship_too_short", ids["Short Placement"]): "warning",
        ("apprenticeship_over_reimbursement_cap", "camera"): "warning",
    }


async def test_a_working_day_deadline_skips_the_compacts_public_holidays(client, world):
    # 10 working days before Monday 22 March 2027 under Ireland's calendar: Wednesday 17 March (St Patrick's
    # Day) is skipped, so Friday 5 March (weekends only it would be Monday 8 March)
    pid, _ = await crewed_production(world, "Dublin")
    r = await client.get(f"/api/v1/productions/{pid}/commitments", headers=world["by"])
    assert r.status_code == 200, r.text
    due = {c["key"]: c["due_date"] for c in r.json()}
    assert due == {"skills_plan": "2027-03-05", "final_plan": "2027-04-05"}  # final_plan: two calendar weeks


async def test_a_compact_naming_an_unknown_calendar_is_refused_naming_the_field(client, world):
    s = world["scenario"]
    officer = await s.user("o2@example.org", ("trades", "officer"))
    terms = scheme_terms().model_dump(mode="json")
    for calendar, field, rule in (
        ({"country": "XX"}, "country", "unsupported_country"),
        ({"country": "DE", "subdivision": "XY"}, "subdivision", "unsupported_subdivision"),
    ):
        body = {
            "slug": f"bad-{rule.replace('_', '-')}",
            "title": "Bad calendar",
            "convening_org": "trades",
            "parties": [],
            "terms": {**terms, "working_calendar": calendar},
        }
        r = await client.post("/api/v1/compacts", json=body, headers=officer.headers)
        assert r.status_code == 422, r.text
        problem = r.json()
        [error] = [e for e in problem["errors"] if "working_calendar" in str(e)]
        assert field in str(error) and rule in str(error), error
