"""Hostile input, surveyed over the whole API: every refusal is a 4xx problem naming the field, and nothing is written.

For every operation that takes a body (from the app's own OpenAPI document, plus the two imports,
whose body the handler reads itself) a valid example body is mutated one leaf at a time: a NUL in
each string, ``true``, a numeric string and 2**63 for each integer, ``true`` and a numeric string
for each float. Each operation also gets a 1,000-deep JSON body and non-UTF-8 bytes. Every path and
query parameter of every operation gets a NUL and a huge integer. The whole database is compared
before and after (every row of every table, so updates count too), and at the end the unmutated
example must still succeed, which shows the mutations reached a live operation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from guild.compacts.terms import example_terms

BIG = 2**63  # beyond a BIGINT, so beyond every integer column
DEEP = b'{"x": ' + b"[" * 1000 + b"]" * 1000 + b"}"
NOT_UTF8 = b'{"title": "caf\xe9"}'


# --- the world the operations act on ---------------------------------------------------------------


@pytest.fixture
async def world(client, scenario):
    """An admin who is also guild-a's officer and kestrel's producer; compacts accord (ratified), draft-c and
    prop-c (proposed); Harbour bound to accord with Ada engaged, and Unbound."""
    await scenario.organizations({"guild-a": "guild", "kestrel": "production_company"})
    admin = (
        await scenario.user("admin@example.org", ("guild-a", "officer"), ("kestrel", "producer"), admin=True)
    ).headers
    await scenario.user("plain@example.org")
    await scenario.user("ada@example.org")  # the engaged performer has an account
    await scenario.compact("accord", convening="guild-a", by="admin@example.org")
    await scenario.compact("draft-c", title="draft-c", convening="guild-a", by="admin@example.org", stage="draft")
    await scenario.compact("prop-c", title="prop-c", convening="guild-a", by="admin@example.org", stage="proposed")
    harbour = {"budget_minor": 30_000_000, "start_date": "2027-03-01", "end_date": "2027-06-30"}
    pid = await scenario.production("kestrel", "Harbour", by=admin, bind=["accord"], **harbour)
    unbound = await scenario.production("kestrel", "Unbound", by=admin, **harbour)
    actor = await scenario.engagement(pid, by=admin, **ENGAGEMENT)
    scans = {"key": "custom.scans", "title": "Scans", "text": "The body scan is a condition of this engagement."}
    assert (await client.post("/api/v1/organizations/guild-a/clauses", json=scans, headers=admin)).status_code == 201
    etag = (await client.get("/api/v1/compacts/draft-c/versions/1", headers=admin)).headers["etag"]
    invited = {"email": "invitee@example.org", "role": "member"}
    assert (await client.post("/api/v1/organizations/guild-a/members", json=invited, headers=admin)).status_code == 202
    assert (await client.post("/api/v1/auth/password-reset", json={"email": "plain@example.org"})).status_code == 202
    links = {
        kind: re.search(rf"/{kind}/([A-Za-z0-9_-]+)", await _mail_text(to)).group(1)  # type: ignore[union-attr]
        for kind, to in (("invitations", "invitee@example.org"), ("reset-password", "plain@example.org"))
    }
    return {
        "h": admin,
        "pid": pid,
        "unbound": unbound,
        "actor": actor,
        "etag": etag,
        "invitation": links["invitations"],
        "reset": links["reset-password"],
    }


async def _mail_text(to: str) -> str:
    from guild.infra.tables import MailMessage

    row = await MailMessage.select(MailMessage.body_text).where(MailMessage.to_address == to).first()
    assert row is not None, to
    text: str = row["body_text"]
    return text


ENGAGEMENT = {
    "person_name": "Ada Lead",
    "email": "ada@example.org",
    "department": "production",
    "role": "Lead",
    "level": "journey",
    "rate_minor_per_week": 200_000,
    "currency": "EUR",
    "start_date": "2027-03-01",
    "end_date": "2027-05-28",
}


def _terms() -> dict[str, Any]:
    return example_terms().model_copy(update={"quorum": None}).model_dump(mode="json")


def _contract(w: dict[str, Any]) -> dict[str, Any]:
    return {
        "engagement_id": w["actor"],
        "contract_type": "performer",
        "planned_ai_uses": ["performer_digital_replica"],
        "clauses": [
            {
                "key": "fees_and_schedule",
                "version": 1,
                "params": {
                    "rate_minor_per_week": 200_000,
                    "currency": "EUR",
                    "payment_terms_days": 14,
                    "schedule": "weekly",
                },
            },
            {"key": "no_required_generative_tools", "version": 1, "params": {"worker_may_be_required_to_use": False}},
            {"key": "no_training_ingestion", "version": 1, "params": {"ingestion_without_licence_permitted": False}},
            {"key": "no_scan_condition_of_hire", "version": 1, "params": {"consent_is_condition_of_hire": False}},
            {
                "key": "digital_replica_consent",
                "version": 1,
                "params": {
                    "notice_hours": 72,
                    "consent_scope": "per_use",
                    "pay_multiple_of_scale": 1.5,
                    "use_description": "Crowd extension in the harbour sequence.",
                    "separate_signature": True,
                },
            },
        ],
        "notes": "Printed literally.",
    }


@dataclass
class Example:
    """A valid request of one operation: its URL in the world, its body, and the status it succeeds with."""

    url: str
    body: Any
    ok: tuple[int, ...] = (200, 201)
    headers: dict[str, str] = field(default_factory=dict)
    rows: bool = False  # an import: the body is a JSON array of rows, errors carry the 1-based row


def examples(w: dict[str, Any]) -> dict[tuple[str, str], Example]:
    pid, prod = w["pid"], "/api/v1/productions/{production_id}"
    return {
        ("POST", "/api/v1/users"): Example(
            "/api/v1/users", {"email": "new@example.org", "name": "New User", "password": "a long enough password"}
        ),
        ("POST", "/api/v1/auth/token"): Example(
            "/api/v1/auth/token", {"email": "plain@example.org", "password": "correct horse battery staple"}
        ),
        ("POST", "/api/v1/me/password"): Example(
            "/api/v1/me/password",
            {"current_password": "correct horse battery staple", "new_password": "a long enough new password"},
            ok=(200,),
        ),
        ("POST", "/api/v1/auth/password-reset"): Example(
            "/api/v1/auth/password-reset", {"email": "plain@example.org"}, ok=(202,)
        ),
        ("POST", "/api/v1/auth/password-reset/confirm"): Example(
            "/api/v1/auth/password-reset/confirm",
            {"token": w.get("reset", "t" * 43), "password": "a long enough new password"},
            ok=(204,),
        ),
        ("POST", "/api/v1/invitations/{invitation_token}/accept"): Example(
            f"/api/v1/invitations/{w.get('invitation', 't' * 43)}/accept",
            {"name": "Invited Person", "password": "a long enough password"},
            ok=(200,),
        ),
        ("POST", "/api/v1/organizations"): Example(
            "/api/v1/organizations", {"slug": "new-org", "name": "New Org", "kind": "festival"}
        ),
        ("POST", "/api/v1/organizations/{slug}/members"): Example(
            "/api/v1/organizations/guild-a/members", {"email": "plain@example.org", "role": "member"}, ok=(202,)
        ),
        ("POST", "/api/v1/organizations/{slug}/clauses"): Example(
            "/api/v1/organizations/guild-a/clauses",
            {"key": "custom.catering", "title": "Catering", "text": "Hot meals on every shooting day."},
        ),
        ("POST", "/api/v1/organizations/{slug}/webhooks"): Example(
            "/api/v1/organizations/guild-a/webhooks", {"url": "https://hooks.example.org/guild"}
        ),
        ("POST", "/api/v1/compacts"): Example(
            "/api/v1/compacts",
            {"slug": "new-c", "title": "New", "convening_org": "guild-a", "parties": [], "terms": _terms()},
        ),
        ("PUT", "/api/v1/compacts/{slug}/versions/{number}"): Example(
            "/api/v1/compacts/draft-c/versions/1", {"terms": _terms(), "parties": []}, headers={"If-Match": w["etag"]}
        ),
        ("POST", "/api/v1/compacts/{slug}/versions"): Example("/api/v1/compacts/accord/versions", {"terms": _terms()}),
        ("POST", "/api/v1/compacts/{slug}/versions/{number}/decisions"): Example(
            "/api/v1/compacts/prop-c/versions/1/decisions",
            {"organization": "guild-a", "decision": "reject", "reason": "Quota too low."},
        ),
        ("POST", "/api/v1/compacts/{slug}/versions/{number}/clause-reviews"): Example(
            "/api/v1/compacts/accord/versions/1/clause-reviews",
            {
                "organization": "guild-a",
                "key": "custom.scans",
                "version": 1,
                "party": "guild-a",
                "term_paths": ["ai_uses.performer_digital_replica.policy"],
                "note": "Scheduling only.",
            },
            ok=(200,),
        ),
        ("POST", "/api/v1/compacts/{slug}/versions/{number}/withdraw"): Example(
            "/api/v1/compacts/draft-c/versions/1/withdraw", {"reason": "Superseded by a new draft."}
        ),
        ("POST", "/api/v1/productions"): Example(
            "/api/v1/productions",
            {
                "company": "kestrel",
                "title": "Dune",
                "budget_minor": 5_000_000,
                "currency": "EUR",
                "start_date": "2027-01-04",
                "end_date": "2027-02-26",
            },
        ),
        ("PATCH", prod): Example(
            f"/api/v1/productions/{pid}",
            {"title": "Harbour II", "budget_minor": 31_000_000, "start_date": "2027-03-08", "end_date": "2027-07-02"},
        ),
        ("POST", prod + "/bindings"): Example(
            f"/api/v1/productions/{w['unbound']}/bindings", {"compact": "accord", "version": 1}
        ),
        ("POST", prod + "/engagements"): Example(f"/api/v1/productions/{pid}/engagements", ENGAGEMENT),
        ("PATCH", prod + "/engagements/{engagement_id}"): Example(
            f"/api/v1/productions/{pid}/engagements/{w['actor']}",
            {"role": "Lead actor", "rate_per_week": "1900.00", "end_date": "2027-05-21", "external_ref": "crew-1"},
        ),
        ("PUT", prod + "/disclosures"): Example(
            f"/api/v1/productions/{pid}/disclosures",
            {
                "disclosures": [
                    {
                        "category": "vfx_shot",
                        "total_count": 100,
                        "ai_generated_count": 10,
                        "tools": ["Tool A"],
                        "evidence_notes": "render logs",
                    }
                ]
            },
        ),
        ("POST", prod + "/disclosures/import"): Example(
            f"/api/v1/productions/{pid}/disclosures/import",
            [
                {
                    "category": "music_cue",
                    "total_count": 20,
                    "ai_generated_count": 0,
                    "tools": ["Tool B"],
                    "evidence_notes": "cue sheet",
                }
            ],
            rows=True,
        ),
        ("POST", prod + "/engagements/import"): Example(
            f"/api/v1/productions/{pid}/engagements/import",
            [
                {**ENGAGEMENT, "person_name": "Mara Journey", "email": "ada@example.org", "department": "camera"},
                {
                    **ENGAGEMENT,
                    "person_name": "Ari Apprentice",
                    "email": "ada@example.org",
                    "department": "camera",
                    "level": "apprentice",
                    "rate_minor_per_week": 70_000,
                    "mentor_person_name": "Mara Journey",
                },
            ],
            rows=True,
        ),
        ("POST", prod + "/contracts/preview"): Example(f"/api/v1/productions/{pid}/contracts/preview", _contract(w)),
        ("POST", prod + "/contracts"): Example(
            f"/api/v1/productions/{pid}/contracts", _contract(w), headers={"Idempotency-Key": "survey-1"}
        ),
        ("POST", "/api/v1/contracts/{contract_id}/void"): Example(  # no such contract: the body is checked first
            "/api/v1/contracts/6f1c0d52-7a43-4d4e-9d0e-0c1e2d3f4a5b/void", {"reason": "Issued in error."}, ok=(404,)
        ),
        ("POST", prod + "/apprenticeship/preview"): Example(
            f"/api/v1/productions/{pid}/apprenticeship/preview",
            {
                "budget_minor": 40_000_000,
                "currency": "EUR",
                "shoot_start": "2027-03-01",
                "shoot_end": "2027-06-30",
                "roster": [
                    {
                        "person_name": "Mara Journey",
                        "department": "camera",
                        "level": "journey",
                        "rate_minor_per_week": 200_000,
                        "currency": "EUR",
                        "start_date": "2027-03-01",
                        "end_date": "2027-05-28",
                    }
                ],
            },
        ),
    }


# --- helpers -------------------------------------------------------------------------------------


def _openapi(app) -> dict[str, Any]:
    return app.openapi_schema.to_schema()


def _operations(app):
    for path, item in _openapi(app)["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path, op


def _body_operations(app) -> set[tuple[str, str]]:
    return {(m, p) for m, p, op in _operations(app) if "requestBody" in op or p.endswith("/import")}


async def snapshot() -> dict[str, list[str]]:
    """Every row of every table (updates show, not only inserts)."""
    from guild.piccolo_app import APP_CONFIG

    out = {}
    for table in APP_CONFIG.table_classes:
        rows = await table.select()
        out[table._meta.tablename] = sorted(repr(sorted(row.items())) for row in rows)
    return out


def _leaves(value: Any, path: tuple[Any, ...] = ()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


def mutations(value: Any) -> list[Any]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, str):
        return [value[:1] + "\x00" + value[1:]]
    if isinstance(value, int):
        return [True, str(value), BIG, -BIG - 1]
    if isinstance(value, float):
        return [True, str(value)]
    raise AssertionError(f"unexpected leaf {value!r}")


def _norm(name: str) -> str:
    return re.sub(r"\[(\d+)\]", r".\1", name)


def problem(r, *statuses: int) -> dict[str, Any]:
    assert r.status_code in statuses, (r.status_code, r.text[:500])
    assert r.headers["content-type"] == "application/problem+json", r.headers["content-type"]
    body = r.json()
    assert body["status"] == r.status_code and body["title"] and body["type"].startswith("urn:guild:problem:")
    return body


def refused_at(r, path: tuple[Any, ...], rows: bool) -> None:
    """A 422 whose errors all name the mutated field (imports: and its 1-based row)."""
    assert r.status_code == 422, (path, r.status_code, r.text[:300])
    body = problem(r, 422)
    if rows:
        expected = {(path[0] + 1, ".".join(map(str, path[1:])))}
        named = {(e["row"], _norm(e["field"])) for e in body["errors"]}
    else:
        expected = {".".join(map(str, path))}
        named = {_norm(e["field"]) for e in body["errors"]}
    assert named == expected, (path, body["errors"])


# --- the survey ----------------------------------------------------------------------------------


async def test_every_operation_with_a_body_has_an_example(app):
    placeholder = {"pid": "p", "unbound": "u", "actor": "a", "etag": "e"}
    assert _body_operations(app) == set(examples(placeholder))


def _operation_ids() -> list[str]:
    return [f"{m} {p}" for m, p in examples({"pid": "p", "unbound": "u", "actor": "a", "etag": "e"})]


@pytest.mark.parametrize("operation", _operation_ids())
async def test_hostile_bodies_are_refused_and_change_nothing(client, world, operation):
    method, template = operation.split(" ", 1)
    ex = examples(world)[(method, template)]
    headers = {**world["h"], **ex.headers}
    json_headers = {**headers, "content-type": "application/json"}

    async def send(body: Any) -> Any:
        return await client.request(method, ex.url, content=json.dumps(body).encode(), headers=json_headers)

    before = await snapshot()
    tried = 0
    for path, value in _leaves(ex.body):
        for bad in mutations(value):
            refused_at(await send(_replace(ex.body, path, bad)), path, ex.rows)
            tried += 1
    for raw, rule in ((DEEP, "json_depth"), (NOT_UTF8, "utf8")):
        r = await client.request(method, ex.url, content=raw, headers=json_headers)
        body = problem(r, 400, 422)
        assert [(e["field"], e["rule"]) for e in body["errors"]] == [("body", rule)], body
    if not ex.rows:
        body = problem(await client.request(method, ex.url, headers=headers), 422)
        assert [(e["field"], e["rule"]) for e in body["errors"]] == [("body", "missing")], body
    assert tried > 0
    assert await snapshot() == before

    r = await send(ex.body)  # the unmutated example reaches the operation
    assert r.status_code in ex.ok, r.text


def _param_cases(app, w: dict[str, Any]):
    """(method, url, name, where) for every path and query parameter of every operation, each made hostile."""
    good = {
        "slug": "guild-a",
        "number": "1",
        "production_id": w["pid"],
        "contract_id": w["pid"],
        "membership_id": w["pid"],
        "endpoint_id": w["pid"],
        "commitment_id": w["pid"],
        "run_id": w["pid"],
        "key": "custom.fair_credit",
        "version": "1",
        "engagement_id": w["actor"],
        "invitation_id": w["pid"],
        "user_id": w["pid"],
        "token": "t" * 43,
        "production_file": f"{w['pid']}.ics",
        "sha256": "0" * 64,
    }
    good_query = {"from": "1", "to": "1", "limit": "10", "kind": "guild", "status": "open", "format": "json"}
    for method, path, op in _operations(app):
        params = op.get("parameters", [])
        for p in params:
            if p["in"] not in ("path", "query"):
                continue
            kind = p["schema"].get("type")
            hostile = [str(BIG), "1" + "0" * 30] if kind == "integer" else ["a\x00b"]
            for value in hostile:
                values = {
                    q["name"]: good.get(q["name"], good_query.get(q["name"])) for q in params if q["in"] != "header"
                }
                values[p["name"]] = value
                url = path
                query = []
                for q in params:
                    if q["in"] == "path":
                        url = url.replace("{" + q["name"] + "}", quote(values[q["name"]], safe=""))
                    elif q["in"] == "query" and (q["name"] == p["name"] or q.get("required")):
                        query.append(f"{q['name']}={quote(values[q['name']], safe='')}")
                yield method, url + ("?" + "&".join(query) if query else ""), p["name"], p["in"]


async def test_hostile_path_and_query_parameters_are_refused_and_change_nothing(app, client, world):
    before = await snapshot()
    cases = list(_param_cases(app, world))
    assert len(cases) > 40
    for method, url, name, _where in cases:
        r = await client.request(
            method,
            url,
            headers={**world["h"], "content-type": "application/json"},
            content=b"{}" if method in ("POST", "PUT", "PATCH") else None,
        )
        assert 400 <= r.status_code < 500, (method, url, r.status_code, r.text[:300])
        body = problem(r, r.status_code)
        if r.status_code == 422 and body.get("errors") and body["errors"][0].get("source") in ("path", "query"):
            assert name in {e["field"] for e in body["errors"]}, (method, url, body)
    assert await snapshot() == before


# --- targeted cases ------------------------------------------------------------------------------


def _fields(r, status: int = 422) -> list[tuple[str, str]]:
    return [(e["field"], e["rule"]) for e in problem(r, status)["errors"]]


async def test_a_csv_cell_over_the_csv_module_limit_names_its_row_and_column(client, world):
    """Python's csv refuses cells over 131,072 characters with an error naming neither (was a 500)."""
    url, h = f"/api/v1/productions/{world['pid']}/engagements/import", {**world["h"], "content-type": "text/csv"}
    header = "person_name,department,role,level,rate_minor_per_week,currency,start_date,end_date"
    good = "Mara Journey,camera,Focus puller,journey,200000,EUR,2027-03-01,2027-05-28"
    before = await snapshot()
    huge = "\n".join([header, good, "x" * 200_000 + ",camera,Op,junior,100000,EUR,2027-03-01,2027-05-28"])
    body = problem(await client.post(url, content=huge.encode(), headers=h), 422)
    assert [(e["row"], e["field"], e["rule"]) for e in body["errors"]] == [(2, "person_name", "string_too_long")]
    huge_header = header + "," + "y" * 200_000 + "\n" + good + ",1"
    body = problem(await client.post(url, content=huge_header.encode(), headers=h), 422)
    [error] = body["errors"]
    assert (error["row"], error["rule"]) == (0, "unknown_column") and len(error["message"]) < 120
    assert await snapshot() == before
    # CSV cells are text: "200000" is the number 200000 there
    r = await client.post(url, content=f"{header}\n{good}".encode(), headers=h)
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text


async def test_json_imports_are_typed_depth_limited_and_utf8(client, world):
    url = f"/api/v1/productions/{world['pid']}/engagements/import"
    h = {**world["h"], "content-type": "application/json"}
    before = await snapshot()
    row = {**ENGAGEMENT, "rate_minor_per_week": "200000"}  # a numeric string is not an integer in JSON
    body = problem(await client.post(url, content=json.dumps([row]).encode(), headers=h), 422)
    assert [(e["row"], e["field"], e["rule"]) for e in body["errors"]] == [(1, "rate_minor_per_week", "int_type")]
    assert _fields(await client.post(url, content=b"[" * 1000 + b"]" * 1000, headers=h), 400) == [
        ("body", "json_depth")
    ]
    assert _fields(await client.post(url, content=b'[{"person_name": "\xff"}]', headers=h)) == [("body", "utf8")]
    assert await snapshot() == before


async def test_shoot_dates_outside_1900_to_2200_are_refused_and_the_bounds_bind(client, world):
    """Year 1 reached the due-date arithmetic at binding (OverflowError, a 500); the bounds themselves work."""
    h = world["h"]
    base = {"company": "kestrel", "title": "Ancient", "budget_minor": 1_000, "currency": "EUR"}
    before = await snapshot()
    r = await client.post(
        "/api/v1/productions", json={**base, "start_date": "0001-01-01", "end_date": "0001-03-01"}, headers=h
    )
    assert _fields(r) == [("start_date", "greater_than_equal"), ("end_date", "greater_than_equal")]
    r = await client.post(
        "/api/v1/productions", json={**base, "start_date": "2027-01-04", "end_date": "9999-12-31"}, headers=h
    )
    assert _fields(r) == [("end_date", "less_than_equal")]
    r = await client.post("/api/v1/productions", json={**base, "start_date": 1700000000}, headers=h)
    assert _fields(r) == [("start_date", "date_type")]  # not seconds since 1970
    r = await client.patch(f"/api/v1/productions/{world['pid']}", json={"start_date": "0001-01-01"}, headers=h)
    assert _fields(r) == [("start_date", "greater_than_equal")]
    assert await snapshot() == before

    for start, end in (("1900-01-01", "1900-03-01"), ("2200-10-01", "2200-12-31")):
        r = await client.post("/api/v1/productions", json={**base, "start_date": start, "end_date": end}, headers=h)
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        r = await client.post(
            f"/api/v1/productions/{pid}/bindings", json={"compact": "accord", "version": 1}, headers=h
        )
        assert r.status_code == 201, r.text
        due = (await client.get(f"/api/v1/productions/{pid}/commitments", headers=h)).json()
        assert {c["key"] for c in due} == {"skills_plan", "final_plan"}


async def test_refusals_name_the_field_not_the_body(client, world):
    h, pid = world["h"], world["pid"]
    before = await snapshot()
    r = await client.post(
        "/api/v1/productions",
        json={
            "company": "kestrel",
            "title": "Backwards",
            "budget_minor": 1,
            "currency": "EUR",
            "start_date": "2027-05-02",
            "end_date": "2027-05-01",
        },
        headers=h,
    )
    assert _fields(r) == [("end_date", "dates_in_order")]
    r = await client.post(
        f"/api/v1/productions/{pid}/engagements",
        json={**ENGAGEMENT, "start_date": "2027-05-02", "end_date": "2027-05-01"},
        headers=h,
    )
    assert _fields(r) == [("end_date", "dates_in_order")]
    vfx = {"category": "vfx_shot", "total_count": 1, "ai_generated_count": 0}
    r = await client.put(
        f"/api/v1/productions/{pid}/disclosures",
        headers=h,
        json={"disclosures": [vfx, {**vfx, "category": "music_cue"}, vfx]},
    )
    assert _fields(r) == [("disclosures.2.category", "category_once")]
    r = await client.post(
        "/api/v1/compacts/prop-c/versions/1/decisions",
        headers=h,
        json={"organization": "guild-a", "decision": "reject"},
    )
    assert _fields(r) == [("reason", "reason_required")]
    r = await client.post("/api/v1/productions", headers={**h, "content-type": "application/json"})
    body = problem(r, 422)
    assert body["errors"] == [
        {"field": "body", "rule": "missing", "message": "a request body is required", "source": "body"}
    ]
    assert await snapshot() == before


async def test_integers_beyond_their_column_are_refused(client, world):
    """version >= 2**31 overflowed PostgreSQL's INTEGER, >= 2**63 SQLite's; true was stored as 1."""
    h = world["h"]
    before = await snapshot()
    url = f"/api/v1/productions/{world['unbound']}/bindings"
    for version in (2**31, 2**63, 10**30):
        assert _fields(await client.post(url, json={"compact": "accord", "version": version}, headers=h)) == [
            ("version", "less_than_equal")
        ]
    assert _fields(await client.post(url, json={"compact": "accord", "version": True}, headers=h)) == [
        ("version", "int_type")
    ]
    for number in (b"9" * 5000, b"1e400"):  # beyond what the JSON decoder holds
        r = await client.post(
            url,
            content=b'{"compact": "accord", "version": ' + number + b"}",
            headers={**h, "content-type": "application/json"},
        )
        assert _fields(r, 400) == [("body", "json")]
    r = await client.post(
        "/api/v1/productions",
        headers=h,
        json={"company": "kestrel", "title": "Bool", "budget_minor": True, "currency": "EUR"},
    )
    assert _fields(r) == [("budget_minor", "int_type")]
    terms = _terms()
    terms["ai_disclosure"]["max_ai_share_pct"] = True
    r = await client.post(
        "/api/v1/compacts",
        headers=h,
        json={"slug": "bool-c", "title": "Bool", "convening_org": "guild-a", "terms": terms},
    )
    assert _fields(r) == [("terms.ai_disclosure.max_ai_share_pct", "float_type")]
    for url in (
        "/api/v1/compacts/accord/versions/2147483648",
        "/api/v1/compacts/accord/diff?from=2147483648&to=1",
        "/api/v1/compacts/accord/diff?from=1&to=9223372036854775808",
    ):
        body = problem(await client.get(url, headers=h), 422)
        assert {e["field"] for e in body["errors"]} <= {"number", "from", "to"} and body["errors"], body
    assert await snapshot() == before


@pytest.mark.parametrize("key", ["a\x00b", "tab\there", "é-not-ascii".encode(), "k" * 201])
async def test_an_idempotency_key_is_visible_ascii(client, world, key):
    """The key is stored with the contract: NUL broke PostgreSQL."""
    before = await snapshot()
    r = await client.post(
        f"/api/v1/productions/{world['pid']}/contracts",
        json=_contract(world),
        headers={**world["h"], "Idempotency-Key": key},
    )
    assert [e["field"] for e in problem(r, 422)["errors"]] == ["Idempotency-Key"]
    assert await snapshot() == before
