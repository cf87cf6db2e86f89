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
  supervised spawn-context worker processes (:mod:`guild.infra.pdf_pool`: recycling, render
  timeout, tenant-fair bounded queue, workers that die with their parent); never on the event loop.

Written against WeasyPrint 70, whose fetcher is the ``weasyprint.urls.URLFetcher`` class (the
``default_url_fetcher`` function of older versions no longer exists).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import json
import os
import time
from datetime import UTC, datetime
from typing import Any

import jinja2
from pypdf import PdfReader

from guild.domain.money import format_money
from guild.infra.metrics import PDF_RENDER_SECONDS, PDF_RENDERS
from guild.infra.pdf_pool import PdfBusy, PdfTimeout, PdfTooLarge, PdfUnavailable, RenderPool
from guild.infra.pdf_types import AF_RELATIONSHIPS, Attachment, PdfRenderError
from guild.infra.resources import TEMPLATES_DIR

__all__ = [
    "TEMPLATES_DIR",
    "AF_RELATIONSHIPS",
    "Attachment",
    "MAX_HTML_CHARS",
    "PdfBusy",
    "PdfRenderError",
    "PdfRenderer",
    "PdfTimeout",
    "PdfTooLarge",
    "PdfUnavailable",
    "environment",
    "money",
    "pdf_sha256",
    "read_attachments",
    "render_html",
]

# A document's HTML beyond this is refused before rendering (a contract at its free-text limit is
# far below it); WeasyPrint's time grows with the text, and one document must not hold a worker long.
MAX_HTML_CHARS = 2_000_000


# --- HTML: Jinja ------------------------------------------------------------------------------


@functools.cache
def template_fingerprint() -> str:
    """SHA-256 over every template file (names and bytes): part of the key of stored documents, so an
    upgrade that changes a template renders documents anew."""
    digest = hashlib.sha256()
    for path in sorted(p for p in TEMPLATES_DIR.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")):
        digest.update(path.relative_to(TEMPLATES_DIR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def money(amount_minor: int, currency: str) -> str:
    """The money filter of document templates: :func:`guild.domain.money.format_money`, with a no-break
    space so a line never separates the currency from its amount."""
    return format_money(amount_minor, currency).replace(" ", "\u00a0")


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


# --- PDF: WeasyPrint --------------------------------------------------------------------------


def pdf_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_attachments(pdf: bytes) -> dict[str, bytes]:
    """The embedded files of a PDF, by name (the last one wins if a name repeats)."""

    reader = PdfReader(io.BytesIO(pdf))
    found: dict[str, bytes] = {}
    for name, contents in reader.attachments.items():
        if contents:
            found[name] = contents[-1]
    return found


def _failure(exc: BaseException) -> str:
    """The ``outcome`` label of a render that did not produce a PDF."""
    for kind, name in ((PdfBusy, "busy"), (PdfTimeout, "timeout"), (PdfUnavailable, "unavailable")):
        if isinstance(exc, kind):
            return name
    if isinstance(exc, PdfTooLarge):
        return "too_large"
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return "error"


class PdfRenderer:
    """Renders template documents to PDF: HTML in the caller, PDF in supervised spawn-context workers.

    See :mod:`guild.infra.pdf_pool` for the mechanism: workers recycled after ``max_tasks_per_child``
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
        worker_nice: int = 10,
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
            nice=worker_nice,
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
        started = time.perf_counter()
        try:
            html = self._html(template_name, context)
            future = self.pool.submit(tenant, (html, list(attachments), title))
            pdf = await asyncio.wrap_future(future)
        except BaseException as exc:
            PDF_RENDERS.labels(_failure(exc)).inc()
            raise
        PDF_RENDERS.labels("ok").inc()
        PDF_RENDER_SECONDS.observe(time.perf_counter() - started)
        return pdf

    def health(self) -> dict[str, Any]:
        """The pool's readiness: ``{"status": "ok" | "down", "workers": ..., "queued": ...}``."""
        return self.pool.health()

    def worker_pids(self) -> list[int]:
        return self.pool.worker_pids()

    def stats(self) -> dict[str, int]:
        return self.pool.stats()

    def shutdown(self, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait)
