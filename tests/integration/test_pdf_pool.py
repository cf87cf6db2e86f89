"""PDF rendering stays available: worker recycling under a burst, bounded queues, render timeouts,
no stray processes when the server stops, and a readiness probe that tells when the renderer is down.

The server tests start a real ``guild run`` (uvicorn) on a free loopback port against this test's
database, with a marker in its environment: every process it starts (PDF workers, multiprocessing's
resource tracker) inherits the marker, so the test finds them in /proc even after they were
reparented.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.processes import Server, guild_server, marked_processes
from tests.integration.test_contracts import performer_request, production, world  # noqa: F401 - fixtures

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")


# --- processes ------------------------------------------------------------------------------------


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def _alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z")


def _procs() -> dict[int, int]:
    """pid -> parent pid of every live process."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if fields[0] != "Z":
                table[int(entry)] = int(fields[1])
    return table


def _descendants(root: int) -> set[int]:
    table = _procs()
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in table.items() if ppid in frontier} - found
        found |= frontier
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _wait_gone(pids: set[int], within: float) -> set[int]:
    """Poll until every pid has ended (or ``within`` seconds passed); the ones still alive."""
    deadline = time.monotonic() + within
    while (left := {p for p in pids if _alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


async def _compact(scenario) -> dict[str, str]:
    await scenario.org("guild-a")
    officer = (await scenario.user("o@example.org", ("guild-a", "officer"))).headers
    await scenario.compact("c1", convening="guild-a", by="o@example.org")
    return officer


async def _get_pdfs(base: str, headers: dict[str, str], count: int, concurrency: int) -> list[httpx.Response]:
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=240) as http:

        async def one() -> httpx.Response:
            async with gate:
                return await http.get("/api/v1/compacts/c1/versions/1/pdf", headers=headers)

        return await asyncio.gather(*(one() for _ in range(count)))


def _pdf_workers(server: Server) -> set[int]:
    return {pid for pid in _descendants(server.proc.pid) if "multiprocessing" in _cmdline(pid)}


# --- a real server --------------------------------------------------------------------------------


async def test_a_burst_past_the_recycling_limit_is_served_and_sigterm_leaves_no_process(scenario):
    officer = await _compact(scenario)
    with guild_server(GUILD_PDF_WORKERS="2", GUILD_PDF_RECYCLE_AFTER="2", GUILD_PDF_TENANT_QUEUE_MAX="8") as server:
        # 8 documents, 6 at a time, through 2 workers that each retire after two documents: the
        # stdlib pool (max_tasks_per_child) hung here for good once workers retired with work queued.
        responses = await _get_pdfs(server.base, officer, count=8, concurrency=6)
        assert [r.status_code for r in responses] == [200] * 8
        assert all(r.content.startswith(b"%PDF-") for r in responses)
        health = httpx.get(f"{server.base}/health", timeout=10)
        assert health.status_code == 200, health.text
        assert health.json()["components"]["pdf"]["status"] == "ok"
        assert health.json()["components"]["database"]["status"] == "ok"

        started = _descendants(server.proc.pid) | marked_processes(server.marker)
        assert _pdf_workers(server), "the burst left no PDF worker to check"
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=60) is not None  # stops in bounded time
        assert _wait_gone(started | marked_processes(server.marker), within=10) == set()


async def test_sigkill_of_the_server_takes_its_pdf_workers_with_it(scenario):
    officer = await _compact(scenario)
    with guild_server(GUILD_PDF_WORKERS="1") as server:
        [response] = await _get_pdfs(server.base, officer, count=1, concurrency=1)
        assert response.status_code == 200
        workers = _pdf_workers(server)
        started = _descendants(server.proc.pid) | marked_processes(server.marker)
        assert workers and workers <= started
        server.proc.kill()
        server.proc.wait(timeout=10)
        # No parent to stop them: the workers notice (parent-death signal, watchdog) and end.
        assert _wait_gone(started, within=15) == set()
        assert marked_processes(server.marker) == set()


# --- in process: readiness, timeouts, bounds ------------------------------------------------------


@contextlib.asynccontextmanager
async def _app_client(**settings_update: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """A second app on the test's database (started by the ``client`` fixture) with other PDF settings."""
    from guild.app import create_app
    from guild.infra.settings import get_settings

    app = create_app(get_settings().model_copy(update=settings_update))
    renderer = app.dependencies["pdf_renderer"].dependency()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, renderer
    finally:
        renderer.shutdown(wait=False)


async def test_health_reports_a_pdf_renderer_whose_workers_cannot_start(client, scenario):
    officer = await _compact(scenario)
    # 32 MB of address space is too little for WeasyPrint: every PDF worker dies while starting.
    async with _app_client(pdf_workers=1, pdf_worker_memory_mb=32) as (http, _renderer):
        assert (await http.get("/health")).status_code == 200  # nothing started yet: ready
        r = await http.get("/api/v1/compacts/c1/versions/1/pdf", headers=officer)
        assert r.status_code == 503, r.text
        assert r.json()["rule"] == "pdf_unavailable" and int(r.headers["retry-after"]) >= 1
        health = await http.get("/health")
        assert health.status_code == 503
        assert health.headers["content-type"] == "application/problem+json"
        body = health.json()
        assert body["status"] == 503 and body["type"] == "urn:guild:problem:not-ready" and body["detail"] == "down: pdf"
        assert body["components"]["pdf"]["status"] == "down" and "cannot start" in body["components"]["pdf"]["detail"]
        assert body["components"]["database"]["status"] == "ok"
        assert (await http.get("/health/live")).status_code == 200  # liveness stays cheap and independent


async def test_a_stuck_render_is_refused_in_time_a_full_queue_at_once_and_nothing_is_issued(client, world, production):  # noqa: F811
    from guild.infra.tables import Contract

    url = f"/api/v1/productions/{production['id']}/contracts"
    producer = world["h"]["producer"]
    body = performer_request(production["actor"])
    async with _app_client(pdf_workers=1, pdf_timeout_seconds=3, pdf_tenant_queue_max=1) as (http, renderer):
        assert (await renderer.render("base_document.html", {}, [], "warm-up", tenant="test")).startswith(b"%PDF-")
        [stuck] = renderer.worker_pids()
        os.kill(stuck, signal.SIGSTOP)  # the worker makes no progress, whatever the document

        waiting = asyncio.create_task(http.post(url, json=body, headers=producer))
        for _ in range(200):  # until the company's one allowed document is in the renderer
            await asyncio.sleep(0.05)
            if renderer.health()["rendering"] or renderer.health()["queued"]:
                break
        busy = await http.post(url, json=body, headers=producer)
        assert busy.status_code == 503, busy.text
        assert busy.json()["rule"] == "pdf_queue_full" and int(busy.headers["retry-after"]) >= 1

        timed_out = await waiting
        assert timed_out.status_code == 503, timed_out.text
        assert timed_out.json()["rule"] == "pdf_render_timeout" and int(timed_out.headers["retry-after"]) >= 1
        assert not _alive(stuck)  # the overrunning worker was killed
        assert await Contract.count() == 0  # neither refusal issued anything
        # the company may render again, on a fresh worker
        assert (await renderer.render("base_document.html", {}, [], "next", tenant="org:kestrel")).startswith(b"%PDF-")
        assert renderer.worker_pids() not in ([], [stuck])


async def test_a_contract_whose_free_text_overflows_one_document_is_refused_up_front(client, world, production):  # noqa: F811
    from contracts.limits import CONTRACT_TEXT_MAX
    from guild.infra.tables import Contract

    h = world["h"]
    refs = []
    for i in range(4):  # each within its own 20,000-character limit; together past the contract's
        key = f"custom.annex_{i}"
        r = await client.post(
            "/api/v1/organizations/kestrel/clauses",
            headers=h["kestrel_officer"],
            json={"key": key, "title": f"Annex {i}", "text": "Long annex text. " * 941},
        )
        assert r.status_code == 201, r.text
        refs.append({"organization": "kestrel", "key": key, "version": 1})
    request = {**performer_request(production["actor"]), "custom_clauses": refs}
    for path in ("contracts/preview", "contracts"):
        r = await client.post(f"/api/v1/productions/{production['id']}/{path}", json=request, headers=h["producer"])
        assert r.status_code == 422, r.text
        [error] = r.json()["errors"]
        assert error["field"] == "custom_clauses[3]" and error["rule"] == "contract_text_max"
        assert error["limit"] == CONTRACT_TEXT_MAX and error["total"] > CONTRACT_TEXT_MAX
    assert await Contract.count() == 0
    request["custom_clauses"] = refs[:3]  # under the limit
    r = await client.post(
        f"/api/v1/productions/{production['id']}/contracts/preview", json=request, headers=h["producer"]
    )
    assert r.status_code == 200 and r.json()["compliant"] is True, r.text
