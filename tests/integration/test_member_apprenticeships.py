"""Members' own placements, officers' apprenticeship totals (JSON and CSV) and the iCalendar feeds."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from tests.integration.scenario import person


def _today() -> date:
    return datetime.now(UTC).date()


def day(offset: int) -> str:
    return (_today() + timedelta(days=offset)).isoformat()


@pytest.fixture
async def world(scenario):
    """Compact c1 (party guild-a) bound by Harbour (kestrel, EUR 300,000.00, shoot in 2025: its commitments are
    overdue) and Dune (blue, EUR 600,000.00, no shoot dates).

    Harbour's crew: Mo (journey camera, the mentor's account), Ada (camera apprentice under Mo, paid below
    the minimum, the apprentice's account), Ada's finished and future trainee placements, Tia (editing
    trainee, paid enough, no account), Gus (grip apprentice: no quota rule for grip).
    """
    await scenario.organizations(
        {"guild-a": "guild", "fund": "film_fund", "kestrel": "production_company", "blue": "production_company"}
    )
    h = await scenario.people(
        officer=person("o@example.org", ("guild-a", "officer")),
        fund_officer=person("f@example.org", ("fund", "officer")),
        producer=person("p@example.org", ("kestrel", "producer")),
        other=person("b@example.org", ("blue", "producer")),
        apprentice=person("ada@example.org", ("guild-a", "member")),
        mentor=person("mo@example.org", ("guild-a", "member")),
        member=person("x@example.org", ("guild-a", "member")),
    )
    await scenario.compact("c1", title="C1", convening="guild-a", by="o@example.org")
    harbour = await scenario.production(
        "kestrel", "Harbour", by=h["producer"], start_date="2025-03-03", end_date="2025-05-02", bind=["c1"]
    )
    dune = await scenario.production("blue", "Dune", by=h["other"], budget_minor=60_000_000, bind=["c1"])

    async def engage(name: str, dept: str, level: str, rate: int, start: str, end: str, email=None, mentor=None) -> str:
        return await scenario.engagement(
            harbour,
            name,
            by=h["producer"],
            department=dept,
            role=f"{dept} {level}",
            level=level,
            rate_minor_per_week=rate,
            start_date=start,
            end_date=end,
            email=email,
            mentor_engagement_id=mentor,
        )

    mo = await engage("Mo Mentor", "camera", "journey", 150_000, day(-100), day(100), email="mo@example.org")
    ada = await engage("Ada Apprentice", "camera", "apprentice", 55_000, day(-20), day(50), "ada@example.org", mo)
    done = await engage("Ada Apprentice", "camera", "trainee", 60_000, day(-100), day(-30), "ada@example.org")
    future = await engage("Ada Apprentice", "camera", "trainee", 70_000, day(7), day(40), "ada@example.org")
    tia = await engage("Tia Trainee", "editing", "trainee", 65_000, day(-10), day(60))
    await engage("Gus Grip", "grip", "apprentice", 10_000, day(-10), day(60))
    return {
        "h": h,
        "harbour": harbour,
        "dune": dune,
        "e": {"mo": mo, "ada": ada, "done": done, "future": future, "tia": tia},
    }


# --- members' view ---------------------------------------------------------------------------------------


async def test_an_apprentice_sees_their_own_placements(client, world):
    h, e = world["h"], world["e"]
    r = await client.get("/api/v1/me/apprenticeships", headers=h["apprentice"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["as_of"] == _today().isoformat()
    got = {p["engagement_id"]: p for p in body["placements"]}
    assert set(got) == {e["ada"], e["done"], e["future"]}
    ada = got[e["ada"]]
    assert ada["relation"] == "holder" and ada["production_title"] == "Harbour" and ada["company"] == "kestrel"
    assert (ada["department"], ada["role"], ada["level"]) == ("camera", "camera apprentice", "apprentice")
    assert ada["mentor_name"] == "Mo Mentor"
    assert ada["rate_minor_per_week"] == 55_000
    assert ada["pay"] == [
        {
            "compact": "c1",
            "version_number": 1,
            "term_path": "apprenticeship[0]",
            "min_rate_minor_per_week": 60_000,
            "currency": "EUR",
            "meets_minimum": False,
        }
    ]
    # 21 days served (both ends included): 3 whole weeks; 71 days planned: 11 weeks
    assert (ada["weeks_served"], ada["weeks_planned"]) == (3, 11)
    assert (got[e["done"]]["weeks_served"], got[e["done"]]["weeks_planned"]) == (10, 11)  # ended: served up to the end
    assert got[e["done"]]["pay"][0]["meets_minimum"] is True and got[e["done"]]["mentor_name"] is None
    assert (got[e["future"]]["weeks_served"], got[e["future"]]["weeks_planned"]) == (0, 5)  # not started yet
    # the commitments of Harbour, once
    assert [(c["key"], c["due_date"], c["overdue"]) for c in body["commitments"]] == [
        ("skills_plan", "2025-02-17", True),
        ("final_plan", "2025-03-17", True),
    ]


async def test_a_mentor_sees_whom_they_mentor_but_not_the_pay(client, world):
    h, e = world["h"], world["e"]
    body = (await client.get("/api/v1/me/apprenticeships", headers=h["mentor"])).json()
    assert [(p["engagement_id"], p["relation"], p["person_name"]) for p in body["placements"]] == [
        (e["ada"], "mentor", "Ada Apprentice")
    ]
    placement = body["placements"][0]
    assert placement["rate_minor_per_week"] is None and placement["pay"][0]["meets_minimum"] is None
    assert placement["pay"][0]["min_rate_minor_per_week"] == 60_000
    assert len(body["commitments"]) == 2


async def test_others_see_no_placements(client, world):
    h = world["h"]
    for who in ("member", "producer", "officer", "other"):
        body = (await client.get("/api/v1/me/apprenticeships", headers=h[who])).json()
        assert body["placements"] == [] and body["commitments"] == [], who
    assert (await client.get("/api/v1/me/apprenticeships")).status_code == 401


# --- officers' totals ------------------------------------------------------------------------------------


async def test_officer_totals_json_and_csv(client, world):
    h = world["h"]
    url = "/api/v1/compacts/c1/apprenticeship-totals"
    r = await client.get(url, headers=h["officer"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["compact"] == "c1" and body["as_of"] == _today().isoformat()
    rows = {p["production_title"]: p for p in body["productions"]}
    # Harbour (EUR 300k): camera rule [0] needs 1 and editing rule [2] needs 1; Ada's two current or future
    # camera placements, her finished one and Tia count (Gus's grip placement has no rule); Ada's 55,000 is
    # below camera's 60,000; skills and final plan are past due
    assert {k: rows["Harbour"][k] for k in ("required", "filled", "unpaid", "overdue_commitments", "company")} == {
        "required": 2,
        "filled": 4,
        "unpaid": 1,
        "overdue_commitments": 2,
        "company": "kestrel",
    }
    # Dune (EUR 600k): camera rule [1] needs 2, editing needs 1; nobody engaged; no shoot dates, no commitments
    assert {k: rows["Dune"][k] for k in ("required", "filled", "unpaid", "overdue_commitments")} == {
        "required": 3,
        "filled": 0,
        "unpaid": 0,
        "overdue_commitments": 0,
    }
    assert body["totals"] == {"productions": 2, "required": 5, "filled": 4, "unpaid": 1, "overdue_commitments": 2}

    # seven journey-level camera workers on Dune: the ratio schedule (1 for the first, then 1 per whole group of 3)
    # asks 1 + floor(6/3) = 3, more than the minimum of 2 (five would ask 1 + floor(4/3) = 2)
    for i in range(7):
        r = await client.post(
            f"/api/v1/productions/{world['dune']}/engagements",
            json={
                "person_name": f"Cam {i}",
                "department": "camera",
                "role": "Operator",
                "level": "journey",
                "rate_minor_per_week": 200_000,
                "currency": "EUR",
                "start_date": day(0),
                "end_date": day(60),
            },
            headers=h["other"],
        )
        assert r.status_code == 201, r.text
    body = (await client.get(url, headers=h["officer"])).json()
    assert {p["production_title"]: p["required"] for p in body["productions"]} == {"Dune": 4, "Harbour": 2}

    # a commitment marked done is no longer overdue
    cid = next(
        c["id"]
        for c in (await client.get(f"/api/v1/productions/{world['harbour']}/commitments", headers=h["producer"])).json()
        if c["key"] == "skills_plan"
    )
    assert (
        await client.post(f"/api/v1/productions/{world['harbour']}/commitments/{cid}/done", headers=h["producer"])
    ).status_code == 200
    assert (await client.get(url, headers=h["officer"])).json()["totals"]["overdue_commitments"] == 1

    for variant in ({"params": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}):
        headers = {**h["officer"], **variant.get("headers", {})}
        r = await client.get(url, headers=headers, params=variant.get("params"))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        assert "attachment" in r.headers["content-disposition"]
        parsed = list(csv.DictReader(io.StringIO(r.text, newline="")))
        assert list(parsed[0]) == [
            "production_id",
            "production_title",
            "company",
            "version",
            "required",
            "filled",
            "unpaid",
            "overdue_commitments",
        ]
        by_title = {p["production_title"]: p for p in parsed}
        assert by_title["Harbour"]["production_id"] == world["harbour"] and by_title["Harbour"]["version"] == "1"
        assert (
            by_title["Harbour"]["required"],
            by_title["Harbour"]["filled"],
            by_title["Harbour"]["unpaid"],
            by_title["Harbour"]["overdue_commitments"],
        ) == ("2", "4", "1", "1")
        assert by_title["Dune"]["required"] == "4"
        total = parsed[-1]
        assert total["production_id"] == "TOTAL" and len(parsed) == 3
        assert (total["required"], total["filled"], total["unpaid"], total["overdue_commitments"]) == (
            "6",
            "4",
            "1",
            "1",
        )
    # ?format=json wins over Accept
    r = await client.get(url, headers={**h["officer"], "Accept": "text/csv"}, params={"format": "json"})
    assert r.headers["content-type"].startswith("application/json") and r.json()["compact"] == "c1"


def test_totals_csv_neutralises_formulas():
    from uuid import uuid4

    from guild.apprenticeship.queries import ApprenticeshipTotals, ProductionTotals, TotalsSum, totals_csv

    row = ProductionTotals(
        production_id=uuid4(),
        production_title='=HYPERLINK("http://x")',
        company="kestrel",
        version_number=1,
        required=1,
        filled=0,
        unpaid=0,
        overdue_commitments=0,
    )
    report = ApprenticeshipTotals(
        compact="c1",
        as_of=_today(),
        productions=[row],
        totals=TotalsSum(productions=1, required=1, filled=0, unpaid=0, overdue_commitments=0),
    )
    parsed = list(csv.reader(io.StringIO(totals_csv(report), newline="")))
    assert parsed[1][1] == '\'=HYPERLINK("http://x")' and parsed[2][0] == "TOTAL"


async def test_officer_totals_denials_and_bad_input(client, world):
    h = world["h"]
    url = "/api/v1/compacts/c1/apprenticeship-totals"
    for who in ("fund_officer", "producer", "apprentice", "other"):
        assert (await client.get(url, headers=h[who])).status_code == 404, who
        assert (await client.get(url, headers=h[who], params={"format": "csv"})).status_code == 404, who
    assert (await client.get(url)).status_code == 401
    assert (await client.get("/api/v1/compacts/nope/apprenticeship-totals", headers=h["officer"])).status_code == 404
    r = await client.get(url, headers={**h["officer"], "Accept": "text/csv;q=1e9999"})  # malformed: JSON, not a 500
    assert r.status_code == 200 and r.json()["compact"] == "c1"
    r = await client.get(url, headers=h["officer"], params={"format": "xml"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "format", r.text


# --- iCalendar feeds -------------------------------------------------------------------------------------


async def _token(client, headers) -> dict:
    r = await client.post("/api/v1/me/calendar-token", headers=headers)
    assert r.status_code == 201, r.text
    assert "no-store" in r.headers["cache-control"]
    return r.json()


def _events(r) -> dict[str, dict]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(r.content)
    assert str(cal["version"]) == "2.0" and cal["prodid"]
    out = {}
    for ev in cal.walk("VEVENT"):
        out[str(ev["summary"])] = {
            "uid": str(ev["uid"]),
            "start": ev.decoded("dtstart"),
            "status": str(ev["status"]),
            "description": str(ev["description"]),
            "dtstamp": ev.decoded("dtstamp"),
        }
    return out


def _path(url: str) -> str:
    from guild.infra.settings import get_settings

    base = get_settings().public_base_url
    assert url.startswith(base + "/"), url
    return url.removeprefix(base)


async def test_feed_urls_use_the_configured_address_never_the_host_header(client, world, monkeypatch):
    """A forged Host header (or X-Forwarded-Host) must not put a stranger's host around the secret feed token."""
    from guild.infra.settings import get_settings

    monkeypatch.setattr(get_settings(), "public_base_url", "https://guild.example.org/films")
    r = await client.post(
        "/api/v1/me/calendar-token",
        headers={**world["h"]["producer"], "Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert r.status_code == 201, r.text
    issued = r.json()
    assert "evil" not in r.text
    assert issued["me_url"] == f"https://guild.example.org/films/api/v1/calendar/{issued['token']}/me.ics"
    assert issued["productions"][0]["url"].startswith("https://guild.example.org/films/api/v1/calendar/")
    assert issued["production_url_template"].startswith("https://guild.example.org/films/api/v1/calendar/")
    # the feed works at the path the URL names
    assert (await client.get(_path(issued["me_url"]))).status_code == 200


def test_the_public_base_url_setting_is_checked():
    from pydantic import ValidationError

    from guild.infra.settings import Settings

    assert Settings(public_base_url="https://guild.example.org/").public_base_url == "https://guild.example.org"
    for bad in ("guild.example.org", "ftp://guild.example.org", "https://guild.example.org/?a=1", "https://"):
        with pytest.raises(ValidationError):
            Settings(public_base_url=bad)


async def test_production_feed_and_token_rotation(client, world):
    h, harbour = world["h"], world["harbour"]
    issued = await _token(client, h["producer"])
    assert issued["me_url"].startswith("http://127.0.0.1:8000/api/v1/calendar/") and issued["me_url"].endswith(
        "/me.ics"
    )
    assert [(p["production_id"], p["production_title"]) for p in issued["productions"]] == [(harbour, "Harbour")]
    url = _path(issued["productions"][0]["url"])
    assert url == f"/api/v1/calendar/{issued['token']}/production/{harbour}.ics"
    assert issued["production_url_template"].endswith("/production/{production_id}.ics")

    commitments = {
        c["key"]: c
        for c in (await client.get(f"/api/v1/productions/{harbour}/commitments", headers=h["producer"])).json()
    }
    r = await client.get(url)  # no bearer token: the URL's token authenticates
    assert b"DTSTART;VALUE=DATE:20250217" in r.content
    events = _events(r)
    assert events == {
        "Harbour: Apprenticeship skills plan filed": {
            "uid": f"{commitments['skills_plan']['id']}@guild",
            "start": date(2025, 2, 17),
            "status": "CONFIRMED",
            "description": "c1 v1\nskills_plan: overdue",
            "dtstamp": events["Harbour: Apprenticeship skills plan filed"]["dtstamp"],
        },
        "Harbour: Final placement plan filed": {
            "uid": f"{commitments['final_plan']['id']}@guild",
            "start": date(2025, 3, 17),
            "status": "CONFIRMED",
            "description": "c1 v1\nfinal_plan: overdue",
            "dtstamp": events["Harbour: Final placement plan filed"]["dtstamp"],
        },
    }
    again = await client.get(url)
    assert again.content == r.content  # stable: same bytes while nothing changes

    await client.post(
        f"/api/v1/productions/{harbour}/commitments/{commitments['final_plan']['id']}/done", headers=h["producer"]
    )
    final = _events(await client.get(url))["Harbour: Final placement plan filed"]
    assert final["status"] == "CANCELLED" and final["uid"] == f"{commitments['final_plan']['id']}@guild"
    assert final["description"].startswith("c1 v1\nfinal_plan: done ")

    # rotation: the old token's URLs stop working, the new ones work
    rotated = await _token(client, h["producer"])
    assert rotated["token"] != issued["token"]
    assert (await client.get(url)).status_code == 404
    assert (await client.get(_path(issued["me_url"]))).status_code == 404
    assert len(_events(await client.get(_path(rotated["productions"][0]["url"])))) == 2

    from guild.infra.tables import CalendarToken

    stored = await CalendarToken.select(CalendarToken.token)
    assert len(stored) == 1 and rotated["token"] not in stored[0]["token"]  # only a digest is kept


async def test_feed_denials(client, world):
    h, harbour, dune = world["h"], world["harbour"], world["dune"]
    mine = await _token(client, h["other"])  # Dune's producer
    assert [p["production_title"] for p in mine["productions"]] == ["Dune"]
    token = mine["token"]
    assert (await client.get(f"/api/v1/calendar/{token}/production/{dune}.ics")).status_code == 200
    # another company's production through your token: 404
    assert (await client.get(f"/api/v1/calendar/{token}/production/{harbour}.ics")).status_code == 404
    # unknown or malformed tokens: 404, whatever the production
    for bad in ("x" * 43, "nope", "%2e%2e", "a" * 200):
        assert (await client.get(f"/api/v1/calendar/{bad}/production/{dune}.ics")).status_code == 404, bad
        assert (await client.get(f"/api/v1/calendar/{bad}/me.ics")).status_code == 404, bad
    # a bad file name with a good token names the field
    r = await client.get(f"/api/v1/calendar/{token}/production/not-a-uuid.ics")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "production_id"
    assert (await client.get(f"/api/v1/calendar/{token}/production/{dune}.txt")).status_code == 422
    # a member without a role in the company cannot read its production's feed
    member = (await _token(client, h["member"]))["token"]
    assert (await client.get(f"/api/v1/calendar/{member}/production/{harbour}.ics")).status_code == 404
    assert (await client.post("/api/v1/me/calendar-token")).status_code == 401


async def test_my_feed(client, world):
    h = world["h"]
    expected = {"Harbour: Apprenticeship skills plan filed", "Harbour: Final placement plan filed"}
    for who in ("apprentice", "mentor", "producer"):  # holds, mentors, produces
        token = (await _token(client, h[who]))["token"]
        assert set(_events(await client.get(f"/api/v1/calendar/{token}/me.ics"))) == expected, who
    for who in ("member", "other", "officer"):  # Dune has no commitments; officers of the compact get no feed of it
        token = (await _token(client, h[who]))["token"]
        assert _events(await client.get(f"/api/v1/calendar/{token}/me.ics")) == {}, who


async def test_concurrent_token_requests_leave_the_last_one_working(client, world):
    """Five token requests at once (a double click, two tabs): they create and rotate one after the other,
    so exactly one of the tokens handed out works, one creation and four rotations are audited."""
    from tests.integration.concurrency import audit_events, statuses, together

    h = world["h"]
    responses = await together([client.post("/api/v1/me/calendar-token", headers=h["producer"]) for _ in range(5)])
    assert statuses(responses) == {201: 5}
    feeds = [await client.get(_path(r.json()["me_url"])) for r in responses]
    assert sorted(f.status_code for f in feeds) == [200, 404, 404, 404, 404]
    assert len(await audit_events("calendar_token.created")) == 1
    assert len(await audit_events("calendar_token.rotated")) == 4
