"""Bulk import of rosters and disclosures from CSV or JSON: every row validated, all or nothing.

One bad row rejects the whole file, and the refusal names every bad row and field. CSV cells are text,
read as JSON strings would be (``"60000"`` is a number there); JSON rows are typed: ``"60000"`` or
``true`` is not an integer. JSON nests at most :data:`guild.web.bodies.MAX_JSON_DEPTH` levels.

A CSV cell may be as long as the body (the route bounds its size); the row model's limits then name the
row and column of a cell that is too long. (Python's csv module refuses cells over 131,072 characters
with an error that names neither; the module raises that process-wide limit once, on import.)
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, TypeAdapter, ValidationError

from guild.domain.errors import Unprocessable, invalid
from guild.domain.principal import Principal
from guild.productions import service
from guild.productions.schemas import (
    DISCLOSURE_COLUMNS,
    ENGAGEMENT_COLUMNS,
    DisclosureIn,
    EngagementImportRow,
    ImportMode,
    RosterImportResult,
)
from guild.web.bodies import refuse_deep_json

Row = TypeVar("Row", bound=BaseModel)
BodyReader = Callable[[], Awaitable[bytes]]

MAX_ROWS = 20_000
MAX_CSV_CELL = 64 * 1024 * 1024  # above any import body size limit: csv itself never refuses a cell
csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_CELL))


def _shown(name: str) -> str:
    return repr(name if len(name) <= 80 else name[:80] + "…")


def _rows_from_csv(body: bytes, columns: list[str], required: set[str]) -> list[dict[str, Any]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise invalid("body", "utf8", "the CSV file must be UTF-8 encoded") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise Unprocessable(
            "the CSV header cannot be read",
            title="Validation failed",
            errors=[{"row": 0, "field": "header", "rule": "csv", "message": str(exc)}],
        ) from None
    unknown = [c for c in header if c not in columns]
    missing = sorted(required - set(header))
    if unknown or missing or len(set(header)) != len(header):
        raise Unprocessable(
            "the CSV header does not match",
            title="Validation failed",
            errors=[
                {"row": 0, "field": c[:80], "rule": "unknown_column", "message": f"unknown column {_shown(c)}"}
                for c in unknown
            ]
            + [{"row": 0, "field": c, "rule": "missing_column", "message": f"missing column {c!r}"} for c in missing],
            expected_header=",".join(columns),
        )
    # csv.reader and one dict per row, not csv.DictReader (whose per-row Python code was a third of an
    # import's parse time); the same rows: blank lines skipped, missing trailing cells absent, empty cells
    # absent (so optional fields take their defaults).
    width = len(header)
    rows: list[dict[str, Any]] = []
    append = rows.append
    try:
        for cells in reader:
            if len(cells) > width:
                raise Unprocessable(
                    "a row has more cells than the header",
                    title="Validation failed",
                    errors=[
                        {
                            "row": reader.line_num - 1,
                            "field": "row",
                            "rule": "extra_cells",
                            "message": "more cells than header columns",
                        }
                    ],
                )
            if cells:
                append({k: v for k, v in zip(header, cells, strict=False) if v})  # short rows: absent
                if len(rows) > MAX_ROWS:
                    raise invalid("body", "max_rows", f"at most {MAX_ROWS} rows per file")
    except csv.Error as exc:
        raise Unprocessable(
            "a row cannot be read as CSV",
            title="Validation failed",
            errors=[{"row": len(rows) + 1, "field": "row", "rule": "csv", "message": str(exc)}],
        ) from None
    return rows


def _rows_from_json(body: bytes) -> list[dict[str, Any]]:
    refuse_deep_json(body)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid("body", "utf8", "the JSON file must be UTF-8 encoded") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise invalid("body", "json", f"malformed JSON: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise invalid("body", "json_array", "the JSON body must be an array of objects")
    if len(data) > MAX_ROWS:
        raise invalid("body", "max_rows", f"at most {MAX_ROWS} rows per file")
    return data


@functools.cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]  # a model class given at run time


def _valid_json_rows(body: bytes, model: type[Row]) -> list[Row] | None:
    """A JSON body's rows when the file is acceptable as a whole: parsed and validated in one pass by
    pydantic-core, without a Python dict per row. ``None`` when anything is wrong (not JSON, not an array
    of objects, a bad row, no rows, too many): the general path then reads the body again and names
    every problem. Same types either way: JSON rows are validated as typed values."""
    refuse_deep_json(body)
    try:
        rows: list[Row] = _list_adapter(model).validate_json(body)
    except ValidationError:
        return None
    return rows if 0 < len(rows) <= MAX_ROWS else None


def parse_rows(body: bytes, content_type: str, model: type[Row], columns: list[str]) -> list[Row]:
    """Rows of a CSV (header = ``columns``) or JSON array body, validated as ``model``; 422 listing every bad row."""
    media = content_type.split(";")[0].strip().lower()
    required = {name for name, f in model.model_fields.items() if f.is_required()}
    if media in ("text/csv", "application/csv"):
        raw = _rows_from_csv(body, columns, required)
    elif media == "application/json":
        valid = _valid_json_rows(body, model)
        if valid is not None:
            return valid
        raw = _rows_from_json(body)
    else:
        raise invalid("content-type", "media_type", "send text/csv or application/json")
    if not raw:
        raise invalid("body", "not_empty", "the file has no rows")
    adapter = _list_adapter(model)  # one call validates every row (pydantic's loop, not Python's)
    try:
        rows: list[Row] = (
            # CSV cells are text, read as a JSON string would be (lax); JSON rows keep their types (strict)
            adapter.validate_python(raw, strict=False)
            if media in ("text/csv", "application/csv")
            else adapter.validate_python(raw)
        )
    except ValidationError as exc:
        rows, errors = (
            [],
            [
                {
                    "row": int(e["loc"][0]) + 1,
                    "field": ".".join(str(p) for p in e["loc"][1:]) or "row",
                    "rule": e["type"],
                    "message": e["msg"],
                }
                for e in exc.errors()
            ],
        )
    else:
        errors = []
    if errors:
        raise Unprocessable(
            f"{len({e['row'] for e in errors})} row(s) are invalid; nothing was imported",
            title="Validation failed",
            errors=errors,
        )
    return rows


async def import_disclosures(
    principal: Principal, production_id: UUID, read_body: BodyReader, content_type: str
) -> int:
    """Replace the production's disclosures with the file's rows; returns how many. The body is read only after
    the access check (404/403 before an upload is even read or parsed)."""
    await service.assert_can_change(principal, production_id)
    rows = parse_rows(await read_body(), content_type, DisclosureIn, DISCLOSURE_COLUMNS)
    await service.set_disclosures(principal, production_id, rows)
    return len(rows)


async def import_roster(
    principal: Principal,
    production_id: UUID,
    read_body: BodyReader,
    content_type: str,
    mode: ImportMode = ImportMode.append,
) -> RosterImportResult:
    """Import the file's engagements into the production, all rows or none (``mode``: see
    :func:`guild.productions.service.import_roster_rows`). The body is read only after the access check."""
    await service.assert_can_change(principal, production_id)
    rows = parse_rows(await read_body(), content_type, EngagementImportRow, ENGAGEMENT_COLUMNS)
    return await service.import_roster_rows(principal, production_id, rows, mode)
