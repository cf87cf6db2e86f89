"""Talent contracts against two overlapping compacts: preview, refusal, issue, PDF, idempotency, void, access."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from guild.compacts.terms import example_terms
from tests.engines import engines_only
from tests.integration.processes import guild_env
from tests.integration.scenario import person, terms_without_quorum

ONE_WRITER = "SQLite runs one write transaction at a time; this race needs PostgreSQL"


@pytest.fixture
async def world(scenario):
    from guild.compacts.terms import AIUse, AIUseRule, ConsentScope, Policy

    await scenario.organizations(
        {"performers": "guild", "fund": "film_fund", "kestrel": "production_company", "blue": "production_company"}
    )
    h = await scenario.people(
        perf=person("o.perf@example.org", ("performers", "officer")),
        fund=person("o.fund@example.org", ("fund", "officer")),
        producer=person("p.kestrel@example.org", ("kestrel", "producer")),
        kestrel_officer=person("o.kestrel@example.org", ("kestrel", "officer")),
        other_producer=person("p.blue@example.org", ("blue", "producer")),
        actor=person("actor@example.org", ("performers", "member")),
        other_actor=person("actor2@example.org", ("performers", "member")),
    )
    base = terms_without_quorum()
    stricter_uses = dict(base.ai_uses)
    stricter_uses[AIUse.performer_digital_replica] = AIUseRule(
        policy=Policy.consent_required,
        consent_notice_hours=72,
        consent_scope=ConsentScope.per_use,
        replica_pay_multiple_of_scale=1.5,
    )
    guild_v = await scenario.compact(
        "screen-guild", title="Screen Guild", convening="performers", by="o.perf@example.org", terms=base
    )
    fund_v = await scenario.compact(
        "film-fund",
        title="Film Fund",
        convening="fund",
        by="o.fund@example.org",
        terms=base.model_copy(update={"ai_uses": stricter_uses}),
    )
    return {"h": h, "hashes": {"screen-guild": guild_v.terms_hash, "film-fund": fund_v.terms_hash}}


@pytest.fixture
async def production(scenario, world):
    """The Harbour (kestrel), bound to both compacts: a lead actor (hostile text in the name), a mentor and
    the camera apprentice they mentor."""
    by = world["h"]["producer"]
    pid = await scenario.production(
        "kestrel",
        "The Harbour",
        by=by,
        start_date="2027-03-01",
        end_date="2027-06-30",
        bind=["screen-guild", "film-fund"],
    )
    actor = await scenario.engagement(pid, "<script>alert(1)</script> O'Brien & Co", by=by, email="actor@example.org")
    mentor = await scenario.engagement(pid, "Mara Journey", by=by, department="camera", role="Focus puller")
    apprentice = await scenario.engagement(
        pid,
        "Ari Apprentice",
        by=by,
        department="camera",
        role="Camera trainee",
        level="apprentice",
        rate_minor_per_week=70_000,
        mentor_engagement_id=mentor,
    )
    return {"id": pid, "actor": actor, "apprentice": apprentice, "mentor": mentor}


def clause(key, **params):
    defaults = {
        "fees_and_schedule": {
            "rate_minor_per_week": 200_000,
            "currency": "EUR",
            "payment_terms_days": 14,
            "schedule": "weekly",
        },
        "no_required_generative_tools": {"worker_may_be_required_to_use": False},
        "no_training_ingestion": {"ingestion_without_licence_permitted": False},
        "no_scan_condition_of_hire": {"consent_is_condition_of_hire": False},
        "digital_replica_consent": {
            "notice_hours": 72,
            "consent_scope": "per_use",
            "pay_multiple_of_scale": 1.5,
            "use_description": "Crowd extension in the harbour sequence (scenes 40-44).",
            "separate_signature": True,
        },
        "apprenticeship_placement": {
            "rate_minor_per_week": 70_000,
            "currency": "EUR",
            "weeks": 10,
            "mentor_required": True,
        },
    }
    return {"key": key, "version": 1, "params": {**defaults[key], **params}}


def performer_request(engagement_id, **replica):
    return {
        "engagement_id": engagement_id,
        "contract_type": "performer",
        "planned_ai_uses": ["performer_digital_replica"],
        "clauses": [
            clause("fees_and_schedule"),
            clause("no_required_generative_tools"),
            clause("no_training_ingestion"),
            clause("no_scan_condition_of_hire"),
            clause("digital_replica_consent", **replica),
        ],
        "notes": "<b>Not bold</b> & {{ not a template }}",
    }


async def test_preview_applies_the_most_protective_term_and_names_the_compact(client, world, production):
    url = f"/api/v1/productions/{production['id']}/contracts/preview"
    ok = await client.post(url, json=performer_request(production["actor"]), headers=world["h"]["producer"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["compliant"] is True
    cited = {(m["compact_slug"], m["term_path"]) for m in ok.json()["met"]}
    assert ("screen-guild", "ai_uses.performer_digital_replica.consent_notice_hours") in cited
    assert ("film-fund", "ai_uses.performer_digital_replica.consent_notice_hours") in cited

    short = await client.post(
        url, json=performer_request(production["actor"], notice_hours=48), headers=world["h"]["producer"]
    )
    report = short.json()
    assert report["compliant"] is False
    [v] = [v for v in report["violations"] if v["term_path"].endswith("consent_notice_hours")]
    assert v["compact_slug"] == "film-fund" and v["version_number"] == 1
    assert v["version_hash"] == world["hashes"]["film-fund"]
    assert v["clause"] == "digital_replica_consent" and v["actual"] == 48


async def test_non_compliant_contract_is_refused_itemised_and_nothing_is_issued(client, world, production):
    from guild.infra.tables import Contract

    body = performer_request(production["actor"], notice_hours=24, pay_multiple_of_scale=0.5)
    r = await client.post(
        f"/api/v1/productions/{production['id']}/contracts", json=body, headers=world["h"]["producer"]
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    violations = r.json()["violations"]
    keys = {(v["compact_slug"], v["term_path"]) for v in violations}
    assert ("film-fund", "ai_uses.performer_digital_replica.consent_notice_hours") in keys
    assert ("screen-guild", "ai_uses.performer_digital_replica.consent_notice_hours") in keys
    assert ("film-fund", "ai_uses.performer_digital_replica.replica_pay_multiple_of_scale") in keys
    for v in violations:
        assert {"version_hash", "required", "actual", "clause", "rule", "message"} <= v.keys()
    assert await Contract.count() == 0


async def test_issue_stores_an_archival_pdf_that_reads_back(app, client, world, production, tmp_path):
    from guild.domain.canonical import canonical_json, sha256_hex
    from guild.infra.tables import Contract

    h = world["h"]
    r = await client.post(
        f"/api/v1/productions/{production['id']}/contracts",
        json=performer_request(production["actor"]),
        headers=h["producer"],
    )
    assert r.status_code == 201, r.text
    contract = r.json()
    assert contract["status"] == "issued"
    assert {c["slug"]: c["hash"] for c in contract["compacts"]} == world["hashes"]

    pdf = await client.get(f"/api/v1/contracts/{contract['id']}/pdf", headers=h["producer"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert sha256_hex(pdf.content) == contract["pdf_sha256"] == pdf.headers["x-pdf-sha256"]

    from guild.infra.pdf import read_attachments

    stored = (
        await Contract.select(Contract.document).where(Contract.id == contract["id"]).output(load_json=True).first()
    )
    attachments = read_attachments(pdf.content)
    assert attachments["contract.json"] == canonical_json(stored["document"])
    assert sha256_hex(attachments["contract.json"]) == contract["document_sha256"]
    assert json.loads(attachments["compliance.json"])["compliant"] is True

    reader = PdfReader(io.BytesIO(pdf.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "<script>alert(1)</script> O'Brien & Co" in text  # user text printed literally, never interpreted
    assert "<b>Not bold</b> & {{ not a template }}" in text
    assert "Compliance appendix" in text and "consent_notice_hours" in text
    for page in reader.pages:
        assert contract["document_sha256"] in page.extract_text().replace("\n", "")
    if shutil.which("qpdf"):
        path = tmp_path / "c.pdf"
        path.write_bytes(pdf.content)
        check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr

    # the stored bytes never change: a second download is identical, and downloads render nothing
    renderer = app.dependencies["pdf_renderer"].dependency()
    rendered = renderer.stats()["rendered"]
    again = await client.get(f"/api/v1/contracts/{contract['id']}/pdf", headers=h["producer"])
    assert again.content == pdf.content
    assert renderer.stats()["rendered"] == rendered == 1


async def test_issue_stores_the_facts_the_sweep_reads_and_the_backfill_rederives_them(client, world, production):
    """The fact columns (clause keys, planned AI uses, compact hashes, compliant) are stored at issue; the
    migration that added them derives the same values from the stored document and report."""
    import importlib

    from guild.infra.tables import Contract

    r = await client.post(
        f"/api/v1/productions/{production['id']}/contracts",
        json=performer_request(production["actor"]),
        headers=world["h"]["producer"],
    )
    assert r.status_code == 201, r.text
    columns = (Contract.clause_keys, Contract.planned_ai_uses, Contract.version_hashes, Contract.compliant)
    stored = await Contract.select(*columns).where(Contract.id == r.json()["id"]).first()
    expected = {
        "clause_keys": sorted(
            [
                "fees_and_schedule",
                "no_required_generative_tools",
                "no_training_ingestion",
                "no_scan_condition_of_hire",
                "digital_replica_consent",
            ]
        ),
        "planned_ai_uses": ["performer_digital_replica"],
        "version_hashes": sorted(world["hashes"].values()),
        "compliant": True,
    }
    assert stored == expected

    await Contract.update(
        {Contract.clause_keys: [], Contract.planned_ai_uses: [], Contract.version_hashes: [], Contract.compliant: False}
    ).where(Contract.id == r.json()["id"])
    migration = importlib.import_module("guild.piccolo_migrations.guild_2026_11_24t12_15_46_000000")
    await migration.backfill()
    assert await Contract.select(*columns).where(Contract.id == r.json()["id"]).first() == expected


async def test_idempotency_key_never_issues_twice(client, world, production):
    from guild.infra.tables import Contract

    url = f"/api/v1/productions/{production['id']}/contracts"
    headers = {**world["h"]["producer"], "Idempotency-Key": "issue-actor-1"}
    first = await client.post(url, json=performer_request(production["actor"]), headers=headers)
    second = await client.post(url, json=performer_request(production["actor"]), headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert await Contract.count() == 1
    different = await client.post(url, json=performer_request(production["actor"], notice_hours=96), headers=headers)
    assert different.status_code == 409 and different.json()["rule"] == "idempotency_key_reuse"
    assert await Contract.count() == 1


async def test_apprentice_contract_checks_rate_weeks_and_mentor(client, world, production):
    url = f"/api/v1/productions/{production['id']}/contracts"
    body = {
        "engagement_id": production["apprentice"],
        "contract_type": "crew",
        "clauses": [
            clause("fees_and_schedule", rate_minor_per_week=70_000),
            clause("no_required_generative_tools"),
            clause("no_training_ingestion"),
            clause("apprenticeship_placement"),
        ],
    }
    ok = await client.post(f"{url}/preview", json=body, headers=world["h"]["producer"])
    assert ok.json()["compliant"] is True, ok.json()["violations"]
    short = dict(body, clauses=body["clauses"][:3] + [clause("apprenticeship_placement", weeks=2)])
    r = await client.post(url, json=short, headers=world["h"]["producer"])
    assert r.status_code == 422
    assert any(v["term_path"].endswith("min_weeks") for v in r.json()["violations"])


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["clauses"].append({"key": "no_such_clause", "version": 1, "params": {}}), "clauses[5].key"),
        (lambda b: b["clauses"][4]["params"].update(notice_hours=-5), "clauses[4].params.notice_hours"),
        (lambda b: b.update(notes="x" * 20_001), "notes"),
        (lambda b: b.update(contract_type="stunt"), "contract_type"),
        (lambda b: b.update(planned_ai_uses=["mind_reading"]), "planned_ai_uses.0"),
    ],
)
async def test_bad_contract_input_is_422_naming_the_field(client, world, production, mutate, field):
    from guild.infra.tables import Contract

    body = performer_request(production["actor"])
    mutate(body)
    r = await client.post(
        f"/api/v1/productions/{production['id']}/contracts", json=body, headers=world["h"]["producer"]
    )
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await Contract.count() == 0


async def test_a_ten_megabyte_free_text_is_refused(client, world, production):
    body = performer_request(production["actor"])
    body["notes"] = "x" * (10 * 1024 * 1024)
    r = await client.post(
        f"/api/v1/productions/{production['id']}/contracts", json=body, headers=world["h"]["producer"]
    )
    assert r.status_code == 413


async def test_only_the_companys_producers_issue_and_readers_are_limited(client, world, production):
    h = world["h"]
    url = f"/api/v1/productions/{production['id']}/contracts"
    body = performer_request(production["actor"])
    assert (await client.post(url, json=body, headers=h["other_producer"])).status_code == 404
    assert (await client.post(f"{url}/preview", json=body, headers=h["other_producer"])).status_code == 404
    assert (await client.post(url, json=body, headers=h["actor"])).status_code == 404
    assert (await client.post(url, json=body, headers=h["kestrel_officer"])).status_code == 403

    issued = (await client.post(url, json=body, headers=h["producer"])).json()
    cid = issued["id"]
    # the engaged member reads their own contract; others do not
    assert (await client.get(f"/api/v1/contracts/{cid}", headers=h["actor"])).status_code == 200
    assert (await client.get(f"/api/v1/contracts/{cid}/pdf", headers=h["actor"])).status_code == 200
    assert [c["id"] for c in (await client.get("/api/v1/me/contracts", headers=h["actor"])).json()] == [cid]
    assert (await client.get("/api/v1/me/contracts", headers=h["other_actor"])).json() == []
    for who in ("other_actor", "other_producer", "perf"):
        assert (await client.get(f"/api/v1/contracts/{cid}", headers=h[who])).status_code == 404
    assert (await client.get(f"/api/v1/contracts/{cid}", headers=h["kestrel_officer"])).status_code == 200
    assert (await client.get(url, headers=h["other_producer"])).status_code == 404


async def test_void_keeps_the_contract_readable_and_public_verification_follows(client, world, production):
    h = world["h"]
    issued = (
        await client.post(
            f"/api/v1/productions/{production['id']}/contracts",
            json=performer_request(production["actor"]),
            headers=h["producer"],
        )
    ).json()
    cid = issued["id"]
    verify = await client.get(f"/api/v1/verify/contract-pdf/{issued['pdf_sha256']}")
    assert verify.status_code == 200 and verify.json()["status"] == "issued"
    assert (await client.get(f"/api/v1/verify/contract-pdf/{'0' * 64}")).status_code == 404

    assert (
        await client.post(f"/api/v1/contracts/{cid}/void", json={"reason": "x"}, headers=h["actor"])
    ).status_code == 403
    assert (
        await client.post(f"/api/v1/contracts/{cid}/void", json={"reason": ""}, headers=h["producer"])
    ).status_code == 422
    r = await client.post(f"/api/v1/contracts/{cid}/void", json={"reason": "recast"}, headers=h["producer"])
    assert r.status_code == 200 and r.json()["status"] == "void" and r.json()["void_reason"] == "recast"
    assert (
        await client.post(f"/api/v1/contracts/{cid}/void", json={"reason": "again"}, headers=h["producer"])
    ).status_code == 409
    assert (await client.get(f"/api/v1/contracts/{cid}/pdf", headers=h["actor"])).status_code == 200
    assert (await client.get(f"/api/v1/verify/contract-pdf/{issued['pdf_sha256']}")).json()["status"] == "void"


async def test_guild_contracts_verify_recomputes_and_rechecks(client, world, production, tmp_path):
    issued = (
        await client.post(
            f"/api/v1/productions/{production['id']}/contracts",
            json=performer_request(production["actor"]),
            headers=world["h"]["producer"],
        )
    ).json()
    pdf = (await client.get(f"/api/v1/contracts/{issued['id']}/pdf", headers=world["h"]["producer"])).content
    good = tmp_path / "good.pdf"
    good.write_bytes(pdf)
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(pdf + b"\n%tampered\n")

    from contracts.service import verify_file

    checks = await verify_file(good.read_bytes())
    assert all(ok for ok, _ in checks), checks
    bad = await verify_file(tampered.read_bytes())
    assert not all(ok for ok, _ in bad)
    assert any("PDF SHA-256" in what and not ok for ok, what in bad)

    # and the real command, as a user runs it
    import sys

    env = guild_env()
    for path, code in ((good, 0), (tampered, 1)):
        run = subprocess.run(
            [sys.executable, "-m", "guild", "contracts", "verify", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == code, run.stdout + run.stderr
    assert "ok   embedded contract data complies" in run.stdout and "FAIL" in run.stdout


async def test_officers_add_plain_text_clauses_that_contracts_can_carry(client, world, production, scenario):
    h = world["h"]
    body = {"key": "custom.catering", "title": "Catering on set", "text": "Hot meals every <six> hours & water."}
    assert (
        await client.post("/api/v1/organizations/performers/clauses", json=body, headers=h["actor"])
    ).status_code == 403
    assert (
        await client.post("/api/v1/organizations/performers/clauses", json=body, headers=h["producer"])
    ).status_code == 404
    bad = await client.post(
        "/api/v1/organizations/performers/clauses", json={**body, "key": "catering"}, headers=h["perf"]
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "key"
    first = await client.post("/api/v1/organizations/performers/clauses", json=body, headers=h["perf"])
    second = await client.post(
        "/api/v1/organizations/performers/clauses", json={**body, "text": "Revised."}, headers=h["perf"]
    )
    assert first.json()["version"] == 1 and second.json()["version"] == 2

    request = performer_request(production["actor"])
    request["custom_clauses"] = [{"organization": "performers", "key": "custom.catering", "version": 1}]
    issued = await client.post(f"/api/v1/productions/{production['id']}/contracts", json=request, headers=h["producer"])
    assert issued.status_code == 201, issued.text
    pdf = (await client.get(f"/api/v1/contracts/{issued.json()['id']}/pdf", headers=h["producer"])).content
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Hot meals every <six> hours & water." in text

    # a clause of an organisation that is neither the company nor a party of a bound compact
    await scenario.org("strangers", "guild")
    request["custom_clauses"] = [{"organization": "strangers", "key": "custom.catering", "version": 1}]
    r = await client.post(
        f"/api/v1/productions/{production['id']}/contracts/preview", json=request, headers=h["producer"]
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "custom_clauses[0].organization"


async def test_custom_clauses_are_read_only_where_they_are_shared(client, world, production, scenario):
    """A guild's clauses: its members, and the parties and bound companies of compacts it convened or approved.
    A production company's side letters: its own members only. Everyone else: 404, as for no organisation."""
    from guild.accounts.service import load_principal
    from guild.compacts import service
    from guild.compacts.schemas import CompactCreate, DecisionCreate

    h = world["h"]
    body = {"key": "custom.catering", "title": "Catering on set", "text": "Hot meals every six hours."}
    assert (
        await client.post("/api/v1/organizations/performers/clauses", json=body, headers=h["perf"])
    ).status_code == 201
    side = {"key": "custom.bonus", "title": "Side letter", "text": "Star bonus of 50,000."}
    assert (
        await client.post("/api/v1/organizations/kestrel/clauses", json=side, headers=h["kestrel_officer"])
    ).status_code == 201
    await scenario.org("sneaky", "guild")
    h["sneaky"] = (await scenario.user("o.sneaky@example.org", ("sneaky", "officer"))).headers
    h["outsider"] = (await scenario.user("nobody@example.org")).headers

    def url(slug: str) -> str:
        return f"/api/v1/organizations/{slug}/clauses"

    async def readers(slug: str) -> set[str]:
        ok = set()
        for who, headers in h.items():
            r = await client.get(url(slug), headers=headers)
            assert r.status_code in (200, 404), (who, r.status_code)
            if r.status_code == 200:
                ok.add(who)
            else:
                assert "Hot meals" not in r.text and "Star bonus" not in r.text
        return ok

    # performers convened screen-guild; kestrel's production is bound to it
    assert await readers("performers") == {"perf", "actor", "other_actor", "producer", "kestrel_officer"}
    assert (await client.get(url("performers"), headers=h["producer"])).json()[0][
        "text"
    ] == "Hot meals every six hours."
    assert await readers("kestrel") == {"producer", "kestrel_officer"}
    missing = await client.get(url("no-such-org"), headers=h["outsider"])
    hidden = await client.get(url("kestrel"), headers=h["outsider"])
    assert missing.status_code == hidden.status_code == 404
    assert missing.json()["detail"].replace("no-such-org", "X") == hidden.json()["detail"].replace("kestrel", "X")

    # naming performers as a party of a compact does not share its clauses; performers approving it does
    sneaky = await load_principal(scenario.ids["o.sneaky@example.org"])
    await service.create_compact(
        sneaky,
        CompactCreate(
            slug="sneaky-pact", title="Pact", convening_org="sneaky", parties=["performers"], terms=example_terms()
        ),
    )
    assert "sneaky" not in await readers("performers")
    await service.propose(sneaky, "sneaky-pact", 1)
    perf = await load_principal(scenario.ids["o.perf@example.org"])
    await service.decide(perf, "sneaky-pact", 1, DecisionCreate(organization="performers", decision="approve"))
    assert "sneaky" in await readers("performers")
    # ... while a production company's side letters stay its own
    assert await readers("kestrel") == {"producer", "kestrel_officer"}


# --- one live contract per engagement; one winner per transition -------------------------------------------


async def _issue(client, world, production, **extra):
    return await client.post(
        f"/api/v1/productions/{production['id']}/contracts",
        json={**performer_request(production["actor"]), **extra},
        headers=world["h"]["producer"],
    )


async def test_a_live_contract_is_replaced_only_by_naming_it(client, world, production):
    from tests.integration.concurrency import audit_events

    h = world["h"]
    first = await client.post(
        f"/api/v1/productions/{production['id']}/contracts",
        json=performer_request(production["actor"]),
        headers={**h["producer"], "Idempotency-Key": "first"},
    )
    assert first.status_code == 201, first.text
    a = first.json()
    assert (a["status"], a["supersedes"], a["superseded_by"]) == ("issued", None, None)

    # a second contract for the same engagement: 409 naming the live one; nothing issued
    refused = await _issue(client, world, production, notes="second")
    assert refused.status_code == 409
    assert (refused.json()["rule"], refused.json()["live_contract_id"]) == ("one_live_contract", a["id"])
    assert a["id"] in refused.json()["detail"]
    # naming a contract that is not the live one: 409
    wrong = await _issue(client, world, production, supersedes="00000000-0000-4000-8000-000000000000")
    assert wrong.status_code == 409 and wrong.json()["rule"] == "supersede_live_only"
    assert wrong.json()["live_contract_id"] == a["id"]

    # naming it replaces it: the old one is superseded in the same transaction, audited
    replaced = await _issue(client, world, production, supersedes=a["id"], notes="recast terms")
    assert replaced.status_code == 201, replaced.text
    b = replaced.json()
    assert (b["status"], b["supersedes"]) == ("issued", a["id"])
    old = (await client.get(f"/api/v1/contracts/{a['id']}", headers=h["producer"])).json()
    assert (old["status"], old["superseded_by"]) == ("superseded", b["id"]) and old["superseded_at"]
    assert [(e["entity_id"], e["data"]["by"]) for e in await audit_events("contract.superseded")] == [
        (a["id"], b["id"])
    ]
    assert (await audit_events("contract.issued"))[-1]["data"]["supersedes"] == a["id"]
    pdf_check = await client.get(f"/api/v1/verify/contract-pdf/{a['pdf_sha256']}")
    assert pdf_check.json()["status"] == "superseded"

    # a superseded contract is no longer live: superseding or voiding it again is 409
    again = await _issue(client, world, production, supersedes=a["id"], notes="third")
    assert again.status_code == 409 and again.json()["rule"] == "supersede_live_only"
    void_old = await client.post(f"/api/v1/contracts/{a['id']}/void", json={"reason": "x"}, headers=h["producer"])
    assert void_old.status_code == 409 and "superseded" in void_old.json()["detail"]
    # the first request's Idempotency-Key still returns the first contract, as it is now
    replay = await client.post(
        f"/api/v1/productions/{production['id']}/contracts",
        json=performer_request(production["actor"]),
        headers={**h["producer"], "Idempotency-Key": "first"},
    )
    assert replay.status_code == 200 and replay.json()["id"] == a["id"] and replay.json()["status"] == "superseded"

    # once the live one is voided, the engagement has none: a new contract needs no supersedes (and refuses one)
    assert (
        await client.post(f"/api/v1/contracts/{b['id']}/void", json={"reason": "r"}, headers=h["producer"])
    ).status_code == 200
    stale = await _issue(client, world, production, supersedes=b["id"], notes="fourth")
    assert stale.status_code == 409 and stale.json()["rule"] == "supersede_live_only"
    c = await _issue(client, world, production, notes="fourth")
    assert c.status_code == 201, c.text

    # history stays visible in both lists; ?status= picks one status
    url = f"/api/v1/productions/{production['id']}/contracts"
    listed = (await client.get(url, headers=h["producer"])).json()
    assert [(x["id"], x["status"]) for x in listed] == [
        (a["id"], "superseded"),
        (b["id"], "void"),
        (c.json()["id"], "issued"),
    ]
    assert [x["id"] for x in (await client.get(f"{url}?status=issued", headers=h["producer"])).json()] == [
        c.json()["id"]
    ]
    mine = await client.get("/api/v1/me/contracts?status=superseded", headers=h["actor"])
    assert [x["id"] for x in mine.json()] == [a["id"]]
    assert len((await client.get("/api/v1/me/contracts", headers=h["actor"])).json()) == 3
    bad = await client.get(f"{url}?status=cancelled", headers=h["producer"])
    assert bad.status_code == 400 or bad.status_code == 422


async def test_concurrent_voids_have_one_winner(client, world, production):
    """Ten voids with ten reasons at once: one 200 (its reason is kept and audited once), nine 409."""
    from tests.integration.concurrency import audit_events, statuses, together

    h = world["h"]
    cid = (await _issue(client, world, production)).json()["id"]
    responses = await together(
        [
            client.post(f"/api/v1/contracts/{cid}/void", json={"reason": f"reason {n}"}, headers=h["producer"])
            for n in range(10)
        ]
    )
    assert statuses(responses) == {200: 1, 409: 9}
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"void_issued_only"}
    [winner] = [r.json() for r in responses if r.status_code == 200]
    stored = (await client.get(f"/api/v1/contracts/{cid}", headers=h["producer"])).json()
    assert (stored["status"], stored["void_reason"]) == ("void", winner["void_reason"])
    assert [e["data"]["reason"] for e in await audit_events("contract.voided")] == [winner["void_reason"]]


@engines_only("postgres", reason=ONE_WRITER)
@pytest.mark.slow  # fifty PDF renders
async def test_fifty_concurrent_issuances_issue_one_contract(client, world, production):
    """Fifty issuances for one engagement at once, each with its own Idempotency-Key: one contract is
    issued; every other is refused, 409 naming it, or 503 when the company's share of the render queue
    is full (the PDF pool's per-tenant bound), and nothing else is written."""
    from guild.infra.tables import Contract
    from tests.integration.concurrency import audit_events, statuses, together

    n = 50
    url = f"/api/v1/productions/{production['id']}/contracts"
    responses = await together(
        [
            client.post(
                url,
                json=performer_request(production["actor"]),
                headers={**world["h"]["producer"], "Idempotency-Key": f"key-{i}"},
            )
            for i in range(n)
        ]
    )
    counts = statuses(responses)
    assert counts[201] == 1 and set(counts) <= {201, 409, 503} and counts[409] >= 1, counts
    [winner] = [r.json() for r in responses if r.status_code == 201]
    assert {(r.json()["rule"], r.json()["live_contract_id"]) for r in responses if r.status_code == 409} == {
        ("one_live_contract", winner["id"])
    }
    assert {r.json()["rule"] for r in responses if r.status_code == 503} <= {"pdf_queue_full"}
    assert await Contract.count().where(Contract.engagement == production["actor"]) == 1
    assert len(await audit_events("contract.issued")) == 1


@engines_only("postgres", reason=ONE_WRITER)
async def test_concurrent_supersessions_have_one_winner(client, world, production):
    from tests.integration.concurrency import audit_events, statuses, together

    h = world["h"]
    old = (await _issue(client, world, production)).json()["id"]
    responses = await together(
        [_issue(client, world, production, supersedes=old, notes=f"replacement {n}") for n in range(5)]
    )
    assert statuses(responses) == {201: 1, 409: 4}
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"supersede_live_only"}
    [winner] = [r.json() for r in responses if r.status_code == 201]
    stored = (await client.get(f"/api/v1/contracts/{old}", headers=h["producer"])).json()
    assert (stored["status"], stored["superseded_by"]) == ("superseded", winner["id"])
    assert [e["data"]["by"] for e in await audit_events("contract.superseded")] == [winner["id"]]
    live = await client.get(f"/api/v1/productions/{production['id']}/contracts?status=issued", headers=h["producer"])
    assert [c["id"] for c in live.json()] == [winner["id"]]


async def test_an_issued_contract_has_a_location_and_lists_filter_by_person(client, world, production, scenario):
    from guild.infra.settings import get_settings

    h = world["h"]
    r = await _issue(client, world, production)
    assert r.status_code == 201, r.text
    base = get_settings().public_base_url
    assert r.headers["location"] == f"{base}/api/v1/contracts/{r.json()['id']}"
    got = await client.get(r.headers["location"].removeprefix(base), headers=h["actor"])
    assert got.status_code == 200 and got.json()["id"] == r.json()["id"]

    url = f"/api/v1/productions/{production['id']}/contracts"
    actor = str(scenario.ids["actor@example.org"])
    other = str(scenario.ids["actor2@example.org"])
    mine = (await client.get(url, params={"person": actor}, headers=h["producer"])).json()
    assert [c["id"] for c in mine] == [r.json()["id"]]
    assert (await client.get(url, params={"person": other}, headers=h["producer"])).json() == []
    by_engagement = await client.get(url, params={"engagement": production["mentor"]}, headers=h["producer"])
    assert by_engagement.json() == []
    for bad in ("someone", "1"):
        r = await client.get(url, params={"person": bad}, headers=h["producer"])
        assert r.status_code in (400, 422) and "person" in {e["field"] for e in r.json()["errors"]}
