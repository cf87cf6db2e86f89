"""Organisation API: every role's allowed and denied calls."""

from __future__ import annotations

import pytest

from tests.integration.scenario import person

ORG = {"slug": "riverlight", "name": "Riverlight Film Festival", "kind": "festival"}


@pytest.fixture
async def world(scenario):
    """Two guilds; an admin; officer, member and producer of guild-a; an officer of guild-b; an outsider."""
    await scenario.organizations({"guild-a": "guild", "guild-b": "guild"})
    return await scenario.people(
        admin=person("admin@example.org", admin=True),
        officer_a=person("officer.a@example.org", ("guild-a", "officer")),
        member_a=person("member.a@example.org", ("guild-a", "member")),
        producer_a=person("producer.a@example.org", ("guild-a", "producer")),
        reviewer_a=person("reviewer.a@example.org", ("guild-a", "reviewer")),
        licensee_a=person("licensee.a@example.org", ("guild-a", "licensee")),
        officer_b=person("officer.b@example.org", ("guild-b", "officer")),
        outsider=person("outsider@example.org"),
    )


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
    from guild.infra.tables import Organization

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
            "officer.a@example.org",
            "member.a@example.org",
            "producer.a@example.org",
            "reviewer.a@example.org",
            "licensee.a@example.org",
        }
    for who in ("officer_b", "outsider"):
        r = await client.get("/api/v1/organizations/guild-a/members", headers=world[who])
        assert r.status_code == 404, who
        assert "member.a" not in r.text


async def test_officers_invite_members_others_are_denied(client, world, scenario):
    await scenario.user("new@example.org")
    body = {"email": "new@example.org", "role": "member"}
    url = "/api/v1/organizations/guild-a/members"
    for who in ("member_a", "reviewer_a", "licensee_a", "producer_a"):
        assert (await client.post(url, json=body, headers=world[who])).status_code == 403, who
    for who in ("officer_b", "outsider"):
        assert (await client.post(url, json=body, headers=world[who])).status_code == 404, who

    r = await client.post(url, json=body, headers=world["officer_a"])
    assert r.status_code == 202, r.text
    assert (r.json()["email"], r.json()["role"], r.json()["status"]) == ("new@example.org", "member", "pending")
    new_headers = scenario.headers(scenario.ids["new@example.org"])
    # not a member until they accept
    assert (await client.get(url, headers=new_headers)).status_code == 404
    [offered] = (await client.get("/api/v1/me/invitations", headers=new_headers)).json()
    assert (offered["id"], offered["organization"]) == (r.json()["id"], "guild-a")
    accepted = await client.post(f"/api/v1/me/invitations/{offered['id']}/accept", headers=new_headers)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["role"] == "member" and accepted.json()["email"] == "new@example.org"
    assert (await client.get(url, headers=new_headers)).status_code == 200
    assert (await client.get("/api/v1/me/invitations", headers=new_headers)).json() == []

    again = await client.post(url, json=body, headers=world["officer_a"])
    assert again.status_code == 409 and again.json()["rule"] == "unique"


async def test_inviting_answers_alike_whether_or_not_the_address_has_an_account(client, world, scenario):
    """Officers cannot tell from the answer, the members list or the invitations which addresses have accounts."""
    from guild.infra.audit import rows_without_events

    await scenario.user("known@example.org")
    url = "/api/v1/organizations/guild-a/members"
    known = await client.post(url, json={"email": "Known@Example.org", "role": "member"}, headers=world["officer_a"])
    ghost = await client.post(url, json={"email": "ghost@example.org", "role": "member"}, headers=world["officer_a"])
    assert known.status_code == ghost.status_code == 202

    def shape(r):
        return {k: v for k, v in r.json().items() if k not in ("id", "email", "created_at", "expires_at")} | {
            "headers": sorted(h for h in r.headers if h not in ("content-length", "date"))
        }

    assert shape(known) == shape(ghost)
    assert known.json()["email"] == "known@example.org"
    members = (await client.get(url, headers=world["officer_a"])).json()
    assert not {"known@example.org", "ghost@example.org"} & {m["email"] for m in members}
    pending = (await client.get("/api/v1/organizations/guild-a/invitations", headers=world["officer_a"])).json()
    assert {p["email"] for p in pending} == {"known@example.org", "ghost@example.org"}
    # repeated while pending: the same invitation
    repeat = await client.post(url, json={"email": "ghost@example.org", "role": "member"}, headers=world["officer_a"])
    assert repeat.status_code == 202 and repeat.json()["id"] == ghost.json()["id"]

    # an account made later with that address finds the invitation waiting
    ghost_headers = (await scenario.user("ghost@example.org")).headers
    [offered] = (await client.get("/api/v1/me/invitations", headers=ghost_headers)).json()
    assert offered["id"] == ghost.json()["id"]
    # nobody else can answer it
    other = world["outsider"]
    assert (await client.post(f"/api/v1/me/invitations/{offered['id']}/accept", headers=other)).status_code == 404
    assert (await client.delete(f"/api/v1/me/invitations/{offered['id']}", headers=other)).status_code == 404
    assert (await client.delete(f"/api/v1/me/invitations/{offered['id']}", headers=ghost_headers)).status_code == 204
    assert (
        await client.post(f"/api/v1/me/invitations/{offered['id']}/accept", headers=ghost_headers)
    ).status_code == 404

    # officers withdraw pending invitations of their own organisation only
    inv = f"/api/v1/organizations/guild-a/invitations/{known.json()['id']}"
    assert (await client.delete(inv, headers=world["officer_b"])).status_code == 404
    assert (await client.delete(inv, headers=world["member_a"])).status_code == 403
    assert (await client.delete(inv, headers=world["officer_a"])).status_code == 204
    assert (await client.get("/api/v1/organizations/guild-a/invitations", headers=world["officer_a"])).json() == []
    assert await rows_without_events() == []


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
    r = await client.delete(f"/api/v1/organizations/guild-a/members/{members_b[0]['id']}", headers=world["officer_a"])
    assert r.status_code == 404


# --- concurrency: one winner per transition ---------------------------------------------------------------


async def test_two_officers_removing_each_other_at_once_leave_one_officer(client, scenario):
    """Five organisations, each with two officers who remove each other at the same moment (ten requests
    at once): in every organisation exactly one removal succeeds and the other is 409 last_officer."""
    from guild.infra.tables import Membership
    from tests.integration.concurrency import audit_events, together

    calls, orgs = [], {}
    for n in range(5):
        slug = f"pair-{n}"
        orgs[slug] = await scenario.org(slug)
        first = (await scenario.user(f"first.{n}@example.org", (slug, "officer"))).headers
        second = (await scenario.user(f"second.{n}@example.org", (slug, "officer"))).headers
        members = {
            m["email"]: m["id"]
            for m in (await client.get(f"/api/v1/organizations/{slug}/members", headers=first)).json()
        }
        url = f"/api/v1/organizations/{slug}/members/"
        calls.append(client.delete(url + members[f"second.{n}@example.org"], headers=first))
        calls.append(client.delete(url + members[f"first.{n}@example.org"], headers=second))
    responses = await together(calls)

    removed = await audit_events("membership.removed")
    for n, slug in enumerate(orgs):
        pair = responses[2 * n : 2 * n + 2]
        assert sorted(r.status_code for r in pair) == [204, 409], [r.text for r in pair]
        assert next(r for r in pair if r.status_code == 409).json()["rule"] == "last_officer"
        officers = await Membership.count().where(
            (Membership.organization == orgs[slug]) & (Membership.role == "officer")
        )
        assert officers == 1, slug
        assert len([e for e in removed if e["entity_id"] == str(orgs[slug])]) == 1


async def test_one_membership_removed_by_many_at_once_is_removed_once(client, world):
    from tests.integration.concurrency import audit_events, statuses, together

    members = (await client.get("/api/v1/organizations/guild-a/members", headers=world["officer_a"])).json()
    member_id = next(m["id"] for m in members if m["email"] == "member.a@example.org")
    url = f"/api/v1/organizations/guild-a/members/{member_id}"
    responses = await together([client.delete(url, headers=world["officer_a"]) for _ in range(8)])
    assert statuses(responses) == {204: 1, 404: 7}  # the losers find it gone, as a later request would
    assert len(await audit_events("membership.removed")) == 1


async def test_one_role_given_by_many_at_once_is_given_once(client, world, scenario):
    """Eight officers' clicks invite once; eight accepts by the invitee make one membership."""
    from guild.infra.tables import Membership, MembershipInvitation
    from tests.integration.concurrency import audit_events, statuses, together

    new = (await scenario.user("new@example.org")).headers
    body = {"email": "new@example.org", "role": "reviewer"}
    responses = await together(
        [client.post("/api/v1/organizations/guild-a/members", json=body, headers=world["officer_a"]) for _ in range(8)]
    )
    assert statuses(responses) == {202: 8}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await MembershipInvitation.count() == 1
    assert len(await audit_events("membership.invited")) == 1

    invitation = responses[0].json()["id"]
    accepted = await together(
        [client.post(f"/api/v1/me/invitations/{invitation}/accept", headers=new) for _ in range(8)]
    )
    assert statuses(accepted) == {201: 1, 404: 7}
    assert await Membership.count().where(Membership.user == scenario.ids["new@example.org"]) == 1
    assert (
        len(
            [
                e
                for e in await audit_events("membership.added")
                if e["data"]["role"] == "reviewer" and e["data"]["user_id"] == str(scenario.ids["new@example.org"])
            ]
        )
        == 1
    )
