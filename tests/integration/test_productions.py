"""Productions: registration, bindings, disclosures and all-or-nothing roster imports."""

from __future__ import annotations

import pytest

from tests.integration.scenario import person

HEADER = "person_name,email,department,role,level,rate_minor_per_week,currency,start_date,end_date,mentor_person_name"


@pytest.fixture
async def world(scenario):
    """guild-a's compact c1, a draft; Harbour, a production of kestrel bound to nothing yet."""
    await scenario.organizations({"guild-a": "guild", "kestrel": "production_company", "blue": "production_company"})
    h = await scenario.people(
        officer=person("o@example.org", ("guild-a", "officer")),
        producer=person("p@example.org", ("kestrel", "producer")),
        kestrel_officer=person("ko@example.org", ("kestrel", "officer")),
        other=person("b@example.org", ("blue", "producer")),
        member=person("m@example.org", ("guild-a", "member")),
    )
    await scenario.compact("c1", title="C1", convening="guild-a", by="o@example.org", stage="draft")
    pid = await scenario.production("kestrel", "Harbour", by=h["producer"])
    return {"h": h, "pid": pid, "officer": await scenario.principal("o@example.org")}


async def test_register_and_read_only_within_the_company(client, world):
    h, pid = world["h"], world["pid"]
    assert (await client.get(f"/api/v1/productions/{pid}", headers=h["kestrel_officer"])).status_code == 200
    for who in ("other", "member", "officer"):
        assert (await client.get(f"/api/v1/productions/{pid}", headers=h[who])).status_code == 404
        assert pid not in [p["id"] for p in (await client.get("/api/v1/productions", headers=h[who])).json()]
    body = {"company": "kestrel", "title": "X", "budget_minor": 1, "currency": "EUR"}
    assert (await client.post("/api/v1/productions", json=body, headers=h["other"])).status_code in (403, 422)
    assert (await client.post("/api/v1/productions", json=body, headers=h["kestrel_officer"])).status_code == 403
    bad = await client.post(
        "/api/v1/productions", json={**body, "budget_minor": -5, "currency": "eur"}, headers=h["producer"]
    )
    assert {e["field"] for e in bad.json()["errors"]} == {"budget_minor", "currency"}


async def test_binding_needs_a_ratified_version_and_records_its_hash(client, world):
    from guild.compacts import service
    from guild.compacts.schemas import DecisionCreate

    h, pid = world["h"], world["pid"]
    url = f"/api/v1/productions/{pid}/bindings"
    await service.propose(world["officer"], "c1", 1)
    r = await client.post(url, json={"compact": "c1", "version": 1}, headers=h["producer"])
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "ratified_only"
    assert "proposed" in r.json()["errors"][0]["message"]  # a proposal is public: its status may be named
    v = await service.decide(world["officer"], "c1", 1, DecisionCreate(organization="guild-a", decision="approve"))
    r = await client.post(
        f"/api/v1/productions/{pid}/bindings", json={"compact": "c1", "version": 1}, headers=h["producer"]
    )
    assert r.status_code == 201 and r.json()["bindings"][0]["version_hash"] == v.terms_hash
    again = await client.post(
        f"/api/v1/productions/{pid}/bindings", json={"compact": "c1", "version": 1}, headers=h["producer"]
    )
    assert again.status_code == 409


async def test_binding_to_a_draft_the_producer_cannot_see_is_answered_as_no_such_version(client, world, scenario):
    """Drafts are private to the compact's parties: a producer learns neither that one exists nor its status."""
    from guild.compacts import service
    from guild.compacts.schemas import AmendmentCreate, DecisionCreate

    h, pid = world["h"], world["pid"]
    url = f"/api/v1/productions/{pid}/bindings"
    draft = await client.post(url, json={"compact": "c1", "version": 1}, headers=h["producer"])
    absent = await client.post(url, json={"compact": "c9", "version": 1}, headers=h["producer"])
    assert draft.status_code == absent.status_code == 422
    assert [(e["field"], e["rule"]) for e in draft.json()["errors"]] == [("version", "version_exists")]
    assert draft.json()["errors"][0]["message"] == absent.json()["errors"][0]["message"].replace("c9", "c1")
    assert "draft" not in draft.text
    # the same for a draft amendment of a compact in force, next to its public ratified version
    await service.propose(world["officer"], "c1", 1)
    await service.decide(world["officer"], "c1", 1, DecisionCreate(organization="guild-a", decision="approve"))
    await service.amend(world["officer"], "c1", AmendmentCreate())
    v2 = await client.post(url, json={"compact": "c1", "version": 2}, headers=h["producer"])
    v3 = await client.post(url, json={"compact": "c1", "version": 3}, headers=h["producer"])
    assert v2.status_code == v3.status_code == 422
    assert v2.json()["errors"][0]["message"] == v3.json()["errors"][0]["message"].replace("3", "2")
    # a producer who is also a member of a party sees the draft, and is told why it cannot be bound
    both = (await scenario.user("both@example.org", ("kestrel", "producer"), ("guild-a", "member"))).headers
    r = await client.post(url, json={"compact": "c1", "version": 2}, headers=both)
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "ratified_only"
    assert "is draft" in r.json()["errors"][0]["message"]


async def test_disclosures_validate_counts_and_categories(client, world):
    h, pid = world["h"], world["pid"]
    url = f"/api/v1/productions/{pid}/disclosures"
    ok = {"disclosures": [{"category": "vfx_shot", "total_count": 120, "ai_generated_count": 30, "tools": ["Tool A"]}]}
    assert (await client.put(url, json=ok, headers=h["producer"])).status_code == 200
    for bad, field, rule in [
        (
            {"category": "vfx_shot", "total_count": 10, "ai_generated_count": 11},
            "disclosures.0.ai_generated_count",
            "ai_count_above_total",
        ),
        (
            {"category": "vfx_shot", "total_count": -1, "ai_generated_count": 0},
            "disclosures.0.total_count",
            "greater_than_equal",
        ),
        ({"category": "holograms", "total_count": 1, "ai_generated_count": 0}, "disclosures.0.category", "enum"),
    ]:
        r = await client.put(url, json={"disclosures": [bad]}, headers=h["producer"])
        assert r.status_code == 422
        assert (field, rule) in [(e["field"], e["rule"]) for e in r.json()["errors"]]
    rows = (await client.get(url, headers=h["producer"])).json()
    assert [(d["category"], d["total_count"], d["ai_generated_count"]) for d in rows] == [("vfx_shot", 120, 30)]
    assert (await client.put(url, json=ok, headers=h["other"])).status_code == 404


async def test_roster_csv_import_is_all_or_nothing_and_names_every_bad_row(client, world):
    from guild.infra.tables import Engagement

    h, pid = world["h"], world["pid"]
    url = f"/api/v1/productions/{pid}/engagements/import"
    good = "\n".join(
        [
            HEADER,
            "Mara Journey,,camera,Focus puller,journey,200000,EUR,2027-03-01,2027-05-28,",
            "Ari Apprentice,m@example.org,camera,Trainee,apprentice,70000,EUR,2027-03-01,2027-05-28,Mara Journey",
        ]
    )
    bad = "\n".join(
        [
            HEADER,
            "Mara Journey,,camera,Focus puller,journey,200000,EUR,2027-03-01,2027-05-28,",
            "Bad Dept,,catering,Cook,journey,100,EUR,2027-03-01,2027-05-28,",
            "Bad Level,,camera,Op,wizard,100,EUR,2027-03-01,2027-05-28,",
            "Bad Dates,,camera,Op,junior,-1,EUR,2027-05-01,2027-03-01,",
            "Wrong Mentor,,editing,Trainee,apprentice,70000,EUR,2027-03-01,2027-05-28,Mara Journey",
        ]
    )
    csv_headers = {**h["producer"], "content-type": "text/csv"}
    r = await client.post(url, content=bad.encode(), headers=csv_headers)
    assert r.status_code == 422
    rows = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert {(2, "department"), (3, "level"), (4, "rate_minor_per_week")} <= rows
    assert any(row == 4 for row, _ in rows)
    assert await Engagement.count() == 0

    # wrong header
    r = await client.post(url, content=b"name,dept\nA,camera\n", headers=csv_headers)
    assert r.status_code == 422 and {e["rule"] for e in r.json()["errors"]} >= {"unknown_column", "missing_column"}

    # mentor from another department is refused by the roster rules too (after field validation passes)
    mentor_bad = "\n".join(
        [
            HEADER,
            "Mara Journey,,camera,Focus,journey,200000,EUR,2027-03-01,2027-05-28,",
            "Ed Trainee,,editing,Trainee,apprentice,70000,EUR,2027-03-01,2027-05-28,Mara Journey",
        ]
    )
    r = await client.post(url, content=mentor_bad.encode(), headers=csv_headers)
    assert r.status_code == 422 and r.json()["errors"] == [
        {
            "row": 2,
            "field": "mentor_person_name",
            "rule": "mentor_same_department",
            "message": "the mentor works in camera, not editing",
        }
    ]
    assert await Engagement.count() == 0

    r = await client.post(url, content=good.encode(), headers=csv_headers)
    assert r.status_code == 200
    assert r.json() == {"imported": 2, "mode": "append", "created": 2, "updated": 0, "unchanged": 0}
    roster = (await client.get(f"/api/v1/productions/{pid}/engagements", headers=h["producer"])).json()
    by_name = {e["person_name"]: e for e in roster}
    assert by_name["Ari Apprentice"]["mentor_engagement_id"] == by_name["Mara Journey"]["id"]
    assert by_name["Ari Apprentice"]["user_id"] is not None

    # JSON works the same way; outsiders get 404 before anything is parsed
    r = await client.post(
        url,
        json=[
            {
                "person_name": "J",
                "department": "sound",
                "role": "Boom",
                "level": "junior",
                "rate_minor_per_week": 1,
                "currency": "EUR",
                "start_date": "2027-03-01",
                "end_date": "2027-03-02",
            }
        ],
        headers=h["producer"],
    )
    assert r.status_code == 200
    assert (
        await client.post(url, content=good.encode(), headers={**h["other"], "content-type": "text/csv"})
    ).status_code == 404


async def test_uploads_over_the_limit_are_refused(client, world):
    h, pid = world["h"], world["pid"]
    huge = (HEADER + "\n" + "x" * (50 * 1024 * 1024)).encode()
    r = await client.post(
        f"/api/v1/productions/{pid}/engagements/import",
        content=huge,
        headers={**h["producer"], "content-type": "text/csv"},
    )
    assert r.status_code == 413


async def test_disclosure_csv_import(client, world):
    h, pid = world["h"], world["pid"]
    csv_body = "category,total_count,ai_generated_count,tools,evidence_notes\nvfx_shot,100,10,Tool A;Tool B,logs\nmusic_cue,20,0,,\n"
    r = await client.post(
        f"/api/v1/productions/{pid}/disclosures/import",
        content=csv_body.encode(),
        headers={**h["producer"], "content-type": "text/csv"},
    )
    assert r.status_code == 200 and r.json() == {"imported": 2}
    rows = (await client.get(f"/api/v1/productions/{pid}/disclosures", headers=h["producer"])).json()
    assert {d["category"]: d["tools"] for d in rows} == {"vfx_shot": ["Tool A", "Tool B"], "music_cue": []}
    bad = "category,total_count,ai_generated_count,tools,evidence_notes\nvfx_shot,5,9,,\n"
    r = await client.post(
        f"/api/v1/productions/{pid}/disclosures/import",
        content=bad.encode(),
        headers={**h["producer"], "content-type": "text/csv"},
    )
    assert r.status_code == 422 and r.json()["errors"][0] == {
        "row": 1,
        "field": "ai_generated_count",
        "rule": "ai_count_above_total",
        "message": "ai_generated_count (9) exceeds total_count (5)",
    }


# --- concurrency: writers of one production take turns ------------------------------------------------------


async def _ratified(world) -> None:
    from guild.compacts import service
    from guild.compacts.schemas import DecisionCreate

    await service.propose(world["officer"], "c1", 1)
    await service.decide(world["officer"], "c1", 1, DecisionCreate(organization="guild-a", decision="approve"))


async def test_concurrent_bindings_to_one_compact_bind_once(client, world):
    from guild.infra.tables import Commitment, ProductionBinding
    from tests.integration.concurrency import audit_events, statuses, together

    await _ratified(world)
    h, pid = world["h"], world["pid"]
    await client.patch(
        f"/api/v1/productions/{pid}", json={"start_date": "2040-03-05", "end_date": "2040-05-04"}, headers=h["producer"]
    )
    url = f"/api/v1/productions/{pid}/bindings"
    responses = await together(
        [client.post(url, json={"compact": "c1", "version": 1}, headers=h["producer"]) for _ in range(6)]
    )
    assert statuses(responses) == {201: 1, 409: 5}
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"already_bound"}
    assert await ProductionBinding.count().where(ProductionBinding.production == pid) == 1
    assert len(await audit_events("production.bound")) == 1
    assert len(await audit_events("commitments.created")) == 1
    assert await Commitment.count().where(Commitment.production == pid) == 2  # the example rules, once


async def test_concurrent_status_changes_are_applied_one_after_another(client, world):
    """Six PATCHes at once: each is applied on top of the one before, so the audit trail is a chain (each
    change's "from" is the previous one's "to") that ends at the production's final status."""
    from tests.integration.concurrency import audit_events, statuses, together

    h, pid = world["h"], world["pid"]
    wanted = ["pre_production", "shooting", "post_production", "released", "pre_production", "shooting"]
    responses = await together(
        [client.patch(f"/api/v1/productions/{pid}", json={"status": s}, headers=h["producer"]) for s in wanted]
    )
    assert statuses(responses) == {200: 6}
    changes = [e["data"]["status"] for e in await audit_events("production.updated")]
    current = "development"
    for change in changes:
        assert change["from"] == current, changes
        current = change["to"]
    assert (await client.get(f"/api/v1/productions/{pid}", headers=h["producer"])).json()["status"] == current


async def test_concurrent_disclosure_replacements_leave_one_whole_set(client, world):
    from tests.integration.concurrency import statuses, together

    h, pid = world["h"], world["pid"]
    url = f"/api/v1/productions/{pid}/disclosures"
    sets = [
        {
            "disclosures": [
                {"category": c, "total_count": 100 + n, "ai_generated_count": n} for c in ("vfx_shot", "music_cue")
            ]
        }
        for n in range(6)
    ]
    responses = await together([client.put(url, json=body, headers=h["producer"]) for body in sets])
    assert statuses(responses) == {200: 6}, [r.text for r in responses]
    stored = (await client.get(url, headers=h["producer"])).json()
    assert len(stored) == 2 and len({d["ai_generated_count"] for d in stored}) == 1  # one request's set, whole
