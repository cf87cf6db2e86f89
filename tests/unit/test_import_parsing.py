"""Reading roster files (pure; no database): CSV and JSON give the same rows, and every refusal names its row."""

from __future__ import annotations

import codecs
import json

import pytest

from guild.domain.errors import Unprocessable
from guild.productions.imports import parse_rows
from guild.productions.schemas import ENGAGEMENT_COLUMNS, EngagementImportRow

HEADER = ",".join(ENGAGEMENT_COLUMNS)
LEAD = "Ada Lead,,production,Lead,journey,200000,EUR,2027-03-01,2027-05-28,"
APPRENTICE = "Ben Young,ben@example.org,production,Runner,apprentice,60000,EUR,2027-03-01,2027-05-28,Ada Lead"
JSON_ROWS = [
    {
        "person_name": "Ada Lead",
        "department": "production",
        "role": "Lead",
        "level": "journey",
        "rate_minor_per_week": 200_000,
        "currency": "EUR",
        "start_date": "2027-03-01",
        "end_date": "2027-05-28",
    },
    {
        "person_name": "Ben Young",
        "email": "ben@example.org",
        "department": "production",
        "role": "Runner",
        "level": "apprentice",
        "rate_minor_per_week": 60_000,
        "currency": "EUR",
        "start_date": "2027-03-01",
        "end_date": "2027-05-28",
        "mentor_person_name": "Ada Lead",
    },
]


def csv_rows(text: str) -> list[EngagementImportRow]:
    return parse_rows(text.encode(), "text/csv", EngagementImportRow, ENGAGEMENT_COLUMNS)


def json_rows(body: bytes) -> list[EngagementImportRow]:
    return parse_rows(body, "application/json; charset=utf-8", EngagementImportRow, ENGAGEMENT_COLUMNS)


def refusal(call: object) -> list[tuple[int, str, str]]:
    with pytest.raises(Unprocessable) as refused:
        call()  # type: ignore[operator]
    return [(e.get("row", 0), e["field"], e["rule"]) for e in refused.value.extra["errors"]]


def test_csv_and_json_files_give_the_same_rows() -> None:
    expected = [EngagementImportRow.model_validate(r) for r in JSON_ROWS]
    # blank lines are skipped; empty cells and missing trailing cells take the field's default
    short_lead = LEAD.rsplit(",", 1)[0]
    assert csv_rows(f"{HEADER}\n{LEAD}\n\n{APPRENTICE}\n") == expected
    assert csv_rows(f"{HEADER}\r\n{short_lead}\r\n{APPRENTICE}\r\n") == expected
    assert json_rows(json.dumps(JSON_ROWS).encode()) == expected
    assert json_rows(codecs.BOM_UTF8 + json.dumps(JSON_ROWS).encode()) == expected
    assert expected[0].email is None and expected[0].mentor_person_name is None


def test_every_bad_row_is_named_and_nothing_is_returned() -> None:
    bad_csv = f"{HEADER}\n{LEAD}\n{APPRENTICE.replace('60000', 'lots')}\n{LEAD.replace('journey', 'boss')}\n"
    assert refusal(lambda: csv_rows(bad_csv)) == [(2, "rate_minor_per_week", "int_parsing"), (3, "level", "enum")]
    bad_json = [JSON_ROWS[0], {**JSON_ROWS[1], "rate_minor_per_week": "60000"}, {**JSON_ROWS[0], "extra": 1}]
    assert refusal(lambda: json_rows(json.dumps(bad_json).encode())) == [
        (2, "rate_minor_per_week", "int_type"),
        (3, "extra", "extra_forbidden"),
    ]


def test_malformed_files_are_refused_with_what_is_wrong() -> None:
    assert refusal(lambda: csv_rows(f"{HEADER}\n{LEAD}\n{LEAD},surplus\n")) == [(2, "row", "extra_cells")]
    assert refusal(lambda: csv_rows(f"{HEADER}\n")) == [(0, "body", "not_empty")]
    assert refusal(lambda: json_rows(b"[]")) == [(0, "body", "not_empty")]
    assert refusal(lambda: json_rows(b'{"person_name": "Ada"}')) == [(0, "body", "json_array")]
    assert refusal(lambda: json_rows(b"[{]")) == [(0, "body", "json")]
