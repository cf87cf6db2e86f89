"""The OpenAPI document tells the truth: model shapes, which routes need a token, problem responses.

The API fuzz test checks the responses schemathesis provokes; these check the rest of the document
directly: every model as pydantic serializes it (including those no fuzzed request reaches), the
security requirement of every operation against what the server does without a token, and the shape
of the problem responses.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import BaseModel

PROBLEM = "application/problem+json"
ANY: frozenset = frozenset({("any",)})


@pytest.fixture
def document(app) -> dict[str, Any]:
    return app.openapi_schema.to_schema()


def _operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def _shape(schema: Any) -> frozenset:
    """The JSON types a schema admits, structurally: references by name, arrays and maps by their items."""
    if schema is True or schema == {}:
        return ANY
    if "$ref" in schema:
        return frozenset({("ref", schema["$ref"].rsplit("/", 1)[-1])})
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return frozenset().union(*(_shape(s) for s in schema[key]))
    if len(schema.get("allOf", ())) == 1:
        return _shape(schema["allOf"][0])
    if "const" in schema:
        return frozenset({("enum", json.dumps(schema["const"]))})
    if "enum" in schema:
        return frozenset({("enum", json.dumps(v)) for v in schema["enum"]})
    types = schema.get("type")
    shapes: set = set()
    for t in types if isinstance(types, list) else [types]:
        if t == "array":
            shapes.add(("array", _shape(schema.get("items", {}))))
        elif t == "object":
            extra = schema.get("additionalProperties")
            if extra is None and not schema.get("properties"):
                shapes.add(("map", ANY))
            elif extra is not None and extra is not False:
                shapes.add(("map", _shape(extra)))
            else:
                shapes.add(("object",))
        else:
            shapes.add((t or "any",))
    return frozenset(shapes)


def _models() -> dict[str, list[type[BaseModel]]]:
    found: dict[str, list[type[BaseModel]]] = {}
    todo = [BaseModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.setdefault(sub.__name__, []).append(sub)
            todo.append(sub)
    return found


def test_every_model_is_documented_in_the_shape_pydantic_serializes(document):
    models = _models()
    checked, wrong = 0, []
    for name, component in document["components"]["schemas"].items():
        if len(models.get(name, [])) != 1:
            continue  # enums, and names several models share
        [model] = models[name]
        truth = model.model_json_schema(mode="serialization", ref_template="#/components/schemas/{model}")
        assert set(component.get("properties", {})) == set(truth.get("properties", {})), name
        for field, schema in truth.get("properties", {}).items():
            documented = component["properties"][field]
            if _shape(documented) != _shape(schema):
                wrong.append(
                    f"{name}.{field}: documented {sorted(map(str, _shape(documented)))}, "
                    f"serialized {sorted(map(str, _shape(schema)))}"
                )
            checked += 1
    assert wrong == []
    assert checked > 300


def test_the_category_weights_are_documented_as_the_object_they_are(document):
    weights = document["components"]["schemas"]["AIDisclosure"]["properties"]["category_weights"]
    assert weights["type"] == "object" and weights["minProperties"] == 1
    assert weights["additionalProperties"]["type"] == "number"


def _concrete(path: str) -> str:
    """A path for a request without a token: ids of the right form (nothing needs to exist)."""
    values = {
        "production_id": "00000000-0000-4000-8000-000000000000",
        "number": "1",
        "version": "1",
        "production_file": "x.ics",
        "sha256": "0" * 64,
    }
    return re.sub(
        r"{(\w+)}",
        lambda m: values.get(m.group(1), "00000000-0000-4000-8000-000000000000" if m.group(1).endswith("_id") else "x"),
        path,
    )


async def test_the_document_says_exactly_which_routes_need_a_token(client, document):
    public, checked = [], 0
    for path, method, operation in _operations(document):
        response = await client.request(method.upper(), _concrete(path))
        if operation.get("security") == []:
            public.append(f"{method.upper()} {path}")
            assert response.status_code != 401 or "401" in operation["responses"], (path, method)
        else:
            assert operation.get("security", document["security"]) == [{"BearerToken": []}], (path, method)
            assert response.status_code == 401, (path, method, response.status_code, response.text)
            assert "401" in operation["responses"]
        checked += 1
    assert checked > 50
    assert sorted(public) == [
        "GET /api/v1/calendar/{token}/me.ics",
        "GET /api/v1/calendar/{token}/production/{production_file}",
        "GET /api/v1/invitations/{invitation_token}",
        "GET /api/v1/verify/contract-pdf/{sha256}",
        "GET /health",
        "GET /health/live",
        "POST /api/v1/auth/password-reset",
        "POST /api/v1/auth/password-reset/confirm",
        "POST /api/v1/auth/token",
        "POST /api/v1/invitations/{invitation_token}/accept",
    ]


async def test_every_problem_is_documented_as_problem_json_with_its_fields(client, document):
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == [PROBLEM], (path, method, status)
                assert response["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    field_problem = document["components"]["schemas"]["FieldProblem"]
    assert set(field_problem["required"]) == {"field", "rule", "message"}

    ops = {(p, m): o["responses"] for p, m, o in _operations(document)}
    assert {"401", "429"} <= set(ops["/api/v1/auth/token", "post"])
    assert "Retry-After" in ops["/api/v1/auth/token", "post"]["429"]["headers"]
    for limited in ("/api/v1/auth/password-reset", "/api/v1/organizations/{slug}/members"):
        assert "Retry-After" in ops[limited, "post"]["429"]["headers"]
    assert {"409", "412", "428"} <= set(ops["/api/v1/compacts/{slug}/versions/{number}", "put"])
    for pdf in (
        ("/api/v1/compacts/{slug}/versions/{number}/pdf", "get"),
        ("/api/v1/productions/{production_id}/contracts", "post"),
    ):
        assert "Retry-After" in ops[pdf]["503"]["headers"]


async def test_a_real_problem_matches_the_documented_schema(client, document, scenario):
    from jsonschema_rs import Draft202012Validator  # schemathesis' validator

    admin = (await scenario.user("admin@example.org", admin=True)).headers
    response = await client.post(
        "/api/v1/organizations", json={"slug": "-", "name": "", "kind": "circus"}, headers=admin
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    schema = {"$ref": "#/components/schemas/Problem", "components": document["components"]}
    assert [str(e) for e in Draft202012Validator(schema).iter_errors(response.json())] == []
    assert {e["field"] for e in response.json()["errors"]} == {"slug", "name", "kind"}
