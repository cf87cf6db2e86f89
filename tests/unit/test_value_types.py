"""The edge's value types (guild.domain.values), the JSON depth limit (guild.web.bodies), and that every request model uses them."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from guild.domain.values import INT4_MAX, INT8_MAX, Day, Int4, Int8, Name, Real, Text, _no_nul
from guild.web.bodies import MAX_JSON_DEPTH, json_nesting_exceeds


class M(BaseModel):
    a: Int4 = 0
    b: Int4 = Field(default=5, ge=1, le=10)
    c: Int8 | None = Field(default=None, ge=0)
    d: Annotated[Int8, Field(ge=0, le=100)] = 0
    r: Real = 0.0
    t: Text = Field(default="", max_length=5)
    n: Name = "x"
    day: Day | None = None


def _error(**kw: Any) -> tuple[tuple[Any, ...], str]:
    with pytest.raises(ValidationError) as info:
        M.model_validate(kw)
    [err] = info.value.errors()
    return err["loc"], err["type"]


@pytest.mark.parametrize(
    ("kw", "loc", "rule"),
    [
        ({"a": True}, "a", "int_type"),
        ({"a": "5"}, "a", "int_type"),
        ({"a": 5.0}, "a", "int_type"),
        ({"a": INT4_MAX + 1}, "a", "less_than_equal"),
        ({"a": -INT4_MAX - 2}, "a", "greater_than_equal"),
        ({"b": 11}, "b", "less_than_equal"),  # the field's own bounds narrow the column's
        ({"b": 0}, "b", "greater_than_equal"),
        ({"c": INT8_MAX + 1}, "c", "less_than_equal"),  # optional: the column bound still holds
        ({"c": -1}, "c", "greater_than_equal"),
        ({"d": 101}, "d", "less_than_equal"),
        ({"r": True}, "r", "float_type"),
        ({"r": "1.5"}, "r", "float_type"),
        ({"t": "a\x00b"}, "t", "text_nul"),
        ({"t": "abcdef"}, "t", "string_too_long"),
        ({"t": "\ud800"}, "t", "string_unicode"),
        ({"n": ""}, "n", "string_too_short"),
        ({"n": "x" * 201}, "n", "string_too_long"),
        ({"n": "a\x00"}, "n", "text_nul"),
        ({"day": "0001-01-01"}, "day", "greater_than_equal"),
        ({"day": "2201-01-01"}, "day", "less_than_equal"),
        ({"day": 0}, "day", "date_type"),
    ],
)
def test_value_types_refuse(kw: dict[str, Any], loc: str, rule: str) -> None:
    assert _error(**kw) == ((loc,), rule)


def test_value_types_accept() -> None:
    m = M.model_validate({"a": INT4_MAX, "c": INT8_MAX, "r": 2, "t": " ab ", "day": "2200-12-31"})
    assert (m.a, m.c, m.r, m.t, m.day) == (INT4_MAX, INT8_MAX, 2.0, " ab ", date(2200, 12, 31))
    assert M.model_validate({"day": "1900-01-01"}).day == date(1900, 1, 1)
    # JSON text: the same rules
    assert M.model_validate_json('{"a": 7, "r": 3}').r == 3.0
    with pytest.raises(ValidationError):
        M.model_validate_json('{"a": true}')


def test_the_bounds_are_documented_in_the_json_schema() -> None:
    props = M.model_json_schema()["properties"]
    assert (props["a"]["minimum"], props["a"]["maximum"]) == (-(2**31), INT4_MAX)
    assert (props["b"]["minimum"], props["b"]["maximum"]) == (1, 10)
    assert props["c"]["anyOf"][0]["maximum"] == INT8_MAX


@pytest.mark.parametrize(
    ("text", "exceeds"),
    [
        (b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, False),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), True),
        (b'{"a":' * MAX_JSON_DEPTH + b"1" + b"}" * MAX_JSON_DEPTH, False),
        (b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1), True),
        (b'["' + b"[" * 5000 + b'"]', False),  # brackets inside a string do not nest
        (b'["\\"' + b"[" * 5000 + b'"]', False),  # nor after an escaped quote
        (b"[" + b"[]," * 5000 + b"[]]", False),  # many, but shallow
        (b"[" * 100_000 + b"]" * 100_000, True),
    ],
)
def test_json_nesting(text: bytes, exceeds: bool) -> None:
    assert json_nesting_exceeds(text) is exceeds
    if not exceeds:
        json.loads(text)  # the examples are valid JSON


def test_stored_terms_parse_back_from_json() -> None:
    """Stored documents are JSON text parsed in python mode: strict ints and floats still pass."""
    from guild.compacts.terms import Terms, example_terms
    from guild.domain.canonical import canonical_json

    terms = example_terms()
    stored = json.loads(canonical_json(terms.model_dump(mode="json")))
    assert Terms.model_validate(stored) == terms
    assert Terms.model_validate_json(canonical_json(terms.model_dump(mode="json"))) == terms
    # a float written as an integer (20 for 20.0) is still a float
    stored["ai_disclosure"]["max_ai_share_pct"] = 20
    assert Terms.model_validate(stored).ai_disclosure.max_ai_share_pct == 20.0


# --- every request model uses the types -------------------------------------------------------------


def _request_models() -> list[type[BaseModel]]:
    """Request bodies of every route, the import rows and the clause parameters (validated by services)."""
    from contracts.clauses import CLAUSES
    from guild.app import create_app
    from guild.productions.schemas import DisclosureIn, EngagementImportRow

    app = create_app()
    models = {
        p.type_
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if (p := handler.parsed_fn_signature.parameters.get("data")) is not None
    }
    models |= {DisclosureIn, EngagementImportRow} | {c.params_model for c in CLAUSES.values()}
    assert len(models) > 20
    return sorted(models, key=lambda m: m.__name__)


def _walk(node: Any, path: str, guarded: bool, found: list[str]) -> None:
    """Collect the str/int/float schemas that NUL, booleans, numeric strings or huge numbers could pass."""
    if isinstance(node, list):
        for i, child in enumerate(node):
            _walk(child, f"{path}[{i}]", guarded, found)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "function-after":
        fn = node["function"]["function"]
        guarded = guarded or fn is _no_nul or getattr(fn, "__qualname__", "") == "EmailStr._validate"
    elif kind == "str" and not guarded and "pattern" not in node:
        found.append(f"{path}: text that may hold NUL")
    elif kind == "int" and not (
        node.get("strict") and node.get("ge", -(2**64)) >= -(2**63) and node.get("le", 2**64) <= INT8_MAX
    ):
        found.append(f"{path}: a lax or unbounded integer")
    elif kind == "float" and not node.get("strict"):
        found.append(f"{path}: a lax float")
    for key, child in node.items():
        if key not in ("function", "metadata", "cls", "ref", "serialization"):
            _walk(child, f"{path}.{key}" if key not in ("schema", "fields") else path, guarded, found)


@pytest.mark.parametrize("model", _request_models(), ids=lambda m: m.__name__)
def test_every_field_of_a_request_model_is_strict_and_bounded(model: type[BaseModel]) -> None:
    found: list[str] = []
    _walk(model.__pydantic_core_schema__, model.__name__, False, found)
    assert found == []


def test_the_model_survey_finds_plain_fields() -> None:
    class Lax(BaseModel):
        text: str
        texts: list[str]
        count: int
        bounded: int = Field(ge=0, le=10)
        share: float
        fine: Int4
        pattern: str = Field(pattern=r"^[a-z]+$")

    found: list[str] = []
    _walk(Lax.__pydantic_core_schema__, "Lax", False, found)
    assert [f.split(":")[0] for f in found] == [
        "Lax.text",
        "Lax.texts.items_schema",
        "Lax.count",
        "Lax.bounded",
        "Lax.share",
    ]
