"""Malformed or hostile input: a 4xx problem response naming the field and rule, and nothing written."""

from __future__ import annotations

import pytest


@pytest.fixture
async def admin(scenario):
    return (await scenario.user("admin@example.org", admin=True)).headers


async def _org_count() -> int:
    from guild.infra.tables import Organization

    return await Organization.count()


def _assert_problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["title"]
    return body


async def test_malformed_json(client, admin):
    r = await client.post(
        "/api/v1/organizations", content=b'{"slug": "x",', headers={**admin, "content-type": "application/json"}
    )
    _assert_problem(r, 400)
    assert await _org_count() == 0


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"slug": "ok-slug", "name": "N", "kind": "guild", "extra": 1}, "extra", "extra_forbidden"),
        ({"slug": "ok-slug", "name": "N", "kind": "cartel"}, "kind", "enum"),
        ({"slug": "ok-slug", "name": 42, "kind": "guild"}, "name", "string_type"),
        ({"slug": "ok-slug", "name": "x" * 201, "kind": "guild"}, "name", "string_too_long"),
        ({"slug": "Bad Slug!", "name": "N", "kind": "guild"}, "slug", "string_pattern_mismatch"),
        ({"name": "N", "kind": "guild"}, "slug", "missing"),
    ],
)
async def test_invalid_fields_are_named_with_their_rule(client, admin, body, field, rule):
    r = await client.post("/api/v1/organizations", json=body, headers=admin)
    problem = _assert_problem(r, 422)
    assert {"field": field, "rule": rule} in [{"field": e["field"], "rule": e["rule"]} for e in problem["errors"]]
    assert await _org_count() == 0


async def test_every_invalid_field_is_listed(client, admin):
    r = await client.post("/api/v1/organizations", json={"slug": "!", "name": "", "kind": "x"}, headers=admin)
    problem = _assert_problem(r, 422)
    assert {e["field"] for e in problem["errors"]} == {"slug", "name", "kind"}


async def test_body_over_one_mebibyte_is_413(client, admin):
    huge = b'{"slug": "big", "name": "' + b"x" * (1024 * 1024 + 10) + b'", "kind": "guild"}'
    r = await client.post("/api/v1/organizations", content=huge, headers={**admin, "content-type": "application/json"})
    _assert_problem(r, 413)
    assert await _org_count() == 0


async def test_wrong_types_in_login_are_422_not_500(client):
    r = await client.post("/api/v1/auth/token", json={"email": ["a"], "password": None})
    problem = _assert_problem(r, 422)
    assert {e["field"] for e in problem["errors"]} == {"email", "password"}


async def test_bad_path_parameter_is_4xx(client, scenario):
    await scenario.org("guild-a")
    officer = (await scenario.user("o@example.org", ("guild-a", "officer"))).headers
    r = await client.delete("/api/v1/organizations/guild-a/members/not-a-uuid", headers=officer)
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"] == "application/problem+json"


async def test_unknown_route_and_method_are_problems(client, admin):
    _assert_problem(await client.get("/api/v1/nothing-here", headers=admin), 404)
    _assert_problem(await client.put("/api/v1/me", headers=admin), 405)


async def test_request_id_is_echoed_or_made(client, admin):
    r = await client.get("/api/v1/me", headers={**admin, "x-request-id": "trace-12345678"})
    assert r.headers["x-request-id"] == "trace-12345678"
    r = await client.get("/api/v1/me", headers={**admin, "x-request-id": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces" and len(r.headers["x-request-id"]) == 32
