"""The fast read paths: kept SQLite connections, prepared queries, principals and tokens kept between
requests. Each is a cache or a shortcut, so each test shows what a user would see go wrong if it served
stale or foreign data: a removed member still reading, a write lost in a read, another test's rows."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

from guild.accounts import service as accounts
from guild.infra import db
from guild.infra.db import Param, Prepared, read_tx, write_tx
from guild.infra.tables import Organization
from guild.web.security import VerifiedToken
from tests.engines import engines_only
from tests.integration.scenario import person

_ORG = Prepared(
    lambda: Organization.select(Organization.id, Organization.name).where(Organization.slug == Param("slug"))
)


async def _org_now(slug: str, name: str) -> UUID:
    org_id = uuid4()
    async with write_tx():
        await Organization.insert(
            Organization(id=org_id, slug=slug, name=name, kind="guild", created_at=datetime.now(UTC))
        )
    return org_id


async def test_a_prepared_query_runs_with_new_values_each_time(scenario) -> None:
    first = await _org_now("first-guild", "First Guild")
    second = await _org_now("second-guild", "Second Guild")
    assert await _ORG.first(slug="first-guild") == {"id": first, "name": "First Guild"}
    assert await _ORG.first(slug="second-guild") == {"id": second, "name": "Second Guild"}
    assert await _ORG.first(slug="no-such-guild") is None


async def test_a_prepared_query_in_a_write_transaction_sees_its_uncommitted_rows(scenario) -> None:
    async with write_tx():
        await Organization.insert(
            Organization(id=uuid4(), slug="pending-guild", name="Pending", kind="guild", created_at=datetime.now(UTC))
        )
        seen = await _ORG.first(slug="pending-guild")
        assert seen is not None and seen["name"] == "Pending"


async def test_reads_see_a_write_committed_just_before(scenario) -> None:
    await _org_now("fresh-guild", "Fresh")
    async with read_tx():
        row = await _ORG.first(slug="fresh-guild")
    assert row is not None
    assert await Organization.exists().where(Organization.slug == "fresh-guild")


@engines_only("sqlite", reason="PostgreSQL at READ COMMITTED gives every statement its own snapshot")
async def test_a_sqlite_read_unit_sees_one_snapshot_while_a_writer_commits(scenario, client) -> None:
    # ``client`` starts the app as a server does: the file in WAL mode, where readers never block the writer
    await _org_now("snap-guild", "Before")
    async with read_tx():
        assert (await _ORG.first(slug="snap-guild"))["name"] == "Before"  # type: ignore[index]
        async with write_tx():  # another unit of work commits meanwhile
            await Organization.update({Organization.name: "After"}).where(Organization.slug == "snap-guild")
        assert (await _ORG.first(slug="snap-guild"))["name"] == "Before"  # type: ignore[index]
    assert (await _ORG.first(slug="snap-guild"))["name"] == "After"  # type: ignore[index]


@engines_only("sqlite", reason="the kept connections are SQLite's")
async def test_a_write_that_strays_into_a_sqlite_read_unit_fails_and_changes_nothing(scenario) -> None:
    with pytest.raises(Exception, match="readonly|query_only|read-only"):
        async with read_tx():
            await db.raw(
                "INSERT INTO organization (id, slug, name, kind, created_at) VALUES ({}, {}, {}, {}, {})",
                uuid4(),
                "stray",
                "Stray",
                "guild",
                datetime.now(UTC),
            )
    assert not await Organization.exists().where(Organization.slug == "stray")


@engines_only("postgres", reason="the held connection of a read unit is PostgreSQL's")
async def test_a_write_transaction_cannot_start_inside_a_postgres_read_unit(scenario, client) -> None:
    # ``client`` starts the app as a server does: with its connection pool
    with pytest.raises(RuntimeError, match="inside read_tx"):
        async with read_tx():
            async with write_tx():
                pass


async def test_concurrent_read_units_each_get_their_rows(scenario) -> None:
    slugs = [f"guild-{i}" for i in range(20)]
    for s in slugs:
        await _org_now(s, s.upper())

    async def read(slug: str) -> str:
        async with read_tx():
            await asyncio.sleep(0)  # let the other units interleave
            row = await _ORG.first(slug=slug)
            await asyncio.sleep(0)
            again = await _ORG.first(slug=slug)
        assert row == again
        return str(row["name"])  # type: ignore[index]

    assert await asyncio.gather(*(read(s) for s in slugs)) == [s.upper() for s in slugs]


async def test_a_roster_read_in_one_call_says_what_each_engagement_said_when_added(scenario, client) -> None:
    """The roster list parses stored values in one call (no per-value converters); every field must
    read as the single engagement did when it was added: ids, the linked account, the mentor, dates,
    the time it was added."""
    await scenario.org("kestrel", "production_company")
    h = await scenario.people(
        producer=person("producer@example.org", ("kestrel", "producer")),
        grip=person("grip@example.org", ("kestrel", "member")),
    )
    pid = await scenario.production("kestrel", "Harbour", by=h["producer"])
    url = f"/api/v1/productions/{pid}/engagements"
    base = {"role": "crew", "currency": "EUR", "start_date": "2027-03-01", "end_date": "2027-05-28"}
    lead = await client.post(
        url,
        headers=h["producer"],
        json={
            **base,
            "person_name": "Ada Lead",
            "department": "camera",
            "level": "head",
            "rate_minor_per_week": 400_000,
        },
    )
    trainee = await client.post(
        url,
        headers=h["producer"],
        json={
            **base,
            "person_name": "Bo Trainee",
            "email": "grip@example.org",
            "department": "camera",
            "level": "trainee",
            "rate_minor_per_week": 90_000,
            "mentor_engagement_id": lead.json()["id"],
            "start_date": "2027-03-08",
        },
    )
    assert lead.status_code == trainee.status_code == 201, trainee.text
    listed = await client.get(url, headers=h["producer"])
    assert listed.status_code == 200
    assert listed.json() == [lead.json(), trainee.json()]
    assert listed.json()[1]["user_id"] == str(scenario.ids["grip@example.org"])


async def test_a_production_read_in_one_call_says_what_the_list_and_its_creation_said(scenario, client) -> None:
    await scenario.organizations({"guild-a": "guild", "kestrel": "production_company"})
    h = await scenario.people(
        officer=person("officer@example.org", ("guild-a", "officer")),
        producer=person("producer@example.org", ("kestrel", "producer")),
        outsider=person("outsider@example.org"),
    )
    await scenario.compact("c1", convening="guild-a", by="officer@example.org")
    created = await client.post(
        "/api/v1/productions",
        headers=h["producer"],
        json={
            "company": "kestrel",
            "title": "Harbour",
            "budget_minor": 30_000_000,
            "currency": "EUR",
            "start_date": "2027-03-01",
            "end_date": "2027-06-30",
        },
    )
    pid = created.json()["id"]
    read = await client.get(f"/api/v1/productions/{pid}", headers=h["producer"])
    assert read.json() == created.json()
    await scenario.bind(pid, "c1", by=h["producer"])
    read = (await client.get(f"/api/v1/productions/{pid}", headers=h["producer"])).json()
    [listed] = (await client.get("/api/v1/productions", headers=h["producer"])).json()
    assert read == listed
    assert [(b["compact"], b["version_number"]) for b in read["bindings"]] == [("c1", 1)]
    assert (await client.get(f"/api/v1/productions/{pid}", headers=h["outsider"])).status_code == 404


# --- principals kept between requests -----------------------------------------------------------


async def test_a_member_removed_loses_access_at_once(scenario, client) -> None:
    await scenario.org("kestrel", "production_company")
    h = await scenario.people(
        officer=person("officer@example.org", ("kestrel", "officer")),
        producer=person("producer@example.org", ("kestrel", "producer")),
    )
    pid = await scenario.production("kestrel", "Harbour", by=h["producer"])
    assert (await client.get(f"/api/v1/productions/{pid}", headers=h["producer"])).status_code == 200
    members = (await client.get("/api/v1/organizations/kestrel/members", headers=h["officer"])).json()
    membership = next(m for m in members if m["email"] == "producer@example.org")
    removed = await client.delete(f"/api/v1/organizations/kestrel/members/{membership['id']}", headers=h["officer"])
    assert removed.status_code == 204
    assert (await client.get(f"/api/v1/productions/{pid}", headers=h["producer"])).status_code == 404


async def test_a_principal_read_while_memberships_change_is_not_kept(scenario, monkeypatch) -> None:
    await scenario.org("kestrel", "production_company")
    user = await scenario.user("reader@example.org", ("kestrel", "member"))
    cache = accounts.PrincipalCache()
    loading, release = asyncio.Event(), asyncio.Event()
    real = accounts._load_principal

    async def slow_load(user_id: UUID):  # the database read of a principal, paused half-way
        found = await real(user_id)
        loading.set()
        await release.wait()
        return found

    monkeypatch.setattr(accounts, "_load_principal", slow_load)
    reader = asyncio.create_task(cache.get(user.id, ttl=60))
    await loading.wait()
    cache.clear()  # a membership change commits while the principal is being read
    release.set()
    assert (await reader).roles == {"kestrel": frozenset({"member"})}
    monkeypatch.setattr(accounts, "_load_principal", real)
    loads = []

    async def counting(user_id: UUID):
        loads.append(user_id)
        return await real(user_id)

    monkeypatch.setattr(accounts, "_load_principal", counting)
    await cache.get(user.id, ttl=60)
    await cache.get(user.id, ttl=60)
    assert loads == [user.id], "the principal read during the change was kept, or the next one was not"


# --- bearer tokens verified once -------------------------------------------------------------------


def _token(seconds: float, secret: str = "s" * 32) -> str:
    return Token(exp=datetime.now(UTC) + timedelta(seconds=seconds), sub=str(uuid4())).encode(secret, "HS256")


def test_a_verified_token_is_refused_once_it_expires() -> None:
    encoded = _token(1.2)
    assert VerifiedToken.decode(encoded, "s" * 32, "HS256").sub
    time.sleep(1.5)
    with pytest.raises(NotAuthorizedException):
        VerifiedToken.decode(encoded, "s" * 32, "HS256")


def test_a_token_verified_with_one_secret_is_not_accepted_with_another() -> None:
    encoded = _token(60)
    assert VerifiedToken.decode(encoded, "s" * 32, "HS256").sub
    with pytest.raises(NotAuthorizedException):
        VerifiedToken.decode(encoded, "t" * 32, "HS256")


def test_a_tampered_token_is_refused_after_the_genuine_one_was_verified() -> None:
    encoded = _token(60)
    VerifiedToken.decode(encoded, "s" * 32, "HS256")
    head, payload, signature = encoded.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(NotAuthorizedException):
        VerifiedToken.decode(forged, "s" * 32, "HS256")
