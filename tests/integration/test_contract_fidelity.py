"""Protections follow the person on every contract type, money in refusals, and plain-text clauses held
until an officer reviews them, end to end through the API (both engines)."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.integration.test_contracts import clause
from tests.integration.test_contracts import production as production  # a fixture
from tests.integration.test_contracts import world as world  # a fixture

SCANS = "Scans. The Worker's consent to the full-body scan is a condition of this engagement."
REPLICA = "ai_uses.performer_digital_replica"


def v2(key, **params):
    defaults = {
        "digital_replica_consent": {
            "notice_hours": 72,
            "consent_scope": "per_use",
            "use_description": "Photogrammetry scan of the focus puller for the crane collapse (scene 51).",
            "scale_minor_per_day": 150_000,
            "replica_pay_minor_per_day": 225_000,
            "currency": "EUR",
            "separate_signature": True,
        },
        "no_scan_condition_of_hire": {"consent_is_condition_of_hire": False},
    }
    return {"key": key, "version": 2, "params": {**defaults[key], **params}}


def crew_request(engagement_id, *extra):
    return {
        "engagement_id": engagement_id,
        "contract_type": "crew",
        "planned_ai_uses": ["performer_digital_replica"],
        "clauses": [
            clause("fees_and_schedule"),
            clause("no_required_generative_tools"),
            clause("no_training_ingestion"),
            *extra,
        ],
    }


def refused(response):
    assert response.status_code == 422, response.text
    return {(v["compact_slug"], v["term_path"], v["rule"]) for v in response.json()["violations"]}


async def test_a_crew_member_to_be_scanned_gets_a_performers_protections(client, world, production):
    h, pid = world["h"], production["id"]
    url = f"/api/v1/productions/{pid}/contracts"
    bare = await client.post(url, json=crew_request(production["mentor"]), headers=h["producer"])
    assert {(slug, rule) for slug, _, rule in refused(bare) if rule == "clause_required"} >= {
        ("screen-guild", "clause_required"),
        ("film-fund", "clause_required"),
    }
    assert {v["clause"] for v in bare.json()["violations"]} >= {"digital_replica_consent", "no_scan_condition_of_hire"}
    assert (await client.get(f"/api/v1/productions/{pid}/contracts", headers=h["producer"])).json() == []

    # film-fund pays replicas 1.5 × scale: EUR 1,500.00 a day at scale, so EUR 2,250.00 is owed
    low = crew_request(
        production["mentor"],
        v2("digital_replica_consent", replica_pay_minor_per_day=200_000),
        v2("no_scan_condition_of_hire"),
    )
    r = await client.post(url, json=low, headers=h["producer"])
    assert refused(r) == {("film-fund", f"{REPLICA}.replica_pay_multiple_of_scale", "replica_pay")}
    [pay] = r.json()["violations"]
    assert "at least EUR 2,250.00 (1.5 × scale of EUR 1,500.00); the contract gives EUR 2,000.00" in pay["message"]

    ok = crew_request(production["mentor"], v2("digital_replica_consent"), v2("no_scan_condition_of_hire"))
    issued = await client.post(url, json=ok, headers=h["producer"])
    assert issued.status_code == 201, issued.text
    pdf = (await client.get(f"/api/v1/contracts/{issued.json()['id']}/pdf", headers=h["producer"])).content
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "whatever the Worker's role" in text
    assert "EUR 2,250.00" in text


async def test_a_plain_text_clause_is_held_until_an_officer_reviews_it(client, world, production, scenario):
    h, pid = world["h"], production["id"]
    side = {"key": "custom.scans", "title": "Scans", "text": SCANS}
    made = await client.post("/api/v1/organizations/kestrel/clauses", json=side, headers=h["kestrel_officer"])
    assert made.status_code == 201, made.text
    request = crew_request(production["mentor"], v2("digital_replica_consent"), v2("no_scan_condition_of_hire"))
    request["custom_clauses"] = [{"organization": "kestrel", "key": "custom.scans", "version": 1}]
    url = f"/api/v1/productions/{pid}/contracts"
    held = await client.post(url, json=request, headers=h["producer"])
    assert refused(held) == {
        (slug, path, "custom_clause_review")
        for slug in ("screen-guild", "film-fund")
        for path in (f"{REPLICA}.policy", f"{REPLICA}.consent_may_be_condition_of_hire")
    }

    review = {
        "organization": "kestrel",
        "key": "custom.scans",
        "version": 1,
        "party": "performers",
        "term_paths": [f"{REPLICA}.policy", f"{REPLICA}.consent_may_be_condition_of_hire"],
        "note": "Read with the no-condition clause: the scan is voluntary; the side letter is withdrawn in part.",
    }
    reviews = "/api/v1/compacts/screen-guild/versions/1/clause-reviews"
    for who, status in (("actor", 403), ("producer", 403), ("fund", 403)):
        denied = await client.post(reviews, json=review, headers=h[who])
        assert denied.status_code == status, (who, denied.text)
    stray = await client.post(
        reviews,
        json={**review, "term_paths": ["training_data.ingestion_without_licence_prohibited"]},
        headers=h["perf"],
    )
    assert stray.status_code == 422 and stray.json()["errors"][0]["field"] == "term_paths[0]"
    assert (await client.get(reviews, headers=h["perf"])).json() == []

    done = await client.post(reviews, json=review, headers=h["perf"])
    assert done.status_code == 200, done.text
    assert {(r["term_path"], r["party"], r["reviewer"]) for r in done.json()} == {
        (p, "performers", "o.perf@example.org") for p in review["term_paths"]
    }
    again = await client.post(reviews, json=review, headers=h["perf"])
    assert [r["reviewed_at"] for r in again.json()] == [r["reviewed_at"] for r in done.json()]

    still = await client.post(url, json=request, headers=h["producer"])
    assert {slug for slug, _, _ in refused(still)} == {"film-fund"}

    fund_review = {**review, "party": "fund"}
    ok = await client.post("/api/v1/compacts/film-fund/versions/1/clause-reviews", json=fund_review, headers=h["fund"])
    assert ok.status_code == 200, ok.text
    issued = await client.post(url, json=request, headers=h["producer"])
    assert issued.status_code == 201, issued.text
    met = [m for m in issued.json()["compliance"]["met"] if m["rule"] == "custom_clause_review"]
    assert len(met) == 4 and all(m["actual"] == "reviewed" for m in met)

    # the reviews travel in the contract's data: verification re-checks them from the PDF alone
    from contracts.service import verify_file

    pdf = (await client.get(f"/api/v1/contracts/{issued.json()['id']}/pdf", headers=h["producer"])).content
    checks = await verify_file(pdf)
    assert all(ok for ok, _ in checks), checks
    assert any("complies with the compact versions it cites" in what for _, what in checks)


async def test_a_writers_contract_is_refused_without_the_ai_material_clause_then_issued(
    client, world, production, scenario
):
    h, pid = world["h"], production["id"]
    writer = await scenario.engagement(pid, "Wren Writer", by=h["producer"], department="writing", role="Screenwriter")
    request = {
        "engagement_id": writer,
        "contract_type": "writer",
        "clauses": [
            clause("fees_and_schedule"),
            clause("no_required_generative_tools"),
            clause("no_training_ingestion"),
        ],
    }
    url = f"/api/v1/productions/{pid}/contracts"
    refused_body = await client.post(url, json=request, headers=h["producer"])
    assert {(slug, rule) for slug, _, rule in refused(refused_body)} == {
        ("screen-guild", "clause_required"),
        ("film-fund", "clause_required"),
    }
    assert {v["clause"] for v in refused_body.json()["violations"]} == {"ai_material_disclosure"}
    disclosure = {
        "key": "ai_material_disclosure",
        "version": 1,
        "params": {"disclose_ai_generated_material": True, "ai_material_not_source_material": True},
    }
    issued = await client.post(
        url, json={**request, "clauses": [*request["clauses"], disclosure]}, headers=h["producer"]
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["contract_type"] == "writer" and issued.json()["compliance"]["compliant"] is True
