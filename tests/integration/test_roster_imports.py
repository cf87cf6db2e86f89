# ruff: noqa: F401, F811  # ``world``: the fixture imported from the production tests
"""Roster imports with a mode: append, or upsert keyed by external_ref (else e-mail) so that importing the
same file again changes nothing; pay and budgets in major units; currencies in use only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.test_productions import _ratified, world

HEADER = (
    "external_ref,person_name,email,department,role,level,rate_per_week,currency,start_date,end_date,mentor_person_name"
)
FILE = [
    "c-1,Mara Journey,,camera,Focus puller,journey,2000.00,EUR,2027-03-01,2027-05-28,",
    "c-2,Ari Apprentice,,camera,Trainee,apprentice,700,EUR,2027-03-01,2027-05-28,Mara Journey",
    ",Mo Member,m@example.org,sound,Boom,junior,950.50,EUR,2027-03-01,2027-04-30,",
]


def csv(*lines: str) -> bytes:
    return "\n".join([HEADER, *lines]).encode()


def as_json(*lines: str) -> list[dict[str, Any]]:
    """The same rows as JSON objects (empty cells absent; JSON numbers for the rates)."""
    names = HEADER.split(",")
    rows = []
    for line in lines:
        row = {k: v for k, v in zip(names, line.split(","), strict=True) if v}
        row["rate_per_week"] = float(row["rate_per_week"])
        rows.append(row)
    return rows


async def post(client, world, body: bytes | list[dict[str, Any]], mode: str | None = None):
    url = f"/api/v1/productions/{world['pid']}/engagements/import"
    if mode is not None:
        url += f"?mode={mode}"
    headers = world["h"]["producer"]
    if isinstance(body, bytes):
        return await client.post(url, content=body, headers={**headers, "content-type": "text/csv"})
    return await client.post(url, json=body, headers=headers)


async def roster(client, world) -> dict[str, dict[str, Any]]:
    r = await client.get(f"/api/v1/productions/{world['pid']}/engagements", headers=world["h"]["producer"])
    return {e["person_name"]: e for e in r.json()}


def counts(response) -> tuple[int, int, int]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == body["created"] + body["updated"] + body["unchanged"]
    return body["created"], body["updated"], body["unchanged"]


@pytest.mark.parametrize("form", ["csv", "json"])
async def test_re_importing_a_roster_changes_nothing_and_a_changed_file_updates_in_place(client, world, form):
    from tests.integration.concurrency import audit_events

    def body(*lines: str) -> bytes | list[dict[str, Any]]:
        return csv(*lines) if form == "csv" else as_json(*lines)

    first = await post(client, world, body(*FILE), "upsert")
    assert counts(first) == (3, 0, 0) and first.json()["mode"] == "upsert"
    before = await roster(client, world)
    assert {n: (e["external_ref"], e["rate_minor_per_week"]) for n, e in before.items()} == {
        "Mara Journey": ("c-1", 200_000),
        "Ari Apprentice": ("c-2", 70_000),
        "Mo Member": (None, 95_050),
    }
    assert before["Ari Apprentice"]["mentor_engagement_id"] == before["Mara Journey"]["id"]
    assert before["Mo Member"]["user_id"] is not None and before["Mo Member"]["rate_per_week"] == "950.50"
    assert len(await audit_events("production.roster_imported")) == 1

    # the same file again: no duplicates, no writes, no audit noise
    again = await post(client, world, body(*FILE), "upsert")
    assert counts(again) == (0, 0, 3)
    assert await roster(client, world) == before
    assert len(await audit_events("production.roster_imported")) == 1

    # a corrected file: Mara's rate, Mo's end date (matched by e-mail), one new row; Ari untouched
    changed = [
        FILE[0].replace("2000.00", "2100.00"),
        FILE[1],
        FILE[2].replace("2027-04-30", "2027-05-14"),
        "c-3,Noor New,,editing,Assistant editor,junior,800,EUR,2027-04-01,2027-05-28,",
    ]
    r = await post(client, world, body(*changed), "upsert")
    assert counts(r) == (1, 2, 1)
    after = await roster(client, world)
    assert len(after) == 4
    assert after["Mara Journey"]["id"] == before["Mara Journey"]["id"]
    assert after["Mara Journey"]["rate_minor_per_week"] == 210_000
    assert after["Mo Member"]["id"] == before["Mo Member"]["id"] and after["Mo Member"]["end_date"] == "2027-05-14"
    assert after["Ari Apprentice"] == before["Ari Apprentice"]
    [*_, event] = await audit_events("production.roster_imported")
    assert event["data"] == {"rows": 4, "mode": "upsert", "created": 1, "updated": 2}

    # the default mode appends: the same file again is refused, since its external_refs are taken
    r = await post(client, world, body(*changed))
    assert r.status_code == 422
    assert [(e["row"], e["field"], e["rule"]) for e in r.json()["errors"]] == [
        (1, "external_ref", "external_ref_unique"),
        (2, "external_ref", "external_ref_unique"),
        (2, "mentor_person_name", "mentor_in_production"),  # two Maras, were it appended
        (4, "external_ref", "external_ref_unique"),
    ]
    assert "mode=upsert" in r.json()["errors"][0]["message"]
    assert len(await roster(client, world)) == 4


async def test_upsert_refuses_rows_it_could_not_find_again(client, world):
    from guild.infra.tables import Engagement

    no_key = ",Anon,,camera,Op,junior,100,EUR,2027-03-01,2027-03-31,"
    twice = [
        "c-9,One,,camera,Op,junior,100,EUR,2027-03-01,2027-03-31,",
        "c-9,Two,,camera,Op,junior,100,EUR,2027-03-01,2027-03-31,",
    ]
    same_mail = [",Mo,m@example.org,sound,Boom,junior,1,EUR,2027-03-01,2027-03-31,"] * 2
    r = await post(client, world, csv(no_key, *twice, *same_mail), "upsert")
    assert r.status_code == 422
    assert [(e["row"], e["field"], e["rule"]) for e in r.json()["errors"]] == [
        (1, "external_ref", "upsert_key"),
        (3, "external_ref", "unique_in_file"),
        (5, "email", "unique_in_file"),
    ]
    assert await Engagement.count() == 0
    # a mode guild does not know is named
    r = await post(client, world, csv(*FILE), "merge")
    assert r.status_code in (400, 422)
    assert [e["field"] for e in r.json()["errors"]] == ["mode"]
    assert await Engagement.count() == 0


async def test_an_upsert_that_would_disqualify_a_mentor_is_refused(client, world):
    await post(client, world, csv(*FILE), "upsert")
    demoted = FILE[0].replace("journey", "junior")
    # Ari is in the file and names Mara: the file's own mentor rule refuses it
    r = await post(client, world, csv(demoted, FILE[1]), "upsert")
    assert [(e["row"], e["field"], e["rule"]) for e in r.json()["errors"]] == [
        (2, "mentor_person_name", "mentor_journey_or_above")
    ]
    # Ari is not in the file but relies on Mara: refused on Mara's row, naming Ari
    r = await post(client, world, csv(demoted), "upsert")
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert (error["row"], error["field"], error["rule"]) == (1, "level", "mentor_of_others")
    assert "Ari Apprentice" in error["message"]
    assert (await roster(client, world))["Mara Journey"]["level"] == "journey"


async def test_an_unchanged_re_import_leaves_nothing_for_the_next_check(client, world):
    from guild.compliance.service import run_check

    await _ratified(world)
    h, pid = world["h"], world["pid"]
    r = await client.post(
        f"/api/v1/productions/{pid}/bindings", json={"compact": "c1", "version": 1}, headers=h["producer"]
    )
    assert r.status_code == 201

    async def checked() -> int:
        return (await run_check("c1", lambda *_: None)).productions

    await post(client, world, csv(*FILE), "upsert")
    assert await checked() == 1 and await checked() == 0
    assert counts(await post(client, world, csv(*FILE), "upsert")) == (0, 0, 3)
    assert await checked() == 0
    assert counts(await post(client, world, csv(FILE[0].replace("2000.00", "2000.01")), "upsert")) == (0, 1, 0)
    assert await checked() == 1


async def test_import_money_refusals_name_row_and_column(client, world):
    from guild.infra.tables import Engagement

    rows = [
        "c-1,Yen,,camera,Op,junior,1.5,JPY,2027-03-01,2027-03-31,",
        "c-2,Nowhere,,camera,Op,junior,100,XYZ,2027-03-01,2027-03-31,",
        "c-3,Cents,,camera,Op,junior,10.005,EUR,2027-03-01,2027-03-31,",
    ]
    r = await post(client, world, csv(*rows), "upsert")
    assert r.status_code == 422
    assert [(e["row"], e["field"], e["rule"], e["message"]) for e in r.json()["errors"]] == [
        (1, "rate_per_week", "money_precision", "JPY amounts have no decimals; 1.5 has more"),
        (2, "currency", "currency_unknown", "XYZ is not an ISO 4217 currency in use (e.g. EUR, GBP, USD)"),
        (3, "rate_per_week", "money_precision", "EUR amounts have 2 decimals; 10.005 has more"),
    ]
    both = "c-1,Both,,camera,Op,junior,100,EUR,2027-03-01,2027-03-31,"
    r = await post(client, world, csv(both).replace(b"mentor_person_name", b"rate_minor_per_week") + b"10000", "upsert")
    assert [(e["row"], e["field"], e["rule"]) for e in r.json()["errors"]] == [
        (1, "rate_per_week", "one_amount"),
        (1, "rate_minor_per_week", "one_amount"),
    ]
    assert await Engagement.count() == 0


# --- money in the API ----------------------------------------------------------------------------------------


async def test_engagements_take_pay_in_major_units_and_show_both(client, world):
    h, pid = world["h"], world["pid"]
    url = f"/api/v1/productions/{pid}/engagements"
    base = {"person_name": "P", "department": "sound", "role": "Mixer", "level": "senior"}
    base |= {"start_date": "2027-03-01", "end_date": "2027-03-31"}
    for given, currency, minor, major, shown in [
        ({"rate_per_week": "1800.00"}, "EUR", 180_000, "1800.00", "EUR 1,800.00"),
        ({"rate_per_week": 1800}, "EUR", 180_000, "1800.00", "EUR 1,800.00"),
        ({"rate_per_week": "250000"}, "JPY", 250_000, "250000", "JPY 250,000"),
        ({"rate_per_week": "1.234"}, "KWD", 1_234, "1.234", "KWD 1.234"),
        ({"rate_minor_per_week": 99}, "USD", 99, "0.99", "USD 0.99"),
    ]:
        r = await client.post(url, json={**base, **given, "currency": currency}, headers=h["producer"])
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["rate_minor_per_week"], body["rate_per_week"], body["rate_per_week_formatted"]) == (
            minor,
            major,
            shown,
        )
    for given, currency, expected in [
        ({"rate_per_week": "1.5"}, "JPY", [("rate_per_week", "money_precision")]),
        ({}, "EUR", [("rate_per_week", "one_amount"), ("rate_minor_per_week", "one_amount")]),
        (
            {"rate_per_week": "1", "rate_minor_per_week": 100},
            "EUR",
            [("rate_per_week", "one_amount"), ("rate_minor_per_week", "one_amount")],
        ),
        ({"rate_per_week": "1"}, "XYZ", [("currency", "currency_unknown")]),
        ({"rate_per_week": "1"}, "DEM", [("currency", "currency_unknown")]),
        ({"rate_per_week": "1,800.00"}, "EUR", [("rate_per_week", "decimal_amount")]),
        ({"rate_per_week": True}, "EUR", [("rate_per_week", "decimal_amount")]),
        ({"rate_per_week": "1" * 17}, "EUR", [("rate_per_week", "less_than_equal")]),
    ]:
        r = await client.post(url, json={**base, **given, "currency": currency}, headers=h["producer"])
        assert r.status_code == 422, (given, r.text)
        assert [(e["field"], e["rule"]) for e in r.json()["errors"]] == expected, given
    assert len((await client.get(url, headers=h["producer"])).json()) == 5


async def test_production_budgets_in_major_units(client, world):
    h = world["h"]
    body = {"company": "kestrel", "title": "Budgeted", "currency": "EUR"}
    r = await client.post("/api/v1/productions", json={**body, "budget": "2500000.00"}, headers=h["producer"])
    assert r.status_code == 201, r.text
    p = r.json()
    assert (p["budget_minor"], p["budget"], p["budget_formatted"]) == (250_000_000, "2500000.00", "EUR 2,500,000.00")
    for given, expected in [
        ({"budget": "1", "budget_minor": 100}, [("budget", "one_amount"), ("budget_minor", "one_amount")]),
        ({}, [("budget", "one_amount"), ("budget_minor", "one_amount")]),
        ({"budget": "0.001"}, [("budget", "money_precision")]),
        ({"budget": "10", "currency": "XYZ"}, [("currency", "currency_unknown")]),
    ]:
        r = await client.post("/api/v1/productions", json={**body, **given}, headers=h["producer"])
        assert r.status_code == 422, r.text
        assert [(e["field"], e["rule"]) for e in r.json()["errors"]] == expected, given
    url = f"/api/v1/productions/{p['id']}"
    r = await client.patch(url, json={"budget": 1000.5}, headers=h["producer"])
    assert r.status_code == 200 and r.json()["budget_minor"] == 100_050
    r = await client.patch(url, json={"budget": "1000.5", "currency": "JPY"}, headers=h["producer"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "budget"
    assert r.json()["errors"][0]["message"] == "JPY amounts have no decimals; 1000.5 has more"
    r = await client.patch(url, json={"budget": "150000000", "currency": "JPY"}, headers=h["producer"])
    assert r.status_code == 200 and r.json()["budget_formatted"] == "JPY 150,000,000"
    r = await client.patch(url, json={"currency": "ABC"}, headers=h["producer"])
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "currency_unknown"
    assert (await client.get(url, headers=h["producer"])).json()["budget"] == "150000000"
