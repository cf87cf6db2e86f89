"""Anyone, signed in or not: is this PDF a contract guild issued? By upload or by the hash in its footer."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import QueryParameter
from litestar.response import Template

from contracts import service as contracts
from guild.domain.errors import NotFound
from guild.pages.render import page
from guild.pages.session import current_principal

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
MAX_UPLOAD = 20 * 1024 * 1024


class VerifyController(Controller):
    path = "/verify"

    @get("/")
    async def by_hash(
        self,
        request: Request[Any, Any, Any],
        sha256: Annotated[str | None, QueryParameter(max_length=200, required=False)] = None,
    ) -> Template:
        principal = await current_principal(request)
        if sha256 is None or not sha256.strip():
            return page("verify.html", principal, sha256="", found=None, error=None, checks=None)
        value = sha256.strip()
        if not _HEX64.match(value):
            return page(
                "verify.html",
                principal,
                status_code=422,
                sha256=value,
                found=None,
                error="A SHA-256 is 64 hexadecimal characters (0-9, a-f), as printed in the PDF's footer.",
                checks=None,
            )
        try:
            try:
                found = await contracts.verify_pdf_hash(value)  # the file's own SHA-256 (sha256sum)
            except NotFound:
                found = await contracts.verify_document_hash(value)  # the hash printed in the PDF's footer
        except NotFound:
            error = "no contract PDF or contract data with this SHA-256 was issued here"
            return page("verify.html", principal, status_code=404, sha256=value, found=None, error=error, checks=None)
        return page("verify.html", principal, sha256=value, found=found, error=None, checks=None)

    @post("/", status_code=200, request_max_body_size=MAX_UPLOAD + 64 * 1024)
    async def by_upload(
        self,
        request: Request[Any, Any, Any],
    ) -> Template:
        principal = await current_principal(request)
        upload = (await request.form()).get("pdf")
        if not isinstance(upload, UploadFile):
            return page(
                "verify.html",
                principal,
                status_code=422,
                sha256="",
                found=None,
                error="Choose a PDF file.",
                checks=None,
            )
        pdf = await upload.read(MAX_UPLOAD + 1)
        if len(pdf) > MAX_UPLOAD or not pdf.startswith(b"%PDF"):
            error = "That file is too large." if len(pdf) > MAX_UPLOAD else "That file is not a PDF."
            return page("verify.html", principal, status_code=422, sha256="", found=None, error=error, checks=None)
        try:
            checks = await contracts.verify_file(pdf)
        except Exception:  # noqa: BLE001 - a damaged or foreign PDF is the visitor's answer, not a server error
            checks = [(False, "the PDF could not be read as a guild contract")]
        return page(
            "verify.html", principal, sha256="", found=None, error=None, checks=checks, filename=upload.filename
        )
