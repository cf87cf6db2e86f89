"""Compacts: a three-party compact from draft to ratified, amended, redlined; every refusal."""

from __future__ import annotations

import pytest

from guild.compacts.terms import example_terms
from tests.integration.scenario import person

BASE = "/api/v1/compacts"


def terms(**changes) -> dict:
    doc = example_terms().model_dump(mode="json")
    for path, value in changes.items():
        node = doc
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return doc


@pytest.fixture
async def world(scenario):
    await scenario.organizations(
        {
            "performers": "guild",
            "writers": "guild",
            "riverlight": "festival",
            "outsiders": "guild",
            "kestrel": "production_company",
        }
    )
    return await scenario.people(
        perf=person("o.perf@example.org", ("performers", "officer")),
        perf_member=person("m.perf@example.org", ("performers", "member")),
        writ=person("o.writ@example.org", ("writers", "officer")),
        fest=person("o.fest@example.org", ("riverlight", "officer")),
        outsider=person("o.out@example.org", ("outsiders", "officer")),
        producer=person("p.kestrel@example.org", ("kestrel", "producer")),
    )


async def _create(client, world, quorum=None, slug="ai-compact"):
    body = {
        "slug": slug,
        "title": "AI & Apprenticeship Compact 2027",
        "convening_org": "performers",
        "parties": ["writers", "riverlight"],
        "terms": terms(quorum=quorum),
    }
    r = await client.post(BASE, json=body, headers=world["perf"])
    assert r.status_code == 201, r.text
    return r.json()


async def _ratify(client, world, slug="ai-compact", number=1):
    url = f"{BASE}/{slug}/versions/{number}"
    assert (await client.post(f"{url}/propose", headers=world["perf"])).status_code == 200
    for who, org in [("perf", "performers"), ("writ", "writers"), ("fest", "riverlight")]:
        r = await client.post(f"{url}/decisions", json={"organization": org, "decision": "approve"}, headers=world[who])
        assert r.status_code == 201, r.text
    return r.json()


async def test_three_party_compact_from_draft_to_ratified_then_amended_with_redline(client, world):
    from guild.infra.audit import verify_chain
    from guild.infra.tables import AuditEvent

    created = await _create(client, world)
    assert created["open_version"] == 1 and created["current_version"] is None
    assert {p["slug"] for p in created["parties"]} == {"performers", "writers", "riverlight"}

    # edit the draft with optimistic concurrency
    url = f"{BASE}/ai-compact/versions/1"
    got = await client.get(url, headers=world["perf"])
    tag = got.headers["etag"]
    edited = terms(quorum=None, ai_disclosure__max_ai_share_pct=12.5)
    r = await client.put(url, json={"terms": edited}, headers={**world["perf"], "If-Match": tag})
    assert r.status_code == 200, r.text
    assert r.json()["terms"]["ai_disclosure"]["max_ai_share_pct"] == 12.5

    proposed = await client.post(f"{url}/propose", headers=world["perf"])
    assert proposed.status_code == 200
    v1 = proposed.json()
    assert v1["status"] == "proposed" and len(v1["terms_hash"]) == 64 and v1["approvals_required"] == 3

    for who, org in [("perf", "performers"), ("writ", "writers")]:
        r = await client.post(f"{url}/decisions", json={"organization": org, "decision": "approve"}, headers=world[who])
        assert r.json()["status"] == "proposed"
    r = await client.post(
        f"{url}/decisions", json={"organization": "riverlight", "decision": "approve"}, headers=world["fest"]
    )
    assert r.json()["status"] == "ratified"
    assert r.json()["terms_hash"] == v1["terms_hash"]  # ratification does not change the frozen terms

    # amend: a new draft whose parent is the ratified version
    amended = terms(quorum=None, ai_disclosure__max_ai_share_pct=10.0, compliance__grace_period_days=21)
    r = await client.post(f"{BASE}/ai-compact/versions", json={"terms": amended}, headers=world["perf"])
    assert r.status_code == 201, r.text
    assert r.json()["number"] == 2 and r.json()["parent_number"] == 1 and r.json()["status"] == "draft"

    v2 = await _ratify(client, world, number=2)
    assert v2["status"] == "ratified"
    v1_now = (await client.get(url, headers=world["perf"])).json()
    assert v1_now["status"] == "superseded" and v1_now["superseded_at"]
    compact = (await client.get(f"{BASE}/ai-compact", headers=world["perf"])).json()
    assert compact["current_version"] == 2

    redline = await client.get(f"{BASE}/ai-compact/diff?from=1&to=2", headers=world["writ"])
    assert redline.status_code == 200
    changes = {c["path"]: (c["old"], c["new"]) for c in redline.json()["changes"]}
    assert changes == {
        "ai_disclosure.max_ai_share_pct": (12.5, 10.0),
        "compliance.grace_period_days": (example_terms().compliance.grace_period_days, 21),
    }
    assert "ai_disclosure.max_ai_share_pct: 12.5 → 10.0" in redline.json()["text"]

    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.seq)]
    for expected in [
        "compact.created",
        "compact_version.edited",
        "compact_version.proposed",
        "compact_version.approved",
        "compact_version.ratified",
        "compact_version.drafted",
        "compact_version.superseded",
    ]:
        assert expected in actions
    assert (await verify_chain()).ok


async def test_version_hash_is_the_sha256_of_its_canonical_document(client, world):
    from guild.domain.canonical import canonical_hash

    await _create(client, world)
    v = (await client.post(f"{BASE}/ai-compact/versions/1/propose", headers=world["perf"])).json()
    doc = {
        "compact": "ai-compact",
        "number": 1,
        "parent_number": None,
        "parent_hash": None,
        "parties": ["performers", "riverlight", "writers"],
        "terms": v["terms"],
    }
    assert canonical_hash(doc) == v["terms_hash"]


async def test_quorum_ratifies_before_every_party_has_decided(client, world):
    await _create(client, world, quorum=2)
    url = f"{BASE}/ai-compact/versions/1"
    await client.post(f"{url}/propose", headers=world["perf"])
    await client.post(
        f"{url}/decisions", json={"organization": "performers", "decision": "approve"}, headers=world["perf"]
    )
    r = await client.post(
        f"{url}/decisions", json={"organization": "writers", "decision": "approve"}, headers=world["writ"]
    )
    assert r.json()["status"] == "ratified"
    late = await client.post(
        f"{url}/decisions", json={"organization": "riverlight", "decision": "approve"}, headers=world["fest"]
    )
    assert late.status_code == 409


async def test_a_rejection_that_makes_ratification_impossible_closes_the_version(client, world):
    await _create(client, world)
    url = f"{BASE}/ai-compact/versions/1"
    await client.post(f"{url}/propose", headers=world["perf"])
    no_reason = await client.post(
        f"{url}/decisions", json={"organization": "writers", "decision": "reject"}, headers=world["writ"]
    )
    assert no_reason.status_code == 422
    r = await client.post(
        f"{url}/decisions",
        json={"organization": "writers", "decision": "reject", "reason": "replica pay too low"},
        headers=world["writ"],
    )
    body = r.json()
    assert body["status"] == "rejected"
    assert body["decisions"][0]["reason"] == "replica pay too low"
    # nothing went back to draft silently: the officers draft anew
    again = await client.post(f"{BASE}/ai-compact/versions", json={}, headers=world["perf"])
    assert again.status_code == 201 and again.json()["number"] == 2 and again.json()["parent_number"] is None


async def test_proposed_terms_never_change(client, world):
    from guild.infra.tables import CompactVersion

    await _create(client, world)
    url = f"{BASE}/ai-compact/versions/1"
    tag = (await client.get(url, headers=world["perf"])).headers["etag"]
    v = (await client.post(f"{url}/propose", headers=world["perf"])).json()
    r = await client.put(
        url,
        json={"terms": terms(quorum=None, ai_disclosure__max_ai_share_pct=6.0)},
        headers={**world["perf"], "If-Match": tag},
    )
    assert r.status_code == 409
    assert r.json()["rule"] == "immutable_once_proposed"
    row = await CompactVersion.select(CompactVersion.terms_hash).where(CompactVersion.number == 1).first()
    assert row["terms_hash"] == v["terms_hash"]
    assert (await client.get(url, headers=world["perf"])).json()["terms"] == v["terms"]
    assert (await client.post(f"{url}/propose", headers=world["perf"])).status_code == 409


async def test_stale_or_missing_if_match_changes_nothing(client, world):
    await _create(client, world)
    url = f"{BASE}/ai-compact/versions/1"
    tag = (await client.get(url, headers=world["perf"])).headers["etag"]
    first = terms(quorum=None, ai_disclosure__max_ai_share_pct=11.0)
    assert (await client.put(url, json={"terms": first}, headers={**world["perf"], "If-Match": tag})).status_code == 200
    stale = await client.put(
        url,
        json={"terms": terms(quorum=None, ai_disclosure__max_ai_share_pct=99.0)},
        headers={**world["perf"], "If-Match": tag},
    )
    assert stale.status_code == 412
    missing = await client.put(url, json={"terms": first}, headers=world["perf"])
    assert missing.status_code == 428
    assert (await client.get(url, headers=world["perf"])).json()["terms"]["ai_disclosure"]["max_ai_share_pct"] == 11.0


async def test_ratifying_twice_and_for_someone_elses_org_are_refused(client, world):
    await _create(client, world)
    url = f"{BASE}/ai-compact/versions/1"
    await client.post(f"{url}/propose", headers=world["perf"])
    ok = await client.post(
        f"{url}/decisions", json={"organization": "writers", "decision": "approve"}, headers=world["writ"]
    )
    assert ok.status_code == 201
    twice = await client.post(
        f"{url}/decisions", json={"organization": "writers", "decision": "approve"}, headers=world["writ"]
    )
    assert twice.status_code == 409 and twice.json()["rule"] == "decide_once"
    # an officer of writers deciding for riverlight
    other = await client.post(
        f"{url}/decisions", json={"organization": "riverlight", "decision": "approve"}, headers=world["writ"]
    )
    assert other.status_code == 403
    # a member (not officer) of a party
    member = await client.post(
        f"{url}/decisions", json={"organization": "performers", "decision": "approve"}, headers=world["perf_member"]
    )
    assert member.status_code == 403
    # an organisation that is not a party
    outsider = await client.post(
        f"{url}/decisions", json={"organization": "outsiders", "decision": "approve"}, headers=world["outsider"]
    )
    assert outsider.status_code == 422 and outsider.json()["errors"][0]["field"] == "organization"
    v = (await client.get(url, headers=world["perf"])).json()
    assert [d["organization"] for d in v["decisions"]] == ["writers"] and v["status"] == "proposed"


async def test_a_draft_cannot_be_decided(client, world):
    await _create(client, world)
    r = await client.post(
        f"{BASE}/ai-compact/versions/1/decisions",
        json={"organization": "writers", "decision": "approve"},
        headers=world["writ"],
    )
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"quorum": 4}, "terms.quorum", "quorum_exceeds_parties"),
        ({"ai_disclosure__max_ai_share_pct": -1}, "terms.ai_disclosure.max_ai_share_pct", "greater_than_equal"),
        ({"ai_disclosure__max_ai_share_pct": 100.5}, "terms.ai_disclosure.max_ai_share_pct", "less_than_equal"),
    ],
)
async def test_invalid_terms_are_refused_naming_the_term(client, world, change, field, rule):
    from guild.infra.tables import Compact

    body = {
        "slug": "bad",
        "title": "Bad",
        "convening_org": "performers",
        "parties": ["writers", "riverlight"],
        "terms": terms(**change),
    }
    r = await client.post(BASE, json=body, headers=world["perf"])
    assert r.status_code == 422, r.text
    assert (field, rule) in [(e["field"], e["rule"]) for e in r.json()["errors"]]
    assert await Compact.count() == 0


async def test_unknown_ai_use_is_refused(client, world):
    doc = terms()
    doc["ai_uses"]["mind_reading"] = {"policy": "permitted"}
    body = {"slug": "bad", "title": "Bad", "convening_org": "performers", "parties": ["writers"], "terms": doc}
    r = await client.post(BASE, json=body, headers=world["perf"])
    assert r.status_code == 422
    assert any("mind_reading" in e["field"] for e in r.json()["errors"])


async def test_who_may_convene_and_edit(client, world):
    body = {
        "slug": "x-compact",
        "title": "X",
        "convening_org": "performers",
        "parties": [],
        "terms": terms(quorum=None),
    }
    assert (await client.post(BASE, json=body, headers=world["perf_member"])).status_code == 403
    assert (await client.post(BASE, json=body, headers=world["writ"])).status_code == 403
    pc = {**body, "convening_org": "kestrel"}
    assert (await client.post(BASE, json=pc, headers=world["producer"])).status_code in (403, 422)
    unknown_party = {**body, "parties": ["nobody-here"]}
    r = await client.post(BASE, json=unknown_party, headers=world["perf"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parties[0]"

    await _create(client, world)
    url = f"{BASE}/ai-compact/versions/1"
    tag = (await client.get(url, headers=world["writ"])).headers["etag"]
    # a party's officer who is not of the convening organisation cannot edit or propose
    r = await client.put(url, json={"terms": terms(quorum=None)}, headers={**world["writ"], "If-Match": tag})
    assert r.status_code == 403
    assert (await client.post(f"{url}/propose", headers=world["writ"])).status_code == 403


async def test_non_parties_cannot_see_drafts(client, world):
    await _create(client, world)
    url = f"{BASE}/ai-compact/versions/1"
    for who in ("outsider", "producer"):
        assert (await client.get(f"{BASE}/ai-compact", headers=world[who])).status_code == 404
        assert (await client.get(url, headers=world[who])).status_code == 404
        assert (await client.get(f"{url}/pdf", headers=world[who])).status_code == 404
        assert all(c["slug"] != "ai-compact" for c in (await client.get(BASE, headers=world[who])).json())
    assert (await client.get(url, headers=world["perf_member"])).status_code == 200

    # once proposed, the version is public; a later draft stays private
    await _ratify(client, world)
    assert (await client.get(url, headers=world["producer"])).status_code == 200
    await client.post(f"{BASE}/ai-compact/versions", json={}, headers=world["perf"])
    compact = (await client.get(f"{BASE}/ai-compact", headers=world["producer"])).json()
    assert [v["number"] for v in compact["versions"]] == [1] and compact["open_version"] is None
    assert (await client.get(f"{BASE}/ai-compact/versions/2", headers=world["producer"])).status_code == 404
    assert (await client.get(f"{BASE}/ai-compact/diff?from=1&to=2", headers=world["producer"])).status_code == 404


async def test_one_open_version_at_a_time_and_withdrawal(client, world):
    await _create(client, world)
    r = await client.post(f"{BASE}/ai-compact/versions", json={}, headers=world["perf"])
    assert r.status_code == 409 and r.json()["rule"] == "one_open_version"
    w = await client.post(
        f"{BASE}/ai-compact/versions/1/withdraw", json={"reason": "start over"}, headers=world["perf"]
    )
    assert w.status_code == 200 and w.json()["status"] == "withdrawn" and w.json()["closed_reason"] == "start over"
    again = await client.post(f"{BASE}/ai-compact/versions/1/withdraw", json={"reason": "x"}, headers=world["perf"])
    assert again.status_code == 409
    assert (await client.post(f"{BASE}/ai-compact/versions", json={}, headers=world["perf"])).status_code == 201


async def test_compact_pdf_carries_the_hash_and_the_canonical_json(client, world):
    import io
    import json

    from pypdf import PdfReader

    from guild.domain.canonical import canonical_hash
    from guild.infra.pdf import read_attachments

    await _create(client, world)
    v = await _ratify(client, world)
    r = await client.get(f"{BASE}/ai-compact/versions/1/pdf", headers=world["writ"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(r.content))
    for page in reader.pages:
        assert v["terms_hash"] in page.extract_text().replace("\n", "")
    attached = read_attachments(r.content)["compact.json"]
    assert canonical_hash(json.loads(attached)) == v["terms_hash"]


async def test_a_decided_version_is_rendered_once_per_state_and_then_served_from_storage(client, world):
    """Asking again for the PDF of a proposed or ratified version costs a read, not a render: any signed-in
    user could otherwise keep the render workers busy. A new decision is a new state, hence a new document;
    a draft (which still changes) is never stored."""
    from guild.infra.tables import CompactDocument

    await _create(client, world)
    url = f"{BASE}/ai-compact/versions/1"
    draft = await client.get(f"{url}/pdf", headers=world["perf"])
    assert draft.status_code == 200 and await CompactDocument.count() == 0

    assert (await client.post(f"{url}/propose", headers=world["perf"])).status_code == 200
    first = await client.get(f"{url}/pdf", headers=world["writ"])
    again = await client.get(f"{url}/pdf", headers=world["producer"])
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and await CompactDocument.count() == 1
    stored = await CompactDocument.select(CompactDocument.pdf, CompactDocument.pdf_sha256).first()
    assert bytes(stored["pdf"]) == first.content

    decided = await client.post(
        f"{url}/decisions", json={"organization": "writers", "decision": "approve"}, headers=world["writ"]
    )
    assert decided.status_code == 201
    after = await client.get(f"{url}/pdf", headers=world["writ"])
    assert after.content != first.content and await CompactDocument.count() == 2
    assert after.headers["x-version-sha256"] == first.headers["x-version-sha256"]  # same terms, new state
    assert (await client.get(f"{url}/pdf", headers=world["fest"])).content == after.content
    assert await CompactDocument.count() == 2


async def test_a_taken_slug_is_refused_alike_whether_or_not_the_caller_sees_its_compact(client, world):
    """A draft of other organisations is invisible; its slug is refused with the same words as a visible one's."""
    await _create(client, world, slug="private-draft")  # performers, writers, riverlight: a draft
    await _create(client, world, slug="public-one")
    await _ratify(client, world, slug="public-one")
    body = {"title": "Mine", "convening_org": "outsiders", "parties": [], "terms": terms(quorum=None)}
    assert (await client.get(f"{BASE}/private-draft", headers=world["outsider"])).status_code == 404
    hidden = await client.post(BASE, json={**body, "slug": "private-draft"}, headers=world["outsider"])
    shown = await client.post(BASE, json={**body, "slug": "public-one"}, headers=world["outsider"])
    assert hidden.status_code == shown.status_code == 409
    assert hidden.json()["detail"].replace("private-draft", "S") == shown.json()["detail"].replace("public-one", "S")
    assert (hidden.json()["field"], hidden.json()["rule"]) == ("slug", "unique")
    for word in ("draft", "proposed", "ratified", "performers"):
        assert word not in hidden.text.replace("private-draft", "S")


# --- concurrency: every version transition has one winner (the compact's lock) --------------------------------


async def test_concurrent_proposals_and_withdrawals_have_one_winner(client, world):
    from tests.integration.concurrency import audit_events, statuses, together

    await _create(client, world)
    url = f"{BASE}/ai-compact/versions/1"
    proposed = await together([client.post(f"{url}/propose", headers=world["perf"]) for _ in range(6)])
    assert statuses(proposed) == {200: 1, 409: 5}
    assert {r.json()["rule"] for r in proposed if r.status_code == 409} == {"propose_drafts_only"}
    assert len(await audit_events("compact_version.proposed")) == 1

    withdrawn = await together(
        [client.post(f"{url}/withdraw", json={"reason": f"reason {n}"}, headers=world["perf"]) for n in range(6)]
    )
    assert statuses(withdrawn) == {200: 1, 409: 5}
    [winner] = [r.json() for r in withdrawn if r.status_code == 200]
    [event] = await audit_events("compact_version.withdrawn")
    assert event["data"]["reason"] == winner["closed_reason"]
    assert (await client.get(url, headers=world["perf"])).json()["closed_reason"] == winner["closed_reason"]


async def test_concurrent_decisions_of_one_party_count_once(client, world):
    from guild.infra.tables import RatificationDecision
    from tests.integration.concurrency import audit_events, statuses, together

    await _create(client, world)
    url = f"{BASE}/ai-compact/versions/1"
    assert (await client.post(f"{url}/propose", headers=world["perf"])).status_code == 200
    body = {"organization": "writers", "decision": "approve"}
    responses = await together([client.post(f"{url}/decisions", json=body, headers=world["writ"]) for _ in range(6)])
    assert statuses(responses) == {201: 1, 409: 5}
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"decide_once"}
    assert await RatificationDecision.count() == 1
    assert len(await audit_events("compact_version.approved")) == 1


async def test_the_last_approvals_arriving_together_ratify_once_and_supersede_once(client, world):
    """Version 2's three parties approve at the same moment: each decision counts once, version 2 is
    ratified once and version 1 superseded once."""
    from tests.integration.concurrency import audit_events, statuses, together

    await _create(client, world)
    await _ratify(client, world)
    assert (await client.post(f"{BASE}/ai-compact/versions", json={}, headers=world["perf"])).status_code == 201
    url = f"{BASE}/ai-compact/versions/2"
    assert (await client.post(f"{url}/propose", headers=world["perf"])).status_code == 200
    responses = await together(
        [
            client.post(f"{url}/decisions", json={"organization": org, "decision": "approve"}, headers=world[who])
            for who, org in [("perf", "performers"), ("writ", "writers"), ("fest", "riverlight")]
        ]
    )
    assert statuses(responses) == {201: 3}
    assert [r.json()["status"] for r in responses].count("ratified") == 1  # the last one to decide ratified it
    assert [e["data"]["number"] for e in await audit_events("compact_version.ratified")] == [1, 2]
    assert [e["data"]["number"] for e in await audit_events("compact_version.superseded")] == [1]
    compact = (await client.get(f"{BASE}/ai-compact", headers=world["perf"])).json()
    assert compact["current_version"] == 2
    assert [(v["number"], v["status"]) for v in compact["versions"]] == [(1, "superseded"), (2, "ratified")]


async def test_concurrent_amendments_draft_one_version(client, world):
    from tests.integration.concurrency import statuses, together

    await _create(client, world)
    await _ratify(client, world)
    responses = await together(
        [client.post(f"{BASE}/ai-compact/versions", json={}, headers=world["perf"]) for _ in range(6)]
    )
    assert statuses(responses) == {201: 1, 409: 5}
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"one_open_version"}
    compact = (await client.get(f"{BASE}/ai-compact", headers=world["perf"])).json()
    assert [v["number"] for v in compact["versions"]] == [1, 2]


async def test_concurrent_edits_with_one_etag_apply_once(client, world):
    from tests.integration.concurrency import statuses, together

    await _create(client, world)
    url = f"{BASE}/ai-compact/versions/1"
    tag = (await client.get(url, headers=world["perf"])).headers["etag"]
    responses = await together(
        [
            client.put(
                url,
                json={"terms": terms(quorum=None, ai_disclosure__max_ai_share_pct=10.0 + n)},
                headers={**world["perf"], "If-Match": tag},
            )
            for n in range(6)
        ]
    )
    assert statuses(responses) == {200: 1, 412: 5}
    [winner] = [r.json() for r in responses if r.status_code == 200]
    stored = (await client.get(url, headers=world["perf"])).json()
    assert stored["terms"] == winner["terms"] and stored["revision"] == 2


@pytest.mark.parametrize("query", ["from=1&to=2147483648", "from=99999999999999999999&to=1", "from=100001&to=1"])
async def test_a_redline_between_versions_that_cannot_exist_is_422_not_a_server_error(client, world, query):
    await _create(client, world)
    r = await client.get(f"{BASE}/ai-compact/diff?{query}", headers=world["perf"])
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["source"] for e in r.json()["errors"]] == ["query"]
