"""One obligation, one commitment: two bound compacts requiring the same commitment of a production give the
producer one entry to file (due on the stricter date, citing both), marked done once for both."""

from __future__ import annotations

import pytest
from icalendar import Calendar

from guild.compacts.terms import CommitmentAnchor, CommitmentRule, example_terms
from tests.integration.scenario import person


def _terms(*rules: CommitmentRule):
    return example_terms().model_copy(update={"quorum": None, "apprenticeship_commitments": list(rules)})


# c1 (bound first): skills plan a week before the shoot starts, final plan two weeks in (shoots of 6+ weeks)
C1 = _terms(
    CommitmentRule(key="skills_plan", title="Skills plan (C1)", anchor=CommitmentAnchor.shoot_start, offset_weeks=-1),
    CommitmentRule(
        key="final_plan",
        title="Final placement plan",
        anchor=CommitmentAnchor.shoot_start,
        offset_weeks=2,
        min_shoot_weeks=6,
    ),
)
# c2 (bound second): skills plan 10 working days before the start (stricter), a wrap report 5 working days after the end
C2 = _terms(
    CommitmentRule(
        key="skills_plan", title="Skills plan (C2)", anchor=CommitmentAnchor.shoot_start, offset_working_days=-10
    ),
    CommitmentRule(key="wrap_report", title="Wrap report", anchor=CommitmentAnchor.shoot_end, offset_working_days=5),
)


@pytest.fixture
async def world(scenario):
    """Harbour (kestrel) shoots Monday 3 March to Friday 2 May 2025 (9 weeks, so everything is overdue now),
    bound to c1 (party guild-a) and then c2 (party fund); Ada (a member) is its camera apprentice."""
    await scenario.organizations(
        {"guild-a": "guild", "fund": "film_fund", "kestrel": "production_company", "blue": "production_company"}
    )
    h = await scenario.people(
        officer=person("o@example.org", ("guild-a", "officer")),
        fund_officer=person("f@example.org", ("fund", "officer")),
        producer=person("p@example.org", ("kestrel", "producer")),
        other=person("b@example.org", ("blue", "producer")),
        apprentice=person("ada@example.org", ("guild-a", "member")),
    )
    await scenario.compact("c1", title="C1", convening="guild-a", by="o@example.org", terms=C1)
    await scenario.compact("c2", title="C2", convening="fund", by="f@example.org", terms=C2)
    pid = await scenario.production(
        "kestrel", "Harbour", by=h["producer"], start_date="2025-03-03", end_date="2025-05-02", bind=["c1", "c2"]
    )
    await scenario.engagement(
        pid,
        "Ada Apprentice",
        by=h["producer"],
        department="camera",
        role="camera apprentice",
        level="apprentice",
        rate_minor_per_week=60_000,
        start_date="2025-03-03",
        end_date="2025-05-02",
        email="ada@example.org",
    )
    return {"h": h, "pid": pid}


async def _listed(client, pid, headers) -> dict[str, dict]:
    r = await client.get(f"/api/v1/productions/{pid}/commitments", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len({c["key"] for c in body}) == len(body)  # one entry per key
    return {c["key"]: c for c in body}


def _cites(entry: dict) -> list[tuple[str, str, str]]:
    return [(c["compact"], c["due_date"], c["status"]) for c in entry["cited_by"]]


async def _rows(pid: str, key: str) -> dict[str, str]:
    from guild.infra.tables import Commitment

    rows = await Commitment.select(Commitment.compact.slug.as_alias("slug"), Commitment.status).where(
        (Commitment.production == pid) & (Commitment.key == key)
    )
    return {r["slug"]: r["status"] for r in rows}


async def _overdue_findings(pid: str) -> dict[str, str]:
    from guild.compliance.service import check_production
    from guild.infra.tables import Finding

    await check_production(pid, None)
    rows = await Finding.select(Finding.subject, Finding.status).where(
        (Finding.production == pid) & (Finding.rule == "commitment_overdue")
    )
    assert len({r["subject"] for r in rows}) == len(rows)
    return {r["subject"]: r["status"] for r in rows}


async def test_one_commitment_due_on_the_stricter_date_cites_both_compacts(client, world):
    h, pid = world["h"], world["pid"]
    got = await _listed(client, pid, h["producer"])
    assert {k: (c["due_date"], c["status"], c["overdue"]) for k, c in got.items()} == {
        # c2: 10 working days before Monday 3 March 2025 = Monday 17 February; c1: a week before = 24 February
        "skills_plan": ("2025-02-17", "open", True),
        "final_plan": ("2025-03-17", "open", True),  # c1 only: two weeks after the start
        "wrap_report": ("2025-05-09", "open", True),  # c2 only: 5 working days after Friday 2 May
    }
    assert list(got) == ["skills_plan", "final_plan", "wrap_report"]  # by due date
    skills = got["skills_plan"]
    assert _cites(skills) == [("c2", "2025-02-17", "open"), ("c1", "2025-02-24", "open")]
    # the entry is the stricter compact's: its id, compact, version and title
    assert (skills["compact"], skills["version_number"], skills["title"]) == ("c2", 1, "Skills plan (C2)")
    assert skills["id"] == skills["cited_by"][0]["commitment_id"]
    # a key only one compact requires: as before, citing that one
    assert _cites(got["final_plan"]) == [("c1", "2025-03-17", "open")]
    assert got["final_plan"]["compact"] == "c1" and got["wrap_report"]["compact"] == "c2"
    # the record stays one row per compact version
    assert await _rows(pid, "skills_plan") == {"c1": "open", "c2": "open"}

    # a party officer of c1 sees what c1 requires: c1's skills plan, due on c1's date, citing c1 alone
    seen = await _listed(client, pid, h["officer"])
    assert set(seen) == {"skills_plan", "final_plan"}
    assert (seen["skills_plan"]["due_date"], _cites(seen["skills_plan"])) == (
        "2025-02-24",
        [("c1", "2025-02-24", "open")],
    )
    assert (await client.get(f"/api/v1/productions/{pid}/commitments", headers=h["other"])).status_code == 404


async def test_marking_it_done_once_satisfies_both_and_resolves_the_overdue_finding(client, world):
    from guild.infra.tables import AuditEvent

    h, pid = world["h"], world["pid"]
    assert await _overdue_findings(pid) == {"skills_plan": "open", "final_plan": "open", "wrap_report": "open"}
    got = await _listed(client, pid, h["producer"])
    # by the id of c1's row (the later one): any row id of the key files the whole commitment
    c1_row = got["skills_plan"]["cited_by"][1]["commitment_id"]
    url = f"/api/v1/productions/{pid}/commitments/{c1_row}/done"
    assert (await client.post(url, headers=h["other"])).status_code == 404
    assert (await client.post(url, headers=h["officer"])).status_code == 404
    assert await _rows(pid, "skills_plan") == {"c1": "open", "c2": "open"}

    r = await client.post(url, headers=h["producer"])
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["key"], done["status"], done["overdue"], done["due_date"]) == (
        "skills_plan",
        "done",
        False,
        "2025-02-17",
    )
    assert _cites(done) == [("c2", "2025-02-17", "done"), ("c1", "2025-02-24", "done")]
    assert await _rows(pid, "skills_plan") == {"c1": "done", "c2": "done"}
    # the other keys are untouched
    after = await _listed(client, pid, h["producer"])
    assert {k: c["status"] for k, c in after.items()} == {
        "skills_plan": "done",
        "final_plan": "open",
        "wrap_report": "open",
    }
    assert after["skills_plan"]["done_at"] == done["done_at"]
    # once: again by either row id is 409 and changes nothing
    for cid in (c1_row, got["skills_plan"]["id"]):
        again = await client.post(f"/api/v1/productions/{pid}/commitments/{cid}/done", headers=h["producer"])
        assert again.status_code == 409 and again.json()["rule"] == "commitment_done", again.text
    [event] = (
        await AuditEvent.select(AuditEvent.data).where(AuditEvent.action == "commitment.done").output(load_json=True)
    )
    assert event["data"]["commitment_id"] == c1_row and event["data"]["key"] == "skills_plan"
    assert event["data"]["due_date"] == "2025-02-17" and event["data"]["late"] is True
    assert sorted(event["data"]["commitments"]) == sorted(c["commitment_id"] for c in got["skills_plan"]["cited_by"])

    assert await _overdue_findings(pid) == {"skills_plan": "resolved", "final_plan": "open", "wrap_report": "open"}


async def test_members_view_and_calendar_feeds_show_one_entry(client, world):
    h, pid = world["h"], world["pid"]
    r = await client.get("/api/v1/me/apprenticeships", headers=h["apprentice"])
    assert r.status_code == 200, r.text
    mine = [c for c in r.json()["commitments"] if c["production_id"] == pid]
    assert [(c["key"], c["due_date"]) for c in mine] == [
        ("skills_plan", "2025-02-17"),
        ("final_plan", "2025-03-17"),
        ("wrap_report", "2025-05-09"),
    ]
    assert [c["compact"] for c in mine[0]["cited_by"]] == ["c2", "c1"]

    r = await client.post("/api/v1/me/calendar-token", headers=h["producer"])
    assert r.status_code in (200, 201), r.text
    token = r.json()["token"]
    skills_id = mine[0]["id"]
    for feed in ("me.ics", f"production/{pid}.ics"):
        r = await client.get(f"/api/v1/calendar/{token}/{feed}")
        assert r.status_code == 200, r.text
        events = list(Calendar.from_ical(r.content).walk("VEVENT"))
        summaries = sorted(str(e["summary"]) for e in events)
        assert summaries == ["Harbour: Final placement plan", "Harbour: Skills plan (C2)", "Harbour: Wrap report"]
        [skills] = [e for e in events if str(e["summary"]) == "Harbour: Skills plan (C2)"]
        assert str(skills["uid"]) == f"{skills_id}@guild"
        assert skills.decoded("dtstart").isoformat() == "2025-02-17"
        assert str(skills["description"]) == "c2 v1 (2025-02-17), c1 v1 (2025-02-24)\nskills_plan: overdue"
        [final] = [e for e in events if str(e["summary"]) == "Harbour: Final placement plan"]
        assert str(final["description"]) == "c1 v1\nfinal_plan: overdue"

    # done: still one event, cancelled
    r = await client.post(f"/api/v1/productions/{pid}/commitments/{skills_id}/done", headers=h["producer"])
    assert r.status_code == 200, r.text
    events = list(Calendar.from_ical((await client.get(f"/api/v1/calendar/{token}/me.ics")).content).walk("VEVENT"))
    skills_events = [e for e in events if "Skills plan" in str(e["summary"])]
    assert [(str(e["uid"]), str(e["status"])) for e in skills_events] == [(f"{skills_id}@guild", "CANCELLED")]


async def test_concurrent_marks_by_either_row_id_have_one_winner(client, world):
    from tests.integration.concurrency import audit_events, statuses, together

    h, pid = world["h"], world["pid"]
    cited = (await _listed(client, pid, h["producer"]))["skills_plan"]["cited_by"]
    urls = [f"/api/v1/productions/{pid}/commitments/{c['commitment_id']}/done" for c in cited] * 3
    responses = await together([client.post(u, headers=h["producer"]) for u in urls])
    assert statuses(responses) == {200: 1, 409: 5}
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"commitment_done"}
    assert await _rows(pid, "skills_plan") == {"c1": "done", "c2": "done"}
    assert len(await audit_events("commitment.done")) == 1


async def test_a_row_done_before_the_second_compact_bound_leaves_the_new_one_open(client, world, scenario):
    """Filed under c1 before c2 bound: c2's new row is open (c2 has not seen it filed), so the entry is open,
    due on c2's date, and marking it done closes c2's row and leaves c1's done_at alone."""
    h = world["h"]
    pid = await scenario.production(
        "kestrel", "Quay", by=h["producer"], start_date="2025-03-03", end_date="2025-05-02", bind=["c1"]
    )
    first = (await _listed(client, pid, h["producer"]))["skills_plan"]
    r = await client.post(f"/api/v1/productions/{pid}/commitments/{first['id']}/done", headers=h["producer"])
    assert r.status_code == 200, r.text
    filed_at = r.json()["done_at"]
    await scenario.bind(pid, "c2", by=h["producer"])
    got = (await _listed(client, pid, h["producer"]))["skills_plan"]
    assert (got["status"], got["due_date"], got["compact"]) == ("open", "2025-02-17", "c2")
    assert _cites(got) == [("c2", "2025-02-17", "open"), ("c1", "2025-02-24", "done")]
    r = await client.post(f"/api/v1/productions/{pid}/commitments/{first['id']}/done", headers=h["producer"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done" and _cites(r.json())[0] == ("c2", "2025-02-17", "done")
    from guild.infra.tables import Commitment

    c1_done_at = (await Commitment.select(Commitment.done_at).where(Commitment.id == first["id"]))[0]["done_at"]
    assert c1_done_at.isoformat().replace("+00:00", "Z")[:19] == filed_at.replace("+00:00", "Z")[:19]
