"""The pages behind the links guild e-mails, and one's own password (both engines): an invitation link opened
in a browser makes the account or adds the role, a reset link sets a new password once, a signed-in person
changes theirs. Links are read from the messages a real local SMTP server received."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.scenario import PASSWORD, person
from tests.integration.test_onboarding import invite
from tests.integration.test_pages import csrf, sign_in

pytestmark = pytest.mark.asyncio

NEW_PASSWORD = "a brand new long password"


@pytest.fixture
async def world(scenario):
    await scenario.organizations({"guild-a": "guild"})
    return await scenario.people(
        officer=person("officer.a@example.org", ("guild-a", "officer")),
        member=person("member.a@example.org"),
    )


async def _link(mailbox, address: str, kind: str) -> str:
    """The path of the ``/{kind}/...`` link in the last message ``address`` received."""
    await mailbox.deliver()
    links = [link for link in mailbox.links(to=address) if f"/{kind}/" in link]
    assert links, f"no {kind} link sent to {address}"
    return links[-1][links[-1].index(f"/{kind}/") :]


async def _post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(path, data={**data, "_csrf_token": await csrf(client, path)})


async def test_an_invitation_link_makes_the_account_in_the_browser(client, world, mailbox):
    assert (await invite(client, world["officer"], "newcomer@example.org", "producer")).status_code == 202
    path = await _link(mailbox, "newcomer@example.org", "invitations")

    shown = await client.get(path)
    assert shown.status_code == 200
    assert "Join Guild-A" in shown.text and "newcomer@example.org" in shown.text and "producer" in shown.text
    assert 'autocomplete="new-password"' in shown.text

    differ = await _post(client, path, {"name": "Nia", "password": NEW_PASSWORD, "password_again": "something else"})
    assert differ.status_code == 422 and "the two passwords differ" in differ.text
    assert 'value="Nia"' in differ.text, "what was typed stays"
    short = await _post(client, path, {"name": "Nia", "password": "short", "password_again": "short"})
    assert short.status_code == 422 and 'id="password-problem"' in short.text
    assert (await client.get(path)).status_code == 200, "a refused form leaves the link alive"

    done = await _post(client, path, {"name": "Nia Newcomer", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert done.status_code == 200, done.text
    assert "You are now producer of Guild-A" in done.text
    signed = await sign_in(client, "newcomer@example.org", NEW_PASSWORD)
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    assert "Nia Newcomer" in (await client.get("/")).text
    # used once: the page is a 404 now, whatever is posted
    assert (await client.get(path)).status_code == 404


async def test_an_invitation_link_adds_the_role_to_an_existing_account(client, world, mailbox):
    await invite(client, world["officer"], "member.a@example.org", "reviewer")
    path = await _link(mailbox, "member.a@example.org", "invitations")
    shown = await client.get(path)
    assert "already has an account" in shown.text and 'name="password"' not in shown.text
    done = await _post(client, path, {})
    assert done.status_code == 200 and "You are now reviewer of Guild-A" in done.text
    me = (await client.get("/api/v1/me", headers=world["member"])).json()
    assert [(m["organization_slug"], m["role"]) for m in me["memberships"]] == [("guild-a", "reviewer")]


async def test_unknown_invitation_and_reset_links_are_404_pages(client, world):
    page = await client.get("/invitations/not-a-real-token-at-all")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Sign in" in page.text and "not-a-real-token" not in page.text
    refused = await _post(
        client,
        "/reset-password/not-a-real-token-at-all",
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert refused.status_code == 404 and refused.headers["content-type"].startswith("text/html")


async def test_a_forgotten_password_is_reset_from_the_e_mailed_link(client, world, mailbox):
    asked = await _post(client, "/reset-password", {"email": "member.a@example.org"})
    unknown = await _post(client, "/reset-password", {"email": "nobody@example.org"})
    assert asked.status_code == unknown.status_code == 200
    assert "If an account has this e-mail address" in asked.text
    assert asked.text.replace("member.a@example.org", "") == unknown.text.replace("nobody@example.org", "")
    path = await _link(mailbox, "member.a@example.org", "reset-password")
    assert not mailbox.to("nobody@example.org")

    differ = await _post(client, path, {"password": NEW_PASSWORD, "password_again": "not the same one"})
    assert differ.status_code == 422 and "the two passwords differ" in differ.text
    done = await _post(client, path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert done.status_code == 200 and "Your new password is set" in done.text
    assert (await sign_in(client, "member.a@example.org", PASSWORD)).status_code == 401
    assert (await sign_in(client, "member.a@example.org", NEW_PASSWORD)).status_code == 303
    again = await _post(client, path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert again.status_code == 404, "a reset link works once"


async def test_a_signed_in_person_changes_their_password_and_keeps_this_session(client, world, app):
    assert (await client.get("/account/password")).status_code == 303, "signed-in only"
    assert (await sign_in(client, "member.a@example.org")).status_code == 303
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    async with other:
        assert (await sign_in(other, "member.a@example.org")).status_code == 303
        wrong = await _post(
            client,
            "/account/password",
            {"current_password": "not my password!", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
        )
        assert wrong.status_code == 422 and 'id="current_password-problem"' in wrong.text
        done = await _post(
            client,
            "/account/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
        )
        assert done.status_code == 200 and "Password changed" in done.text
        assert (await client.get("/my/contracts")).status_code == 200, "this browser stays signed in"
        assert (await other.get("/my/contracts")).status_code == 303, "the other browser's session has ended"
        assert (await client.get("/api/v1/me", headers=world["member"])).status_code == 401, "an earlier API token"


async def test_account_forms_refuse_a_post_without_its_csrf_token(client, world):
    r = await client.post("/reset-password", data={"email": "member.a@example.org"})
    assert r.status_code == 403
