"""The webhook rules without a database or network: signatures, refused targets, retries and who manages endpoints."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guild.domain.errors import Forbidden, NotFound, Unprocessable
from guild.domain.principal import Principal, Role
from guild.domain.statuses import DeliveryStatus
from guild.webhooks.rules import (
    BASE_BACKOFF,
    JITTER,
    MAX_ATTEMPTS,
    MAX_BACKOFF,
    backoff,
    check_event_name,
    check_url,
    envelope,
    failure_reason,
    host_address,
    non_public,
    outcome,
    refused_address,
    require_officer,
    sign,
    verify_signature,
)

# --- signatures --------------------------------------------------------------------------------


@given(secret=st.text(min_size=1, max_size=64), body=st.binary(max_size=512), at=st.integers(0, 4_000_000_000))
def test_a_signature_verifies_for_its_body_and_secret_only(secret: str, body: bytes, at: int) -> None:
    header = sign(secret, body, at)
    assert header.startswith(f"t={at},v1=")
    assert verify_signature(secret, body, header, now=at)
    assert not verify_signature(secret, body + b"x", header, now=at)
    assert not verify_signature(secret + "x", body, header, now=at)


def test_a_signature_is_the_documented_hmac() -> None:
    # HMAC-SHA256(secret, "t." + body), hex: what a receiver computes with hashlib/hmac
    expected = hmac.new(b"s3cret", b"1700000000." + b'{"a":1}', hashlib.sha256).hexdigest()
    assert sign("s3cret", b'{"a":1}', 1_700_000_000) == f"t=1700000000,v1={expected}"


def test_a_signature_is_accepted_within_the_tolerance_only() -> None:
    header = sign("k", b"{}", 1_000_000)
    assert verify_signature("k", b"{}", header, now=1_000_300)
    assert verify_signature("k", b"{}", header, now=datetime.fromtimestamp(999_700, UTC))
    assert not verify_signature("k", b"{}", header, now=1_000_301)
    assert not verify_signature("k", b"{}", header, now=1_000_000, tolerance_s=-1)


def test_a_rotating_sender_may_send_several_signatures() -> None:
    good = sign("new", b"{}", 10).split("v1=")[1]
    assert verify_signature("new", b"{}", f"t=10,v1={'0' * 64},v1={good}", now=10)
    assert not verify_signature("new", b"{}", f"t=10,v1={'0' * 64}", now=10)


@pytest.mark.parametrize("header", [None, "", "t=10", "v1=ab", "t=x,v1=ab", "t=10,t=10,v1=ab", "t=10,garbage"])
def test_a_malformed_signature_header_is_refused(header: str | None) -> None:
    assert not verify_signature("k", b"{}", header, now=10)


# --- events ------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", ["finding.opened", "a.b", "contract.issued_late", "a1.b2.c3"])
def test_event_names_are_dotted_lower_case_words(event: str) -> None:
    check_event_name(event)


@pytest.mark.parametrize("event", ["finding", "Finding.opened", "finding..opened", ".a", "a.", "1a.b", "a." + "b" * 63])
def test_other_event_names_are_refused(event: str) -> None:
    with pytest.raises(ValueError, match="must look like 'finding.opened'"):
        check_event_name(event)


def test_the_envelope_carries_event_delivery_id_time_and_data() -> None:
    delivery, at = uuid4(), datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert envelope("finding.opened", delivery, at, {"x": 1}) == {
        "event": "finding.opened",
        "id": str(delivery),
        "created_at": "2027-01-02T03:04:05+00:00",
        "data": {"x": 1},
    }


# --- targets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("::1", "::1"),
        ("example.org", None),
        ("localhost", None),
        ("deadbeef", None),  # hex letters without 0x: a name
    ],
)
def test_numeric_hosts_in_every_spelling_a_resolver_takes(host: str, address: str | None) -> None:
    found = host_address(host)
    assert (None if found is None else str(found)) == address


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared (carrier-grade NAT)
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1%eth0",
        "fc00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert non_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34"])
def test_public_addresses(address: str) -> None:
    assert not non_public(address)
    assert not non_public(ipaddress.ip_address(address))


def _rule(url: str, *, private_targets: bool = False) -> str:
    with pytest.raises(Unprocessable) as refused:
        check_url(url, private_targets=private_targets)
    (error,) = refused.value.extra["errors"]
    assert error["field"] == "url"
    return str(error["rule"])


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("ftp://hooks.example.org/x", "url_scheme"),
        ("hooks.example.org/x", "url_scheme"),
        ("http://hooks.example.org/x", "https_required"),
        ("https://user:pw@hooks.example.org/x", "url_credentials"),
        ("https://@hooks.example.org/x", "url_credentials"),
        ("https:///x", "url_host"),
        ("https://hooks.example.org:99999/x", "url_format"),
        ("https://hooks.example.org/a b", "url_format"),
        ("", "url_format"),
        ("https://example.org/" + "a" * 2000, "max_length"),
        ("https://127.1/x", "public_host"),
        ("https://2130706433/x", "public_host"),
        ("https://[::ffff:127.0.0.1]/x", "public_host"),
        ("https://169.254.169.254/latest/meta-data", "public_host"),
        ("https://app.localhost/x", "public_host"),
        ("http://localhost:8080/x", "public_host"),
    ],
)
def test_refused_urls_name_their_rule(url: str, rule: str) -> None:
    assert _rule(url) == rule


def test_a_public_https_url_is_accepted_as_given() -> None:
    assert (
        check_url("https://hooks.example.org/guild?x=1", private_targets=False) == "https://hooks.example.org/guild?x=1"
    )


def test_a_deployment_may_allow_private_targets_but_http_stays_loopback_only() -> None:
    assert check_url("http://127.0.0.1:9000/hook", private_targets=True) == "http://127.0.0.1:9000/hook"
    assert check_url("https://10.0.0.5/hook", private_targets=True) == "https://10.0.0.5/hook"
    assert _rule("http://10.0.0.5/hook", private_targets=True) == "https_required"


def test_every_resolved_address_must_be_public() -> None:
    assert refused_address("hooks.example.org", ["93.184.216.34"], private_targets=False) is None
    assert (
        refused_address("hooks.example.org", ["93.184.216.34", "10.0.0.1"], private_targets=False)
        == "refused: hooks.example.org resolves to 10.0.0.1, a non-public address"
    )
    assert refused_address("hooks.example.org", ["10.0.0.1"], private_targets=True) is None


# --- retries -----------------------------------------------------------------------------------


@given(attempts=st.integers(1, 40), seed=st.integers())
def test_backoff_doubles_from_30_seconds_up_to_6_hours_plus_at_most_10_percent(attempts: int, seed: int) -> None:
    base = min(BASE_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)
    delay = backoff(attempts, random.Random(seed))
    assert base <= delay <= base * (1 + JITTER)
    assert delay <= MAX_BACKOFF * (1 + JITTER)


def test_backoff_first_steps() -> None:
    class NoJitter(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return a

    assert [backoff(n, NoJitter()) for n in (1, 2, 3, 10, 11)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(seconds=30 * 512),
        timedelta(hours=6),
    ]


@given(attempts=st.integers(1, 100), code=st.one_of(st.none(), st.integers(100, 599)))
def test_an_attempt_delivers_on_2xx_fails_at_the_last_attempt_else_stays_pending(
    attempts: int, code: int | None
) -> None:
    status = outcome(attempts, code)
    if code is not None and 200 <= code < 300:
        assert status is DeliveryStatus.delivered
    elif attempts >= MAX_ATTEMPTS:
        assert status is DeliveryStatus.failed
    else:
        assert status is DeliveryStatus.pending


def test_failure_reasons() -> None:
    assert failure_reason(500, "") == "HTTP 500"
    assert failure_reason(503, "busy") == "HTTP 503: busy"
    assert failure_reason(302, "") == "HTTP 302 (redirects are not followed)"


# --- who manages endpoints -------------------------------------------------------------------------


def _principal(roles: dict[str, frozenset[str]], *, admin: bool = False) -> Principal:
    return Principal(id=uuid4(), email="a@example.org", name="A", is_admin=admin, roles=roles)


def test_officers_and_admins_manage_endpoints_members_are_forbidden_others_see_nothing() -> None:
    require_officer(_principal({"guild-a": frozenset({Role.officer})}), "guild-a")
    require_officer(_principal({}, admin=True), "guild-a")
    with pytest.raises(Forbidden):
        require_officer(_principal({"guild-a": frozenset({Role.member})}), "guild-a")
    with pytest.raises(NotFound):
        require_officer(_principal({"guild-b": frozenset({Role.officer})}), "guild-a")
