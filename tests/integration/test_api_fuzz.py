"""Schemathesis against the running server's own OpenAPI: every response is one the document describes.

A real `guild run` server (uvicorn) is started on a loopback port against this test's database, with a
small world in it (a ratified compact and a draft amendment, a bound production with engagements, an
issued contract, disclosures, a compliance run, a webhook endpoint, a custom clause, a calendar feed).
Every operation gets generated requests: valid ones aimed at that world's ids, invalid ones at the same
ids, and valid ones at generated ids. Each is sent as a site admin and as a plain member, and without a
token (every case of a public route, one case of the others). Every response must pass schemathesis'
checks: no server error, a documented status code, a documented content type, a body that matches the
documented schema, the documented headers. The test fails listing each kind of violation once.

GUILD_FUZZ_EXAMPLES (default 5) sets the examples per operation and generation mode;
GUILD_FUZZ_REPORT=<file> writes the violations and the status counts there.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from tests.integration.processes import guild_server
from tests.integration.scenario import person
from tests.integration.test_contracts import performer_request

EXAMPLES = int(os.environ.get("GUILD_FUZZ_EXAMPLES", "5"))


async def _seed(scenario) -> dict:
    """Users and a ratified compact with a draft amendment, made through the services."""
    await scenario.organizations({"guild-a": "guild", "studio": "production_company"})
    seeded = await scenario.people(
        admin=person("admin@example.org", ("guild-a", "officer"), ("studio", "producer"), admin=True),
        plain=person("plain@example.org", ("guild-a", "member")),
    )
    await scenario.user("extra@example.org", ("guild-a", "member"))
    await scenario.compact("charter", convening="guild-a", by="admin@example.org")
    await scenario.amend("charter", by="admin@example.org")
    return seeded


async def _invitation_token() -> str:
    """The link token of a pending invitation (an address without an account), as its e-mail carries it."""
    import re

    from guild.infra.tables import MailMessage
    from guild.orgs.invitations import invite
    from guild.orgs.schemas import MembershipCreate

    await invite("guild-a", MembershipCreate(email="invitee@example.org", role="member"), actor_id=None)
    row = await MailMessage.select(MailMessage.body_text).where(MailMessage.to_address == "invitee@example.org").first()
    found = re.search(r"/invitations/([A-Za-z0-9_-]+)", row["body_text"] if row else "")
    assert found is not None
    return found.group(1)


def _world(base: str, admin: dict[str, str]) -> dict[str, str]:
    """The rest of the world, made through the API; returns a value for every path parameter."""
    with httpx.Client(base_url=base, headers=admin, timeout=60) as c:

        def ok(response: httpx.Response) -> dict:
            assert response.status_code < 300, response.text
            return response.json()

        pid = ok(
            c.post(
                "/api/v1/productions",
                json={
                    "company": "studio",
                    "title": "The Harbour",
                    "budget_minor": 30_000_000,
                    "currency": "EUR",
                    "start_date": "2027-03-01",
                    "end_date": "2027-06-30",
                },
            )
        )["id"]
        ok(c.post(f"/api/v1/productions/{pid}/bindings", json={"compact": "charter", "version": 1}))
        actor = ok(
            c.post(
                f"/api/v1/productions/{pid}/engagements",
                json={
                    "person_name": "Plain Actor",
                    "email": "plain@example.org",
                    "department": "production",
                    "role": "Lead",
                    "level": "journey",
                    "rate_minor_per_week": 200_000,
                    "currency": "EUR",
                    "start_date": "2027-03-01",
                    "end_date": "2027-05-28",
                },
            )
        )["id"]
        ok(
            c.put(
                f"/api/v1/productions/{pid}/disclosures",
                json={
                    "disclosures": [
                        {"category": "vfx_shot", "total_count": 10, "ai_generated_count": 1, "tools": ["rotobot"]}
                    ]
                },
            )
        )
        contract = ok(c.post(f"/api/v1/productions/{pid}/contracts", json=performer_request(actor)))
        run = ok(c.post(f"/api/v1/productions/{pid}/compliance-checks"))["id"]
        commitment = ok(c.get(f"/api/v1/productions/{pid}/commitments"))[0]["id"]
        endpoint = ok(c.post("/api/v1/organizations/guild-a/webhooks", json={"url": "https://example.org/hook"}))["id"]
        ok(
            c.post(
                "/api/v1/organizations/guild-a/clauses",
                json={"key": "custom.fair_credit", "title": "Fair credit", "text": "Credits name every apprentice."},
            )
        )
        members = ok(c.get("/api/v1/organizations/guild-a/members"))
        extra = next(m["id"] for m in members if m["email"] == "extra@example.org")
        token = ok(c.post("/api/v1/me/calendar-token"))["token"]
        user_id = ok(c.get("/api/v1/me"))["id"]
    return {
        "production_id": pid,
        "contract_id": contract["id"],
        "engagement_id": actor,
        "run_id": run,
        "key": "custom.fair_credit",
        "version": "1",
        "commitment_id": commitment,
        "endpoint_id": endpoint,
        "membership_id": extra,
        "user_id": user_id,
        "token": token,
        "production_file": f"{pid}.ics",
        "sha256": contract["pdf_sha256"],
        "number": "2",  # the draft amendment; version 1 is ratified
    }


@pytest.fixture
async def server(scenario):
    seeded = await _seed(scenario)
    invitation_token = await _invitation_token()
    with guild_server() as running:
        ids = {**_world(running.base, seeded["admin"]), "invitation_token": invitation_token}
        yield {"base": running.base, "who": {**seeded, "anonymous": {}}, "ids": ids}


def _checks() -> list:
    from schemathesis import checks

    return [
        checks.not_a_server_error,
        checks.status_code_conformance,
        checks.content_type_conformance,
        checks.response_schema_conformance,
        checks.response_headers_conformance,
    ]


def _path_values(operation, ids: dict[str, str]) -> dict[str, str]:
    names = {p.name for p in operation.path_parameters}
    values = {name: value for name, value in ids.items() if name in names}
    if "slug" in names:
        values["slug"] = "charter" if operation.path.startswith("/api/v1/compacts") else "guild-a"
    return values


def test_every_response_is_one_the_document_describes(server):
    import schemathesis
    from schemathesis.core.failures import Failure, FailureGroup
    from schemathesis.generation.modes import GenerationMode

    schema = schemathesis.openapi.from_url(f"{server['base']}/schema/openapi.json")
    checks = _checks()
    violations: dict[str, str] = {}
    counts: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    succeeded: set[str] = set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    # reads first, while the world is as seeded (later writes void the contract, replace the feed token...)
    operations.sort(key=lambda op: op.method.upper() != "GET")

    def call(case, who: str) -> None:
        headers = server["who"][who]
        response = case.call(base_url=server["base"], headers=headers, timeout=60)
        statuses[response.status_code] += 1
        if response.status_code < 300:
            succeeded.add(case.operation.label)
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (FailureGroup, Failure) as exc:
            for failure in exc.exceptions if isinstance(exc, FailureGroup) else [exc]:
                key = f"{case.operation.label} -> {response.status_code} [{failure.title}]"
                counts[key] += 1
                violations.setdefault(key, f"as {who}: {failure.message[:400]}\n      body: {response.text[:300]}")

    for operation in operations:
        fixed = _path_values(operation, server["ids"])
        public = operation.definition.raw.get("security") == []
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed),
        ]
        if fixed:
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE))
        parameters = operation.definition.raw.get("parameters", [])
        documented_headers = {p["name"].lower() for p in parameters if p["in"] == "header"}
        sent: set[str] = set()
        for strategy in strategies:

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def exercise(case) -> None:  # runs at once, below: the loop variables it reads are this iteration's
                documented = documented_headers  # noqa: B023
                headers = {k: v for k, v in (case.headers or {}).items() if k.lower() in documented}
                request = repr((case.formatted_path, case.query, headers, case.body, case.media_type))
                if request in sent:  # noqa: B023 - the same request again (undocumented headers and tokens aside)
                    return
                sent.add(request)  # noqa: B023
                call(case, "admin")
                call(case, "plain")
                if public or len(sent) == 1:  # noqa: B023 - without a token: every case of a public route, else one
                    call(case, "anonymous")

            try:
                exercise()
            except Unsatisfiable:  # negative mode of an operation with nothing to get wrong
                pass
    report = "\n".join(f"{counts[k]:4d}x {k}\n      {v}" for k, v in sorted(violations.items()))
    never = sorted({o.label for o in operations} - succeeded)
    if os.environ.get("GUILD_FUZZ_REPORT"):
        Path(os.environ["GUILD_FUZZ_REPORT"]).write_text(
            f"{report}\n\nstatuses: {sorted(statuses.items())}\nnever 2xx: {never}\n"
        )
    assert not violations, f"{len(violations)} kinds of violation:\n{report}"
    # the run reached the handlers: every read answered 2xx for the world's ids (so its documented
    # success schema was checked against a real body), and refusals of each kind happened
    assert [label for label in never if label.startswith("GET ")] == []
    assert all(statuses[code] for code in (401, 403, 404, 409, 422)), statuses
