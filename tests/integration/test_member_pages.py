"""An organisation's people page (both engines): its officers invite by e-mail (the same answer for every
address; a real SMTP server receives the link), withdraw invitations (the link dies), remove roles (never the
last officer: said on the page); members only look; other organisations' people get a 404 page."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.scenario import person
from tests.integration.test_account_pages import _link
from tests.integration.test_pages import csrf, sign_in

pytestmark = pytest.mark.asyncio

PAGE = "/organizations/guild-a/members"
_REMOVE = re.compile(r'/members/([0-9a-f-]{36})/remove"')
_WITHDRAW = re.compile(r'/invitations/([0-9a-f-]{36})/withdraw"')


@pytest.fixture
async def world(scenario):
    await scenario.organizations({"guild-a": "guild", "guild-b": "guild"})
    return await scenario.people(
        officer=person("officer.a@example.org", ("guild-a", "officer")),
        member=person("member.a@example.org", ("guild-a", "member")),
        other=person("officer.b@example.org", ("guild-b", "officer")),
    )


async def _post(client: httpx.AsyncClient, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    return await client.post(path, data={**(data or {}), "_csrf_token": await csrf(client, PAGE)})


async def _invite(client: httpx.AsyncClient, email: str, role: str = "member") -> httpx.Response:
    return await _post(client, f"{PAGE}/invite", {"email": email, "role": role})


async def test_an_officer_invites_and_the_answer_is_the_same_for_every_address(client, world, mailbox):
    await sign_in(client, "officer.a@example.org")
    home = await client.get("/")
    assert f'href="{PAGE}"' in home.text
    shown = await client.get(PAGE)
    assert shown.status_code == 200
    assert "officer.a@example.org" in shown.text and "member.a@example.org" in shown.text
    assert "No pending invitations." in shown.text

    known = await _invite(client, "member.a@example.org", "reviewer")  # has an account
    unknown = await _invite(client, "stranger@example.org", "reviewer")  # has none
    assert known.status_code == unknown.status_code == 200
    assert "Invitation sent to member.a@example.org." in known.text
    assert "Invitation sent to stranger@example.org." in unknown.text
    strip = re.compile(r"member\.a@example\.org|stranger@example\.org|[0-9a-f-]{36}|value=\"[^\"]*\"|\d\d:\d\d")
    assert len(strip.sub("", known.text.split('id="h-invite"')[1])) == len(
        strip.sub("", unknown.text.split('id="h-invite"')[1])
    ), "nothing tells whether the address has an account"

    listed = await client.get(PAGE)
    pending = listed.text.split('id="h-pending"')[1].split('id="h-invite"')[0]
    assert "stranger@example.org" in pending and "member.a@example.org" in pending and "reviewer" in pending
    path = await _link(mailbox, "stranger@example.org", "invitations")
    assert (await client.get(path)).status_code == 200, "the e-mailed link is live"

    # the same address and role again: the same invitation, not a second one
    again = await _invite(client, "stranger@example.org", "reviewer")
    assert again.status_code == 200 and len(_WITHDRAW.findall(again.text)) == 2

    # an address that already holds the role: 409 beside the form, what was typed stays
    held = await _invite(client, "member.a@example.org", "member")
    assert held.status_code == 409 and 'role="alert"' in held.text
    assert 'value="member.a@example.org"' in held.text and "Invitation sent" not in held.text

    bad = await _invite(client, "not an address", "member")
    assert bad.status_code == 422 and "email" in bad.text


async def test_withdrawing_kills_the_emailed_link(client, world, mailbox):
    await sign_in(client, "officer.a@example.org")
    await _invite(client, "newcomer@example.org", "producer")
    path = await _link(mailbox, "newcomer@example.org", "invitations")
    page = await client.get(PAGE)
    (invitation,) = _WITHDRAW.findall(page.text)
    done = await _post(client, f"/organizations/guild-a/invitations/{invitation}/withdraw")
    assert done.status_code == 303 and done.headers["location"] == PAGE
    assert "newcomer@example.org" not in (await client.get(PAGE)).text
    assert (await client.get(path)).status_code == 404, "the link no longer works"
    twice = await _post(client, f"/organizations/guild-a/invitations/{invitation}/withdraw")
    assert twice.status_code == 404 and twice.headers["content-type"].startswith("text/html")


async def test_an_officer_removes_a_member_but_never_the_last_officer(client, world):
    await sign_in(client, "officer.a@example.org")
    page = await client.get(PAGE)
    officer_id, member_id = _REMOVE.findall(page.text)  # oldest first: the officer, then the member
    assert page.text.index("officer.a@example.org") < page.text.index(officer_id)

    gone = await _post(client, f"{PAGE}/{member_id}/remove")
    assert gone.status_code == 303
    assert "member.a@example.org" not in (await client.get(PAGE)).text

    last = await _post(client, f"{PAGE}/{officer_id}/remove")
    assert last.status_code == 409 and last.headers["content-type"].startswith("text/html")
    assert "last officer" in last.text and 'role="alert"' in last.text and "Members of Guild-A" in last.text
    assert "officer.a@example.org" in (await client.get(PAGE)).text, "nothing changed"


async def test_members_look_but_change_nothing_and_other_organisations_see_nothing(client, world, mailbox):
    await sign_in(client, "officer.a@example.org")
    officer_page = await client.get(PAGE)
    member_id = _REMOVE.findall(officer_page.text)[1]
    await _invite(client, "pending@example.org")
    await mailbox.deliver()
    client.cookies.clear()

    await sign_in(client, "member.a@example.org")
    assert f'href="{PAGE}"' not in (await client.get("/")).text
    shown = await client.get(PAGE)
    assert shown.status_code == 200 and "officer.a@example.org" in shown.text
    assert "<form" not in shown.text.split("<main")[1].split("</main>")[0].replace('action="/signout"', "")
    assert "pending@example.org" not in shown.text, "pending invitations are for officers"
    for path, data in (
        (f"{PAGE}/invite", {"email": "x@example.org", "role": "officer"}),
        (f"{PAGE}/{member_id}/remove", {}),
    ):
        refused = await _post(client, path, data)
        assert refused.status_code == 403, path
    assert await mailbox.deliver() == []
    client.cookies.clear()

    await sign_in(client, "officer.b@example.org")
    other = await client.get(PAGE)
    assert other.status_code == 404 and "officer.a@example.org" not in other.text
    token = await csrf(client, "/organizations/guild-b/members")
    for path, data in (
        (f"{PAGE}/invite", {"email": "x@example.org", "role": "officer"}),
        (f"{PAGE}/{member_id}/remove", {}),
    ):
        refused = await client.post(path, data={**data, "_csrf_token": token})
        assert refused.status_code == 404, path
    client.cookies.clear()
    await sign_in(client, "officer.a@example.org")
    assert "member.a@example.org" in (await client.get(PAGE)).text, "nothing changed"


async def test_a_form_without_its_csrf_token_changes_nothing(client, world, mailbox):
    await sign_in(client, "officer.a@example.org")
    page = await client.get(PAGE)
    member_id = _REMOVE.findall(page.text)[1]
    forged = await client.post(f"{PAGE}/invite", data={"email": "forged@example.org", "role": "officer"})
    assert forged.status_code == 403 and "The form had expired" in forged.text
    removed = await client.post(f"{PAGE}/{member_id}/remove", data={"_csrf_token": "f" * 64})
    assert removed.status_code == 403
    after = await client.get(PAGE)
    assert "forged@example.org" not in after.text and "member.a@example.org" in after.text
    assert await mailbox.deliver() == []


async def test_the_invitation_limit_is_said_beside_the_form(client, world, monkeypatch):
    from guild.infra.settings import get_settings

    monkeypatch.setattr(get_settings(), "invitations_per_officer", 1)
    await sign_in(client, "officer.a@example.org")
    assert (await _invite(client, "one@example.org")).status_code == 200
    limited = await _invite(client, "two@example.org")
    assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 3600
    assert "Too many invitations" in limited.text and 'value="two@example.org"' in limited.text
    assert "two@example.org" not in limited.text.split('id="h-pending"')[1].split('id="h-invite"')[0]
