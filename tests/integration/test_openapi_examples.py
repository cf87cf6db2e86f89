"""The OpenAPI document teaches the API: every operation has a readable operationId and a description,
every request body realistic examples, and every example in the document passes its own schema. The
request-body examples are the objects the handlers reference (each feature's ``examples`` module), and
the API accepts them: the last test sends them, in the order an adopting guild would, and gets 2xx.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any, get_args, get_origin

import pytest
from jsonschema_rs import Draft202012Validator  # schemathesis' validator
from pydantic import BaseModel

from contracts import examples as contract_examples
from guild.accounts import examples as account_examples
from guild.apprenticeship import examples as apprenticeship_examples
from guild.compacts import examples as compact_examples
from guild.compacts.terms import Terms
from guild.orgs import examples as org_examples
from guild.productions import examples as production_examples
from guild.productions.schemas import DISCLOSURE_COLUMNS, ENGAGEMENT_COLUMNS
from guild.web.openapi import PROBLEM_EXAMPLES
from guild.webhooks import examples as webhook_examples
from tests.integration.scenario import person

METHODS = ("get", "post", "put", "patch", "delete")
OPERATION_ID = re.compile(r"^[a-z]+(?:[A-Z][a-z0-9]*)+$")  # camelCase verb + noun: listProductions, issueContract


@pytest.fixture
def document(app) -> dict[str, Any]:
    return app.openapi_schema.to_schema()


def _operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _errors(document: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    """Why ``value`` does not pass ``schema`` (its $refs resolved against the document's components)."""
    validator = Draft202012Validator({**schema, "components": document["components"]})
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}"[:300] for e in validator.iter_errors(value)]


def _media_examples(document: dict[str, Any]):
    """(where, schema, value) of every example of a request body or a response in the document."""
    for path, method, operation in _operations(document):
        places = [("request", operation.get("requestBody", {}))] + list(operation.get("responses", {}).items())
        for where, part in places:
            for media_type, media in (part.get("content") or {}).items():
                for name, example in (media.get("examples") or {}).items():
                    yield f"{method.upper()} {path} {where} {media_type} {name}", media_type, media, example["value"]


def test_every_operation_has_a_readable_unique_operation_id_and_a_description(document):
    ids, missing = [], []
    for path, method, operation in _operations(document):
        label = f"{method.upper()} {path}"
        ids.append(operation.get("operationId", ""))
        if not OPERATION_ID.match(operation.get("operationId", "")):
            missing.append(f"{label}: operationId {operation.get('operationId')!r} is not camelCase verb+noun")
        if len(operation.get("description", "")) < 40:
            missing.append(f"{label}: no description (a docstring or description=)")
        if not operation.get("summary"):
            missing.append(f"{label}: no summary")
    assert missing == []
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert {"listProductions", "issueContract", "createCompact", "importRoster", "issueToken"} <= set(ids)


def test_every_request_body_has_an_example_of_every_media_type(document):
    missing = [
        f"{method.upper()} {path} {media_type}"
        for path, method, operation in _operations(document)
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items()
        if not media.get("examples")
    ]
    assert missing == []
    bodies = sum(1 for _, _, op in _operations(document) if "requestBody" in op)
    assert bodies >= 23


def test_every_example_in_the_document_passes_its_own_schema(document):
    checked, wrong = 0, []
    for where, media_type, media, value in _media_examples(document):
        if media_type == "text/csv":
            assert isinstance(value, str), where
            continue  # the CSV examples are parsed against their columns below
        wrong += [f"{where}: {e}" for e in _errors(document, media["schema"], value)]
        checked += 1
    assert wrong == []
    assert checked >= 40  # request bodies (several per operation) and the problem examples


def test_every_problem_status_has_an_example_of_the_shape_sent(document):
    problem = {"$ref": "#/components/schemas/Problem"}
    for status, example in PROBLEM_EXAMPLES.items():
        assert example["status"] == status
        assert example["type"].startswith("urn:guild:problem:")
        assert _errors(document, problem, example) == [], status
    documented = {
        int(status)
        for _, _, operation in _operations(document)
        for status in operation["responses"]
        if int(status) >= 400
    }
    assert documented - set(PROBLEM_EXAMPLES) == set()
    # the members guild sends besides errors are documented, not only allowed
    properties = document["components"]["schemas"]["Problem"]["properties"]
    assert {"errors", "rule", "field", "violations", "conflicts", "retry_after"} <= set(properties)
    assert {"source", "constraint", "row"} <= set(document["components"]["schemas"]["FieldProblem"]["properties"])


def _fields(model: type[BaseModel], seen: set[str] | None = None) -> set[tuple[str, str]]:
    """(model, field) of ``model`` and of every model its fields hold, at any depth."""
    seen = set() if seen is None else seen
    if model.__name__ in seen:
        return set()
    seen.add(model.__name__)
    found = {(model.__name__, name) for name in model.model_fields}
    for info in model.model_fields.values():
        todo = [info.annotation]
        while todo:
            annotation = todo.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                found |= _fields(annotation, seen)
            todo.extend(get_args(annotation))
            if get_origin(annotation) is not None:
                todo.append(get_origin(annotation))
    return found


def _given(value: Any) -> set[tuple[str, str]]:
    """(model, field) of every field a parsed document states explicitly, at any depth."""
    found: set[tuple[str, str]] = set()
    if isinstance(value, BaseModel):
        found |= {(type(value).__name__, name) for name in value.model_fields_set}
        for name in value.model_fields_set:
            found |= _given(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            found |= _given(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= _given(item)
    return found


def test_the_terms_example_is_complete_every_field_of_every_section_stated():
    terms = Terms.model_validate(compact_examples.TERMS)
    assert set(compact_examples.TERMS) == set(Terms.model_fields)
    assert sorted(_fields(Terms) - _given(terms)) == []


def _csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return list(reader.fieldnames or []), list(reader)


def test_the_csv_import_bodies_describe_their_columns_and_the_examples_use_them(document):
    assert list(production_examples.ROSTER_COLUMNS) == ENGAGEMENT_COLUMNS
    assert list(production_examples.DISCLOSURE_COLUMNS) == DISCLOSURE_COLUMNS
    for path, columns in (
        ("/api/v1/productions/{production_id}/engagements/import", ENGAGEMENT_COLUMNS),
        ("/api/v1/productions/{production_id}/disclosures/import", DISCLOSURE_COLUMNS),
    ):
        body = document["paths"][path]["post"]["requestBody"]
        assert body["required"] is True
        assert set(body["content"]) == {"text/csv", "application/json"}
        for column in columns:
            assert f"`{column}`" in body["description"], (path, column)
        for example in body["content"]["text/csv"]["examples"].values():
            header, rows = _csv_rows(example["value"])
            assert header == columns and rows, path
        item = body["content"]["application/json"]["schema"]["items"]
        assert list(item["properties"]) == columns
    _, roster = _csv_rows(production_examples.ROSTER_CSV)
    assert {r["level"] for r in roster} >= {"head", "apprentice"}


# --- the examples are accepted by the API ------------------------------------------------------------------


_IDS = (
    "engagement_id",
    "mentor_engagement_id",
    "token",
)  # this test's world's ids and link tokens replace the examples'


def _without_ids(value: Any) -> Any:
    return {k: v for k, v in value.items() if k not in _IDS} if isinstance(value, dict) else value


async def _link(to: str, kind: str) -> str:
    """The token of the newest ``{public_base_url}/{kind}/{token}`` link queued for ``to``."""
    from guild.infra.tables import MailMessage

    rows = await MailMessage.select(MailMessage.body_text).where(MailMessage.to_address == to)
    tokens = [m.group(1) for r in rows for m in re.finditer(rf"/{kind}/([A-Za-z0-9_-]+)", r["body_text"])]
    assert tokens, (to, kind)
    return tokens[-1]


async def test_the_request_body_examples_are_accepted_when_sent(client, scenario, document):
    """An adopting guild's first day, from the document's own examples: every one is sent and answers 2xx."""
    admin = (await scenario.user("admin@example.org", admin=True)).headers
    sent: list[str] = []
    bodies: list[Any] = []

    async def send(method: str, url: str, body: Any, headers: dict[str, str], status: int = 201, **kw: Any) -> Any:
        content = {"content": body} if isinstance(body, str) else {"json": body}
        response = await client.request(method, url, headers={**headers, **kw.pop("extra", {})}, **content, **kw)
        assert response.status_code == status, (method, url, response.text[:2000])
        sent.append(f"{method} {url}")
        bodies.append(_without_ids(body))
        return response

    # organisations: the guild and the company from the examples, the other parties by the scenario
    await send("POST", "/api/v1/organizations", org_examples.ORGANIZATION_GUILD, admin)
    await send("POST", "/api/v1/organizations", org_examples.ORGANIZATION_COMPANY, admin)
    await scenario.organizations({"writers-guild-indie": "guild", "vfx-crew-union": "union"})
    # accounts: the officer from the examples signs in with the example's password
    await send("POST", "/api/v1/users", account_examples.USER_CREATE, admin)
    token = await send("POST", "/api/v1/auth/token", account_examples.TOKEN_REQUEST, {}, status=200)
    assert token.json()["token_type"] == "Bearer"
    officer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    await scenario.people(
        founder=person("founder@screen-performers.example", ("screen-performers-guild", "officer")),
        hana=person("hana.ito@performers.example"),
    )
    founder = scenario.headers(scenario.ids["founder@screen-performers.example"])
    offer = await send(
        "POST", "/api/v1/organizations/screen-performers-guild/members", org_examples.MEMBERSHIP_OFFICER, founder, 202
    )
    await send("POST", f"/api/v1/me/invitations/{offer.json()['id']}/accept", None, officer)
    await send(
        "POST", "/api/v1/organizations/screen-performers-guild/members", org_examples.MEMBERSHIP_MEMBER, officer, 202
    )
    people = await scenario.people(
        writers=person("officer@writers.example", ("writers-guild-indie", "officer")),
        vfx=person("officer@vfx.example", ("vfx-crew-union", "officer")),
        producer=person("producer@blueharbor.example", ("blue-harbor-pictures", "producer")),
        company=person("officer@blueharbor.example", ("blue-harbor-pictures", "officer")),
    )
    for email in ("luis.ortega@crew.example", "june.park@crew.example"):
        await scenario.user(email)

    # the compact with the complete terms document: drafted, edited, proposed, decided, amended, withdrawn
    compacts = "/api/v1/compacts"
    slug = compact_examples.COMPACT_CREATE["slug"]
    await send("POST", compacts, compact_examples.COMPACT_CREATE, officer)
    etag = (await client.get(f"{compacts}/{slug}/versions/1", headers=officer)).headers["ETag"]
    await send(
        "PUT", f"{compacts}/{slug}/versions/1", compact_examples.DRAFT_UPDATE, officer, 200, extra={"If-Match": etag}
    )
    etag = (await client.get(f"{compacts}/{slug}/versions/1", headers=officer)).headers["ETag"]
    restore = {"terms": compact_examples.TERMS, "parties": compact_examples.COMPACT_CREATE["parties"]}
    await send("PUT", f"{compacts}/{slug}/versions/1", restore, officer, 200, extra={"If-Match": etag})
    await send("POST", f"{compacts}/{slug}/versions/1/propose", None, officer, 200)
    await send("POST", f"{compacts}/{slug}/versions/1/decisions", compact_examples.DECISION_REJECT, people["vfx"])
    await send("POST", f"{compacts}/{slug}/versions/1/decisions", compact_examples.DECISION_APPROVE, people["writers"])
    approve = {"organization": "screen-performers-guild", "decision": "approve"}
    ratified = await send("POST", f"{compacts}/{slug}/versions/1/decisions", approve, officer)
    assert ratified.json()["status"] == "ratified"
    await send("POST", f"{compacts}/{slug}/versions", compact_examples.AMENDMENT_CREATE, officer)
    await send("POST", f"{compacts}/{slug}/versions/2/withdraw", compact_examples.WITHDRAW, officer, 200)
    await send("POST", f"{compacts}/{slug}/versions", compact_examples.AMENDMENT_COPY, officer)

    # the production: registered, changed, bound; its roster entered one by one and imported
    producer = people["producer"]
    production = await send("POST", "/api/v1/productions", production_examples.PRODUCTION_CREATE, producer)
    pid = production.json()["id"]
    short = (await send("POST", "/api/v1/productions", production_examples.PRODUCTION_CREATE_MINOR, producer)).json()
    await send("PATCH", f"/api/v1/productions/{pid}", production_examples.PRODUCTION_UPDATE, producer, 200)
    await send("POST", f"/api/v1/productions/{pid}/bindings", production_examples.BINDING_CREATE, producer)
    await send(
        "POST", f"/api/v1/productions/{pid}/apprenticeship/preview", apprenticeship_examples.PREVIEW, producer, 200
    )
    await send(
        "POST",
        f"/api/v1/productions/{pid}/apprenticeship/preview",
        apprenticeship_examples.PREVIEW_ROSTER_ONLY,
        producer,
        200,
    )
    engagements = f"/api/v1/productions/{pid}/engagements"
    lead = (await send("POST", engagements, production_examples.ENGAGEMENT_CREATE, producer)).json()
    dop = (await send("POST", engagements, production_examples.ROSTER_JSON[0], producer)).json()
    apprentice_body = production_examples.ENGAGEMENT_APPRENTICE | {"mentor_engagement_id": dop["id"]}
    apprentice = (await send("POST", engagements, apprentice_body, producer)).json()
    await send("PATCH", f"{engagements}/{apprentice['id']}", production_examples.ENGAGEMENT_END_EARLY, producer, 200)
    await send("PUT", f"/api/v1/productions/{pid}/disclosures", production_examples.DISCLOSURE_SET, producer, 200)
    csv_type = {"Content-Type": "text/csv"}
    imported = await send(
        "POST",
        f"/api/v1/productions/{pid}/disclosures/import",
        production_examples.DISCLOSURES_CSV,
        producer,
        200,
        extra=csv_type,
    )
    assert imported.json() == {"imported": 3}
    await send(
        "POST", f"/api/v1/productions/{pid}/disclosures/import", production_examples.DISCLOSURES_JSON, producer, 200
    )
    roster = await send(
        "POST",
        f"/api/v1/productions/{short['id']}/engagements/import",
        production_examples.ROSTER_CSV,
        producer,
        200,
        extra=csv_type,
    )
    assert roster.json()["created"] == 3
    upsert = await send(
        "POST",
        f"/api/v1/productions/{short['id']}/engagements/import?mode=upsert",
        production_examples.ROSTER_JSON,
        producer,
        200,
    )
    assert upsert.json()["created"] == 0

    # clauses and contracts: the guild's and the company's own clauses, a review, a preview, an issue, a void
    await send(
        "POST", "/api/v1/organizations/screen-performers-guild/clauses", contract_examples.CUSTOM_CLAUSE, officer
    )
    await send(
        "POST", "/api/v1/organizations/blue-harbor-pictures/clauses", contract_examples.SIDE_LETTER, people["company"]
    )
    await send("POST", f"{compacts}/{slug}/versions/1/clause-reviews", contract_examples.CLAUSE_REVIEW, officer, 200)
    contract_body = contract_examples.CONTRACT_REQUEST | {"engagement_id": lead["id"]}
    preview = await send("POST", f"/api/v1/productions/{pid}/contracts/preview", contract_body, producer, 200)
    assert preview.json()["violations"] == [], preview.json()
    contract = await send("POST", f"/api/v1/productions/{pid}/contracts", contract_body, producer)
    await send("POST", f"/api/v1/contracts/{contract.json()['id']}/void", contract_examples.VOID, producer, 200)
    await send("PATCH", f"{engagements}/{lead['id']}", production_examples.ENGAGEMENT_UPDATE, producer, 200)

    await send(
        "POST", "/api/v1/organizations/screen-performers-guild/webhooks", webhook_examples.ENDPOINT_CREATE, officer
    )
    # invitation links: hana (an account) takes the role; a new address makes its account
    hana_link = await _link("hana.ito@performers.example", "invitations")
    await send(
        "POST", f"/api/v1/invitations/{hana_link}/accept", org_examples.INVITATION_ACCEPT_EXISTING_ACCOUNT, {}, 200
    )
    newcomer = {"email": "luca.ferri@crew.example", "role": "member"}
    await send("POST", "/api/v1/organizations/screen-performers-guild/members", newcomer, officer, 202)
    luca_link = await _link("luca.ferri@crew.example", "invitations")
    await send("POST", f"/api/v1/invitations/{luca_link}/accept", org_examples.INVITATION_ACCEPT_NEW_ACCOUNT, {}, 200)
    # passwords, last: each ends the officer's earlier tokens
    await send("POST", "/api/v1/me/password", account_examples.PASSWORD_CHANGE, officer, 200)
    await send("POST", "/api/v1/auth/password-reset", account_examples.PASSWORD_RESET_REQUEST, {}, 202)
    reset = account_examples.PASSWORD_RESET_CONFIRM | {
        "token": await _link(account_examples.PASSWORD_RESET_REQUEST["email"], "reset-password")
    }
    await send("POST", "/api/v1/auth/password-reset/confirm", reset, {}, 204)
    assert len(sent) >= 35
    requested = [(where, value) for where, _, _, value in _media_examples(document) if " request " in where]
    assert len(requested) >= 35
    unsent = [where for where, value in requested if _without_ids(value) not in bodies]
    assert unsent == [], "send these request examples above too"


async def test_the_terms_schema_carries_the_complete_example_and_accepts_it(client, scenario):
    member = (await scenario.user("member@example.org")).headers
    response = await client.get("/api/v1/compacts/terms-schema", headers=member)
    assert response.status_code == 200
    schema = response.json()
    assert schema["examples"] == [compact_examples.TERMS]
    assert [e.message for e in Draft202012Validator(schema).iter_errors(compact_examples.TERMS)] == []
    broken = compact_examples.TERMS | {"quorum": 0}
    assert [e.instance_path for e in Draft202012Validator(schema).iter_errors(broken)] == [["quorum"]]


async def test_the_problem_examples_are_the_problems_guild_sends(client, scenario):
    """Each documented problem example has the type and title of the problem guild really answers with."""
    await scenario.organizations({"guild-a": "guild"})
    admin = (await scenario.user("admin@example.org", ("guild-a", "officer"), admin=True)).headers
    member = (await scenario.user("member@example.org", ("guild-a", "member"))).headers
    await scenario.compact("accord", convening="guild-a", by="admin@example.org", stage="draft")
    draft = "/api/v1/compacts/accord/versions/1"
    terms = {"terms": compact_examples.TERMS, "parties": []}
    real = {
        400: await client.post("/api/v1/organizations", content=b'{"slug": "x",', headers=admin),
        401: await client.get("/api/v1/me"),
        403: await client.post("/api/v1/organizations", json=org_examples.ORGANIZATION_GUILD, headers=member),
        404: await client.get(f"/api/v1/productions/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=member),
        409: await client.post(
            "/api/v1/organizations", json={**org_examples.ORGANIZATION_GUILD, "slug": "guild-a"}, headers=admin
        ),
        412: await client.put(draft, json=terms, headers={**admin, "If-Match": '"stale"'}),
        413: await client.post("/api/v1/organizations", content=b" " * (20 * 1024 * 1024), headers=admin),
        422: await client.post("/api/v1/productions", json={"title": ""}, headers=admin),
        428: await client.put(draft, json=terms, headers=admin),
    }
    for status, response in real.items():
        assert response.status_code == status, (status, response.text[:300])
        body, example = response.json(), PROBLEM_EXAMPLES[status]
        assert (body["type"], body["title"]) == (example["type"], example["title"]), status
        assert set(example) <= set(body), status
