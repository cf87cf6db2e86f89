"""HTTP conventions of the API: paging (limit, cursor, Link rel="next") with filters, unknown query parameters,
Location on 201, ETag and 304, 415, WWW-Authenticate on 401, HEAD wherever GET works."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from guild.infra.settings import get_settings
from tests.integration.scenario import ENGAGEMENT, person

NEXT = re.compile(r'^<([^>]+)>; rel="next"$')


@pytest.fixture
async def world(scenario):
    """kestrel's producer with five productions (two shooting); guild-a's compact c1 bound to the first, which
    engages five crew without contracts (five contract_missing findings once checked) and AI over the cap."""
    await scenario.organizations({"guild-a": "guild", "kestrel": "production_company", "blue": "production_company"})
    h = await scenario.people(
        officer=person("o@example.org", ("guild-a", "officer")),
        producer=person("p@example.org", ("kestrel", "producer")),
        other=person("b@example.org", ("blue", "producer")),
        admin=person("admin@example.org", admin=True),
    )
    await scenario.compact("c1", convening="guild-a", by="o@example.org")
    pids = [
        await scenario.production("kestrel", f"Film {i}", by=h["producer"], bind=["c1"] if i == 0 else [])
        for i in range(5)
    ]
    return {"h": h, "pids": pids, "scenario": scenario}


def _next(r) -> str | None:
    """The path and query of the Link rel="next" target, checked to be absolute on public_base_url."""
    link = r.headers.get("link")
    if link is None:
        return None
    m = NEXT.match(link)
    assert m, link
    url = m.group(1)
    base = get_settings().public_base_url
    assert url.startswith(base + "/api/v1/"), url
    return url.removeprefix(base)


async def _all_pages(client, url: str, headers, between=None) -> tuple[list[dict], list[str]]:
    rows: list[dict] = []
    links: list[str] = []
    while url:
        r = await client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        rows.extend(r.json())
        nxt = _next(r)
        if nxt is None:
            break
        links.append(nxt)
        if between is not None and len(links) == 1:
            await between()
        url = nxt
    return rows, links


async def _problem_fields(r, status: int) -> set[str]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    return {e["field"] for e in r.json().get("errors", [])}


async def test_findings_page_with_filters_every_row_once_under_inserts(client, world):
    h, pid = world["h"], world["pids"][0]
    scenario = world["scenario"]
    for i in range(5):
        await scenario.engagement(pid, f"Grip {i}", by=h["producer"], department="grip", role="Grip")
    await scenario.disclosures(
        pid, [{"category": "vfx_shot", "total_count": 100, "ai_generated_count": 60}], by=h["producer"]
    )
    assert (await client.post(f"/api/v1/productions/{pid}/compliance-checks", headers=h["producer"])).status_code == 201
    everything = (await client.get(f"/api/v1/productions/{pid}/findings?limit=200", headers=h["producer"])).json()
    missing = {f["id"] for f in everything if f["rule"] == "contract_missing"}
    assert len(missing) == 5 and len(everything) > 5

    async def insert() -> None:  # a new engagement and a new check between pages: a sixth contract_missing
        await scenario.engagement(pid, "Late Grip", by=h["producer"], department="grip", role="Grip")
        await client.post(f"/api/v1/productions/{pid}/compliance-checks", headers=h["producer"])

    url = f"/api/v1/productions/{pid}/findings?rule=contract_missing&status=open&limit=2"
    rows, links = await _all_pages(client, url, h["producer"], between=insert)
    ids = [f["id"] for f in rows]
    assert len(ids) == len(set(ids)), "a row came twice"
    assert missing <= set(ids) and len(ids) == 6  # every row once, and the one inserted after the first page
    assert {f["rule"] for f in rows} == {"contract_missing"}
    assert len(links) == 2  # three pages of two
    for link in links:  # the next links carry the filters and the limit
        query = parse_qs(urlsplit(link).query)
        assert query["rule"] == ["contract_missing"] and query["status"] == ["open"] and query["limit"] == ["2"]

    # the compact's officers page the same findings under the compact, ordered the same way
    rows, _ = await _all_pages(client, "/api/v1/compacts/c1/findings?rule=contract_missing&limit=4", h["officer"])
    assert [f["id"] for f in rows] == ids

    # severity and due dates
    by_severity = (
        await client.get(f"/api/v1/productions/{pid}/findings?severity=critical", headers=h["producer"])
    ).json()
    assert all(f["severity"] == "critical" for f in by_severity)
    due = sorted(f["due_at"] for f in everything)
    later = (
        await client.get(
            f"/api/v1/productions/{pid}/findings", params={"due_after": "2200-01-01T00:00:00Z"}, headers=h["producer"]
        )
    ).json()
    assert later == []
    earlier = (
        await client.get(
            f"/api/v1/productions/{pid}/findings",
            params={"due_before": "2200-01-01T00:00:00Z", "limit": 200},
            headers=h["producer"],
        )
    ).json()
    assert len(earlier) == len(everything) + 1 and due
    url = f"/api/v1/productions/{pid}/findings"
    for params, field in (
        ({"severity": "fatal"}, "severity"),
        ({"rule": "no_such_rule"}, "rule"),
        ({"due_before": "yesterday"}, "due_before"),
        ({"due_after": "2026-13-45"}, "due_after"),
    ):
        assert field in await _problem_fields(await client.get(url, params=params, headers=h["producer"]), 422)


async def test_productions_page_with_a_status_filter(client, world):
    h, pids = world["h"], world["pids"]
    for pid in pids[:2]:
        r = await client.patch(f"/api/v1/productions/{pid}", json={"status": "shooting"}, headers=h["producer"])
        assert r.status_code == 200, r.text

    async def insert() -> None:
        await world["scenario"].production("kestrel", "Inserted", by=h["producer"])

    rows, links = await _all_pages(client, "/api/v1/productions?limit=2", h["producer"], between=insert)
    ids = [p["id"] for p in rows]
    assert len(ids) == len(set(ids)) == 6 and set(pids) <= set(ids) and len(links) == 2
    shooting = await client.get("/api/v1/productions?status=shooting&limit=1", headers=h["producer"])
    assert len(shooting.json()) == 1 and shooting.json()[0]["status"] == "shooting"
    rest, _ = await _all_pages(client, _next(shooting), h["producer"])
    assert {p["id"] for p in shooting.json() + rest} == set(pids[:2])
    # the other company sees none of them, on any page
    assert (await client.get("/api/v1/productions", headers=h["other"])).json() == []
    assert "status" in await _problem_fields(
        await client.get("/api/v1/productions?status=wrapped", headers=h["producer"]), 422
    )


async def test_limit_bounds_and_tampered_cursors(client, world):
    h = world["h"]
    for limit in ("0", "201", "-1", "ten", "1e3"):
        r = await client.get(f"/api/v1/productions?limit={limit}", headers=h["producer"])
        assert r.status_code in (400, 422), r.text
        assert "limit" in {e["field"] for e in r.json().get("errors", [])}, r.text
    assert len((await client.get("/api/v1/productions?limit=200", headers=h["producer"])).json()) == 5
    assert "link" not in (await client.get("/api/v1/productions?limit=5", headers=h["producer"])).headers

    first = await client.get("/api/v1/productions?limit=2", headers=h["producer"])
    cursor = parse_qs(urlsplit(_next(first)).query)["cursor"][0]
    b64 = lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")  # noqa: E731
    garbage = [
        "!!!",
        "not-base64-%%",
        b64(b"\xff\xfe"),
        b64(b"{not json"),
        b64(b'{"a": 1}'),
        b64(b"[]"),
        b64(b"[true, false]"),
        b64(b'["2026", 5]'),  # the wrong types for this list
        b64(b"[1]"),  # the wrong length
        cursor[:-3],
        "A" * 500,
    ]
    for bad in garbage:
        r = await client.get("/api/v1/productions", params={"cursor": bad, "limit": 2}, headers=h["producer"])
        assert r.status_code in (400, 422), (bad, r.status_code, r.text)
        assert "cursor" in {e["field"] for e in r.json().get("errors", [])}, (bad, r.text)
    # a cursor of another list (a key of another shape)
    orgs = await client.get("/api/v1/organizations?limit=1", headers=h["producer"])
    org_cursor = parse_qs(urlsplit(_next(orgs)).query)["cursor"][0]
    r = await client.get("/api/v1/productions", params={"cursor": org_cursor}, headers=h["producer"])
    assert "cursor" in await _problem_fields(r, 400)
    # a forged but well-formed cursor pages from wherever it points, within what the caller may see
    r = await client.get("/api/v1/productions", params={"cursor": b64(b'[0, ""]')}, headers=h["other"])
    assert r.status_code == 200 and r.json() == []
    for url in ("/api/v1/productions", f"/api/v1/productions/{world['pids'][0]}/findings"):
        r = await client.get(url, params={"cursor": "x" * 600}, headers=h["producer"])
        assert r.status_code in (400, 422) and "cursor" in {e["field"] for e in r.json()["errors"]}


async def test_unknown_query_parameters_are_refused_by_name(client, world):
    h, pid = world["h"], world["pids"][0]
    cases = [
        ("GET", "/api/v1/productions?stauts=shooting"),
        ("GET", f"/api/v1/productions/{pid}?stauts=all"),
        ("GET", "/api/v1/me?stauts=1"),
        ("GET", "/health/live?stauts=1"),
        ("HEAD", "/api/v1/productions?stauts=1"),
        ("DELETE", f"/api/v1/productions/{pid}/engagements/{pid}?stauts=1"),
    ]
    for method, url in cases:
        r = await client.request(method, url, headers=h["producer"])
        assert r.status_code == 400, (method, url, r.status_code, r.text)
        if method != "HEAD":
            assert await _problem_fields(r, 400) == {"stauts"}
    r = await client.post(
        "/api/v1/productions?dry_run=1", json={"company": "kestrel", "title": "X"}, headers=h["producer"]
    )
    assert await _problem_fields(r, 400) == {"dry_run"}
    assert len((await client.get("/api/v1/productions?limit=200", headers=h["producer"])).json()) == 5
    # declared parameters, paging and filters pass
    assert (
        await client.get("/api/v1/productions?status=development&limit=3", headers=h["producer"])
    ).status_code == 200


async def test_created_resources_have_a_location_that_get_resolves(client, world):
    h = world["h"]
    base = get_settings().public_base_url
    r = await client.post(
        "/api/v1/productions",
        json={"company": "kestrel", "title": "Located", "budget_minor": 100, "currency": "EUR"},
        headers=h["producer"],
    )
    assert r.status_code == 201, r.text
    location = r.headers["location"]
    assert location == f"{base}/api/v1/productions/{r.json()['id']}"
    got = await client.get(location.removeprefix(base), headers=h["producer"])
    assert got.status_code == 200 and got.json()["id"] == r.json()["id"]

    r = await client.post(
        "/api/v1/organizations", json={"slug": "new-guild", "name": "New", "kind": "guild"}, headers=h["admin"]
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"{base}/api/v1/organizations/new-guild"
    assert (await client.get("/api/v1/organizations/new-guild", headers=h["admin"])).json()["slug"] == "new-guild"

    r = await client.post("/api/v1/compacts/c1/versions", json={}, headers=h["officer"])
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"{base}/api/v1/compacts/c1/versions/2"
    assert (await client.get("/api/v1/compacts/c1/versions/2", headers=h["officer"])).json()["number"] == 2
    pid = world["pids"][1]
    r = await client.post(
        f"/api/v1/productions/{pid}/engagements",
        json={**ENGAGEMENT, "person_name": "Located Grip"},
        headers=h["producer"],
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"{base}/api/v1/productions/{pid}/engagements/{r.json()['id']}"
    got = await client.get(r.headers["location"].removeprefix(base), headers=h["producer"])
    assert got.status_code == 200 and got.json() == r.json()
    assert (await client.get(r.headers["location"].removeprefix(base), headers=h["other"])).status_code == 404
    missing = f"/api/v1/productions/{pid}/engagements/{world['pids'][0]}"
    assert (await client.get(missing, headers=h["producer"])).status_code == 404
    r = await client.post(
        "/api/v1/organizations/guild-a/webhooks", json={"url": "https://example.org/hook"}, headers=h["officer"]
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"{base}/api/v1/organizations/guild-a/webhooks/{r.json()['id']}"
    got = await client.get(r.headers["location"].removeprefix(base), headers=h["officer"])
    assert got.status_code == 200 and got.json()["url"] == "https://example.org/hook" and "secret" not in got.json()
    assert (await client.get(r.headers["location"].removeprefix(base), headers=h["producer"])).status_code in (403, 404)

    r = await client.post(f"/api/v1/productions/{pid}/compliance-checks", headers=h["producer"])
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"{base}/api/v1/productions/{pid}/compliance-checks/{r.json()['id']}"
    got = await client.get(r.headers["location"].removeprefix(base), headers=h["producer"])
    assert got.status_code == 200 and got.json() == r.json()
    assert (await client.get(r.headers["location"].removeprefix(base), headers=h["other"])).status_code == 404
    elsewhere = f"/api/v1/productions/{world['pids'][2]}/compliance-checks/{r.json()['id']}"
    assert (await client.get(elsewhere, headers=h["producer"])).status_code == 404
    r = await client.post("/api/v1/me/calendar-token", headers=h["producer"])
    assert r.status_code == 201 and r.headers["location"] == r.json()["me_url"]
    feed = await client.get(r.headers["location"].removeprefix(base))
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    r = await client.post(
        "/api/v1/organizations/guild-a/clauses",
        json={"key": "custom.fair_credit", "title": "Fair credit", "text": "Credits name every apprentice."},
        headers=h["officer"],
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"{base}/api/v1/organizations/guild-a/clauses/custom.fair_credit/versions/1"
    got = await client.get(r.headers["location"].removeprefix(base), headers=h["officer"])
    assert got.status_code == 200 and got.json() == r.json()
    assert (await client.get(r.headers["location"].removeprefix(base), headers=h["other"])).status_code == 404
    assert (
        await client.get("/api/v1/organizations/guild-a/clauses/custom.fair_credit/versions/2", headers=h["officer"])
    ).status_code == 404
    # a 200 from the same operation (bound again to the same version) has no Location
    pid = world["pids"][0]
    r = await client.post(
        f"/api/v1/productions/{pid}/bindings", json={"compact": "c1", "version": 1}, headers=h["producer"]
    )
    assert r.status_code in (200, 409) and "location" not in r.headers


async def test_etags_answer_304_until_the_resource_changes(client, world):
    h, pid = world["h"], world["pids"][1]
    url = f"/api/v1/productions/{pid}"
    r = await client.get(url, headers=h["producer"])
    etag = r.headers["etag"]
    assert r.status_code == 200 and etag
    same = await client.get(url, headers={**h["producer"], "If-None-Match": etag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
    listed = await client.get(url, headers={**h["producer"], "If-None-Match": f'"other", {etag}'})
    assert listed.status_code == 304
    assert (await client.patch(url, json={"title": "Renamed"}, headers=h["producer"])).status_code == 200
    changed = await client.get(url, headers={**h["producer"], "If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["title"] == "Renamed"
    assert changed.headers["etag"] != etag
    # another user's view is not theirs to probe: 404 whatever the tag
    assert (await client.get(url, headers={**h["other"], "If-None-Match": etag})).status_code == 404

    # a compact version's ETag is its revision tag: If-None-Match and If-Match both use it
    vurl = "/api/v1/compacts/c1/versions/1"
    version = await client.get(vurl, headers=h["officer"])
    tag = version.headers["etag"]
    assert (await client.get(vurl, headers={**h["officer"], "If-None-Match": tag})).status_code == 304
    draft = await client.post("/api/v1/compacts/c1/versions", json={}, headers=h["officer"])
    durl = "/api/v1/compacts/c1/versions/2"
    dtag = (await client.get(durl, headers=h["officer"])).headers["etag"]
    assert (await client.get(durl, headers={**h["officer"], "If-None-Match": dtag})).status_code == 304
    terms = draft.json()["terms"]
    put = await client.put(durl, json={"terms": terms}, headers={**h["officer"], "If-Match": dtag})
    assert put.status_code == 200, put.text
    assert (await client.get(durl, headers={**h["officer"], "If-None-Match": dtag})).status_code == 200


async def test_wrong_content_type_is_415_and_changes_nothing(client, world):
    h = world["h"]
    body = b'{"company": "kestrel", "title": "Typed", "budget_minor": 100, "currency": "EUR"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"):
        headers = {**h["producer"], "content-type": content_type}
        r = await client.post("/api/v1/productions", content=body, headers=headers)
        assert r.status_code == 415, (content_type, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == 415
    assert len((await client.get("/api/v1/productions", headers=h["producer"])).json()) == 5
    ok = await client.post(
        "/api/v1/productions",
        content=body,
        headers={**h["producer"], "content-type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 201, ok.text


async def test_401_names_the_bearer_scheme(client, world):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}):
        r = await client.get("/api/v1/me", headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer ")
    r = await client.post("/api/v1/auth/token", json={"email": "p@example.org", "password": "wrong password!"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer ")


async def test_head_answers_like_get_without_a_body(client, world):
    h, pid = world["h"], world["pids"][0]
    for url in (f"/api/v1/productions/{pid}", "/api/v1/productions?limit=2", "/health/live", "/api/v1/compacts/c1"):
        got = await client.get(url, headers=h["producer"])
        head = await client.head(url, headers=h["producer"])
        assert head.status_code == got.status_code == 200, url
        assert head.content == b""
        assert head.headers["etag"] == got.headers["etag"]
        assert int(head.headers["content-length"]) == len(got.content)
        assert head.headers.get("link") == got.headers.get("link")
    assert (await client.head(f"/api/v1/productions/{pid}", headers=h["other"])).status_code == 404
    assert (await client.head("/api/v1/me")).status_code == 401
    etag = (await client.get(f"/api/v1/productions/{pid}", headers=h["producer"])).headers["etag"]
    r = await client.head(f"/api/v1/productions/{pid}", headers={**h["producer"], "If-None-Match": etag})
    assert r.status_code == 304


def test_every_list_operation_pages(app):
    """A GET whose answer is a JSON array takes limit and cursor (a new list cannot forget them)."""
    from typing import get_args, get_origin

    from litestar.response import Response
    from litestar.routes import HTTPRoute

    lists = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for method, (handler, kwargs_model) in route.route_handler_map.items():
            annotation = handler.parsed_fn_signature.return_type.annotation
            if get_origin(annotation) is Response:
                annotation = get_args(annotation)[0]
            if method == "GET" and get_origin(annotation) is list:
                lists.append(route.path)
                names = {p.field_alias for p in kwargs_model.expected_query_params}
                assert {"limit", "cursor"} <= names, route.path
    assert len(lists) >= 20


async def test_every_operation_refuses_an_unknown_parameter(client, app, world):
    """Every GET without path parameters, as the site admin: 400 naming the stranger."""
    document = app.openapi_schema.to_schema()
    checked = 0
    for path, item in document["paths"].items():
        if "{" in path or "get" not in item or not path.startswith(("/api/", "/health")):
            continue
        r = await client.get(path, params={"zzz": "1"}, headers=world["h"]["admin"])
        assert r.status_code == 400, (path, r.status_code, r.text)
        assert {e["field"] for e in r.json()["errors"]} == {"zzz"}, path
        checked += 1
    assert checked >= 8


async def test_a_created_account_has_a_location_only_a_site_admin_reads(client, scenario):
    from guild.infra.settings import get_settings

    h = await scenario.people(
        admin=person("root@example.org", admin=True),
        plain=person("plain@example.org"),
    )
    r = await client.post(
        "/api/v1/users",
        json={"email": "new.person@example.org", "name": "New Person", "password": "a long enough password"},
        headers=h["admin"],
    )
    assert r.status_code == 201, r.text
    base = get_settings().public_base_url
    assert r.headers["location"] == f"{base}/api/v1/users/{r.json()['id']}"
    path = r.headers["location"].removeprefix(base)
    got = await client.get(path, headers=h["admin"])
    assert got.status_code == 200 and got.json()["email"] == "new.person@example.org"
    assert "password" not in got.text
    assert (await client.get(path, headers=h["plain"])).status_code == 403
    missing = path.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    assert (await client.get(missing, headers=h["admin"])).status_code == 404
