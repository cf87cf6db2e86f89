"""Apprenticeship commitments: created at binding with hand-computed due dates; read and marked done by the right people."""

from __future__ import annotations

from datetime import date

import pytest

from guild.compacts.terms import CommitmentAnchor, CommitmentRule, example_terms
from tests.integration.scenario import person


def terms():
    """The example commitments (skills plan -10 working days, final plan +2 weeks for shoots of 6+ weeks) and two more."""
    base = example_terms()
    return base.model_copy(
        update={
            "quorum": None,
            "apprenticeship_commitments": [
                *base.apprenticeship_commitments,
                CommitmentRule(
                    key="wrap_report", title="Wrap report", anchor=CommitmentAnchor.shoot_end, offset_working_days=5
                ),
                CommitmentRule(
                    key="short_review",
                    title="Short-shoot review",
                    anchor=CommitmentAnchor.shoot_start,
                    offset_weeks=-1,
                    max_shoot_weeks=4,
                ),
            ],
        }
    )


@pytest.fixture
async def world(scenario):
    """Compact c1 (guild-a, the terms above), ratified; ``production(title, start, end, who)`` registers a
    production of the producer's company (kestrel; "other": blue) bound to it."""
    await scenario.organizations(
        {"guild-a": "guild", "fund": "film_fund", "kestrel": "production_company", "blue": "production_company"}
    )
    h = await scenario.people(
        officer=person("o@example.org", ("guild-a", "officer")),
        member=person("m@example.org", ("guild-a", "member"), ("kestrel", "member")),
        fund_officer=person("f@example.org", ("fund", "officer")),
        producer=person("p@example.org", ("kestrel", "producer")),
        company_officer=person("k@example.org", ("kestrel", "officer")),
        other=person("b@example.org", ("blue", "producer")),
    )
    await scenario.compact("c1", title="C1", convening="guild-a", by="o@example.org", terms=terms())

    async def production(title: str, start: str | None, end: str | None, who: str = "producer") -> str:
        company = "kestrel" if who == "producer" else "blue"
        return await scenario.production(company, title, by=h[who], start_date=start, end_date=end, bind=["c1"])

    return {"h": h, "production": production}


async def _commitments(client, pid, headers) -> dict[str, dict]:
    r = await client.get(f"/api/v1/productions/{pid}/commitments", headers=headers)
    assert r.status_code == 200, r.text
    return {c["key"]: c for c in r.json()}


async def test_binding_creates_commitments_with_hand_computed_due_dates(client, world):
    h = world["h"]
    # shoot Monday 5 March 2040 to Friday 4 May 2040: 61 days, 9 weeks
    long = await world["production"]("Long Shoot", "2040-03-05", "2040-05-04")
    got = await _commitments(client, long, h["producer"])
    assert {k: c["due_date"] for k, c in got.items()} == {
        "skills_plan": "2040-02-20",  # 10 working days before Monday 5 March: Monday 20 February, two weeks before
        "final_plan": "2040-03-19",  # 2 weeks after the shoot starts
        "wrap_report": "2040-05-11",  # 5 working days after Friday 4 May: the next Friday
    }  # short_review (shoots of at most 4 weeks) does not apply
    skills = got["skills_plan"]
    assert skills["title"] == "Apprenticeship skills plan filed" and skills["compact"] == "c1"
    assert skills["version_number"] == 1 and skills["status"] == "open" and skills["done_at"] is None
    assert skills["overdue"] is False and skills["production_title"] == "Long Shoot"

    # shoot Monday 5 March to Friday 23 March 2040: 19 days, 3 weeks: no final plan, but the short-shoot review
    short = await world["production"]("Short Shoot", "2040-03-05", "2040-03-23")
    got = await _commitments(client, short, h["producer"])
    assert {k: c["due_date"] for k, c in got.items()} == {
        "skills_plan": "2040-02-20",
        "wrap_report": "2040-03-30",
        "short_review": "2040-02-27",
    }
    assert list(got) == ["skills_plan", "short_review", "wrap_report"]  # by due date

    # no shoot dates: no commitments yet
    undated = await world["production"]("Undated", None, None)
    assert await _commitments(client, undated, h["producer"]) == {}

    from guild.infra.tables import AuditEvent, Commitment

    assert await Commitment.count() == 6
    events = (
        await AuditEvent.select(AuditEvent.data)
        .where(AuditEvent.action == "commitments.created")
        .order_by(AuditEvent.seq)
        .output(load_json=True)
    )
    assert [len(e["data"]["commitments"]) for e in events] == [3, 3]


async def test_past_due_commitments_are_overdue_until_done(client, world):
    h = world["h"]
    pid = await world["production"]("Harbour", "2025-03-03", "2025-05-02")
    got = await _commitments(client, pid, h["producer"])
    assert {k: (c["due_date"], c["overdue"]) for k, c in got.items()} == {
        "skills_plan": ("2025-02-17", True),
        "final_plan": ("2025-03-17", True),
        "wrap_report": ("2025-05-09", True),
    }
    r = await client.post(
        f"/api/v1/productions/{pid}/commitments/{got['skills_plan']['id']}/done", headers=h["producer"]
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done" and r.json()["overdue"] is False


async def test_who_reads_commitments(client, world):
    h = world["h"]
    pid = await world["production"]("Harbour", "2040-03-05", "2040-05-04")
    for who in ("producer", "company_officer", "officer"):  # the company's producers and officers; party officers
        assert len(await _commitments(client, pid, h[who])) == 3, who
    for who in ("other", "fund_officer", "member"):
        r = await client.get(f"/api/v1/productions/{pid}/commitments", headers=h[who])
        assert r.status_code == 404, who
    assert (await client.get(f"/api/v1/productions/{pid}/commitments")).status_code == 401


async def test_mark_done_grants_and_denials(client, world):
    from guild.infra.tables import AuditEvent, Commitment

    h = world["h"]
    pid = await world["production"]("Harbour", "2040-03-05", "2040-05-04")
    theirs = await world["production"]("Blue Film", "2040-03-05", "2040-05-04", who="other")
    got = await _commitments(client, pid, h["producer"])
    cid = got["final_plan"]["id"]
    url = f"/api/v1/productions/{pid}/commitments/{cid}/done"

    assert (await client.post(url, headers=h["company_officer"])).status_code == 403  # reads, does not change
    for who in ("other", "officer", "fund_officer", "member"):
        assert (await client.post(url, headers=h[who])).status_code == 404, who
    assert (await client.post(url)).status_code == 401
    # a commitment of another production through this one's URL, or an unknown one: 404
    other_cid = (await _commitments(client, theirs, h["other"]))["final_plan"]["id"]
    assert (
        await client.post(f"/api/v1/productions/{pid}/commitments/{other_cid}/done", headers=h["producer"])
    ).status_code == 404
    assert (
        await client.post(f"/api/v1/productions/{pid}/commitments/{pid}/done", headers=h["producer"])
    ).status_code == 404
    # a malformed id is a client error, never a 500
    r = await client.post(f"/api/v1/productions/{pid}/commitments/not-a-uuid/done", headers=h["producer"])
    assert 400 <= r.status_code < 500
    assert await Commitment.count().where(Commitment.status == "done") == 0

    r = await client.post(url, headers=h["producer"])
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["id"] == cid and done["status"] == "done" and done["done_at"]
    # again: 409, nothing changes, no second audit event
    again = await client.post(url, headers=h["producer"])
    assert again.status_code == 409 and again.json()["rule"] == "commitment_done"
    assert (await _commitments(client, pid, h["producer"]))["final_plan"]["done_at"] == done["done_at"]
    events = (
        await AuditEvent.select(AuditEvent.actor_id, AuditEvent.entity_id, AuditEvent.data)
        .where(AuditEvent.action == "commitment.done")
        .output(load_json=True)
    )
    assert len(events) == 1
    assert events[0]["entity_id"] == pid and events[0]["data"]["commitment_id"] == cid
    assert events[0]["data"]["key"] == "final_plan" and events[0]["data"]["late"] is False
    after = await _commitments(client, pid, h["company_officer"])
    assert [k for k, c in after.items() if c["status"] == "done"] == ["final_plan"]

    from guild.infra.audit import verify_chain

    assert (await verify_chain()).ok


async def test_commitments_survive_a_pure_due_date_check():
    """The due-date helper on its own: weekends skipped both ways, zero offset is the anchor."""
    from guild.productions.commitments import due_dates

    rules = [
        CommitmentRule(key="a_zero", title="t", anchor=CommitmentAnchor.shoot_start, offset_working_days=0),
        CommitmentRule(key="b_fri", title="t", anchor=CommitmentAnchor.shoot_start, offset_working_days=-1),
        CommitmentRule(key="c_mon", title="t", anchor=CommitmentAnchor.shoot_end, offset_working_days=1),
        CommitmentRule(
            key="c_mon", title="duplicate key: the first wins", anchor=CommitmentAnchor.shoot_end, offset_weeks=9
        ),
        CommitmentRule(key="d_long", title="t", anchor=CommitmentAnchor.shoot_end, offset_weeks=1, min_shoot_weeks=10),
    ]
    got = due_dates(rules, date(2040, 3, 5), date(2040, 3, 9))  # Monday to Friday: 1 week
    assert [(r.key, d) for r, d in got] == [
        ("a_zero", date(2040, 3, 5)),
        ("b_fri", date(2040, 3, 2)),
        ("c_mon", date(2040, 3, 12)),
    ]


async def test_new_shoot_dates_move_open_commitments_withdraw_and_reopen(client, world):
    from guild.infra.tables import AuditEvent

    h = world["h"]
    pid = await world["production"]("Harbour", "2040-03-05", "2040-05-04")  # 9 weeks
    before = await _commitments(client, pid, h["producer"])
    r = await client.post(
        f"/api/v1/productions/{pid}/commitments/{before['skills_plan']['id']}/done", headers=h["producer"]
    )
    assert r.status_code == 200, r.text

    # a 4-week shoot, Monday 2 April to Friday 27 April 2040
    r = await client.patch(
        f"/api/v1/productions/{pid}", json={"start_date": "2040-04-02", "end_date": "2040-04-27"}, headers=h["producer"]
    )
    assert r.status_code == 200, r.text
    assert (r.json()["start_date"], r.json()["end_date"]) == ("2040-04-02", "2040-04-27")
    got = await _commitments(client, pid, h["producer"])
    assert {k: (c["due_date"], c["status"]) for k, c in got.items()} == {
        "skills_plan": ("2040-02-20", "done"),  # done: never moves
        "final_plan": ("2040-03-19", "withdrawn"),  # shoots of 6+ weeks only: kept, withdrawn
        "wrap_report": ("2040-05-04", "open"),  # 5 working days after Friday 27 April
        "short_review": ("2040-03-26", "open"),  # shoots of at most 4 weeks: now applies, a week before the start
    }
    assert got["wrap_report"]["id"] == before["wrap_report"]["id"]  # the same row, moved
    withdrawn = f"/api/v1/productions/{pid}/commitments/{got['final_plan']['id']}/done"
    r = await client.post(withdrawn, headers=h["producer"])
    assert r.status_code == 409 and r.json()["rule"] == "commitment_withdrawn"

    # back to the 9-week shoot: the withdrawn one reopens, the short-shoot one is withdrawn
    r = await client.patch(
        f"/api/v1/productions/{pid}", json={"start_date": "2040-03-05", "end_date": "2040-05-04"}, headers=h["producer"]
    )
    assert r.status_code == 200, r.text
    got = await _commitments(client, pid, h["producer"])
    assert {k: (c["due_date"], c["status"]) for k, c in got.items()} == {
        "skills_plan": ("2040-02-20", "done"),
        "final_plan": ("2040-03-19", "open"),
        "wrap_report": ("2040-05-11", "open"),
        "short_review": ("2040-03-26", "withdrawn"),
    }
    assert got["final_plan"]["id"] == before["final_plan"]["id"]
    # dates cleared: every open commitment is withdrawn
    r = await client.patch(
        f"/api/v1/productions/{pid}", json={"start_date": None, "end_date": None}, headers=h["producer"]
    )
    assert r.status_code == 200, r.text
    assert {k: c["status"] for k, c in (await _commitments(client, pid, h["producer"])).items()} == {
        "skills_plan": "done",
        "final_plan": "withdrawn",
        "wrap_report": "withdrawn",
        "short_review": "withdrawn",
    }
    moves = (
        await AuditEvent.select(AuditEvent.data)
        .where(AuditEvent.action == "commitments.rescheduled")
        .order_by(AuditEvent.seq)
        .output(load_json=True)
    )
    assert len(moves) == 3
    assert {"key": "short_review", "from": None, "to": "2040-03-26", "status": "open"} in moves[0]["data"]["changes"]


async def test_production_update_grants_denials_and_bad_input(client, world):
    from guild.infra.tables import AuditEvent

    h = world["h"]
    pid = await world["production"]("Harbour", "2040-03-05", "2040-05-04")
    url = f"/api/v1/productions/{pid}"
    change = {"title": "Harbour Lights", "budget_minor": 45_000_000, "status": "shooting"}

    assert (await client.patch(url, json=change, headers=h["company_officer"])).status_code == 403  # reads only
    for who in ("other", "officer", "fund_officer", "member"):
        assert (await client.patch(url, json=change, headers=h[who])).status_code == 404, who
    assert (await client.patch(url, json=change)).status_code == 401

    for body, field, rule in [
        ({}, "body", "not_empty"),
        ({"title": None}, "title", "not_null"),
        ({"budget_minor": -1}, "budget_minor", "greater_than_equal"),
        ({"status": "wrapped_party"}, "status", "enum"),
        ({"end_date": "2040-03-01"}, "end_date", "date_order"),  # before the stored start
        ({"start_date": "2040-06-01"}, "start_date", "date_order"),  # after the stored end
        ({"surprise": 1}, "surprise", "extra_forbidden"),
    ]:
        r = await client.patch(url, json=body, headers=h["producer"])
        assert r.status_code == 422, (body, r.text)
        assert {(e["field"], e["rule"]) for e in r.json()["errors"]} >= {(field, rule)}, r.json()
    unchanged = (await client.get(url, headers=h["producer"])).json()
    assert (unchanged["title"], unchanged["budget_minor"], unchanged["status"]) == (
        "Harbour",
        30_000_000,
        "development",
    )
    assert await AuditEvent.count().where(AuditEvent.action == "production.updated") == 0

    r = await client.patch(url, json=change, headers=h["producer"])
    assert r.status_code == 200, r.text
    assert (r.json()["title"], r.json()["budget_minor"], r.json()["status"]) == (
        "Harbour Lights",
        45_000_000,
        "shooting",
    )
    [event] = (
        await AuditEvent.select(AuditEvent.data).where(AuditEvent.action == "production.updated").output(load_json=True)
    )
    assert event["data"] == {
        "title": {"from": "Harbour", "to": "Harbour Lights"},
        "budget_minor": {"from": 30_000_000, "to": 45_000_000},
        "status": {"from": "development", "to": "shooting"},
    }
    # the same values again: nothing to record
    assert (await client.patch(url, json=change, headers=h["producer"])).status_code == 200
    assert await AuditEvent.count().where(AuditEvent.action == "production.updated") == 1


# --- concurrency: one winner per transition ---------------------------------------------------------------


async def test_concurrent_mark_done_has_one_winner(client, world):
    from tests.integration.concurrency import audit_events, statuses, together

    h = world["h"]
    pid = await world["production"]("Harbour", "2040-03-05", "2040-05-04")
    cid = (await _commitments(client, pid, h["producer"]))["final_plan"]["id"]
    url = f"/api/v1/productions/{pid}/commitments/{cid}/done"
    responses = await together([client.post(url, headers=h["producer"]) for _ in range(8)])
    assert statuses(responses) == {200: 1, 409: 7}
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"commitment_done"}
    [winner] = [r.json() for r in responses if r.status_code == 200]
    assert (await _commitments(client, pid, h["producer"]))["final_plan"]["done_at"] == winner["done_at"]
    assert [e["data"]["commitment_id"] for e in await audit_events("commitment.done")] == [cid]


async def test_marking_done_while_the_shoot_dates_change_never_moves_a_done_commitment(client, world):
    """Each round marks final_plan done while the shoot shrinks to 4 weeks (which withdraws an open
    final_plan). Either the mark came first (200: it stays done, the new dates leave it alone) or the
    new dates did (409 commitment_withdrawn). A done commitment is never withdrawn or moved."""
    from tests.integration.concurrency import together

    h = world["h"]
    for n in range(4):
        pid = await world["production"](f"Harbour {n}", "2040-03-05", "2040-05-04")
        cid = (await _commitments(client, pid, h["producer"]))["final_plan"]["id"]
        done, patch = await together(
            [
                client.post(f"/api/v1/productions/{pid}/commitments/{cid}/done", headers=h["producer"]),
                client.patch(
                    f"/api/v1/productions/{pid}",
                    json={"start_date": "2040-04-02", "end_date": "2040-04-27"},
                    headers=h["producer"],
                ),
            ]
        )
        assert patch.status_code == 200, patch.text
        final_plan = (await _commitments(client, pid, h["producer"]))["final_plan"]
        if done.status_code == 200:
            assert (final_plan["status"], final_plan["due_date"]) == ("done", done.json()["due_date"])
        else:
            assert done.status_code == 409 and done.json()["rule"] == "commitment_withdrawn", done.text
            assert final_plan["status"] == "withdrawn"
