"""A producer uploads a roster CSV: all rows or none, and every bad row and field shown in place."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Template

from guild.domain.errors import Unprocessable
from guild.pages.render import page
from guild.pages.session import require_principal
from guild.productions import imports
from guild.productions import service as productions
from guild.productions.schemas import ENGAGEMENT_COLUMNS, ImportMode

IMPORT_MAX_BYTES = 8 * 1024 * 1024  # as the API's import


def _rows_for_display(data: bytes) -> tuple[list[str], list[list[str]]]:
    """The file as a person wrote it (header and cells), only to show the errors next to their cells."""
    text = data.decode("utf-8-sig", errors="replace")
    table = list(csv.reader(io.StringIO(text)))
    return (table[0], table[1:]) if table else ([], [])


class RosterController(Controller):
    path = "/productions/{production_id:uuid}/roster"

    async def _page(self, request: Request[Any, Any, Any], production_id: UUID, **context: Any) -> Template:
        principal = await require_principal(request)
        production = await productions.get_production(principal, production_id)  # 404 unless theirs
        status = 422 if context.get("errors") else 200
        context = {"result": None, "errors": None, "header": [], "rows": [], "by_cell": {}, "mode": "append"} | context
        return page(
            "roster_import.html",
            principal,
            status_code=status,
            production=production,
            columns=ENGAGEMENT_COLUMNS,
            **context,
        )

    @get("/import")
    async def form(self, request: Request[Any, Any, Any], production_id: FromPath[UUID]) -> Template:
        return await self._page(request, production_id)

    @post("/import", status_code=200, request_max_body_size=IMPORT_MAX_BYTES + 64 * 1024)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        production_id: FromPath[UUID],
    ) -> Template:
        principal = await require_principal(request)
        data = await request.form()  # multipart: the file and the mode
        upload = data.get("file")
        mode = ImportMode.upsert if data.get("mode") == "upsert" else ImportMode.append
        if not isinstance(upload, UploadFile):
            raise Unprocessable("choose a CSV file", field="file", rule="required")
        body = await upload.read(IMPORT_MAX_BYTES + 1)
        if len(body) > IMPORT_MAX_BYTES:
            raise Unprocessable("the file is larger than 8 MiB", field="file", rule="max_size")

        async def read() -> bytes:
            return body

        try:
            result = await imports.import_roster(principal, production_id, read, "text/csv", mode)
        except Unprocessable as exc:
            errors = [e for e in exc.extra.get("errors", []) if isinstance(e, dict)]
            header, rows = _rows_for_display(body)
            by_cell: dict[tuple[int, str], list[str]] = {}
            for e in errors:
                by_cell.setdefault((int(e.get("row", 0)), str(e.get("field", "row"))), []).append(str(e["message"]))
            return await self._page(
                request,
                production_id,
                errors=errors or [{"row": 0, "field": "file", "message": exc.detail}],
                detail=exc.detail,
                header=header,
                rows=rows,
                by_cell=by_cell,
                mode=mode.value,
                filename=upload.filename,
            )
        return await self._page(request, production_id, result=result, mode=mode.value)
