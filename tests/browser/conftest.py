"""Browser tests: Debian's Chromium driven by Playwright against a real ``guild run`` server with the demo data.

The server runs on its own SQLite data folder (migrated, demo loaded with ``guild demo``) on a free loopback
port; the browser is ``/usr/bin/chromium`` (installed by .ci/run; never downloaded). Screenshots of every
page go to tests/browser/screenshots/ (kept out of git). They run in the SQLite pass of the suite only: the
server is the same program on either engine, and the integration tests cover the pages on both.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.engines import ENGINE

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"
DEMO_PASSWORD = "demo-password-2026"  # guild.demo.PEOPLE_PASSWORD


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            if ENGINE != "sqlite":
                item.add_marker(pytest.mark.skip(reason="browser tests run in the SQLite pass only"))
            elif not Path(CHROMIUM).exists():
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} missing: apt-get install chromium"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


DATA_DIRS: dict[str, Path] = {}  # a running server's base URL -> its data folder (its SQLite file is there)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    data = Path(tempfile.mkdtemp(prefix="guild-browser-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUILD_DATABASE") and k != "PICCOLO_CONF"} | {
        "GUILD_DATA_DIR": str(data),
        "PICCOLO_CONF": "guild.piccolo_conf",
        "GUILD_SCHEDULER_ENABLED": "false",
        "GUILD_LOG_LEVEL": "WARNING",
        "GUILD_PDF_WORKERS": "1",
    }
    for step in (["db", "migrate"], ["demo"]):
        subprocess.run([sys.executable, "-m", "guild", *step], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "guild", "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,  # its own process group: the PDF workers go with it
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read().decode(errors='replace')[-4000:]}")
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        DATA_DIRS[base] = data
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is open, and
    the integration tests that run next need the thread's loop free (their database set-up uses asyncio.run)."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []
    # a refused sign-in or a 404 page also logs "Failed to load resource": only what the browser refused counts
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Refused" in m.text else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    yield tab
    context.close()
    assert not problems, f"browser console errors (CSP violations show here): {problems}"
