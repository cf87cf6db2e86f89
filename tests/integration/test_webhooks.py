"""Signed webhooks: endpoint management by officers, the outbox, and delivery with retries to a real local server.

Every HTTP request in this module goes to a server the test starts on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import UUID

import httpx
import pytest

from tests.integration.scenario import person

BASE = "/api/v1/organizations/{slug}/webhooks"


# --- who is who ------------------------------------------------------------------------------------


@pytest.fixture
async def world(scenario):
    """guild-a (officer, member, producer), guild-b (officer), a production company (officer), an outsider, an admin."""
    ids = await scenario.organizations({"guild-a": "guild", "guild-b": "guild", "studio": "production_company"})
    people = await scenario.people(
        admin=person("admin@example.org", admin=True),
        officer_a=person("officer.a@example.org", ("guild-a", "officer")),
        member_a=person("member.a@example.org", ("guild-a", "member")),
        producer_a=person("producer.a@example.org", ("guild-a", "producer")),
        officer_b=person("officer.b@example.org", ("guild-b", "officer")),
        officer_studio=person("officer.s@example.org", ("studio", "officer")),
        outsider=person("outsider@example.org"),
    )
    return {"ids": ids, **people}


async def create_endpoint(client, headers, slug: str, url: str) -> dict:
    r = await client.post(BASE.format(slug=slug), json={"url": url}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


# --- a real receiver on 127.0.0.1 -------------------------------------------------------------------


class Receiver:
    """HTTP server in a thread. Paths: /flaky answers 500 once then 200, /down always 503, /ok always 200.

    Each request's signature is checked with ``verify_signature`` against the secret registered for its path.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls=None) -> None:
        self.secrets: dict[str, str] = {}
        self.server_names: list[str | None] = []  # TLS: the SNI of each handshake
        self.requests: list[dict] = []
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                from guild.webhooks import verify_signature

                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                path = self.path
                verified = verify_signature(
                    receiver.secrets.get(path, ""), body, self.headers.get("X-Guild-Signature"), time.time()
                )
                with receiver.lock:
                    receiver.hits[path] += 1
                    n = receiver.hits[path]
                    receiver.requests.append(
                        {
                            "path": path,
                            "delivery": self.headers.get("X-Guild-Delivery"),
                            "event": self.headers.get("X-Guild-Event"),
                            "signature": self.headers.get("X-Guild-Signature"),
                            "verified": verified,
                            "body": body,
                            "host": self.headers.get("Host"),
                        }
                    )
                if not verified:
                    code = 401
                elif path == "/flaky":
                    code = 500 if n == 1 else 200
                elif path == "/down":
                    code = 503
                else:
                    code = 200
                text = b"try later" if code >= 500 else b"ok"
                self.send_response(code)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://{host}:{self.port}"
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def for_delivery(self, delivery_id: UUID) -> list[dict]:
        return [r for r in self.requests if r["delivery"] == str(delivery_id)]


@pytest.fixture
def receiver():
    rx = Receiver()
    rx.thread.start()
    try:
        yield rx
    finally:
        rx.server.shutdown()
        rx.server.server_close()


@pytest.fixture
async def http():
    async with httpx.AsyncClient(trust_env=False) as c:  # no proxies: straight to 127.0.0.1
        yield c


async def enqueue_in_tx(org_ids, event="finding.opened", data=None) -> int:
    from guild.infra.db import write_tx
    from guild.webhooks import enqueue

    async with write_tx():
        return await enqueue(org_ids, event, data or {"finding_id": "f-1", "severity": "major"})


async def delivery_rows(**where) -> list[dict]:
    from guild.infra.tables import WebhookDelivery

    query = WebhookDelivery.select().output(load_json=True)
    for column, value in where.items():
        query = query.where(getattr(WebhookDelivery, column) == value)
    return await query


# --- endpoint management ----------------------------------------------------------------------------


async def test_officers_manage_endpoints_others_are_denied(client, world):
    url = BASE.format(slug="guild-a")
    body = {"url": "https://hooks.example.org/guild"}
    for who in ("member_a", "producer_a"):
        assert (await client.post(url, json=body, headers=world[who])).status_code == 403, who
        assert (await client.get(url, headers=world[who])).status_code == 403, who
        assert (await client.get(url + "/deliveries", headers=world[who])).status_code == 403, who
    for who in ("officer_b", "outsider"):
        assert (await client.post(url, json=body, headers=world[who])).status_code == 404, who
        assert (await client.get(url + "/deliveries", headers=world[who])).status_code == 404, who
    assert (await client.post(url, json=body)).status_code == 401

    r = await client.post(url, json=body, headers=world["officer_a"])
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["url"] == body["url"] and created["active"] is True
    assert len(created["secret"]) >= 40
    assert r.headers["cache-control"] == "no-store"
    assert (await client.post(url, json=body, headers=world["admin"])).status_code == 201

    listed = (await client.get(url, headers=world["officer_a"])).json()
    assert [e["id"] for e in listed][0] == created["id"] and len(listed) == 2
    assert all("secret" not in e for e in listed)
    assert created["secret"] not in (await client.get(url, headers=world["officer_a"])).text

    deactivate = f"{url}/{created['id']}/deactivate"
    assert (await client.post(deactivate, headers=world["member_a"])).status_code == 403
    assert (await client.post(deactivate, headers=world["officer_b"])).status_code == 404
    # an endpoint of guild-a cannot be reached through guild-b
    other = f"{BASE.format(slug='guild-b')}/{created['id']}/deactivate"
    assert (await client.post(other, headers=world["officer_b"])).status_code == 404
    r = await client.post(deactivate, headers=world["officer_a"])
    assert r.status_code == 200 and r.json()["active"] is False and "secret" not in r.json()
    again = await client.post(deactivate, headers=world["officer_a"])  # already inactive: 409, nothing recorded
    assert again.status_code == 409 and again.json()["rule"] == "already_inactive"
    missing = f"{url}/00000000-0000-4000-8000-000000000000/deactivate"
    assert (await client.post(missing, headers=world["officer_a"])).status_code == 404


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("ftp://hooks.example.org/x", "url_scheme"),
        ("javascript:alert(1)", "url_scheme"),
        ("hooks.example.org/no-scheme", "url_scheme"),
        ("http://example.com/hook", "https_required"),
        ("http://10.0.0.5/hook", "https_required"),
        ("https://user:pw@hooks.example.org/x", "url_credentials"),
        ("https://user@hooks.example.org/x", "url_credentials"),
        ("https://hooks.example.org/" + "a" * 2000, "max_length"),
        ("https:///no-host", "url_host"),
        ("https://hooks.example.org:99999/x", "url_format"),
        ("https://hooks.example.org/a b", "url_format"),
    ],
)
async def test_bad_urls_are_refused_naming_the_field(client, world, url, rule):
    from guild.infra.tables import WebhookEndpoint

    r = await client.post(BASE.format(slug="guild-a"), json={"url": url}, headers=world["officer_a"])
    assert r.status_code == 422, r.text
    error = r.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("url", rule)
    assert error["message"]
    assert await WebhookEndpoint.count() == 0


async def test_loopback_http_is_allowed_and_unknown_fields_are_refused(client, world):
    for url in ("http://127.0.0.1:8080/hook", "http://127.3.4.5/hook", "http://localhost:9000/x", "http://[::1]:81/x"):
        await create_endpoint(client, world["officer_a"], "guild-a", url)
    r = await client.post(
        BASE.format(slug="guild-a"),
        json={"url": "https://ok.example.org", "secret": "mine"},
        headers=world["officer_a"],
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "secret"


# --- signing ----------------------------------------------------------------------------------------


def test_signature_round_trip_and_refusals():
    from guild.webhooks import sign, verify_signature

    body, secret, t = b'{"event":"finding.opened"}', "s3cret", 1_700_000_000
    header = sign(secret, body, t)
    assert header.startswith(f"t={t},v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(secret, body, header, t + 10)
    assert verify_signature(secret, body, header, datetime.fromtimestamp(t + 299, UTC))
    assert verify_signature(secret, body, f"{header},v1={'0' * 64}", t)  # rotation: any v1 may match
    assert not verify_signature(secret, body + b" ", header, t)
    assert not verify_signature("other", body, header, t)
    assert not verify_signature(secret, body, header, t + 301)  # too old: replay window closed
    assert not verify_signature(secret, body, header.replace(f"t={t}", f"t={t + 1}"), t)
    for bad in (None, "", "v1=abc", f"t={t}", "t=abc,v1=00", "garbage"):
        assert not verify_signature(secret, body, bad, t), bad


# --- the outbox -------------------------------------------------------------------------------------


async def test_enqueue_creates_one_pending_delivery_per_active_endpoint(client, world):
    from guild.infra.tables import WebhookDelivery

    ids = world["ids"]
    a1 = await create_endpoint(client, world["officer_a"], "guild-a", "https://a1.example.org/h")
    a2 = await create_endpoint(client, world["officer_a"], "guild-a", "https://a2.example.org/h")
    gone = await create_endpoint(client, world["officer_a"], "guild-a", "https://gone.example.org/h")
    s1 = await create_endpoint(client, world["officer_studio"], "studio", "https://studio.example.org/h")
    await create_endpoint(client, world["officer_b"], "guild-b", "https://b.example.org/h")  # not addressed
    await client.post(f"{BASE.format(slug='guild-a')}/{gone['id']}/deactivate", headers=world["officer_a"])

    before = datetime.now(UTC)
    data = {"finding_id": UUID("11111111-1111-4111-8111-111111111111"), "rule": "ai_share", "at": before}
    n = await enqueue_in_tx([ids["studio"], ids["guild-a"], ids["guild-a"]], "finding.opened", data)
    assert n == 3

    rows = await delivery_rows()
    assert len(rows) == 3
    assert {str(r["endpoint"]) for r in rows} == {a1["id"], a2["id"], s1["id"]}
    for row in rows:
        assert (row["status"], row["attempts"], row["event"]) == ("pending", 0, "finding.opened")
        assert row["last_status_code"] is None and row["delivered_at"] is None
        assert before <= row["next_attempt_at"] <= datetime.now(UTC)
        envelope = row["payload"]
        assert envelope["event"] == "finding.opened"
        assert envelope["id"] == str(row["id"])
        assert datetime.fromisoformat(envelope["created_at"]) == row["created_at"]
        assert envelope["data"] == {
            "finding_id": "11111111-1111-4111-8111-111111111111",
            "rule": "ai_share",
            "at": before.isoformat(),
        }
    assert await enqueue_in_tx([ids["guild-b"], ids["guild-b"]]) == 1
    assert await enqueue_in_tx([]) == 0
    assert await WebhookDelivery.count() == 4


async def test_enqueue_commits_and_rolls_back_with_the_callers_transaction(client, world):
    from guild.infra.db import write_tx
    from guild.infra.tables import WebhookDelivery
    from guild.webhooks import enqueue

    await create_endpoint(client, world["officer_a"], "guild-a", "https://a.example.org/h")
    with pytest.raises(RuntimeError, match="write_tx"):
        await enqueue([world["ids"]["guild-a"]], "finding.opened", {})

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with write_tx():
            assert await enqueue([world["ids"]["guild-a"]], "finding.escalated", {"x": 1}) == 1
            raise Boom
    assert await WebhookDelivery.count() == 0


# --- delivery ---------------------------------------------------------------------------------------


async def test_delivery_retries_with_backoff_then_succeeds(client, world, receiver, http):
    from guild.webhooks import deliver_due

    ep = await create_endpoint(client, world["officer_a"], "guild-a", receiver.base + "/flaky")
    receiver.secrets["/flaky"] = ep["secret"]
    assert await enqueue_in_tx([world["ids"]["guild-a"]], "finding.resolved", {"finding_id": "f-9"}) == 1
    [row] = await delivery_rows()
    delivery_id = row["id"]

    t0 = datetime.now(UTC)
    stats = await deliver_due(http, now=t0)
    assert (stats.claimed, stats.delivered, stats.retrying, stats.failed) == (1, 0, 1, 0)
    [row] = await delivery_rows()
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 1, 500)
    assert "HTTP 500" in row["last_error"] and "try later" in row["last_error"]
    wait = row["next_attempt_at"] - t0
    assert timedelta(seconds=30) <= wait <= timedelta(seconds=33), wait  # 30 s * 2^0 plus at most 10 % jitter

    # not due yet: nothing is sent
    assert (await deliver_due(http, now=t0 + timedelta(seconds=29))).claimed == 0
    assert len(receiver.requests) == 1

    t1 = row["next_attempt_at"] + timedelta(seconds=1)
    stats = await deliver_due(http, now=t1)
    assert (stats.claimed, stats.delivered) == (1, 1)
    [row] = await delivery_rows()
    assert (row["status"], row["attempts"], row["last_status_code"], row["last_error"]) == ("delivered", 2, 200, "")
    assert row["delivered_at"] == t1

    sent = receiver.for_delivery(delivery_id)
    assert len(sent) == 2 and len(receiver.requests) == 2
    assert all(r["verified"] for r in sent)
    assert all(r["event"] == "finding.resolved" for r in sent)
    assert sent[0]["body"] == sent[1]["body"]  # the same signed envelope, byte for byte
    envelope = json.loads(sent[0]["body"])
    assert envelope["id"] == str(delivery_id) and envelope["data"] == {"finding_id": "f-9"}

    # delivered rows are never sent again
    assert (await deliver_due(http, now=t1 + timedelta(days=1))).claimed == 0

    log = (await client.get(BASE.format(slug="guild-a") + "/deliveries", headers=world["officer_a"])).json()
    assert len(log) == 1
    entry = log[0]
    assert entry["id"] == str(delivery_id) and entry["endpoint_id"] == ep["id"] and entry["url"] == ep["url"]
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("delivered", 2, 200)
    assert entry["event"] == "finding.resolved" and entry["delivered_at"] is not None


async def test_delivery_gives_up_after_eight_attempts(client, world, receiver, http):
    from guild.webhooks import deliver_due
    from guild.webhooks.rules import backoff

    ep = await create_endpoint(client, world["officer_a"], "guild-a", receiver.base + "/down")
    receiver.secrets["/down"] = ep["secret"]
    await enqueue_in_tx([world["ids"]["guild-a"]])
    [row] = await delivery_rows()

    now = datetime.now(UTC)
    waits = []
    for attempt in range(1, 9):
        stats = await deliver_due(http, now=now)
        assert stats.claimed == 1, attempt
        [row] = await delivery_rows()
        assert row["attempts"] == attempt and row["last_status_code"] == 503
        if attempt < 8:
            assert row["status"] == "pending"
            waits.append(row["next_attempt_at"] - now)
            now = row["next_attempt_at"] + timedelta(seconds=1)
    assert row["status"] == "failed" and row["delivered_at"] is None and "HTTP 503" in row["last_error"]
    for n, wait in enumerate(waits, start=1):  # 30 s, 60 s, 120 s, ... each with at most 10 % jitter
        base = timedelta(seconds=30 * 2 ** (n - 1))
        assert base <= wait <= base * 1.1, (n, wait)
    assert backoff(20) <= timedelta(hours=6, minutes=36)  # capped at 6 h (+ jitter)
    assert backoff(20) >= timedelta(hours=6)

    assert (await deliver_due(http, now=now + timedelta(days=2))).claimed == 0
    sent = receiver.for_delivery(row["id"])
    assert len(sent) == 8 and all(r["verified"] for r in sent)

    log = (
        await client.get(BASE.format(slug="guild-a") + "/deliveries?status=failed", headers=world["officer_a"])
    ).json()
    assert [(e["status"], e["attempts"], e["last_status_code"]) for e in log] == [("failed", 8, 503)]
    assert "HTTP 503" in log[0]["last_error"]
    assert (
        await client.get(BASE.format(slug="guild-a") + "/deliveries?status=pending", headers=world["officer_a"])
    ).json() == []


async def test_unreachable_endpoint_is_logged_as_an_error(client, world, http):
    import socket

    from guild.webhooks import deliver_due

    with socket.socket() as s:  # a port on 127.0.0.1 that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await create_endpoint(client, world["officer_a"], "guild-a", f"http://127.0.0.1:{port}/nobody")
    await enqueue_in_tx([world["ids"]["guild-a"]])
    stats = await deliver_due(http)
    assert stats.retrying == 1
    [row] = await delivery_rows()
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 1, None)
    assert row["last_error"]


async def test_concurrent_deliverers_send_each_delivery_once(client, world, receiver, http):
    from guild.webhooks import deliver_due

    for _ in range(3):
        ep = await create_endpoint(client, world["officer_a"], "guild-a", receiver.base + "/ok")
        receiver.secrets["/ok"] = ep["secret"]
    # one secret per path in the receiver: keep only the last endpoint active
    eps = (await client.get(BASE.format(slug="guild-a"), headers=world["officer_a"])).json()
    for e in eps[:-1]:
        await client.post(f"{BASE.format(slug='guild-a')}/{e['id']}/deactivate", headers=world["officer_a"])
    for i in range(8):
        assert await enqueue_in_tx([world["ids"]["guild-a"]], data={"n": i}) == 1

    results = await asyncio.gather(*(deliver_due(http, limit=3) for _ in range(4)))
    assert sum(s.claimed for s in results) == 8
    assert sum(s.delivered for s in results) == 8
    ids = [r["delivery"] for r in receiver.requests]
    assert len(ids) == 8 and len(set(ids)) == 8
    assert all(r["verified"] for r in receiver.requests)
    assert {r["status"] for r in await delivery_rows()} == {"delivered"}


async def test_a_claim_is_leased_and_recovered_after_a_crash(client, world, receiver, http):
    from guild.webhooks import deliver_due
    from guild.webhooks.delivery import LEASE, _claim

    ep = await create_endpoint(client, world["officer_a"], "guild-a", receiver.base + "/ok")
    receiver.secrets["/ok"] = ep["secret"]
    await enqueue_in_tx([world["ids"]["guild-a"]])
    now = datetime.now(UTC)
    assert len(await _claim(now, 10)) == 1  # a deliverer claims it and then dies before sending
    assert (await deliver_due(http, now=now + LEASE - timedelta(seconds=1))).claimed == 0
    stats = await deliver_due(http, now=now + LEASE + timedelta(seconds=1))
    assert (stats.claimed, stats.delivered) == (1, 1)
    assert len(receiver.requests) == 1


async def test_deactivating_closes_pending_deliveries(client, world, receiver, http):
    from guild.webhooks import deliver_due

    ep = await create_endpoint(client, world["officer_a"], "guild-a", receiver.base + "/ok")
    await enqueue_in_tx([world["ids"]["guild-a"]])
    await client.post(f"{BASE.format(slug='guild-a')}/{ep['id']}/deactivate", headers=world["officer_a"])
    [row] = await delivery_rows()
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 0, "endpoint deactivated")
    assert (await deliver_due(http)).claimed == 0
    assert receiver.requests == []


async def test_concurrent_deactivations_have_one_winner(client, world):
    """Eight officers' requests at once: one deactivates (one audit event), seven are 409."""
    from guild.infra.tables import WebhookEndpoint
    from tests.integration.concurrency import audit_events, statuses, together

    ep = await create_endpoint(client, world["officer_a"], "guild-a", "https://hooks.example.org/in")
    url = f"{BASE.format(slug='guild-a')}/{ep['id']}/deactivate"
    responses = await together([client.post(url, headers=world["officer_a"]) for _ in range(8)])
    assert statuses(responses) == {200: 1, 409: 7}
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"already_inactive"}
    assert [r.json()["active"] for r in responses if r.status_code == 200] == [False]
    assert (await WebhookEndpoint.select(WebhookEndpoint.active).where(WebhookEndpoint.id == ep["id"]).first()) == {
        "active": False
    }
    assert [e["data"]["endpoint_id"] for e in await audit_events("webhook_endpoint.deactivated")] == [ep["id"]]


async def test_deliveries_log_is_newest_first_and_private(client, world):
    ids = world["ids"]
    await create_endpoint(client, world["officer_a"], "guild-a", "https://a.example.org/h")
    await create_endpoint(client, world["officer_b"], "guild-b", "https://b.example.org/h")
    await enqueue_in_tx([ids["guild-a"]], "finding.opened")
    await enqueue_in_tx([ids["guild-a"], ids["guild-b"]], "finding.escalated")
    await enqueue_in_tx([ids["guild-a"]], "finding.resolved")

    log = (await client.get(BASE.format(slug="guild-a") + "/deliveries", headers=world["officer_a"])).json()
    assert [e["event"] for e in log] == ["finding.resolved", "finding.escalated", "finding.opened"]
    assert all(
        (e["status"], e["attempts"], e["last_status_code"], e["last_error"]) == ("pending", 0, None, "") for e in log
    )
    limited = await client.get(BASE.format(slug="guild-a") + "/deliveries?limit=1", headers=world["officer_a"])
    assert [e["event"] for e in limited.json()] == ["finding.resolved"]
    assert (
        await client.get(BASE.format(slug="guild-a") + "/deliveries?limit=0", headers=world["officer_a"])
    ).status_code in (400, 422)
    log_b = (await client.get(BASE.format(slug="guild-b") + "/deliveries", headers=world["officer_b"])).json()
    assert [e["event"] for e in log_b] == ["finding.escalated"]


# --- non-public targets (SSRF) ------------------------------------------------------------------------


@pytest.fixture
def public_targets_only(monkeypatch):
    """The default of a deployment: GUILD_WEBHOOK_PRIVATE_TARGETS off (the suite turns it on for its receivers)."""
    from guild.infra.settings import get_settings

    monkeypatch.setattr(get_settings(), "webhook_private_targets", False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::ffff:10.1.2.3]/hook",
        "https://[fd00::1]/hook",
    ],
)
async def test_non_public_hosts_are_refused_when_registered(client, world, public_targets_only, url):
    from guild.infra.tables import WebhookEndpoint

    r = await client.post(BASE.format(slug="guild-a"), json={"url": url}, headers=world["officer_a"])
    assert r.status_code == 422, r.text
    assert [(e["field"], e["rule"]) for e in r.json()["errors"]] == [("url", "public_host")]
    assert await WebhookEndpoint.count() == 0


async def test_public_hosts_are_accepted_with_the_default(client, world, public_targets_only):
    r = await client.post(
        BASE.format(slug="guild-a"), json={"url": "https://203.0.113.0.example.org/hook"}, headers=world["officer_a"]
    )
    assert r.status_code == 201, r.text
    r = await client.post(BASE.format(slug="guild-a"), json={"url": "https://8.8.8.8/hook"}, headers=world["officer_a"])
    assert r.status_code == 201, r.text


async def test_a_delivery_to_a_host_that_resolves_to_a_non_public_address_is_refused(
    client, world, receiver, http, monkeypatch
):
    """Registered while allowed (or before its DNS changed): each delivery checks again, nothing is sent."""
    from guild.infra.settings import get_settings
    from guild.webhooks import deliver_due

    ep = await create_endpoint(client, world["officer_a"], "guild-a", receiver.base + "/ok")
    receiver.secrets["/ok"] = ep["secret"]
    await enqueue_in_tx([world["ids"]["guild-a"]])
    monkeypatch.setattr(get_settings(), "webhook_private_targets", False)
    stats = await deliver_due(http)
    assert (stats.claimed, stats.delivered, stats.retrying) == (1, 0, 1)
    assert receiver.requests == []
    [row] = await delivery_rows()
    assert row["last_status_code"] is None
    assert row["last_error"].startswith("refused: 127.0.0.1 resolves to 127.0.0.1, a non-public address")


# --- other spellings of loopback; pinned connections (no DNS rebinding) -------------------------------


NUMERIC_LOOPBACK = ["127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "0x7f000001", "017700000001"]
LOOPBACK_SPELLINGS = [*NUMERIC_LOOPBACK, "127.0.0.1.", "0x7f.1."]


@pytest.mark.parametrize(
    "url",
    [
        *(f"https://{host}/hook" for host in LOOPBACK_SPELLINGS),
        *(f"http://{host}:8080/hook" for host in LOOPBACK_SPELLINGS),
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:7f00:1]/hook",
        "https://[::1]/hook",
        "https://[0:0:0:0:0:0:0:1]/hook",
        "https://[64:ff9b::7f00:1]/hook",
        "https://[2002:7f00:1::]/hook",
        "https://10.1/hook",
        "https://0xa9.0xfe.0xa9.0xfe/latest/meta-data",
        "https://0/hook",
        "https://hooks.localhost/x",
        "https://LOCALHOST./x",
    ],
)
async def test_other_spellings_of_non_public_hosts_are_refused_when_registered(client, world, public_targets_only, url):
    from guild.infra.tables import WebhookEndpoint

    r = await client.post(BASE.format(slug="guild-a"), json={"url": url}, headers=world["officer_a"])
    assert r.status_code == 422, r.text
    assert [(e["field"], e["rule"]) for e in r.json()["errors"]] == [("url", "public_host")]
    assert await WebhookEndpoint.count() == 0


@pytest.mark.parametrize("host", NUMERIC_LOOPBACK)
def test_numeric_hosts_mean_what_the_system_resolver_says(host):
    """The registration check reads numeric hosts as the resolver does (no network: they are numeric)."""
    import socket

    from guild.webhooks.rules import host_address

    resolved = {info[4][0] for info in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)}
    assert resolved == {str(host_address(host))} == {"127.0.0.1"}


async def test_http_to_loopback_in_another_spelling_is_allowed_where_private_targets_are(client, world):
    await create_endpoint(client, world["officer_a"], "guild-a", "http://127.1:8080/hook")


async def test_a_delivery_checks_every_resolved_address(client, world, receiver, http, monkeypatch):
    from guild.infra.settings import get_settings
    from guild.webhooks import deliver_due, delivery

    port = receiver.port
    ep = await create_endpoint(client, world["officer_a"], "guild-a", f"http://localhost:{port}/ok")
    receiver.secrets["/ok"] = ep["secret"]
    await enqueue_in_tx([world["ids"]["guild-a"]])

    async def resolve(host: str, port: int) -> list[str]:
        return ["8.8.8.8", "127.0.0.1"]

    monkeypatch.setattr(delivery, "resolve", resolve)
    monkeypatch.setattr(get_settings(), "webhook_private_targets", False)
    stats = await deliver_due(http)
    assert (stats.claimed, stats.delivered) == (1, 0)
    assert receiver.requests == []
    [row] = await delivery_rows()
    assert row["last_error"] == "refused: localhost resolves to 127.0.0.1, a non-public address"


async def test_the_delivery_connects_to_the_address_that_was_checked(client, world, http, monkeypatch):
    """DNS rebinding: the name resolves once, and the POST goes to that address even if the name says
    otherwise a moment later (as it would if the HTTP client looked it up again)."""
    from guild.webhooks import deliver_due, delivery

    checked = Receiver("127.0.0.2")  # the address the check saw
    rebound = Receiver("127.0.0.1", checked.port)  # where the name points by the time of connecting
    for rx in (checked, rebound):
        rx.thread.start()
    try:
        ep = await create_endpoint(client, world["officer_a"], "guild-a", f"http://localhost:{checked.port}/ok")
        checked.secrets["/ok"] = rebound.secrets["/ok"] = ep["secret"]
        await enqueue_in_tx([world["ids"]["guild-a"]])
        answers = iter([["127.0.0.2"]])
        lookups: list[str] = []

        async def resolve(host: str, port: int) -> list[str]:
            lookups.append(host)
            return next(answers, ["127.0.0.1"])

        monkeypatch.setattr(delivery, "resolve", resolve)
        stats = await deliver_due(http)
    finally:
        for rx in (checked, rebound):
            rx.server.shutdown()
            rx.server.server_close()
    assert stats.delivered == 1
    assert lookups == ["localhost"]
    assert rebound.requests == []
    [request] = checked.requests
    assert request["verified"] and request["host"] == f"localhost:{checked.port}"


def _tls_pair(tmp_path, name: str):
    """A CA, and a server certificate for ``name`` signed by it: (server SSLContext, client SSLContext)."""
    import ssl
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def cert(subject: str, key, issuer: str, issuer_key, ca: bool, san: str | None = None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert("guild test CA", ca_key, "guild test CA", ca_key, ca=True)
    leaf = cert(name, leaf_key, "guild test CA", ca_key, ca=False, san=name)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    (tmp_path / "leaf.key").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    return server, ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))


async def test_a_pinned_https_delivery_verifies_the_certificate_of_the_host_name(client, world, tmp_path, monkeypatch):
    """Connecting to the checked address keeps TLS honest: SNI and certificate check use the URL's host name."""
    from guild.webhooks import deliver_due, delivery

    server_tls, client_tls = _tls_pair(tmp_path, "hooks.test")
    rx = Receiver("127.0.0.1", tls=server_tls)
    rx.thread.start()

    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]  # hooks.test and other.test both point at the receiver

    monkeypatch.setattr(delivery, "resolve", resolve)
    try:
        good = await create_endpoint(client, world["officer_a"], "guild-a", f"https://hooks.test:{rx.port}/ok")
        rx.secrets["/ok"] = good["secret"]
        await enqueue_in_tx([world["ids"]["guild-a"]])
        async with httpx.AsyncClient(verify=client_tls, trust_env=False) as tls_http:
            assert (await deliver_due(tls_http)).delivered == 1
            [request] = rx.requests
            assert request["verified"] and request["host"] == f"hooks.test:{rx.port}"
            assert rx.server_names == ["hooks.test"]

            # a name the certificate does not cover, at the same address: refused by certificate verification
            bad = await create_endpoint(client, world["officer_a"], "guild-a", f"https://other.test:{rx.port}/ok")
            await client.post(BASE.format(slug="guild-a") + f"/{good['id']}/deactivate", headers=world["officer_a"])
            await enqueue_in_tx([world["ids"]["guild-a"]])
            stats = await deliver_due(tls_http)
    finally:
        rx.server.shutdown()
        rx.server.server_close()
    assert (stats.claimed, stats.delivered) == (1, 0)
    assert len(rx.requests) == 1  # nothing more arrived
    [row] = [r for r in await delivery_rows() if r["endpoint"] == UUID(bad["id"])]
    assert "CERTIFICATE_VERIFY_FAILED" in row["last_error"], row["last_error"]


async def test_through_an_environment_proxy_the_request_keeps_its_host_name(client, world, monkeypatch):
    """HTTP(S)_PROXY deployments: the proxy connects by name (a pinned address would break its TLS tunnel)."""
    from guild.webhooks import deliver_due

    proxy = Receiver()  # answers whatever it is sent; records the request target
    proxy.thread.start()
    try:
        ep = await create_endpoint(client, world["officer_a"], "guild-a", "http://localhost:9/ok")
        proxy.secrets["http://localhost:9/ok"] = ep["secret"]
        await enqueue_in_tx([world["ids"]["guild-a"]])
        monkeypatch.setenv("HTTP_PROXY", proxy.base)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with httpx.AsyncClient() as env_http:  # trust_env, as the scheduler's client
            assert (await deliver_due(env_http)).delivered == 1
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
    [request] = proxy.requests
    assert request["path"] == "http://localhost:9/ok" and request["host"] == "localhost:9"
