"""The deployment shape, run as compose.yaml runs it: ``guild run`` instances and one ``guild scheduler run``
process on one PostgreSQL database share nothing but the database and the secrets in their environment;
every process writes JSON log lines only; Prometheus metrics on ``/metrics`` (and the scheduler's port).
"""

from __future__ import annotations

import contextlib
import json
import re

import httpx
import pytest

from guild.infra.settings import get_settings
from tests.engines import engines_only
from tests.integration.processes import free_port, guild_scheduler, guild_server, wait_for_line
from tests.integration.scenario import PASSWORD
from tests.integration.test_contracts import performer_request, production, world  # noqa: F401  (fixtures)


def _shared_secrets() -> dict[str, str]:
    """What compose.yaml gives every process: the same JWT and audit keys (the test's own, so that what the
    test wrote and what the processes write verify alike); one PDF worker each, to spare the CPU."""
    settings = get_settings()
    return {
        "GUILD_SECRET_KEY": settings.jwt_secret(),
        "GUILD_AUDIT_KEY": settings.audit_mac_key().decode(),
        "GUILD_PDF_WORKERS": "1",
    }


def _sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample of a Prometheus text exposition (0 when absent)."""
    for line in metrics.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@engines_only("postgres", reason="several processes on one database is the PostgreSQL deployment")
async def test_two_app_instances_and_a_scheduler_process_serve_one_state(scenario, world, production, tmp_path):  # noqa: F811
    """Two ``guild run`` and one ``guild scheduler run``, each with its own data folder: a token signed in on
    one instance works on the other, a contract issued on one is read back on the other, and each compact's
    slot is swept once, by the scheduler process; a second scheduler process (a restart) skips the slots."""
    from guild.infra.tables import ComplianceRun, Finding

    secrets = _shared_secrets()
    metrics_port = free_port()
    with contextlib.ExitStack() as stack:
        a = stack.enter_context(guild_server(GUILD_DATA_DIR=str(tmp_path / "a"), **secrets))
        b = stack.enter_context(guild_server(GUILD_DATA_DIR=str(tmp_path / "b"), **secrets))
        scheduler = stack.enter_context(
            guild_scheduler(
                "--metrics-port",
                str(metrics_port),
                GUILD_DATA_DIR=str(tmp_path / "s"),
                GUILD_LOG_LEVEL="INFO",
                **secrets,
            )
        )
        async with httpx.AsyncClient(timeout=60) as http:
            signed_in = await http.post(
                f"{a.base}/api/v1/auth/token", json={"email": "p.kestrel@example.org", "password": PASSWORD}
            )
            assert signed_in.status_code == 200, signed_in.text
            producer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

            me = await http.get(f"{b.base}/api/v1/me", headers=producer)  # a's token, b's answer
            assert me.status_code == 200 and me.json()["email"] == "p.kestrel@example.org"

            issued = await http.post(
                f"{b.base}/api/v1/productions/{production['id']}/contracts",
                json=performer_request(production["actor"]),
                headers=producer,
            )
            assert issued.status_code == 201, issued.text
            contract = issued.json()
            on_a = await http.get(f"{a.base}/api/v1/contracts/{contract['id']}", headers=producer)
            assert on_a.status_code == 200 and on_a.json()["id"] == contract["id"]
            pdf_on_a = await http.get(f"{a.base}/api/v1/contracts/{contract['id']}/pdf", headers=producer)
            pdf_on_b = await http.get(f"{b.base}/api/v1/contracts/{contract['id']}/pdf", headers=producer)
            assert pdf_on_a.status_code == 200 and pdf_on_a.content.startswith(b"%PDF-")
            assert pdf_on_a.content == pdf_on_b.content  # rendered once, stored in the database

            # each instance counts its own requests and renders (Prometheus scrapes each)
            metrics_b = (await http.get(f"{b.base}/metrics")).text
            assert _sample(metrics_b, "guild_pdf_renders_total", outcome="ok") == 1
            template = "/api/v1/productions/{production_id}/contracts"
            assert _sample(metrics_b, "guild_http_requests_total", method="POST", route=template, status="201") == 1
            metrics_a = (await http.get(f"{a.base}/metrics")).text
            assert _sample(metrics_a, "guild_pdf_renders_total", outcome="ok") == 0

            # the scheduler process: one sweep per compact's latest slot (catch-up at start), by it
            owner = json.loads(wait_for_line(scheduler, "scheduler.ready")[0])["owner"]
            wait_for_line(scheduler, "scheduler.run.completed", count=2)
            runs = await ComplianceRun.select().where(ComplianceRun.job_id.like("sweep:%"))
            assert sorted(r["job_id"] for r in runs) == ["sweep:film-fund", "sweep:screen-guild"]
            assert {(r["status"], r["owner"]) for r in runs} == {("completed", owner)}
            scraped = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
            assert _sample(scraped, "guild_sweep_seconds_count", outcome="ran") == 2
            assert _sample(scraped, "guild_findings_opened_total") == await Finding.count()

        for process in (a, b, scheduler):  # every line each process wrote is a JSON log line
            _json_lines(process.lines())

        # a second scheduler process (a restart, or one too many) finds the slots done and skips them
        again = stack.enter_context(
            guild_scheduler(GUILD_DATA_DIR=str(tmp_path / "s2"), GUILD_LOG_LEVEL="INFO", **secrets)
        )
        wait_for_line(again, "scheduler.run.skipped", count=2)
        after = await ComplianceRun.select().where(ComplianceRun.job_id.like("sweep:%"))
        assert sorted((r["id"], r["owner"]) for r in after) == sorted((r["id"], r["owner"]) for r in runs)


def _json_lines(lines: list[str]) -> list[dict]:
    parsed = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            pytest.fail(f"not a JSON log line: {line!r}")
        assert isinstance(entry, dict) and {"event", "level", "timestamp"} <= entry.keys(), line
        parsed.append(entry)
    return parsed


def test_a_server_writes_json_lines_only_with_request_ids_and_durations():
    """A real ``guild run`` (migrating at start, scheduler embedded, INFO): everything it writes to stdout and
    stderr, from uvicorn's first line to its last, Piccolo's and APScheduler's included, is a JSON line;
    every request's line has its duration and request id (the client's, when it sent a well-formed one)."""
    env = {"GUILD_LOG_LEVEL": "INFO", "GUILD_MIGRATE_ON_START": "true", "GUILD_SCHEDULER_ENABLED": "true"}
    with guild_server(**env) as server:
        assert httpx.get(f"{server.base}/health/live", headers={"X-Request-ID": "probe-0001-abcd"}).status_code == 200
        assert httpx.get(f"{server.base}/api/v1/me").status_code == 401
        assert httpx.get(f"{server.base}/no/such/route").status_code == 404
        assert httpx.post(f"{server.base}/api/v1/auth/token", content=b"{nope").status_code == 400
        server.proc.terminate()  # SIGTERM: the shutdown lines too (uvicorn re-raises the signal once shut down)
        assert server.proc.wait(timeout=30) in (0, -15)
        entries = _json_lines(server.lines())

    loggers = {e.get("logger") for e in entries}
    assert {"uvicorn.error", "apscheduler.scheduler"} <= loggers
    events = [e["event"] for e in entries]
    assert any(e.startswith("Started server process") for e in events)
    assert "Application shutdown complete." in events
    requests = [e for e in entries if e["event"] == "request"]
    first = next(i for i, r in enumerate(requests) if r["request_id"] == "probe-0001-abcd")
    assert first >= 1  # guild_server's own probes came before, with ids of their own
    requests = requests[first:]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", "/health/live", 200),
        ("GET", "/api/v1/me", 401),
        ("GET", "/no/such/route", 404),
        ("POST", "/api/v1/auth/token", 400),
    ]
    for r in requests:
        assert isinstance(r["duration_ms"], float) and r["duration_ms"] >= 0
        assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", r["request_id"])
    assert requests[0]["request_id"] == "probe-0001-abcd"
    assert len({r["request_id"] for r in requests}) == 4


def test_a_server_with_several_workers_writes_json_lines_too():
    """``guild run --wc 2``: Litestar starts uvicorn as a command with worker processes; their lines and the
    parent's are JSON lines as well."""
    with guild_server("--wc", "2", GUILD_LOG_LEVEL="INFO") as server:
        assert httpx.get(f"{server.base}/health/live", headers={"X-Request-ID": "probe-0002-abcd"}).status_code == 200
        server.proc.terminate()
        server.proc.wait(timeout=30)
        entries = _json_lines(server.lines())
    events = [e["event"] for e in entries]
    assert any(e.startswith("Started parent process") for e in events)
    assert any(e.startswith("Started server process") for e in events)  # a worker (the other may still start)
    assert any(e["event"] == "request" and e["request_id"] == "probe-0002-abcd" for e in entries)


async def test_metrics_count_requests_by_route_and_answer_loopback_or_the_token(client):
    """``/metrics``: requests by method, route template and status, with latency; without
    GUILD_METRICS_TOKEN only loopback clients may read it; with it, only a client sending the token."""
    from guild.app import create_app

    def counted(text: str, name: str, **labels: str) -> float:
        return _sample(text, name, **labels) - _sample(before, name, **labels)

    before = (await client.get("/metrics")).text  # this process's counters: other tests' requests are in them
    assert (await client.get("/api/v1/organizations/nobody-here")).status_code == 401
    assert (await client.get("/health/live")).status_code == 200
    assert (await client.get("/no/such/route")).status_code == 404
    metrics = await client.get("/metrics")  # httpx's ASGI transport is a 127.0.0.1 client
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert counted(text, "guild_http_requests_total", method="GET", route="/health/live", status="200") == 1
    assert counted(text, "guild_http_request_duration_seconds_count", method="GET", route="/health/live") == 1
    # refused before the route ran (authentication), or no route at all: counted, with their status
    refused = {"method": "GET", "route": "/api/v1/organizations/{slug}", "status": "401"}
    assert counted(text, "guild_http_requests_total", **refused) == 1
    assert counted(text, "guild_http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    for family in ("guild_pdf_renders_total", "guild_sweep_seconds", "guild_findings_opened_total"):
        assert f"# TYPE {family.removesuffix('_total')}" in text, family

    remote = httpx.ASGITransport(app=client._transport.app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=remote, base_url="http://testserver") as outsider:
        outside = await outsider.get("/metrics")
    assert outside.status_code == 403 and "GUILD_METRICS_TOKEN" in outside.json()["detail"]

    guarded = create_app(get_settings().model_copy(update={"metrics_token": "scrape-me-please"}))
    remote = httpx.ASGITransport(app=guarded, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=remote, base_url="http://testserver") as scraper:
        assert (await scraper.get("/metrics")).status_code == 401
        wrong = await scraper.get("/metrics", headers={"Authorization": "Bearer scrape-me-not"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
        right = await scraper.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
        assert right.status_code == 200 and "guild_http_requests_total" in right.text


def test_the_compose_file_runs_what_this_suite_runs():
    """compose.yaml (which this machine may not be able to run) starts the processes the multi-process test
    starts: migrations once, two ``guild run`` with the embedded scheduler off, one ``guild scheduler run``
    with its metrics port; every guild service has the same secrets and database; the image's default
    command is the server and its healthcheck is the readiness endpoint."""
    import yaml

    from tests.integration.processes import ROOT

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    commands = {name: s.get("command") for name, s in services.items()}
    assert commands["migrate"] == ["db", "migrate"]
    apps = [name for name, command in commands.items() if command and command[:1] == ["run"]]
    assert len(apps) == 2 and all(commands[a] == ["run", "--host", "0.0.0.0", "--port", "8000"] for a in apps)
    assert commands["scheduler"][:3] == ["scheduler", "run", "--metrics-port"]
    guild_services = ["migrate", *apps, "scheduler"]
    envs = [services[name]["environment"] for name in guild_services]
    assert all(env == envs[0] for env in envs)  # one database, the same secrets, nothing else shared
    assert {"GUILD_DATABASE_URL", "GUILD_SECRET_KEY", "GUILD_AUDIT_KEY", "GUILD_METRICS_TOKEN"} <= envs[0].keys()
    assert envs[0]["GUILD_SCHEDULER_ENABLED"] == "false" and envs[0]["GUILD_MIGRATE_ON_START"] == "false"
    assert envs[0]["GUILD_DATABASE_URL"].startswith("postgresql://") and "postgres" in services
    for app in apps + ["scheduler"]:
        assert services[app]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"

    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["guild"]' in dockerfile and 'CMD ["run", "--host", "0.0.0.0", "--port", "8000"]' in dockerfile
    assert "/health'" in dockerfile and "USER guild" in dockerfile
    assert "pip install -e" not in dockerfile and "pip install ." in dockerfile


async def test_a_refused_render_is_counted_by_its_reason():
    """``guild_pdf_renders_total{outcome=...}``: a document refused before rendering counts as ``too_large``
    (the successful ones, ``ok``, are counted in the multi-process test above)."""
    from prometheus_client import REGISTRY

    from guild.infra.pdf import PdfRenderer, PdfTooLarge

    def count(outcome: str) -> float:
        return REGISTRY.get_sample_value("guild_pdf_renders_total", {"outcome": outcome}) or 0.0

    before, ok_before = count("too_large"), count("ok")
    renderer = PdfRenderer(max_workers=1, max_html_chars=10)
    try:
        with pytest.raises(PdfTooLarge):
            await renderer.render("base_document.html", {}, [], "too long", tenant="org:test")
    finally:
        renderer.shutdown()
    assert count("too_large") == before + 1 and count("ok") == ok_before
