"""WeasyPrint's half of the PDF mechanism: HTML to PDF/A-3b with associated files, fetching only
template files and ``data:`` URLs. It runs in the render pool's worker processes (:mod:`guild.infra.pdf_pool`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import weasyprint
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from guild.infra.pdf_types import Attachment, PdfRenderError
from guild.infra.resources import TEMPLATES_DIR

PDF_VARIANT = "pdf/a-3b"


def _refuse(url: str, why: str) -> ValueError:
    shown = url if len(url) <= 200 else url[:200] + "…"
    return ValueError(f"refused URL: {shown} ({why})")


def _template_file(url: str) -> Path:
    """The real path of a ``file://`` URL, if it names a regular file inside TEMPLATES_DIR."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise _refuse(url, "file URL with a remote host")
    raw = unquote(parts.path)
    if "\x00" in raw:
        raise _refuse(url, "NUL in path")
    if ".." in raw.split("/"):
        raise _refuse(url, "'..' in path")
    root = Path(os.path.realpath(TEMPLATES_DIR))
    real = Path(os.path.realpath(url2pathname(parts.path)))  # resolves every symlink
    if not real.is_relative_to(root):
        raise _refuse(url, "outside the templates folder")
    if not real.is_file():
        raise _refuse(url, "not a file in the templates folder")
    return real


def _checked_url(url: str) -> str:
    """The URL to actually open, or ValueError("refused URL: ...")."""
    if not isinstance(url, str):
        raise _refuse(repr(url), "not a string")
    scheme = urlsplit(url).scheme.lower() if ":" in url else ""
    if scheme == "data":
        return url
    if scheme == "file":
        # Open the checked real path, not the URL as given: no '..', no symlink, no query.
        return _template_file(url).as_uri()
    raise _refuse(url, f"scheme {scheme or '(none)'!r} not allowed")


class SafeURLFetcher(URLFetcher):
    """WeasyPrint 70 URL fetcher serving only template files and ``data:`` URLs.

    The real check is :func:`_checked_url`; the base class is also told to allow only the
    ``file`` and ``data`` protocols and to follow no redirects, as a second line.
    ``fail_on_errors=True`` (default) makes a refused or failed fetch stop the rendering.
    """

    def __init__(self, timeout: float = 10, ssl_context: Any = None, fail_on_errors: bool = True) -> None:
        super().__init__(
            timeout=timeout,
            ssl_context=ssl_context,
            allowed_protocols=("file", "data"),
            allow_redirects=False,
            fail_on_errors=fail_on_errors,
        )

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        checked = _checked_url(url)
        response = super().fetch(checked, headers)
        try:  # no redirect handler is installed; still, the URL answered must pass the same check
            _checked_url(response.url)
        except ValueError:
            response.close()
            raise
        return response


def safe_url_fetcher(url: str, timeout: float = 10, ssl_context: Any = None) -> URLFetcherResponse:
    """Fetch ``url`` if allowed, else raise ``ValueError("refused URL: ...")``.

    Returns a ``weasyprint.urls.URLFetcherResponse`` (read it, then ``close()`` it).
    """
    return SafeURLFetcher(timeout=timeout, ssl_context=ssl_context).fetch(url)


def _dedupe_associated_files(document: Any, pdf: Any) -> None:
    """WeasyPrint 70 lists each embedded file twice in the catalog's /AF; keep each once."""
    af = pdf.catalog.get("AF")
    if af:
        unique = list(dict.fromkeys(af))
        af.clear()
        af.extend(unique)


def html_to_pdf(html: str, attachments: list[Attachment], title: str) -> bytes:
    """Render template HTML to PDF/A-3b bytes with ``attachments`` as associated files.

    Module-level and picklable, so it runs in a process pool. Relative URLs resolve against
    TEMPLATES_DIR and go through :class:`SafeURLFetcher`.
    """
    fetcher = SafeURLFetcher(fail_on_errors=True)
    try:
        document = weasyprint.HTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/", url_fetcher=fetcher).render(
            pdf_variant=PDF_VARIANT
        )
        document.metadata.title = title
        embedded = [
            # A data: URL (through the same fetcher) carries the media type into /Subtype;
            # a string source would leave WeasyPrint guessing it from the file name.
            weasyprint.Attachment(
                url=a.data_url(),
                url_fetcher=fetcher,
                name=a.filename,
                description=a.description,
                relationship=a.relationship,
            )
            for a in attachments
        ]
        pdf: bytes = document.write_pdf(
            pdf_variant=PDF_VARIANT, attachments=embedded, finisher=_dedupe_associated_files
        )
    except FatalURLFetchingError as exc:  # a BaseException in WeasyPrint: make it ordinary
        cause = exc.__cause__
        raise PdfRenderError(f"{exc}: {cause}" if cause else str(exc)) from cause
    missing = [a.name for a in embedded if a.md5 is None]  # WeasyPrint logs and skips failures
    if missing:
        raise PdfRenderError(f"attachments not embedded: {missing}")
    return pdf
