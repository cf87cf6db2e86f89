"""Integration fixtures: a clean, migrated database per test, the app, a client and users with roles."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from tests.conftest import ENGINE, TMP

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
async def clean_db(tmp_path: Path) -> AsyncIterator[None]:
    from guild.infra.db import engine, raw
    from guild.piccolo_app import APP_CONFIG

    if ENGINE == "sqlite":
        db = engine()
        path = tmp_path / "guild.sqlite"
        shutil.copy(TMP / "template.sqlite", path)
        original, db.path = db.path, str(path)
        yield
        db.path = original
    else:
        names = ", ".join(f'"{t._meta.tablename}"' for t in APP_CONFIG.table_classes)
        await raw(f"TRUNCATE {names} CASCADE")
        yield


@pytest.fixture
async def app():
    from guild.app import create_app
    from guild.infra.settings import get_settings

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


class Users:
    """Creates users with roles in organisations and hands out bearer headers for them."""

    def __init__(self, app) -> None:
        from guild.accounts.service import load_principal
        from guild.infra.settings import get_settings
        from guild.web.security import TokenIssuer, make_jwt_auth

        self._issuer = TokenIssuer(make_jwt_auth(get_settings(), load_principal))
        self.ids: dict[str, UUID] = {}

    async def org(self, slug: str, kind: str = "guild") -> UUID:
        from guild.orgs.schemas import OrganizationCreate
        from guild.orgs.service import create_organization

        org = await create_organization(OrganizationCreate(slug=slug, name=slug.title(), kind=kind), actor_id=None)
        return org.id

    async def user(self, email: str, *roles: tuple[str, str], admin: bool = False) -> dict[str, str]:
        from guild.accounts.schemas import UserCreate
        from guild.accounts.service import create_user
        from guild.orgs.schemas import MembershipCreate
        from guild.orgs.service import add_member

        user = await create_user(UserCreate(email=email, name=email.split("@")[0], password=PASSWORD, is_admin=admin))
        for slug, role in roles:
            await add_member(slug, MembershipCreate(email=email, role=role), actor_id=None)
        self.ids[email] = user.id
        return self.headers(user.id)

    async def ratified_compact(self, officer_email: str, slug: str, convening: str, terms=None, parties=()):
        """A compact convened by ``officer_email``'s organisation, proposed and approved by it (quorum: all)."""
        from guild.accounts.service import load_principal
        from guild.compacts import service
        from guild.compacts.schemas import CompactCreate, DecisionCreate
        from guild.compacts.terms import example_terms

        officer = await load_principal(self.ids[officer_email])
        terms = terms or example_terms().model_copy(update={"quorum": None})
        await service.create_compact(
            officer,
            CompactCreate(slug=slug, title=slug.upper(), convening_org=convening, parties=list(parties), terms=terms),
        )
        await service.propose(officer, slug, 1)
        return await service.decide(officer, slug, 1, DecisionCreate(organization=convening, decision="approve"))

    def headers(self, user_id: UUID) -> dict[str, str]:
        token, _ = self._issuer.issue(user_id)
        return {"Authorization": f"Bearer {token}"}


_HASHES: dict[str, str] = {}


def _hash_once(password: str) -> str:
    """Real argon2 hashes, computed once per password per session (argon2 is slow by design)."""
    from guild.accounts.passwords import hash_password

    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    return _HASHES[password]


@pytest.fixture
async def users(app, monkeypatch) -> Users:
    monkeypatch.setattr("guild.accounts.service.hash_password", _hash_once)
    return Users(app)


Factory = Callable[..., Awaitable[dict[str, str]]]
