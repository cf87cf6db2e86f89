"""The one PDF mechanism of guild: Jinja templates from ``templates/`` rendered by WeasyPrint.

* HTML comes only from templates under :data:`TEMPLATES_DIR`, with autoescaping on for every
  template and undefined variables an error; user text is never marked safe.
* WeasyPrint fetches through :class:`SafeURLFetcher`: ``file://`` URLs whose real path lies inside
  :data:`TEMPLATES_DIR`, and ``data:`` URLs; nothing else (no network, no other files, no
  redirects). A refused or failing fetch stops the rendering instead of silently producing a
  document without its stylesheet or its attachment.
* Output is PDF/A-3b with the given files embedded as associated files (``/AF`` with an
  ``AFRelationship``, e.g. the canonical JSON as ``Data``).
* WeasyPrint is CPU-bound and unsafe to fork or thread, so :class:`PdfRenderer` runs it in
  supervised spawn-context worker processes (:mod:`contracts.pdf_pool`: recycling, render
  timeout, tenant-fair bounded queue, workers that die with their parent); never on the event loop.

Written against WeasyPrint 70, whose fetcher is the ``weasyprint.urls.URLFetcher`` class (the
``default_url_fetcher`` function of older versions no longer exists).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
import weasyprint
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from contracts.pdf_pool import PdfBusy, PdfTimeout, PdfTooLarge, PdfUnavailable, RenderPool

__all__ = [
    "TEMPLATES_DIR",
    "PDF_VARIANT",
    "AF_RELATIONSHIPS",
    "Attachment",
    "MAX_HTML_CHARS",
    "PdfBusy",
    "PdfRenderError",
    "PdfRenderer",
    "PdfTimeout",
    "PdfTooLarge",
    "PdfUnavailable",
    "SafeURLFetcher",
    "environment",
    "html_to_pdf",
    "money",
    "pdf_sha256",
    "read_attachments",
    "render_html",
    "safe_url_fetcher",
]

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
PDF_VARIANT = "pdf/a-3b"
# A document's HTML beyond this is refused before rendering (a contract at its free-text limit is
# far below it); WeasyPrint's time grows with the text, and one document must not hold a worker long.
MAX_HTML_CHARS = 2_000_000
# ISO 32000-2 7.11.3 / PDF/A-3 values of /AFRelationship.
AF_RELATIONSHIPS = frozenset(
    {"Source", "Data", "Alternative", "Supplement", "EncryptedPayload", "FormData", "Schema", "Unspecified"}
)


class PdfRenderError(RuntimeError):
    """WeasyPrint could not produce the document (e.g. a refused or missing resource)."""


# --- HTML: Jinja ------------------------------------------------------------------------------

# Minor-unit exponents that differ from 2 (ISO 4217); used when babel is not installed.
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}  # fmt: skip

try:  # babel is the kept library for money formatting; Decimal is the fallback.
    from babel.numbers import format_currency as _babel_format_currency
    from babel.numbers import get_currency_precision as _babel_precision
except ImportError:  # pragma: no cover - depends on the environment
    _babel_format_currency = None
    _babel_precision = None


def money(amount_minor: int, currency: str) -> str:
    """Format an amount in integer minor units, e.g. ``money(25000, "EUR") == "EUR 250.00"``.

    With babel installed the result is babel's English (``€250.00``); without, it is the ISO code,
    a no-break space, comma grouping and the currency's exponent (``JPY 1,500``, ``EUR 250.00``).
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"amount_minor must be an integer number of minor units, got {amount_minor!r}")
    code = str(currency).upper()
    if _babel_format_currency is not None and _babel_precision is not None:
        exponent = _babel_precision(code)
        value = Decimal(amount_minor).scaleb(-exponent)
        return _babel_format_currency(value, code, locale="en", currency_digits=True)
    exponent = _EXPONENTS.get(code, 2)
    value = Decimal(amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_EVEN)
    return f"{code}\u00a0{value:,.{exponent}f}"  # no-break space: never split code and amount


_ACRONYMS = {"ai": "AI", "vfx": "VFX", "sfx": "SFX", "json": "JSON", "pdf": "PDF"}


def _humanize(value: Any) -> str:
    """``performer_digital_replica`` -> ``Performer digital replica``; ``vfx_shot`` -> ``VFX shot``."""
    words = [_ACRONYMS.get(w, w) for w in str(value).replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _when(value: Any) -> str:
    """An ISO 8601 timestamp as ``2026-03-02 09:00 UTC``; a date stays a date; other text as is."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if "T" not in str(value) and " " not in str(value).strip():
            return moment.date().isoformat()
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _yes_no(value: Any, none: str = "—") -> str:
    if value is None:
        return none
    return "Yes" if value else "No"


def _number(value: Any) -> str:
    """Numbers without a pointless ``.0``: 20.0 -> 20, 0.25 -> 0.25."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _ordinal(value: int) -> str:
    """1 -> 1st, 2 -> 2nd, 11 -> 11th, 23 -> 23rd."""
    n = int(value)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _show(value: Any) -> str:
    """A redline value as compact JSON text (escaped later by autoescape like any string)."""
    if value is None:
        return "(not set)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        money=money, humanize=_humanize, yes_no=_yes_no, number=_number, show=_show, when=_when, ordinal=_ordinal
    )
    return env


environment = _make_environment()


def render_html(template_name: str, context: dict[str, Any]) -> str:
    """Render a template from TEMPLATES_DIR with autoescaping; user text is always escaped."""
    return environment.get_template(template_name).render(context)


# --- URL fetching -----------------------------------------------------------------------------


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


# --- PDF: WeasyPrint --------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the PDF as a PDF/A-3 associated file."""

    filename: str
    data: bytes
    description: str
    relationship: str = "Data"
    media_type: str = "application/json"

    def __post_init__(self) -> None:
        if not self.filename or "/" in self.filename or "\\" in self.filename:
            raise ValueError(f"attachment filename must be a plain file name, got {self.filename!r}")
        if not isinstance(self.data, bytes):
            raise TypeError("attachment data must be bytes")
        if self.relationship not in AF_RELATIONSHIPS:
            raise ValueError(f"relationship must be one of {sorted(AF_RELATIONSHIPS)}, got {self.relationship!r}")
        main, _, sub = self.media_type.partition("/")
        if not main or not sub or any(c in self.media_type for c in ";, \t\r\n"):
            raise ValueError(f"media_type must be type/subtype, got {self.media_type!r}")

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


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
        pdf = document.write_pdf(pdf_variant=PDF_VARIANT, attachments=embedded, finisher=_dedupe_associated_files)
    except FatalURLFetchingError as exc:  # a BaseException in WeasyPrint: make it ordinary
        cause = exc.__cause__
        raise PdfRenderError(f"{exc}: {cause}" if cause else str(exc)) from cause
    missing = [a.name for a in embedded if a.md5 is None]  # WeasyPrint logs and skips failures
    if missing:
        raise PdfRenderError(f"attachments not embedded: {missing}")
    return pdf


def pdf_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_attachments(pdf: bytes) -> dict[str, bytes]:
    """The embedded files of a PDF, by name (the last one wins if a name repeats)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    found: dict[str, bytes] = {}
    for name, contents in reader.attachments.items():
        if contents:
            found[name] = contents[-1]
    return found


class PdfRenderer:
    """Renders template documents to PDF: HTML in the caller, PDF in supervised spawn-context workers.

    See :mod:`contracts.pdf_pool` for the mechanism: workers recycled after ``max_tasks_per_child``
    documents, a render that overruns ``timeout`` seconds killed (its worker replaced) and reported
    as :class:`PdfTimeout`, a queue that serves tenants round-robin and refuses work beyond
    ``tenant_queue_max`` per tenant or ``queue_max`` in all with :class:`PdfBusy`, workers that die
    with their parent. Nothing starts until the first :meth:`render`.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        max_tasks_per_child: int = 50,
        *,
        queue_max: int = 64,
        tenant_queue_max: int = 8,
        timeout: float = 30.0,
        worker_memory_mb: int = 0,
        max_html_chars: int = MAX_HTML_CHARS,
        start_timeout: float = 60.0,
    ) -> None:
        self.max_workers = max_workers or os.cpu_count() or 1
        self.max_tasks_per_child = max_tasks_per_child
        self.max_html_chars = max_html_chars
        self.pool = RenderPool(
            workers=self.max_workers,
            recycle_after=max_tasks_per_child,
            queue_max=queue_max,
            tenant_max=tenant_queue_max,
            timeout=timeout,
            start_timeout=start_timeout,
            memory_mb=worker_memory_mb,
        )

    def _html(self, template_name: str, context: dict[str, Any]) -> str:
        html = render_html(template_name, context)
        if len(html) > self.max_html_chars:
            raise PdfTooLarge(
                f"the document is too large to render: {len(html)} characters of HTML, at most {self.max_html_chars}",
                limit=self.max_html_chars,
            )
        return html

    async def render(
        self, template_name: str, context: dict[str, Any], attachments: list[Attachment], title: str, *, tenant: str
    ) -> bytes:
        """Render in a worker. ``tenant`` is whose turn this is in the queue (e.g. ``org:<slug>``).

        Raises :class:`PdfBusy` (queue bound reached, at once), :class:`PdfTimeout`,
        :class:`PdfUnavailable` (workers cannot start, shutting down), :class:`PdfTooLarge`,
        :class:`PdfRenderError`.
        """
        html = self._html(template_name, context)
        future = self.pool.submit(tenant, (html, list(attachments), title))
        return await asyncio.wrap_future(future)

    def render_sync(
        self, template_name: str, context: dict[str, Any], attachments: list[Attachment], title: str
    ) -> bytes:
        """Render in this process (CLI, scripts). Never call it on an event loop."""
        return html_to_pdf(self._html(template_name, context), list(attachments), title)

    def health(self) -> dict[str, Any]:
        """The pool's readiness: ``{"status": "ok" | "down", "workers": ..., "queued": ...}``."""
        return self.pool.health()

    def worker_pids(self) -> list[int]:
        return self.pool.worker_pids()

    def stats(self) -> dict[str, int]:
        return self.pool.stats()

    def shutdown(self, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait)
