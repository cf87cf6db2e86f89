"""Organisation API: every role's allowed and denied calls."""

from __future__ import annotations

import pytest

ORG = {"slug": "riverlight", "name": "Riverlight Film Festival", "kind": "festival"}


@pytest.fixture
async def world(users):
    """Two guilds; an admin; officer, member and producer of guild-a; an officer of guild-b; an outsider."""
    await users.org("guild-a")
    await users.org("guild-b")
    return {
        "admin": await users.user("admin@example.org", admin=True),
        "officer_a": await users.user("officer.a@example.org", ("guild-a", "officer")),
        "member_a": await users.user("member.a@example.org", ("guild-a", "member")),
        "producer_a": await users.user("producer.a@example.org", ("guild-a", "producer")),
        "reviewer_a": await users.user("reviewer.a@example.org", ("guild-a", "reviewer")),
        "licensee_a": await users.user("licensee.a@example.org", ("guild-a", "licensee")),
        "officer_b": await users.user("officer.b@example.org", ("guild-b", "officer")),
        "outsider": await users.user("outsider@example.org"),
    }


async def test_admin_creates_organisations_others_cannot(client, world):
    for who in ("officer_a", "member_a", "producer_a", "reviewer_a", "licensee_a", "outsider"):
        r = await client.post("/api/v1/organizations", json=ORG, headers=world[who])
        assert r.status_code == 403, who
    r = await client.post("/api/v1/organizations", json=ORG, headers=world["admin"])
    assert r.status_code == 201
    assert r.json()["kind"] == "festival"
    listed = await client.get("/api/v1/organizations?kind=festival", headers=world["outsider"])
    assert [o["slug"] for o in listed.json()] == ["riverlight"]


async def test_duplicate_slug_is_409_and_creates_nothing(client, world):
    from guild.tables import Organization

    assert (await client.post("/api/v1/organizations", json=ORG, headers=world["admin"])).status_code == 201
    r = await client.post("/api/v1/organizations", json={**ORG, "name": "Other"}, headers=world["admin"])
    assert r.status_code == 409
    assert r.json()["field"] == "slug"
    assert await Organization.count().where(Organization.slug == "riverlight") == 1


async def test_anyone_signed_in_lists_and_reads_organisations(client, world):
    r = await client.get("/api/v1/organizations", headers=world["outsider"])
    assert {o["slug"] for o in r.json()} == {"guild-a", "guild-b"}
    assert (await client.get("/api/v1/organizations/guild-a", headers=world["outsider"])).status_code == 200
    assert (await client.get("/api/v1/organizations/nope", headers=world["outsider"])).status_code == 404
    assert (await client.get("/api/v1/organizations")).status_code == 401


async def test_members_list_is_private_to_the_organisation(client, world):
    for who in ("officer_a", "member_a", "producer_a", "reviewer_a", "licensee_a", "admin"):
        r = await client.get("/api/v1/organizations/guild-a/members", headers=world[who])
        assert r.status_code == 200, who
        assert {m["email"] for m in r.json()} == {
            "officer.a@example.org", "member.a@example.org", "producer.a@example.org", "reviewer.a@example.org",
            "licensee.a@example.org",
        }
    for who in ("officer_b", "outsider"):
        r = await client.get("/api/v1/organizations/guild-a/members", headers=world[who])
        assert r.status_code == 404, who
        assert "member.a" not in r.text


async def test_officers_add_members_others_are_denied(client, world, users):
    await users.user("new@example.org")
    body = {"email": "new@example.org", "role": "member"}
    for who in ("member_a", "reviewer_a", "licensee_a"):
        r = await client.post("/api/v1/organizations/guild-a/members", json=body, headers=world[who])
        assert r.status_code == 403, who
    assert (await client.post("/api/v1/organizations/guild-a/members", json=body, headers=world["producer_a"])).status_code == 403
    assert (await client.post("/api/v1/organizations/guild-a/members", json=body, headers=world["officer_b"])).status_code == 404
    assert (await client.post("/api/v1/organizations/guild-a/members", json=body, headers=world["outsider"])).status_code == 404

    r = await client.post("/api/v1/organizations/guild-a/members", json=body, headers=world["officer_a"])
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "member"
    # the new member now sees the organisation's members
    new_headers = users.headers(users.ids["new@example.org"])
    assert (await client.get("/api/v1/organizations/guild-a/members", headers=new_headers)).status_code == 200

    again = await client.post("/api/v1/organizations/guild-a/members", json=body, headers=world["officer_a"])
    assert again.status_code == 409


async def test_adding_an_unknown_email_names_the_field(client, world):
    r = await client.post(
        "/api/v1/organizations/guild-a/members", json={"email": "ghost@example.org", "role": "member"},
        headers=world["officer_a"],
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "email"


async def test_officers_remove_members_but_never_the_last_officer(client, world):
    members = (await client.get("/api/v1/organizations/guild-a/members", headers=world["officer_a"])).json()
    by_email = {m["email"]: m["id"] for m in members}
    member_id = by_email["member.a@example.org"]
    officer_id = by_email["officer.a@example.org"]

    url = f"/api/v1/organizations/guild-a/members/{member_id}"
    assert (await client.delete(url, headers=world["member_a"])).status_code == 403
    assert (await client.delete(url, headers=world["officer_b"])).status_code == 404
    assert (await client.delete(url, headers=world["officer_a"])).status_code == 204
    assert (await client.delete(url, headers=world["officer_a"])).status_code == 404

    last = await client.delete(f"/api/v1/organizations/guild-a/members/{officer_id}", headers=world["officer_a"])
    assert last.status_code == 409
    assert last.json()["rule"] == "last_officer"


async def test_membership_of_another_org_cannot_be_removed_through_this_one(client, world):
    members_b = (await client.get("/api/v1/organizations/guild-b/members", headers=world["officer_b"])).json()
    r = await client.delete(
        f"/api/v1/organizations/guild-a/members/{members_b[0]['id']}", headers=world["officer_a"]
    )
    assert r.status_code == 404
