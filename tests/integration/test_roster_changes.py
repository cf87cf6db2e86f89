# ruff: noqa: F401, F811  # ``world`` and ``production``: the fixtures imported from the contract tests
"""Rosters that follow reality: engagements corrected (PATCH) and removed (DELETE), who may, what is refused,
what is audited and re-checked; issuance racing a correction; pay given in major units."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.engines import engines_only
from tests.integration.test_contracts import ONE_WRITER, performer_request, production, world


def url(production: dict[str, Any], engagement: str | None = None) -> str:
    base = f"/api/v1/productions/{production['id']}/engagements"
    return base if engagement is None else f"{base}/{engagement}"


async def roster(client, world, production) -> dict[str, dict[str, Any]]:
    r = await client.get(url(production), headers=world["h"]["producer"])
    assert r.status_code == 200
    return {e["id"]: e for e in r.json()}


def rules(response) -> list[tuple[str, str]]:
    return [(e["field"], e["rule"]) for e in response.json()["errors"]]


async def issue(client, world, production, engagement: str):
    return await client.post(
        f"/api/v1/productions/{production['id']}/contracts",
        json=performer_request(engagement),
        headers=world["h"]["producer"],
    )


# --- correcting ------------------------------------------------------------------------------------------


async def test_a_producer_corrects_an_engagement_in_major_units_and_it_is_audited(client, world, production):
    from tests.integration.concurrency import audit_events

    h, mentor = world["h"], production["mentor"]
    r = await client.patch(
        url(production, mentor), json={"rate_per_week": "1950.50", "role": "1st AC"}, headers=h["producer"]
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["rate_minor_per_week"], body["rate_per_week"], body["rate_per_week_formatted"]) == (
        195_050,
        "1950.50",
        "EUR 1,950.50",
    )
    assert (body["role"], body["person_name"], body["level"]) == ("1st AC", "Mara Journey", "journey")
    assert (await roster(client, world, production))[mentor] == body
    [event] = await audit_events("engagement.updated")
    assert event["entity_id"] == production["id"]
    assert event["data"] == {
        "engagement_id": mentor,
        "changes": {
            "rate_minor_per_week": {"from": 200_000, "to": 195_050},
            "role": {"from": "Focus puller", "to": "1st AC"},
        },
    }
    # the same values again change nothing and record nothing; a JSON number works like the string
    again = await client.patch(url(production, mentor), json={"rate_per_week": 1950.5}, headers=h["producer"])
    assert again.status_code == 200 and again.json() == body
    assert len(await audit_events("engagement.updated")) == 1
    # a name change is audited as a change, without the name (audit events are kept for good)
    await client.patch(url(production, mentor), json={"person_name": "Mara J. Journey"}, headers=h["producer"])
    assert (await audit_events("engagement.updated"))[-1]["data"]["changes"] == {"person_name": "changed"}
    # a new currency with its rate; email links and null unlinks a member
    r = await client.patch(
        url(production, mentor),
        json={"currency": "JPY", "rate_per_week": "300000", "email": "actor2@example.org"},
        headers=h["producer"],
    )
    assert r.status_code == 200, r.text
    assert (r.json()["rate_minor_per_week"], r.json()["rate_per_week_formatted"]) == (300_000, "JPY 300,000")
    assert r.json()["user_id"] is not None
    r = await client.patch(url(production, mentor), json={"email": None}, headers=h["producer"])
    assert r.status_code == 200 and r.json()["user_id"] is None


async def test_a_correction_is_checked_like_a_new_engagement_and_changes_nothing_when_refused(
    client, world, production, scenario
):
    h = world["h"]
    by = h["producer"]
    apprentice, mentor, actor = production["apprentice"], production["mentor"], production["actor"]
    editor = await scenario.engagement(production["id"], "Eda Editor", by=by, department="editing", role="Editor")
    before = await roster(client, world, production)
    cases = [
        # dates: checked with the stored ones (stored: 2027-03-01 to 2027-05-28)
        (apprentice, {"end_date": "2027-02-01"}, [("end_date", "dates_in_order")]),
        (apprentice, {"start_date": "2027-06-01"}, [("start_date", "dates_in_order")]),
        (apprentice, {"start_date": "2027-06-01", "end_date": "2027-05-01"}, [("end_date", "dates_in_order")]),
        (apprentice, {"email": "nobody@example.org"}, [("email", "user_exists")]),
        # the mentor rules of creation
        (apprentice, {"mentor_engagement_id": editor}, [("mentor_engagement_id", "mentor_same_department")]),
        (apprentice, {"department": "editing"}, [("mentor_engagement_id", "mentor_same_department")]),
        (mentor, {"mentor_engagement_id": mentor}, [("mentor_engagement_id", "mentor_not_self")]),
        (
            apprentice,
            {"mentor_engagement_id": "00000000-0000-4000-8000-000000000000"},
            [("mentor_engagement_id", "mentor_in_production")],
        ),
        # money: exactly one rate, the currency's decimals, currencies in use, a new currency needs its rate
        (actor, {"currency": "JPY", "rate_per_week": "1.5"}, [("rate_per_week", "money_precision")]),
        (actor, {"rate_per_week": "0.001"}, [("rate_per_week", "money_precision")]),
        (
            actor,
            {"rate_per_week": "1", "rate_minor_per_week": 100},
            [("rate_per_week", "one_amount"), ("rate_minor_per_week", "one_amount")],
        ),
        (actor, {"currency": "XYZ", "rate_per_week": "1"}, [("currency", "currency_unknown")]),
        (actor, {"currency": "USD"}, [("currency", "rate_with_currency")]),
        (actor, {"rate_per_week": "-5"}, [("rate_per_week", "decimal_amount")]),
        # fields that cannot be null, an empty change, unknown fields
        (actor, {"person_name": None}, [("person_name", "not_null")]),
        (actor, {"level": None}, [("level", "not_null")]),
        (actor, {}, [("body", "not_empty")]),
        (actor, {"salary": 1}, [("salary", "extra_forbidden")]),
    ]
    for engagement, change, expected in cases:
        r = await client.patch(url(production, engagement), json=change, headers=by)
        assert r.status_code == 422, (change, r.text)
        assert rules(r) == expected, change
    jpy = await client.patch(url(production, actor), json={"currency": "JPY", "rate_per_week": "1.5"}, headers=by)
    assert jpy.json()["errors"][0]["message"] == "JPY amounts have no decimals; 1.5 has more"
    assert await roster(client, world, production) == before


async def test_external_refs_are_unique_within_a_production(client, world, production, scenario):
    by = world["h"]["producer"]
    actor, mentor = production["actor"], production["mentor"]
    r = await client.patch(url(production, actor), json={"external_ref": "crew-1"}, headers=by)
    assert r.status_code == 200 and r.json()["external_ref"] == "crew-1"
    taken = await client.patch(url(production, mentor), json={"external_ref": "crew-1"}, headers=by)
    assert taken.status_code == 409 and (taken.json()["rule"], taken.json()["field"]) == (
        "external_ref_unique",
        "external_ref",
    )
    body = {"person_name": "Dup", "department": "production", "role": "R", "level": "junior"}
    body |= {"rate_per_week": "10", "currency": "EUR", "start_date": "2027-03-01", "end_date": "2027-03-02"}
    assert (await client.post(url(production), json={**body, "external_ref": "crew-1"}, headers=by)).status_code == 409
    # the same ref on another production is another engagement's business
    other = await scenario.production("kestrel", "Other film", by=by)
    r = await client.post(
        f"/api/v1/productions/{other}/engagements", json={**body, "external_ref": "crew-1"}, headers=by
    )
    assert r.status_code == 201 and r.json()["external_ref"] == "crew-1"


async def test_a_mentor_others_rely_on_is_neither_disqualified_nor_removed(client, world, production):
    by = world["h"]["producer"]
    mentor, apprentice = production["mentor"], production["apprentice"]
    for change in ({"level": "junior"}, {"department": "editing"}):
        r = await client.patch(url(production, mentor), json=change, headers=by)
        assert r.status_code == 409 and r.json()["rule"] == "mentor_of_others", r.text
        assert r.json()["dependants"] == [{"engagement_id": apprentice, "person_name": "Ari Apprentice"}]
        assert "Ari Apprentice" in r.json()["detail"]
    r = await client.delete(url(production, mentor), headers=by)
    assert r.status_code == 409 and r.json()["rule"] == "mentor_of_others"
    assert r.json()["dependants"] == [{"engagement_id": apprentice, "person_name": "Ari Apprentice"}]
    # a change that keeps them qualified is fine; once the apprentice has no mentor, the mentor may go
    assert (await client.patch(url(production, mentor), json={"level": "senior"}, headers=by)).status_code == 200
    r = await client.patch(url(production, apprentice), json={"mentor_engagement_id": None}, headers=by)
    assert r.status_code == 200 and r.json()["mentor_engagement_id"] is None
    assert (await client.delete(url(production, mentor), headers=by)).status_code == 204
    assert mentor not in await roster(client, world, production)


# --- who may ---------------------------------------------------------------------------------------------


async def test_only_the_companys_producers_correct_or_remove_and_others_see_nothing(
    client, world, production, scenario
):
    h = world["h"]
    actor = production["actor"]
    before = await roster(client, world, production)
    for who, status in (("other_producer", 404), ("actor", 404), ("perf", 404), ("kestrel_officer", 403)):
        assert (await client.patch(url(production, actor), json={"role": "X"}, headers=h[who])).status_code == status
        assert (await client.delete(url(production, actor), headers=h[who])).status_code == status
    # an engagement of another production, or none, through this production's path: 404
    elsewhere = await scenario.production("kestrel", "Elsewhere", by=h["producer"])
    theirs = await scenario.engagement(elsewhere, "Not Here", by=h["producer"])
    for missing in (theirs, "00000000-0000-4000-8000-000000000000"):
        assert (
            await client.patch(url(production, missing), json={"role": "X"}, headers=h["producer"])
        ).status_code == 404
        assert (await client.delete(url(production, missing), headers=h["producer"])).status_code == 404
    assert await roster(client, world, production) == before
    # the grants
    assert (await client.patch(url(production, actor), json={"role": "Lead"}, headers=h["producer"])).status_code == 200
    assert (await client.delete(url({"id": elsewhere}, theirs), headers=h["producer"])).status_code == 204


# --- removing --------------------------------------------------------------------------------------------


async def test_removal_is_refused_once_a_contract_was_issued_end_the_engagement_instead(client, world, production):
    from guild.infra.tables import Engagement
    from tests.integration.concurrency import audit_events

    h, actor = world["h"], production["actor"]
    issued = await issue(client, world, production, actor)
    assert issued.status_code == 201, issued.text
    cid = issued.json()["id"]
    r = await client.delete(url(production, actor), headers=h["producer"])
    assert r.status_code == 409 and r.json()["rule"] == "contract_issued"
    assert r.json()["contracts"] == [{"contract_id": cid, "status": "issued"}]
    assert "end_date" in r.json()["detail"]
    # a voided contract stays on record and names the engagement: still refused
    void = await client.post(f"/api/v1/contracts/{cid}/void", json={"reason": "recast"}, headers=h["producer"])
    assert void.status_code == 200
    r = await client.delete(url(production, actor), headers=h["producer"])
    assert r.status_code == 409 and r.json()["contracts"] == [{"contract_id": cid, "status": "void"}]
    assert await Engagement.exists().where(Engagement.id == actor)
    assert await audit_events("engagement.removed") == []
    # ending it is a correction of its end date
    r = await client.patch(url(production, actor), json={"end_date": "2027-04-02"}, headers=h["producer"])
    assert r.status_code == 200 and r.json()["end_date"] == "2027-04-02"

    # an engagement without contracts is removed, audited
    extra = await client.post(
        url(production),
        json={
            "person_name": "Mistake",
            "department": "sound",
            "role": "Boom",
            "level": "junior",
            "rate_per_week": "900",
            "currency": "EUR",
            "start_date": "2027-03-01",
            "end_date": "2027-03-05",
        },
        headers=h["producer"],
    )
    assert extra.status_code == 201 and extra.json()["rate_minor_per_week"] == 90_000
    gone = extra.json()["id"]
    r = await client.delete(url(production, gone), headers=h["producer"])
    assert r.status_code == 204 and r.content == b""
    assert gone not in await roster(client, world, production)
    [event] = await audit_events("engagement.removed")
    assert (event["entity_id"], event["data"]) == (
        production["id"],
        {"engagement_id": gone, "department": "sound", "level": "junior"},
    )
    assert (await client.delete(url(production, gone), headers=h["producer"])).status_code == 404


# --- the sweep sees corrections ------------------------------------------------------------------------------


async def test_corrections_and_removals_make_the_next_check_re_evaluate_the_production(client, world, production):
    from guild.compliance.service import run_check

    async def checked() -> int:
        return (await run_check("screen-guild", lambda *_: None)).productions

    by = world["h"]["producer"]
    assert await checked() == 1  # never evaluated
    assert await checked() == 0
    assert (
        await client.patch(url(production, production["actor"]), json={"role": "Lead actor"}, headers=by)
    ).status_code == 200
    assert await checked() == 1
    # a correction that changes nothing writes nothing: nothing to re-evaluate
    assert (
        await client.patch(url(production, production["actor"]), json={"role": "Lead actor"}, headers=by)
    ).status_code == 200
    assert await checked() == 0
    await client.patch(url(production, production["apprentice"]), json={"mentor_engagement_id": None}, headers=by)
    assert await checked() == 1
    assert (await client.delete(url(production, production["mentor"]), headers=by)).status_code == 204
    assert await checked() == 1
    assert await checked() == 0


# --- issuance racing a correction or a removal ---------------------------------------------------------------


@pytest.mark.parametrize("meanwhile", ["patch", "delete"])
async def test_a_correction_or_removal_while_a_contract_renders_stops_the_issuance(
    client, world, production, monkeypatch, meanwhile
):
    """Issuance renders the PDF outside any transaction; an engagement corrected or removed meanwhile is
    found under the production's lock, and nothing is issued from the stale reading."""
    from contracts import service as contracts
    from guild.infra.tables import Contract, Engagement

    by, actor = world["h"]["producer"], production["actor"]
    render = contracts.render_contract_pdf
    done: list[int] = []

    async def render_while_the_producer_edits(*args: Any, **kwargs: Any) -> Any:
        rendered = await render(*args, **kwargs)
        if meanwhile == "patch":
            r = await client.patch(url(production, actor), json={"rate_per_week": "2100"}, headers=by)
        else:
            r = await client.delete(url(production, actor), headers=by)
        done.append(r.status_code)
        return rendered

    monkeypatch.setattr(contracts, "render_contract_pdf", render_while_the_producer_edits)
    r = await issue(client, world, production, actor)
    assert done == [200 if meanwhile == "patch" else 204]
    assert r.status_code == 409, r.text
    assert r.json()["rule"] == ("engagement_changed" if meanwhile == "patch" else "engagement_removed")
    assert await Contract.count() == 0
    assert await Engagement.exists().where(Engagement.id == actor) is (meanwhile == "patch")


@engines_only("postgres", reason=ONE_WRITER)
async def test_removals_racing_issuances_never_leave_a_contract_without_its_engagement(
    client, world, production, scenario
):
    from guild.infra.tables import Contract, Engagement
    from tests.integration.concurrency import together

    by = world["h"]["producer"]
    crew = [
        await scenario.engagement(production["id"], f"Racer {i}", by=by, email="actor2@example.org") for i in range(4)
    ]
    outcomes = []

    async def remove_after(engagement: str, delay: float):
        await asyncio.sleep(delay)  # 0: during the first reads; later: while rendering or after the issue
        return await client.delete(url(production, engagement), headers=by)

    for engagement, delay in zip(crew, (0, 0.02, 0.3, 3.0), strict=True):
        issued, removed = await together(
            [issue(client, world, production, engagement), remove_after(engagement, delay)]
        )
        outcomes.append((issued.status_code, removed.status_code))
        contracts = await Contract.count().where(Contract.engagement == engagement)
        exists = await Engagement.exists().where(Engagement.id == engagement)
        if removed.status_code == 204:
            assert not exists and contracts == 0, issued.text
            assert issued.status_code == 422 or issued.json()["rule"] == "engagement_removed", issued.text
        else:
            assert removed.status_code == 409 and removed.json()["rule"] == "contract_issued"
            assert exists and contracts == 1 and issued.status_code == 201
    assert set(outcomes) <= {(201, 409), (409, 204), (422, 204)}
