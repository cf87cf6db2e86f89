"""Login, token expiry, forged tokens, /me, and admin-only account creation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from tests.engines import engines_only
from tests.integration.scenario import PASSWORD


async def test_login_returns_a_bearer_token_that_opens_me(client, scenario):
    await scenario.org("guild-a")
    await scenario.user("ada@example.org", ("guild-a", "officer"), ("guild-a", "member"))

    r = await client.post("/api/v1/auth/token", json={"email": "ADA@example.org", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"

    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.org"
    assert sorted(m["role"] for m in me.json()["memberships"]) == ["member", "officer"]
    assert "password_hash" not in me.text


async def test_wrong_password_and_unknown_email_are_the_same_401(client, scenario):
    await scenario.user("ada@example.org")
    wrong = await client.post("/api/v1/auth/token", json={"email": "ada@example.org", "password": "nope"})
    unknown = await client.post("/api/v1/auth/token", json={"email": "zed@example.org", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_me_without_token_is_401_problem(client):
    r = await client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json()["type"] == "urn:guild:problem:unauthorized"


async def test_expired_token_is_refused(client, scenario):
    from guild.infra.settings import get_settings

    headers = (await scenario.user("ada@example.org")).headers
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    claims = {
        "sub": str(scenario.ids["ada@example.org"]),
        "exp": int((datetime.now(UTC) - timedelta(seconds=5)).timestamp()),
        "iat": int((datetime.now(UTC) - timedelta(hours=1)).timestamp()),
    }
    token = jwt.encode(claims, get_settings().jwt_secret(), algorithm="HS256")
    r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


async def test_forged_token_is_refused(client, scenario):
    await scenario.user("ada@example.org")
    claims = {"sub": str(scenario.ids["ada@example.org"]), "exp": 4102444800, "iat": 1700000000}
    forged = jwt.encode(claims, "not-the-server-secret-but-long-enough-to-look-real", algorithm="HS256")
    r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    r = await client.get("/api/v1/me", headers={"Authorization": "Bearer abc.def.ghi"})
    assert r.status_code == 401


async def test_token_for_deleted_user_is_refused(client, scenario):
    from guild.infra.tables import User

    headers = (await scenario.user("ada@example.org")).headers
    await User.delete().where(User.email == "ada@example.org")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_token_lifetime_follows_settings(client, scenario):
    from guild.infra.settings import get_settings

    await scenario.user("ada@example.org")
    r = await client.post("/api/v1/auth/token", json={"email": "ada@example.org", "password": PASSWORD})
    claims = jwt.decode(r.json()["access_token"], get_settings().jwt_secret(), algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == get_settings().token_ttl_minutes * 60


async def test_only_admins_create_users_and_emails_are_unique(client, scenario):
    admin = (await scenario.user("root@example.org", admin=True)).headers
    plain = (await scenario.user("ada@example.org")).headers
    new = {"email": "new@example.org", "name": "New Person", "password": "a long enough password"}

    assert (await client.post("/api/v1/users", json=new, headers=plain)).status_code == 403
    r = await client.post("/api/v1/users", json=new, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "new@example.org"

    dup = await client.post("/api/v1/users", json={**new, "email": "NEW@example.org"}, headers=admin)
    assert dup.status_code == 409
    assert dup.json()["field"] == "email"

    login = await client.post("/api/v1/auth/token", json={"email": "new@example.org", "password": new["password"]})
    assert login.status_code == 200


async def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    from guild.infra.settings import Settings

    s = Settings(data_dir=tmp_path / "d")
    first = s.jwt_secret()
    assert len(first) >= 40
    assert Settings(data_dir=tmp_path / "d").jwt_secret() == first
    assert oct((tmp_path / "d" / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert Settings(data_dir=tmp_path / "d", secret_key="explicit").jwt_secret() == "explicit"


# --- sign-in throttling ---------------------------------------------------------------------------


@pytest.fixture
def tight_limits(monkeypatch):
    from guild.infra.settings import get_settings

    settings = get_settings()
    monkeypatch.setattr(settings, "signin_failures_per_account", 3)
    monkeypatch.setattr(settings, "signin_attempts_per_address", 6)
    monkeypatch.setattr(settings, "signin_window_seconds", 600)
    return settings


def _from(app, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://t")


async def test_wrong_passwords_lock_the_account_with_retry_after(app, client, scenario, tight_limits):
    await scenario.user("ada@example.org")
    await scenario.user("bob@example.org")
    for _ in range(3):
        r = await client.post("/api/v1/auth/token", json={"email": "ada@example.org", "password": "guess"})
        assert r.status_code == 401
    locked = await client.post("/api/v1/auth/token", json={"email": "ada@example.org", "password": "guess"})
    assert locked.status_code == 429, locked.text
    assert locked.headers["content-type"] == "application/problem+json"
    assert 0 < int(locked.headers["retry-after"]) <= 600
    assert locked.json()["type"] == "urn:guild:problem:too-many-requests"
    # The right password does not get through a locked account either (that is the point) ...
    right = await client.post("/api/v1/auth/token", json={"email": "ada@example.org", "password": PASSWORD})
    assert right.status_code == 429
    # ... while another account signs in as usual.
    bob = await client.post("/api/v1/auth/token", json={"email": "bob@example.org", "password": PASSWORD})
    assert bob.status_code == 200


async def test_unknown_email_is_throttled_like_a_known_one(client, scenario, tight_limits):
    await scenario.user("ada@example.org")
    answers = {}
    for email in ("ada@example.org", "nobody@example.org"):
        codes = [
            (await client.post("/api/v1/auth/token", json={"email": email, "password": "guess"})).status_code
            for _ in range(4)
        ]
        answers[email] = codes
    assert answers["ada@example.org"] == answers["nobody@example.org"] == [401, 401, 401, 429]


async def test_a_right_password_clears_the_failures(client, scenario, tight_limits):
    await scenario.user("ada@example.org")
    for _ in range(2):
        assert (
            await client.post("/api/v1/auth/token", json={"email": "ada@example.org", "password": "x"})
        ).status_code == 401
    assert (
        await client.post("/api/v1/auth/token", json={"email": "ada@example.org", "password": PASSWORD})
    ).status_code == 200
    for _ in range(3):  # a fresh allowance, not the one left over
        assert (
            await client.post("/api/v1/auth/token", json={"email": "ada@example.org", "password": "x"})
        ).status_code == 401


async def test_one_address_is_limited_across_accounts(app, scenario, tight_limits):
    await scenario.user("ada@example.org")
    async with _from(app, "203.0.113.7") as attacker, _from(app, "198.51.100.2") as colleague:
        codes = [
            (
                await attacker.post("/api/v1/auth/token", json={"email": f"u{i}@example.org", "password": "x"})
            ).status_code
            for i in range(7)
        ]
        assert codes == [401] * 6 + [429]
        ok = await colleague.post("/api/v1/auth/token", json={"email": "ada@example.org", "password": PASSWORD})
        assert ok.status_code == 200


async def test_the_window_expires():
    from datetime import UTC, datetime, timedelta

    from guild.domain.errors import TooManyRequests
    from guild.infra import throttle
    from guild.infra.db import write_tx

    limit = throttle.Limit("test", 2, 60, "slow down")
    start = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    async with write_tx():
        await throttle.hit(limit, "s", start)
        await throttle.hit(limit, "s", start + timedelta(seconds=10))
        with pytest.raises(TooManyRequests) as refused:
            await throttle.hit(limit, "s", start + timedelta(seconds=20))
        assert refused.value.retry_after == 40
        await throttle.hit(limit, "s", start + timedelta(seconds=60))  # a new window


@engines_only("postgres", reason="concurrent writers: PostgreSQL (SQLite serialises them)")
async def test_concurrent_guesses_cannot_overshoot_the_account_limit(app, scenario, tight_limits):
    import asyncio

    await scenario.user("ada@example.org")

    async def guess(i: int) -> int:
        async with _from(app, f"192.0.2.{i}") as c:
            r = await c.post("/api/v1/auth/token", json={"email": "ada@example.org", "password": f"g{i}"})
            return r.status_code

    codes = await asyncio.gather(*(guess(i) for i in range(12)))
    assert sorted(codes) == [401] * 3 + [429] * 9
