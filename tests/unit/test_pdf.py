"""The PDF mechanism: templates, escaping, the restrictive URL fetcher, PDF/A-3 attachments.

Real renders with WeasyPrint (no mocks); kept to a few renders so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import copy
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from guild.compacts.redline import diff_terms
from guild.compacts.terms import example_terms
from guild.domain.canonical import canonical_json, sha256_hex
from guild.infra.pdf import (
    TEMPLATES_DIR,
    PdfBusy,
    PdfRenderer,
    PdfTimeout,
    PdfTooLarge,
    PdfUnavailable,
    money,
    pdf_sha256,
    read_attachments,
    render_html,
)
from guild.infra.pdf_render import html_to_pdf, safe_url_fetcher
from guild.infra.pdf_types import Attachment, PdfRenderError

HOSTILE = '<script>alert(1)</script> & "quotes"'
TITLE = "Compact indie-ai-2026 version 2"


def _context() -> tuple[dict[str, Any], bytes]:
    terms = example_terms().model_dump(mode="json")
    old = copy.deepcopy(terms)
    old["quorum"] = None
    old["ai_disclosure"]["max_ai_share_pct"] = 25.0
    old["apprenticeship"] = old["apprenticeship"][:3]
    data = canonical_json(terms)
    context = {
        "compact": {"title": "Independent Film AI Compact", "slug": "indie-ai-2026", "convening_org": "Screen Guild"},
        "version": {
            "number": 2,
            "status": "proposed",
            "hash": sha256_hex(data),
            "proposed_at": "2026-03-01T10:00:00+00:00",
            "parent_number": 1,
        },
        "parties": [
            {"name": HOSTILE, "kind": "guild", "decision": "approved", "decided_at": "2026-03-02T09:00:00+00:00", "by": "A. Officer"},
            {"name": "Nordic Film Fund", "kind": "film_fund", "decision": "rejected", "decided_at": "2026-03-03T09:00:00+00:00", "by": "B. Person"},
            {"name": "Festival of the Lakes", "kind": "festival", "decision": None, "decided_at": None, "by": None},
        ],
        "terms": terms,
        "redline": [c.model_dump(mode="json") for c in diff_terms(old, terms)],
        "redline_against": "version 1",
    }  # fmt: skip
    return context, data


def _attachment(data: bytes) -> Attachment:
    return Attachment(filename="compact.json", data=data, description="Canonical JSON of the compact version terms")


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    context, data = _context()
    html = render_html("compact.html", context)
    pdf = html_to_pdf(html, [_attachment(data)], TITLE)  # in-process, no pool
    reader = PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() or "" for page in reader.pages]
    return {"context": context, "data": data, "html": html, "pdf": pdf, "reader": reader, "pages": pages}


def test_is_a_pdf(rendered: dict[str, Any]) -> None:
    assert rendered["pdf"].startswith(b"%PDF-")
    assert len(rendered["pages"]) >= 2
    assert rendered["reader"].metadata.title == TITLE
    assert pdf_sha256(rendered["pdf"]) == sha256_hex(rendered["pdf"])


def test_user_text_is_escaped(rendered: dict[str, Any]) -> None:
    html = rendered["html"]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;" in html
    text = "\n".join(rendered["pages"])
    # Shown literally, as text: the characters survived escaping and were not parsed as markup.
    assert "<script>alert(1)</script> &" in text
    assert '"quotes"' in text


def test_version_hash_on_every_page(rendered: dict[str, Any]) -> None:
    digest = rendered["context"]["version"]["hash"]
    for number, text in enumerate(rendered["pages"], start=1):
        assert f"Compact version SHA-256: {digest}" in text, f"page {number}"


def test_page_numbers(rendered: dict[str, Any]) -> None:
    pages = rendered["pages"]
    total = len(pages)
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text
    assert "Page 1 of" in pages[0]


def test_sections_and_redline(rendered: dict[str, Any]) -> None:
    text = " ".join(" ".join(rendered["pages"]).split())
    for heading in (
        "Parties and ratification",
        "1. AI disclosure",
        "2. Rules on the use of AI",
        "3. Training data and licence fees",
        "4. Apprenticeship quotas",
        "Human-Produced",
        "6. Compliance checks",
        "Changes from version 1",
    ):
        assert heading in text
    assert "ai_disclosure.max_ai_share_pct" in text
    assert "EUR 250.00" in text or "€250.00" in text  # fee: 25_000 minor units (babel or not)
    html = rendered["html"]
    assert "<del>25.0</del> → <ins>20.0</ins>" in html
    assert "<ins>{&#34;budget_max_minor&#34;" in html  # added quota rule, escaped JSON
    assert "&#34;min_rate_per_week&#34;: &#34;EUR 700.00/week&#34;" in html  # its money formatted, not 70000


def test_attachment_is_the_canonical_json(rendered: dict[str, Any]) -> None:
    assert read_attachments(rendered["pdf"]) == {"compact.json": rendered["data"]}
    # PDF/A-3 associated file: listed in the catalog's /AF with relationship /Data.
    catalog = rendered["reader"].trailer["/Root"]
    specs = [ref.get_object() for ref in catalog["/AF"]]
    assert [spec["/UF"] for spec in specs] == ["compact.json"]
    assert all(spec["/AFRelationship"] == "/Data" for spec in specs)
    embedded = specs[0]["/EF"]["/F"].get_object()
    assert embedded["/Subtype"] == "/application/json"
    xmp = catalog["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp
    assert b'pdfaid:conformance="B"' in xmp


def test_qpdf_check(rendered: dict[str, Any], tmp_path: Path) -> None:
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        pytest.skip("qpdf is not on PATH")
    path = tmp_path / "compact.pdf"
    path.write_bytes(rendered["pdf"])
    result = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.css",
        "https://example.com/x.css",
        "ftp://example.com/x.css",
        "file:///etc/passwd",
        (TEMPLATES_DIR / "static").as_uri() + "/../../pyproject.toml",
        (TEMPLATES_DIR / "static").as_uri() + "/%2e%2e/%2e%2e/pyproject.toml",
        "file://evil.example/" + (TEMPLATES_DIR / "static" / "document.css").as_posix().lstrip("/"),
        (TEMPLATES_DIR / "static").as_uri() + "/",  # a directory, not a file
        "static/document.css",  # not absolute: WeasyPrint always passes absolute URLs
    ],
)
def test_fetcher_refuses(url: str) -> None:
    with pytest.raises(ValueError, match="^refused URL: "):
        safe_url_fetcher(url)


def test_fetcher_serves_template_files_and_data_urls() -> None:
    css = TEMPLATES_DIR / "static" / "document.css"
    response = safe_url_fetcher(css.as_uri())
    try:
        assert response.read() == css.read_bytes()
        assert response.content_type == "text/css"
    finally:
        response.close()
    response = safe_url_fetcher("data:text/plain;base64,aGk=")
    try:
        assert response.read() == b"hi"
    finally:
        response.close()


def test_refused_resource_stops_the_render() -> None:
    html = '<html><head><link rel="stylesheet" href="http://example.com/x.css"></head><body>x</body></html>'
    with pytest.raises(PdfRenderError, match="example.com"):
        html_to_pdf(html, [], "refused")
    html = '<html><body><img src="file:///etc/passwd"></body></html>'
    with pytest.raises(PdfRenderError, match="refused URL"):
        html_to_pdf(html, [], "refused")


def test_money() -> None:
    for amount, currency, digits in (
        (25_000, "EUR", "250.00"),
        (1_500, "JPY", "1,500"),
        (1_234_567, "KWD", "1,234.567"),
    ):
        shown = money(amount, currency)
        assert digits in shown
    with pytest.raises(TypeError):
        money(2.5, "EUR")  # type: ignore[arg-type]


def test_attachment_validation() -> None:
    with pytest.raises(ValueError):
        Attachment(filename="../x.json", data=b"{}", description="")
    with pytest.raises(ValueError):
        Attachment(filename="x.json", data=b"{}", description="", relationship="Bogus")


def test_renderer_pool_under_asyncio(rendered: dict[str, Any]) -> None:
    context, data = rendered["context"], rendered["data"]
    renderer = PdfRenderer(max_workers=1)

    async def main() -> bytes:
        loop_thread_free = asyncio.get_running_loop()
        task = asyncio.create_task(renderer.render("compact.html", context, [_attachment(data)], TITLE, tenant="t"))
        # The loop stays responsive while the pool renders.
        ticks = 0
        while not task.done():
            await asyncio.sleep(0.01)
            ticks += 1
        assert loop_thread_free.is_running() and ticks > 0
        return await task

    try:
        pdf = asyncio.run(main())
    finally:
        renderer.shutdown()
    assert pdf.startswith(b"%PDF-")
    assert read_attachments(pdf) == {"compact.json": data}


# --- the render pool: recycling, bounds, fairness, timeouts, dead workers --------------------------
# Real worker processes rendering real (small) documents; no mocks.

SMALL = "base_document.html"  # the bare document layout: a quick render


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _gone(pids: set[int], within: float = 15) -> bool:
    """Whether every one of ``pids`` has ended, polling up to ``within`` seconds (a retiring worker
    is told to stop and is reaped in the background)."""
    import time

    deadline = time.monotonic() + within
    while [pid for pid in pids if _alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    return not [pid for pid in pids if _alive(pid)]


def _run(coro: Any, bound: float = 240) -> Any:
    """Run ``coro``; a pool that hangs fails the test instead of hanging the suite."""
    return asyncio.run(asyncio.wait_for(coro, bound))


def test_workers_are_recycled_well_past_the_limit_under_a_burst() -> None:
    """The stdlib pool stopped replacing retired workers while work was queued and hung for good."""
    renderer = PdfRenderer(max_workers=2, max_tasks_per_child=2, tenant_queue_max=10)
    seen: set[int] = set()

    async def main() -> list[bytes]:
        gate = asyncio.Semaphore(6)  # three times the workers in flight: work queued whenever one retires

        async def one(i: int) -> bytes:
            async with gate:
                pdf = await renderer.render(SMALL, {}, [], f"doc {i}", tenant="t")
                seen.update(renderer.worker_pids())
                return pdf

        # 4x the recycling limit; ProcessPoolExecutor(max_tasks_per_child=2) hangs for good on exactly this
        return await asyncio.gather(*(one(i) for i in range(8)))

    try:
        pdfs = _run(main())
        assert len(pdfs) == 8 and all(p.startswith(b"%PDF-") for p in pdfs)
        assert _run(renderer.render(SMALL, {}, [], "after", tenant="t")).startswith(b"%PDF-")
        stats = renderer.stats()
        assert stats["rendered"] == 9 and stats["workers_started"] >= 5  # each worker retired after two
        assert renderer.health()["status"] == "ok"
        current = set(renderer.worker_pids())
        assert len(seen) >= 3 and _gone(seen - current)  # retired workers end; none is left behind
    finally:
        renderer.shutdown()
    assert not [pid for pid in seen | current if _alive(pid)]  # shutdown reaps its workers before returning
    assert renderer.health()["status"] == "down"
    with pytest.raises(PdfUnavailable):
        _run(renderer.render(SMALL, {}, [], "closed", tenant="t"))


def test_tenants_take_turns_and_full_queues_refuse_at_once() -> None:
    renderer = PdfRenderer(max_workers=1, tenant_queue_max=4, queue_max=6)
    done: list[str] = []

    async def main() -> None:
        async def one(name: str) -> None:
            pdf = await renderer.render(SMALL, {}, [], name, tenant=name[0])
            assert pdf.startswith(b"%PDF-")
            done.append(name)

        busy = [asyncio.create_task(one(f"A{i}")) for i in range(1, 5)]
        await asyncio.sleep(0)  # each task runs up to its queued render
        with pytest.raises(PdfBusy) as per_tenant:  # A already holds its 4
            await renderer.render(SMALL, {}, [], "A5", tenant="A")
        busy += [asyncio.create_task(one(f"B{i}")) for i in range(1, 3)]
        await asyncio.sleep(0)
        with pytest.raises(PdfBusy) as in_all:  # 6 waiting or rendering: full for everyone
            await renderer.render(SMALL, {}, [], "C1", tenant="C")
        assert per_tenant.value.retry_after >= 1 and in_all.value.retry_after >= 1
        await asyncio.gather(*busy)

    try:
        _run(main())
    finally:
        renderer.shutdown()
    assert sorted(done) == ["A1", "A2", "A3", "A4", "B1", "B2"]
    # Round-robin: B's second document does not wait for all of A's (first come would put it last).
    assert done.index("B2") < done.index("A4")


def test_fair_queue_serves_tenants_round_robin() -> None:
    from guild.infra.pdf_pool import FairQueue

    queue = FairQueue()
    for item in ("a1", "a2", "a3", "b1", "c1", "b2"):
        queue.put(item[0], item)
    assert queue.remove("a", "a3") and not queue.remove("a", "a3")
    order = [queue.take() for _ in range(len(queue))]
    assert order == ["a1", "b1", "c1", "a2", "b2"]


def test_a_render_that_overruns_is_stopped_and_its_worker_replaced() -> None:
    import signal

    renderer = PdfRenderer(max_workers=1, timeout=3)
    try:
        assert _run(renderer.render(SMALL, {}, [], "first", tenant="t")).startswith(b"%PDF-")
        [stuck] = renderer.worker_pids()
        os.kill(stuck, signal.SIGSTOP)  # a worker that no longer makes progress, whatever the document
        with pytest.raises(PdfTimeout) as timed_out:
            _run(renderer.render(SMALL, {}, [], "second", tenant="t"))
        assert timed_out.value.retry_after >= 1
        assert not _alive(stuck)
        assert _run(renderer.render(SMALL, {}, [], "third", tenant="t")).startswith(b"%PDF-")
        assert renderer.worker_pids() != [stuck] and renderer.stats()["timeouts"] == 1
    finally:
        renderer.shutdown()


def test_workers_that_cannot_start_make_the_pool_down_and_refuse_fast() -> None:
    # 32 MB of address space is too little for WeasyPrint: every worker dies while starting.
    renderer = PdfRenderer(max_workers=1, worker_memory_mb=32)
    try:
        assert renderer.health()["status"] == "ok"  # idle: nothing started yet
        with pytest.raises(PdfUnavailable) as first:
            _run(renderer.render(SMALL, {}, [], "x", tenant="t"))
        assert not isinstance(first.value, (PdfBusy, PdfTimeout))
        health = renderer.health()
        assert health["status"] == "down" and "cannot start" in health["detail"]
        with pytest.raises(PdfUnavailable) as again:  # refused at once until the next start attempt
            _run(renderer.render(SMALL, {}, [], "x", tenant="t"))
        assert again.value.retry_after >= 1 and renderer.stats()["start_failures"] >= 1
        assert renderer.worker_pids() == []
        # Without any request it keeps trying (backing off), so readiness returns when starting works.
        import time

        deadline = time.monotonic() + 60
        while renderer.stats()["start_failures"] < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert renderer.stats()["start_failures"] >= 2
    finally:
        renderer.shutdown()
    # Workers that failed to load fonts under their cap wrote what fontconfig cached to guild's own
    # cache folder, not the system's: a render in a fresh process (the server's next worker, another
    # program) still finds fonts instead of crashing.
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "import weasyprint, sys; sys.stdout.write(str(len(weasyprint.HTML(string='<p>x</p>').write_pdf())))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fresh.returncode == 0 and int(fresh.stdout) > 1000, fresh.stderr[-500:]


def test_an_oversize_document_is_refused_before_rendering() -> None:
    renderer = PdfRenderer(max_workers=1, max_html_chars=100)
    try:
        with pytest.raises(PdfTooLarge) as refused:
            _run(renderer.render(SMALL, {}, [], "x", tenant="t"))
        assert refused.value.limit == 100
        assert renderer.worker_pids() == [] and renderer.stats()["workers_started"] == 0
    finally:
        renderer.shutdown()


def test_contract_free_text_is_capped_in_total_naming_where_it_overflows() -> None:
    from contracts.limits import CONTRACT_TEXT_MAX, text_overflow

    params = [{"use_description": "u" * 4000, "nested": {"items": ["x" * 10]}}, {"rate_minor_per_week": 5}]
    assert text_overflow(params, [("Catering", "c" * 20_000)], "n" * 20_000) is None
    over = text_overflow(params, [("Catering", "c" * 20_000), ("More", "m" * 20_000)], "n" * 20_000)
    assert over is not None and over.field == "notes"  # where the running total passes the limit
    assert over.total == 4010 + 8 + 20_000 + 4 + 20_000 + 20_000 > CONTRACT_TEXT_MAX
    huge = text_overflow([{"a": {"b": ["y" * (CONTRACT_TEXT_MAX + 1)]}}], [], "")
    assert huge is not None and huge.field == "clauses[0].params.a.b[0]"


def test_the_server_process_never_loads_weasyprint(tmp_path: Path) -> None:
    # Rendering happens only in the pool's workers (after their font cache and memory cap are set);
    # the server, the CLI and the scheduler import the PDF mechanism without WeasyPrint or fontconfig.
    code = (
        "import sys; from guild.app import create_app; import guild.cli, scheduler.service, contracts.service;"
        " create_app(); sys.stdout.write(str(sorted(m for m in sys.modules if m.split('.')[0] == 'weasyprint')))"
    )
    env = {**os.environ, "GUILD_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-800:]
    assert done.stdout == "[]"


def test_render_workers_write_font_caches_to_a_folder_of_their_own() -> None:
    # fontconfig writes a rescan's result to the first writable cache folder; for a root process that
    # is /var/cache/fontconfig, so a worker that fails to read fonts (memory cap) would leave the whole
    # machine without fonts. Workers get a configuration whose first cache folder is guild's own, and
    # that still finds the system's fonts.
    from guild.infra.pdf_pool import _font_config_folder

    if not os.path.exists("/etc/fonts/fonts.conf") or os.environ.get("FONTCONFIG_FILE"):
        pytest.skip("no system fontconfig configuration here, or one chosen by the operator")
    folder = _font_config_folder()
    assert folder is not None and os.stat(folder).st_uid == os.getuid()
    conf = Path(folder, "fonts.conf").read_text()
    assert conf.index(f"<cachedir>{folder}/cache</cachedir>") < conf.index("/etc/fonts/fonts.conf")
    assert _font_config_folder() == folder  # one folder, reused: nothing piles up in /tmp
    env = {**os.environ, "FONTCONFIG_FILE": str(Path(folder, "fonts.conf"))}
    rendered = subprocess.run(
        [
            sys.executable,
            "-c",
            "import weasyprint, sys; sys.stdout.write(str(len(weasyprint.HTML(string='<p>x</p>').write_pdf())))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert rendered.returncode == 0 and int(rendered.stdout) > 1000, rendered.stderr[-500:]


def test_render_workers_run_at_a_lower_cpu_priority_than_the_server() -> None:
    renderer = PdfRenderer(max_workers=1, worker_nice=7)
    try:
        assert _run(renderer.render(SMALL, {}, [], "x", tenant="t")).startswith(b"%PDF-")
        [worker] = renderer.worker_pids()
        assert os.getpriority(os.PRIO_PROCESS, worker) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 7)
    finally:
        renderer.shutdown()
