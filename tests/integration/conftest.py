"""Integration fixtures: the engine's database (migrated once per session, clean for every test), the app,
a client whose every API response is checked against the OpenAPI document, and the scenario builder.

The engine is the one tests/engines.py names (GUILD_TEST_ENGINE): its Piccolo configuration module
(tests/sqlite_conf.py or tests/postgres_conf.py) becomes PICCOLO_CONF before anything asks Piccolo for
an engine, and its database becomes GUILD_DATABASE_URL for the app's settings and for the ``guild``
processes some tests start.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from guild.infra import db
from guild.infra.settings import get_settings
from tests.engines import PICCOLO_CONF
from tests.integration.database import DATABASE
from tests.integration.mail import Mailbox, running_mailbox
from tests.integration.scenario import Scenario

# Before anything asks Piccolo for its engine (engines are looked up lazily, at the first query).
os.environ["PICCOLO_CONF"] = PICCOLO_CONF
os.environ["GUILD_DATABASE_URL"] = DATABASE.url
get_settings.cache_clear()  # in case a module collected earlier read the settings before GUILD_DATABASE_URL


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[None]:
    """The session's database, made and migrated once (the migration lines print here, not in unit runs)."""
    asyncio.run(DATABASE.create())
    try:
        asyncio.run(db.migrate())
        yield
    finally:
        asyncio.run(DATABASE.drop())


@pytest.fixture(autouse=True)
async def clean_db(tmp_path: Path) -> AsyncIterator[None]:
    async with DATABASE.clean(tmp_path):
        yield


@pytest.fixture
async def app():
    from guild.app import create_app

    return create_app(get_settings())


_DOCUMENT: list = []  # the app's OpenAPI document as schemathesis reads it; the same for every app: made once


async def _as_documented(app, response: httpx.Response) -> None:
    """Every API response a test receives must be one the OpenAPI document describes: its status code,
    content type, body schema and headers (schemathesis' conformance checks). Pages are not in it."""
    import schemathesis
    from schemathesis import checks
    from schemathesis.core.failures import Failure, FailureGroup

    if not _DOCUMENT:
        _DOCUMENT.append(schemathesis.openapi.from_dict(app.openapi_schema.to_schema()))
    request = response.request
    if request.method == "HEAD":  # a GET's headers without its body (guild.web.conventions): nothing to parse
        return
    operation = _DOCUMENT[0].find_operation_by_path(request.method, request.url.path)
    if operation is None:
        return
    await response.aread()
    template = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(operation.path)) + "$"
    matched = re.match(template, request.url.path)
    path_parameters = matched.groupdict() if matched else {}
    try:
        operation.Case(path_parameters=path_parameters).validate_response(
            response,
            checks=[
                checks.status_code_conformance,
                checks.content_type_conformance,
                checks.response_schema_conformance,
                checks.response_headers_conformance,
            ],
        )
    except (Failure, FailureGroup) as exc:
        raise AssertionError(
            f"{request.method} {request.url.path} answered {response.status_code}, which the OpenAPI document "
            f"does not describe ({operation.label}):\n{exc}\n{response.text[:500]}"
        ) from None


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    """httpx on the test's own event loop (Litestar's AsyncTestClient runs the app in a thread with
    another loop, which an asyncpg pool shared with the test cannot cross). Every API response is
    checked against the OpenAPI document."""
    for hook in app.on_startup:
        await hook()

    async def as_documented(response: httpx.Response) -> None:
        await _as_documented(app, response)

    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", event_hooks={"response": [as_documented]}
        ) as c:
            yield c
    finally:
        for hook in app.on_shutdown:
            await hook()


@pytest.fixture
async def scenario(app, monkeypatch) -> AsyncIterator[Scenario]:
    """The builder of this test's world (tests/integration/scenario.py); API calls it makes are checked
    against the OpenAPI document like the client's."""
    monkeypatch.setattr("guild.accounts.service.hash_password", _hash_once)

    async def as_documented(response: httpx.Response) -> None:
        await _as_documented(app, response)

    async with Scenario(app, as_documented) as built:
        yield built


_HASHES: dict[str, str] = {}


def _hash_once(password: str) -> str:
    """Real argon2 hashes, computed once per password per session (argon2 is slow by design)."""
    from guild.accounts.passwords import hash_password

    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    return _HASHES[password]


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    """A real SMTP server (aiosmtpd, 127.0.0.1, a free port) that guild's settings point at for this test.

    ``await mailbox.deliver()`` runs guild's mail deliverer once and returns the messages it brought;
    ``mailbox.messages`` holds every message received (parsed ``email.message.EmailMessage``),
    ``mailbox.to(address)`` those to one address, ``mailbox.text(message)`` a body, ``mailbox.links(to=...)``
    the URLs in the bodies. See tests/integration/mail.py.
    """
    async with running_mailbox() as box:
        yield box
