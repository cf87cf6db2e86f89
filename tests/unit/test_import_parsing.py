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
    surplus = LEAD + "," * (len(ENGAGEMENT_COLUMNS) - LEAD.count(",")) + "surplus"  # one cell past the header
    assert refusal(lambda: csv_rows(f"{HEADER}\n{LEAD}\n{surplus}\n")) == [(2, "row", "extra_cells")]
    assert refusal(lambda: csv_rows(f"{HEADER}\n")) == [(0, "body", "not_empty")]
    assert refusal(lambda: json_rows(b"[]")) == [(0, "body", "not_empty")]
    assert refusal(lambda: json_rows(b'{"person_name": "Ada"}')) == [(0, "body", "json_array")]
    assert refusal(lambda: json_rows(b"[{]")) == [(0, "body", "json")]


# --- pay in major units, currencies in use, keys -----------------------------------------------------------

MONEY_HEADER = "person_name,department,role,level,currency,start_date,end_date,rate_per_week,rate_minor_per_week"


def test_pay_in_major_units_is_converted_by_the_currency_exponent() -> None:
    rows = csv_rows(
        "\n".join(
            [
                MONEY_HEADER,
                "Ada,camera,Op,journey,EUR,2027-03-01,2027-05-28,1800.00,",
                "Ben,camera,Op,journey,JPY,2027-03-01,2027-05-28,250000,",
                "Cy,camera,Op,journey,KWD,2027-03-01,2027-05-28,1.234,",
                "Di,camera,Op,journey,EUR,2027-03-01,2027-05-28,,180000",
            ]
        )
    )
    assert [r.rate_minor_per_week for r in rows] == [180_000, 250_000, 1_234, 180_000]
    # JSON: a decimal string or a number
    body = [{**JSON_ROWS[0], "rate_minor_per_week": None, "rate_per_week": v} for v in ("1800.00", 1800, 1800.5)]
    for row in body:
        del row["rate_minor_per_week"]
    assert [r.rate_minor_per_week for r in json_rows(json.dumps(body).encode())] == [180_000, 180_000, 180_050]


def test_pay_refusals_name_the_row_and_the_field() -> None:
    text = "\n".join(
        [
            MONEY_HEADER,
            "Ada,camera,Op,journey,JPY,2027-03-01,2027-05-28,1.5,",  # yen have no decimals
            "Ben,camera,Op,journey,EUR,2027-03-01,2027-05-28,1800.00,180000",  # both
            "Cy,camera,Op,journey,EUR,2027-03-01,2027-05-28,,",  # neither
            "Di,camera,Op,journey,XYZ,2027-03-01,2027-05-28,10,",  # no such currency
            'Ed,camera,Op,journey,EUR,2027-03-01,2027-05-28,"1,800.00",',  # grouping
            "Fa,camera,Op,journey,EUR,2027-03-01,2027-05-28,0.001,",  # finer than a cent
        ]
    )
    assert refusal(lambda: csv_rows(text)) == [
        (1, "rate_per_week", "money_precision"),
        (2, "rate_per_week", "one_amount"),
        (2, "rate_minor_per_week", "one_amount"),
        (3, "rate_per_week", "one_amount"),
        (3, "rate_minor_per_week", "one_amount"),
        (4, "currency", "currency_unknown"),
        (5, "rate_per_week", "decimal_amount"),
        (6, "rate_per_week", "money_precision"),
    ]
    with pytest.raises(Unprocessable) as refused:
        csv_rows(text)
    assert refused.value.extra["errors"][0]["message"] == "JPY amounts have no decimals; 1.5 has more"
    # JSON true is not an amount
    row = {**JSON_ROWS[0], "rate_per_week": True}
    del row["rate_minor_per_week"]
    assert refusal(lambda: json_rows(json.dumps([row]).encode())) == [(1, "rate_per_week", "decimal_amount")]


def test_external_refs_are_read_and_bounded() -> None:
    header = HEADER
    rows = csv_rows(f"{header}\n{LEAD},,crew-7\n")
    assert rows[0].external_ref == "crew-7"
    too_long = LEAD + ",," + "r" * 201
    assert refusal(lambda: csv_rows(f"{header}\n{too_long}\n")) == [(1, "external_ref", "string_too_long")]
