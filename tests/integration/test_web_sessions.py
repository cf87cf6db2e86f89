"""Page sessions live in the database (both engines): a session one app instance started is honoured by
another on the same database, a signed-out one by none; expired sessions read as absent and are pruned."""

from __future__ import annotations

import httpx
import pytest

from guild.app import create_app
from guild.infra.db import raw
from guild.infra.sessions import DatabaseStore
from guild.infra.settings import get_settings
from tests.integration.scenario import Scenario, person
from tests.integration.test_pages import csrf, sign_in

pytestmark = pytest.mark.asyncio


async def test_a_session_from_one_instance_is_honoured_by_another(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    await scenario.organizations({"blue": "production_company"})
    h = await scenario.people(blue=person("producer@blue.example", ("blue", "producer")))
    await scenario.production("blue", "Harbour Lights", by=h["blue"])
    assert (await sign_in(client, "producer@blue.example")).status_code == 303
    session = client.cookies["guild_session"]

    second = create_app(get_settings())  # another instance: its own app object, the same database
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://testserver") as other:
        other.cookies.set("guild_session", session)
        listing = await other.get("/productions")
        assert listing.status_code == 200 and "Harbour Lights" in listing.text

        token = await csrf(other, "/")  # signed out through the second instance ...
        assert (await other.post("/signout", data={"_csrf_token": token})).status_code == 303
    client.cookies.set("guild_session", session)
    assert (await client.get("/productions")).status_code == 303  # ... is signed out on the first too


async def test_expired_sessions_read_as_absent_and_are_pruned(client: httpx.AsyncClient) -> None:
    store = DatabaseStore()
    await store.set("live", b"kept", expires_in=3600)
    await store.set("forever", "text")
    await store.set("gone", b"old", expires_in=0)  # expires the moment it is written
    assert await store.get("live") == b"kept" and await store.get("forever") == b"text"
    assert await store.get("gone") is None and not await store.exists("gone")
    assert await store.expires_in("gone") is None and await store.expires_in("forever") is None
    left = await store.expires_in("live")
    assert left is not None and 3590 <= left <= 3600

    await raw("UPDATE web_session SET expires_at = expires_at - 3500 WHERE key = 'live'")
    assert await store.get("live", renew_for=7200) == b"kept"  # renewed on access
    renewed = await store.expires_in("live")
    assert renewed is not None and renewed > 3600

    await store.set("live", b"changed", expires_in=60)  # a write replaces the value and the expiry
    assert await store.get("live") == b"changed"
    await store.delete_expired()
    keys = {r["key"] for r in await raw("SELECT key FROM web_session")}
    assert keys == {"live", "forever"}
    await store.delete("live")
    assert not await store.exists("live")
    await store.delete_all()
    assert await raw("SELECT key FROM web_session") == []
