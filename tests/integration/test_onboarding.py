"""Accounts that onboard themselves: invitation links, password change and reset, their limits and denials.

Messages are read as the invitee gets them, from a real local SMTP server (:func:`last_mail_to`); links are
followed through the API.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.integration.concurrency import audit_events, statuses, together
from tests.integration.scenario import PASSWORD, person

NEW_PASSWORD = "a brand new long password"
MEMBERS = "/api/v1/organizations/guild-a/members"
INVITATIONS = "/api/v1/organizations/guild-a/invitations"


@pytest.fixture
async def world(scenario):
    """Two guilds; officer and member of guild-a; an officer of guild-b; an outsider."""
    await scenario.organizations({"guild-a": "guild", "guild-b": "guild"})
    return await scenario.people(
        officer_a=person("officer.a@example.org", ("guild-a", "officer")),
        member_a=person("member.a@example.org", ("guild-a", "member")),
        officer_b=person("officer.b@example.org", ("guild-b", "officer")),
        outsider=person("outsider@example.org"),
    )


# --- the mailbox ------------------------------------------------------------------------------------------

_INBOX: list = []


@pytest.fixture(autouse=True)
async def inbox(mailbox):
    """Every message these tests read comes from a real local SMTP server (aiosmtpd, tests/integration/mail.py)
    that guild's deliverer hands the outbox to. Set up first, so later fixtures see its settings."""
    _INBOX.append(mailbox)
    yield mailbox
    _INBOX.clear()


async def mails_to(address: str) -> list[dict[str, str]]:
    """Every message the SMTP server received for ``address``, oldest first (subject, text), after guild's
    deliverer sent what was due."""
    box = _INBOX[0]
    await box.deliver()
    return [{"subject": str(m["Subject"]), "text": box.text(m)} for m in box.to(address)]


async def last_mail_to(address: str) -> dict[str, str]:
    messages = await mails_to(address)
    assert messages, f"no message to {address}"
    return messages[-1]


def link_token(message: dict[str, str], kind: str) -> str:
    """The token of the ``{public_base_url}/{kind}/{token}`` link in a message."""
    from guild.infra.settings import get_settings

    found = re.search(re.escape(get_settings().public_base_url) + f"/{kind}/([A-Za-z0-9_-]+)", message["text"])
    assert found, message["text"]
    return found.group(1)


async def invite(client, headers, email: str, role: str = "member", slug: str = "guild-a") -> httpx.Response:
    return await client.post(
        f"/api/v1/organizations/{slug}/members", json={"email": email, "role": role}, headers=headers
    )


async def sign_in(client, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/token", json={"email": email, "password": password})


def bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# --- invitations ------------------------------------------------------------------------------------------


async def test_an_invitation_to_a_new_address_makes_an_account_that_signs_in(client, world):
    from guild.infra.audit import rows_without_events

    sent = await invite(client, world["officer_a"], "Newcomer@Example.org", "producer")
    assert sent.status_code == 202, sent.text
    message = await last_mail_to("newcomer@example.org")
    assert "Guild-A" in message["subject"]
    token = link_token(message, "invitations")

    preview = await client.get(f"/api/v1/invitations/{token}")
    assert preview.status_code == 200, preview.text
    assert preview.json() | {"expires_at": None} == {
        "organization": "guild-a",
        "organization_name": "Guild-A",
        "email": "newcomer@example.org",
        "role": "producer",
        "expires_at": None,
        "needs_password": True,
    }
    # without name and password nothing happens: the link still works
    bare = await client.post(f"/api/v1/invitations/{token}/accept", json={})
    assert bare.status_code == 422
    assert {e["field"] for e in bare.json()["errors"]} == {"name", "password"}
    short = await client.post(f"/api/v1/invitations/{token}/accept", json={"name": "Nia", "password": "short"})
    assert short.status_code == 400 or short.status_code == 422
    assert (await client.get(f"/api/v1/invitations/{token}")).status_code == 200

    accepted = await client.post(
        f"/api/v1/invitations/{token}/accept", json={"name": "Nia Newcomer", "password": NEW_PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["email"] == "newcomer@example.org" and accepted.json()["role"] == "producer"

    headers = bearer(await sign_in(client, "newcomer@example.org", NEW_PASSWORD))
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["name"] == "Nia Newcomer"
    assert [(m["organization_slug"], m["role"]) for m in me["memberships"]] == [("guild-a", "producer")]
    # the officer sees the member, no longer the invitation
    members = (await client.get(MEMBERS, headers=world["officer_a"])).json()
    assert "newcomer@example.org" in {m["email"] for m in members}
    assert (await client.get(INVITATIONS, headers=world["officer_a"])).json() == []
    # used: the link is dead
    again = await client.post(f"/api/v1/invitations/{token}/accept", json={"name": "X", "password": NEW_PASSWORD})
    assert again.status_code == 404
    assert (await client.get(f"/api/v1/invitations/{token}")).status_code == 404
    assert len(await audit_events("membership.invitation_accepted")) == 1
    assert await rows_without_events() == []


async def test_an_invitation_to_an_existing_account_adds_the_role(client, world, scenario):
    await scenario.user("known@example.org", ("guild-b", "member"))
    assert (await invite(client, world["officer_a"], "known@example.org", "reviewer")).status_code == 202
    token = link_token(await last_mail_to("known@example.org"), "invitations")
    preview = (await client.get(f"/api/v1/invitations/{token}")).json()
    assert preview["needs_password"] is False
    # a password sent along does not change the account's
    accepted = await client.post(f"/api/v1/invitations/{token}/accept", json={"password": "somebody else's pass"})
    assert accepted.status_code == 200, accepted.text
    headers = bearer(await sign_in(client, "known@example.org", PASSWORD))
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert sorted((m["organization_slug"], m["role"]) for m in me["memberships"]) == [
        ("guild-a", "reviewer"),
        ("guild-b", "member"),
    ]


async def test_unknown_used_expired_and_withdrawn_links_get_the_same_answer(client, world):
    from guild.infra.tables import MembershipInvitation

    for email in ("used@example.org", "expired@example.org", "withdrawn@example.org"):
        assert (await invite(client, world["officer_a"], email)).status_code == 202
    used = link_token(await last_mail_to("used@example.org"), "invitations")
    expired = link_token(await last_mail_to("expired@example.org"), "invitations")
    withdrawn = link_token(await last_mail_to("withdrawn@example.org"), "invitations")
    body = {"name": "Someone", "password": NEW_PASSWORD}
    assert (await client.post(f"/api/v1/invitations/{used}/accept", json=body)).status_code == 200
    await MembershipInvitation.update(
        {MembershipInvitation.expires_at: datetime.now(UTC) - timedelta(seconds=1)}
    ).where(MembershipInvitation.email == "expired@example.org")
    [pending] = [
        i
        for i in (await client.get(INVITATIONS, headers=world["officer_a"])).json()
        if i["email"] == "withdrawn@example.org"
    ]
    assert (await client.delete(f"{INVITATIONS}/{pending['id']}", headers=world["officer_a"])).status_code == 204

    answers = []
    for token in (used, expired, withdrawn, "x" * 43):
        looked = await client.get(f"/api/v1/invitations/{token}")
        taken = await client.post(f"/api/v1/invitations/{token}/accept", json=body)
        assert looked.status_code == taken.status_code == 404
        answers.append((looked.json(), taken.json()))
    assert all(a == answers[0] for a in answers), answers
    assert len(await audit_events("membership.invitation_withdrawn")) == 1
    # nothing was made from the dead links
    assert (await sign_in(client, "expired@example.org", NEW_PASSWORD)).status_code == 401
    assert (await sign_in(client, "withdrawn@example.org", NEW_PASSWORD)).status_code == 401


async def test_inviting_again_after_the_link_expired_sends_a_new_link(client, world):
    from guild.infra.tables import MembershipInvitation

    first = await invite(client, world["officer_a"], "late@example.org")
    again = await invite(client, world["officer_a"], "late@example.org")
    assert again.json()["id"] == first.json()["id"]
    assert len(await mails_to("late@example.org")) == 1  # a live link: no second message
    old = link_token(await last_mail_to("late@example.org"), "invitations")
    await MembershipInvitation.update(
        {MembershipInvitation.expires_at: datetime.now(UTC) - timedelta(seconds=1)}
    ).where(MembershipInvitation.email == "late@example.org")
    renewed = await invite(client, world["officer_a"], "late@example.org")
    assert renewed.status_code == 202 and renewed.json()["id"] == first.json()["id"]
    assert len(await mails_to("late@example.org")) == 2
    new = link_token(await last_mail_to("late@example.org"), "invitations")
    assert new != old
    assert (await client.get(f"/api/v1/invitations/{old}")).status_code == 404
    assert (await client.get(f"/api/v1/invitations/{new}")).status_code == 200


async def test_only_the_organisations_officers_invite_list_and_revoke(client, world):
    sent = await invite(client, world["officer_a"], "someone@example.org")
    assert sent.status_code == 202
    inv = f"{INVITATIONS}/{sent.json()['id']}"
    # a member: forbidden; another organisation's officer and an outsider: the organisation is not there
    for who, code in (("member_a", 403), ("officer_b", 404), ("outsider", 404)):
        assert (await invite(client, world[who], "other@example.org")).status_code == code, who
        assert (await client.get(INVITATIONS, headers=world[who])).status_code == code, who
        assert (await client.delete(inv, headers=world[who])).status_code == code, who
    assert await mails_to("other@example.org") == []
    # the officer lists members and pending invitations, and revokes both
    [pending] = (await client.get(INVITATIONS, headers=world["officer_a"])).json()
    assert pending["email"] == "someone@example.org" and pending["expires_at"]
    members = (await client.get(MEMBERS, headers=world["officer_a"])).json()
    [member] = [m for m in members if m["email"] == "member.a@example.org"]
    member_token = world["member_a"]
    assert (await client.get(MEMBERS, headers=member_token)).status_code == 200
    assert (await client.delete(f"{MEMBERS}/{member['id']}", headers=world["officer_a"])).status_code == 204
    assert (await client.get(MEMBERS, headers=member_token)).status_code == 404  # at once: no longer a member
    token = link_token(await last_mail_to("someone@example.org"), "invitations")
    assert (await client.delete(inv, headers=world["officer_a"])).status_code == 204
    assert (await client.get(f"/api/v1/invitations/{token}")).status_code == 404


async def test_two_accepts_of_one_link_at_once_make_one_account(client, world):
    from guild.infra.tables import Membership, User

    await invite(client, world["officer_a"], "race@example.org")
    token = link_token(await last_mail_to("race@example.org"), "invitations")
    body = {"name": "Racer", "password": NEW_PASSWORD}
    responses = await together([client.post(f"/api/v1/invitations/{token}/accept", json=body) for _ in range(4)])
    assert statuses(responses) == {200: 1, 404: 3}
    assert await User.count().where(User.email == "race@example.org") == 1
    assert await Membership.count().where(Membership.user.email == "race@example.org") == 1


# --- passwords --------------------------------------------------------------------------------------------


async def test_a_password_change_ends_every_earlier_token(client, scenario):
    ada = await scenario.user("ada@example.org")
    signed_in = bearer(await sign_in(client, "ada@example.org", PASSWORD))
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    wrong = await client.post("/api/v1/me/password", json=change | {"current_password": "not it"}, headers=ada.headers)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    assert (await client.get("/api/v1/me", headers=ada.headers)).status_code == 200

    changed = await client.post("/api/v1/me/password", json=change, headers=signed_in)
    fresh = bearer(changed)
    for old in (ada.headers, signed_in):
        assert (await client.get("/api/v1/me", headers=old)).status_code == 401
    assert (await client.get("/api/v1/me", headers=fresh)).status_code == 200
    assert (await sign_in(client, "ada@example.org", PASSWORD)).status_code == 401
    assert (
        await client.get("/api/v1/me", headers=bearer(await sign_in(client, "ada@example.org", NEW_PASSWORD)))
    ).status_code == 200
    assert len(await audit_events("user.password_changed")) == 1
    # not signed in: no change
    assert (await client.post("/api/v1/me/password", json=change)).status_code == 401


async def test_a_password_change_ends_the_browser_sessions_signed_in_before(client, scenario):
    from tests.integration.test_pages import sign_in as sign_in_page

    ada = await scenario.user("ada@example.org")
    assert (await sign_in_page(client, "ada@example.org")).status_code == 303
    assert (await client.get("/my/contracts")).status_code == 200
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (await client.post("/api/v1/me/password", json=change, headers=ada.headers)).status_code == 200
    assert (await client.get("/my/contracts")).status_code == 303  # to the sign-in page
    assert (await sign_in_page(client, "ada@example.org", NEW_PASSWORD)).status_code == 303
    assert (await client.get("/my/contracts")).status_code == 200


async def test_a_reset_link_sets_a_new_password_once(client, scenario):
    ada = await scenario.user("ada@example.org")
    for _ in range(2):
        r = await client.post("/api/v1/auth/password-reset", json={"email": "ADA@example.org"})
        assert r.status_code == 202, r.text
    first, second = (link_token(m, "reset-password") for m in await mails_to("ada@example.org"))
    confirm = "/api/v1/auth/password-reset/confirm"
    assert (await client.post(confirm, json={"token": second, "password": "short"})).status_code in (400, 422)
    assert (await client.post(confirm, json={"token": second, "password": NEW_PASSWORD})).status_code == 204
    # used, and the other outstanding link died with it
    assert (await client.post(confirm, json={"token": second, "password": "another long password"})).status_code == 404
    assert (await client.post(confirm, json={"token": first, "password": "another long password"})).status_code == 404
    assert (await client.get("/api/v1/me", headers=ada.headers)).status_code == 401
    assert (await sign_in(client, "ada@example.org", PASSWORD)).status_code == 401
    assert (await sign_in(client, "ada@example.org", NEW_PASSWORD)).status_code == 200
    assert len(await audit_events("user.password_reset")) == 1


async def test_an_expired_reset_link_is_refused(client, scenario):
    from guild.infra.tables import PasswordResetToken

    await scenario.user("ada@example.org")
    await client.post("/api/v1/auth/password-reset", json={"email": "ada@example.org"})
    token = link_token(await last_mail_to("ada@example.org"), "reset-password")
    await PasswordResetToken.update(
        {PasswordResetToken.expires_at: datetime.now(UTC) - timedelta(seconds=1)}, force=True
    )
    r = await client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 404
    assert (await sign_in(client, "ada@example.org", PASSWORD)).status_code == 200


async def test_a_reset_request_for_an_unknown_address_looks_the_same(client, scenario):
    await scenario.user("ada@example.org")
    known = await client.post("/api/v1/auth/password-reset", json={"email": "ada@example.org"})
    unknown = await client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert sorted(h for h in known.headers if h != "date") == sorted(h for h in unknown.headers if h != "date")
    assert len(await mails_to("ada@example.org")) == 1
    assert await mails_to("nobody@example.org") == []


async def test_two_resets_with_one_link_at_once_succeed_once(client, scenario):
    await scenario.user("ada@example.org")
    await client.post("/api/v1/auth/password-reset", json={"email": "ada@example.org"})
    token = link_token(await last_mail_to("ada@example.org"), "reset-password")
    responses = await together(
        [
            client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": f"{NEW_PASSWORD} {i}"})
            for i in range(4)
        ]
    )
    assert statuses(responses) == {204: 1, 404: 3}
    assert len(await audit_events("user.password_reset")) == 1


# --- limits -----------------------------------------------------------------------------------------------


@pytest.fixture
def tight_limits(monkeypatch):
    from guild.infra.settings import get_settings

    settings = get_settings()
    monkeypatch.setattr(settings, "reset_requests_per_account", 2)
    monkeypatch.setattr(settings, "reset_requests_per_address", 5)
    monkeypatch.setattr(settings, "invitations_per_officer", 3)
    monkeypatch.setattr(settings, "invitations_per_address", 100)
    monkeypatch.setattr(settings, "mail_limit_window_seconds", 600)
    return settings


def _from(app, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://t")


def _limited(r: httpx.Response) -> bool:
    return r.status_code == 429 and 0 < int(r.headers["retry-after"]) <= 900


async def test_reset_requests_are_limited_per_address_alike_for_unknown_ones(app, scenario, tight_limits):
    await scenario.user("ada@example.org")
    codes = {}
    async with _from(app, "198.51.100.1") as c:
        for email in ("ada@example.org", "nobody@example.org"):
            codes[email] = [
                (await c.post("/api/v1/auth/password-reset", json={"email": email})).status_code for _ in range(3)
            ]
        assert codes["ada@example.org"] == codes["nobody@example.org"] == [202, 202, 429]
        last = await c.post("/api/v1/auth/password-reset", json={"email": "ada@example.org"})
        assert _limited(last)
    assert len(await mails_to("ada@example.org")) == 2
    # one client address is limited across e-mail addresses
    async with _from(app, "203.0.113.9") as attacker:
        answers = [
            await attacker.post("/api/v1/auth/password-reset", json={"email": f"u{i}@example.org"}) for i in range(6)
        ]
        assert [a.status_code for a in answers[:5]] == [202] * 5 and _limited(answers[5])


async def test_invitations_are_limited_per_officer_and_per_address(app, client, world, tight_limits):
    codes = [(await invite(client, world["officer_a"], f"p{i}@example.org")).status_code for i in range(4)]
    assert codes == [202, 202, 202, 429]
    limited = await invite(client, world["officer_a"], "p9@example.org")
    assert _limited(limited)
    assert await mails_to("p9@example.org") == []
    # another officer is not limited by the first one's count ...
    assert (await invite(client, world["officer_b"], "q@example.org", slug="guild-b")).status_code == 202
    # ... and one client address is limited across officers
    tight_limits.invitations_per_officer, tight_limits.invitations_per_address = 100, 4
    async with _from(app, "192.0.2.50") as c:
        answers = [
            await invite(c, world[who], f"r{i}@example.org", slug=slug)
            for i, (who, slug) in enumerate([("officer_a", "guild-a"), ("officer_b", "guild-b")] * 3)
        ]
    assert [a.status_code for a in answers[:4]] == [202] * 4 and _limited(answers[4]) and _limited(answers[5])


async def test_guessing_link_tokens_is_limited_per_address(app, scenario, monkeypatch):
    from guild.infra.settings import get_settings

    monkeypatch.setattr(get_settings(), "signin_attempts_per_address", 3)
    body = {"token": "g" * 43, "password": NEW_PASSWORD}
    async with _from(app, "192.0.2.77") as c:
        codes = [(await c.post("/api/v1/auth/password-reset/confirm", json=body)).status_code for _ in range(2)]
        accept = await c.post(f"/api/v1/invitations/{'h' * 43}/accept", json={"name": "G", "password": NEW_PASSWORD})
        assert codes + [accept.status_code] == [404, 404, 404]
        assert _limited(await c.post("/api/v1/auth/password-reset/confirm", json=body))
        assert _limited(await c.post(f"/api/v1/invitations/{'h' * 43}/accept", json={"password": NEW_PASSWORD}))
