"""The producers' apprenticeship planning preview: explained quotas and commitment due dates, grants,
denials and bad input (422 naming the field and rule)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.scenario import person

PREVIEW_PATH = "/api/v1/productions/{production_id:uuid}/apprenticeship/preview"


@pytest.fixture
async def world(scenario):
    """Harbour (kestrel, EUR 600,000.00, shooting 1 March to 11 April 2027: six weeks from a Monday), bound to
    guild-a's compact c1."""
    await scenario.organizations({"guild-a": "guild", "kestrel": "production_company", "blue": "production_company"})
    h = await scenario.people(
        producer=person("p@example.org", ("kestrel", "producer")),
        kestrel_officer=person("ko@example.org", ("kestrel", "officer")),
        kestrel_member=person("km@example.org", ("kestrel", "member")),
        other=person("b@example.org", ("blue", "producer")),
        guild_officer=person("o@example.org", ("guild-a", "officer")),
    )
    await scenario.compact("c1", convening="guild-a", by="o@example.org")
    pid = await scenario.production(
        "kestrel",
        "Harbour",
        by=h["producer"],
        budget_minor=60_000_000,
        start_date="2027-03-01",
        end_date="2027-04-11",
        bind=["c1"],
    )
    return {"h": h, "pid": pid}


def row(name: str, level: str = "journey", department: str = "camera", **kw: Any) -> dict[str, Any]:
    base = {
        "person_name": name,
        "department": department,
        "level": level,
        "rate_minor_per_week": 200_000,
        "currency": "EUR",
        "start_date": "2027-03-01",
        "end_date": "2027-04-25",
    }  # 8 weeks
    return {**base, **kw}


def camera_roster(journey: int = 7, apprentices: int = 2, **apprentice: Any) -> list[dict[str, Any]]:
    crew = [row("Mara Mentor")] + [row(f"Crew {i}", level="senior") for i in range(journey - 1)]
    kids = [
        row(f"Appr {i}", level="apprentice", rate_minor_per_week=75_000, mentor_person_name="Mara Mentor", **apprentice)
        for i in range(apprentices)
    ]
    return crew + kids


async def post(client, world, body: dict[str, Any], who: str = "producer"):
    return await client.post(
        f"/api/v1/productions/{world['pid']}/apprenticeship/preview", json=body, headers=world["h"][who]
    )


async def test_the_preview_explains_every_quota_and_due_date_of_each_bound_version(client, world):
    from guild.infra.tables import Commitment, Engagement

    before = await Commitment.count()
    r = await post(client, world, {"roster": camera_roster()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["budget_minor"], body["currency"], body["shoot_start"], body["shoot_end"], body["shoot_weeks"]) == (
        60_000_000,
        "EUR",
        "2027-03-01",
        "2027-04-11",
        6,
    )
    assert body["roster_rows"] == 9 and body["notes"] == []
    [v] = body["versions"]
    assert (v["compact"], v["version_number"], v["label"], v["quotas_met"]) == ("c1", 1, "c1 v1", False)
    camera, editing = v["quotas"]  # vfx starts at 100M: no quota at 60M
    # camera band [50M, ∞): min 2; ratio 1 (first worker) + ceil(6 / 3) = 3 for 7 journey-level workers
    assert (camera["department"], camera["term_path"], camera["journey_level"]) == ("camera", "apprenticeship[1]", 7)
    assert (camera["min_apprentices"], camera["ratio_required"], camera["required"], camera["required_by"]) == (
        2,
        3,
        3,
        "ratio_schedule",
    )
    assert [(s["first_journey"], s["journey_in_step"], s["apprentices"]) for s in camera["ratio_steps"]] == [
        (1, 1, 1),
        (2, 6, 2),
    ]
    assert (camera["counted"], camera["missing"], camera["met"]) == (2, 1, False)
    assert camera["counted_engagements"] == ["roster[7]", "roster[8]"]
    assert camera["reimbursable"] == ["roster[7]", "roster[8]"] and camera["not_reimbursable"] == []
    assert camera["explanation"].startswith("c1 v1, camera, budget band from EUR 500,000.00 included to no ceiling")
    assert (editing["department"], editing["required"], editing["counted"]) == ("editing", 1, 0)
    assert v["commitments"] == [
        {
            "key": "skills_plan",
            "title": "Apprenticeship skills plan filed",
            "anchor": "shoot_start",
            "offset_working_days": -10,
            "offset_weeks": None,
            "applies": True,
            "due_date": "2027-02-15",
            "reason": "10 working day(s) before the shoot start (2027-03-01)",
        },
        {
            "key": "final_plan",
            "title": "Final placement plan filed",
            "anchor": "shoot_start",
            "offset_working_days": None,
            "offset_weeks": 2,
            "applies": True,
            "due_date": "2027-03-15",
            "reason": "2 calendar week(s) after the shoot start (2027-03-01)",
        },
    ]

    # nothing is written by a preview
    assert await Engagement.count() == 0 and await Commitment.count() == before


async def test_budget_and_shoot_dates_can_be_overridden(client, world):
    roster = camera_roster(journey=1, apprentices=3)
    roster.append(row("Eddie Editor", department="editing"))
    roster.append(
        row(
            "Ella Apprentice",
            level="apprentice",
            department="editing",
            rate_minor_per_week=60_000,
            mentor_person_name="Eddie Editor",
        )
    )
    body = {"budget_minor": 30_000_000, "shoot_start": "2027-03-01", "shoot_end": "2027-04-04", "roster": roster}
    r = await post(client, world, body)
    assert r.status_code == 200, r.text
    [v] = r.json()["versions"]
    camera, editing = v["quotas"]
    # camera band [0, 50M): 1 required, 4..26 weeks, cap 1: three counted, two beyond the cap
    assert (camera["term_path"], camera["required"], camera["counted"], camera["met"]) == (
        "apprenticeship[0]",
        1,
        3,
        True,
    )
    assert camera["reimbursable"] == ["roster[1]"] and camera["not_reimbursable"] == ["roster[2]", "roster[3]"]
    assert "beyond the cap are not reimbursable but still count toward the quota" in camera["explanation"]
    assert (editing["counted"], editing["met"]) == (1, True) and v["quotas_met"] is True
    assert r.json()["shoot_weeks"] == 5
    final = [c for c in v["commitments"] if c["key"] == "final_plan"][0]
    assert (final["applies"], final["due_date"]) == (False, None)
    assert final["reason"] == "applies to shoots of at least 6 week(s); this shoot is 5"


async def test_underpaid_short_and_unmentored_placements_are_explained_not_refused(client, world):
    roster = camera_roster(journey=1, apprentices=0) + [
        row("Low Pay", level="apprentice", rate_minor_per_week=50_000, mentor_person_name="Mara Mentor"),
        row(
            "Too Short",
            level="trainee",
            rate_minor_per_week=75_000,
            end_date="2027-03-21",
            mentor_person_name="Mara Mentor",
        ),
        row("No Mentor", level="apprentice", rate_minor_per_week=75_000),
    ]
    r = await post(client, world, {"roster": roster})
    assert r.status_code == 200, r.text
    camera = r.json()["versions"][0]["quotas"][0]
    assert [(n["engagement"], n["person_name"], n["reason"]) for n in camera["not_counted"]] == [
        ("roster[1]", "Low Pay", "below_min_rate"),
        ("roster[2]", "Too Short", "too_short"),
        ("roster[3]", "No Mentor", "no_mentor"),
    ]
    assert [(u["person_name"], u["shortfall_minor_per_week"]) for u in camera["underpaid"]] == [("Low Pay", 25_000)]


async def test_only_producers_and_officers_of_the_company_may_preview(client, world):
    body = {"roster": camera_roster()}
    assert (await post(client, world, body, "kestrel_officer")).status_code == 200
    for who in ("other", "guild_officer", "kestrel_member"):
        r = await post(client, world, body, who)
        assert r.status_code == 404, (who, r.text)
    r = await client.post(f"/api/v1/productions/{world['pid']}/apprenticeship/preview", json=body)
    assert r.status_code == 401
    r = await client.post(
        "/api/v1/productions/00000000-0000-0000-0000-000000000000/apprenticeship/preview",
        json=body,
        headers=world["h"]["producer"],
    )
    assert r.status_code == 404


def _errors(r) -> list[tuple[str, str]]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return [(e["field"], e["rule"]) for e in r.json()["errors"]]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda b: b["roster"][0].update(end_date="2027-02-28"), ("roster.0.end_date", "dates_in_order")),
        (
            lambda b: b["roster"].append(
                row("Sam", level="apprentice", department="sound", mentor_person_name="Mara Mentor")
            ),
            ("roster.9.mentor_person_name", "mentor_same_department"),
        ),
        (
            lambda b: b["roster"].extend(
                [row("Jun", level="junior"), row("Al", level="apprentice", mentor_person_name="Jun")]
            ),
            ("roster.10.mentor_person_name", "mentor_journey_or_above"),
        ),
        (
            lambda b: b["roster"][7].update(mentor_person_name="Nobody"),
            ("roster.7.mentor_person_name", "mentor_in_roster"),
        ),
        (lambda b: b["roster"].append(row("Mara Mentor")), ("roster.7.mentor_person_name", "mentor_in_roster")),
        (
            lambda b: b["roster"][0].update(mentor_person_name="Mara Mentor"),
            ("roster.0.mentor_person_name", "mentor_not_self"),
        ),
        (lambda b: b.update(shoot_start="2027-05-01", shoot_end="2027-04-30"), ("shoot_end", "dates_in_order")),
        (
            lambda b: b["roster"][0].update(rate_minor_per_week=-1),
            ("roster.0.rate_minor_per_week", "greater_than_equal"),
        ),
        (lambda b: b["roster"][0].update(role="Focus puller"), ("roster.0.role", "extra_forbidden")),
        (lambda b: b.update(budget_minor=-5), ("budget_minor", "greater_than_equal")),
        (lambda b: b.update(roster=[row(f"P{i}") for i in range(2001)]), ("roster", "too_long")),
    ],
)
async def test_bad_input_is_a_422_naming_the_field_and_rule(client, world, change, expected):
    body = {"roster": camera_roster()}
    change(body)
    assert expected in _errors(await post(client, world, body))


async def test_defaults_that_break_the_rules_are_named_too(client, world):
    # shoot_start after the production's own end date
    assert _errors(await post(client, world, {"shoot_start": "2027-05-01", "roster": []})) == [
        ("shoot_start", "dates_in_order")
    ]
    # another currency without a budget in it
    assert _errors(await post(client, world, {"currency": "GBP", "roster": []})) == [
        ("budget_minor", "budget_with_currency")
    ]
    # shoot dates whose due dates would fall outside the calendar: dates are bounded to years 1900..2200
    assert _errors(
        await post(client, world, {"shoot_start": "0001-01-01", "shoot_end": "0001-03-01", "roster": []})
    ) == [("shoot_start", "greater_than_equal"), ("shoot_end", "greater_than_equal")]
    r = await post(client, world, {"currency": "GBP", "budget_minor": 60_000_000, "roster": []})
    assert r.status_code == 200 and r.json()["versions"][0]["quotas"] == []  # no GBP bands in these terms


async def test_the_maximum_roster_is_accepted(client, world):
    roster = [row(f"Person {i:04d}", level="senior") for i in range(1999)] + [
        row("Appr", level="apprentice", rate_minor_per_week=75_000, mentor_person_name="Person 0000")
    ]
    r = await post(client, world, {"roster": roster})
    assert r.status_code == 200, r.text
    camera = r.json()["versions"][0]["quotas"][0]
    assert (camera["journey_level"], camera["required"], camera["counted"]) == (1999, 1 + 666, 1)


async def test_without_shoot_dates_or_bindings_the_preview_says_so(client, world):
    h = world["h"]
    r = await client.post(
        "/api/v1/productions",
        json={"company": "kestrel", "title": "Bare", "budget_minor": 1, "currency": "EUR"},
        headers=h["producer"],
    )
    bare = r.json()["id"]
    r = await client.post(
        f"/api/v1/productions/{bare}/apprenticeship/preview", json={"roster": []}, headers=h["producer"]
    )
    assert r.status_code == 200, r.text
    assert r.json()["versions"] == [] and r.json()["shoot_weeks"] is None
    assert len(r.json()["notes"]) == 2
