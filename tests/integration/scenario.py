"""The one builder of the worlds integration tests act on: organisations, people with roles, compacts,
productions with their bindings, engagements and disclosures. Each call says what it makes and returns
typed handles (ids, auth headers); a test module's ``world`` fixture is a few of these calls.

Organisations, people and compacts are made through the services, as an administrator would set them
up; productions, bindings, engagements and disclosures through the API as their producer (``by=``
headers), each answer checked to be a success and one the OpenAPI document describes.

    h = await scenario.people(
        officer=person("o@example.org", ("guild-a", "officer")),
        producer=person("p@example.org", ("kestrel", "producer")),
    )
    await scenario.compact("c1", convening="guild-a", by="o@example.org")
    pid = await scenario.production("kestrel", "Harbour", by=h["producer"], bind=["c1"])
    actor = await scenario.engagement(pid, "Ada Lead", by=h["producer"], email="ada@example.org")
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal
from uuid import UUID

import httpx

from guild.accounts.schemas import UserCreate
from guild.accounts.service import create_user, load_principal
from guild.compacts import service as compacts
from guild.compacts.schemas import AmendmentCreate, CompactCreate, DecisionCreate
from guild.compacts.terms import Terms, example_terms
from guild.domain.principal import Principal
from guild.infra.settings import get_settings
from guild.infra.tables import CompactVersion
from guild.orgs.schemas import MembershipCreate, OrganizationCreate
from guild.orgs.service import add_member, create_organization
from guild.web.security import TokenIssuer, make_jwt_auth

PASSWORD = "correct horse battery staple"
"""Every scenario person's password."""

Headers = dict[str, str]
"""A bearer ``Authorization`` header, ready for ``headers=``."""

Stage = Literal["draft", "proposed", "ratified"]


@dataclass(frozen=True)
class Person:
    id: UUID
    email: str
    headers: Headers


@dataclass(frozen=True)
class PersonSpec:
    email: str
    roles: tuple[tuple[str, str], ...]
    admin: bool


def person(email: str, *roles: tuple[str, str], admin: bool = False) -> PersonSpec:
    """A person for ``Scenario.people``: an account with ``(organisation slug, role)`` memberships."""
    return PersonSpec(email, roles, admin)


@dataclass(frozen=True)
class Version:
    """A compact's version as the scenario left it."""

    compact: str  # slug
    compact_id: UUID
    number: int
    id: UUID
    status: str
    terms_hash: str | None


def terms_without_quorum() -> Terms:
    """The example terms, approved by every party (no quorum): one convening officer ratifies alone."""
    return example_terms().model_copy(update={"quorum": None})


ENGAGEMENT: dict[str, Any] = {
    "department": "production",
    "role": "Lead",
    "level": "journey",
    "rate_minor_per_week": 200_000,
    "currency": "EUR",
    "start_date": "2027-03-01",
    "end_date": "2027-05-28",
}
"""An engagement's fields unless a call gives others: a journey-level lead for thirteen weeks from 1 March 2027."""


class Scenario:
    """Builds one test's world; use as ``async with Scenario(app, on_response)`` (the ``scenario`` fixture)."""

    def __init__(self, app: Any, on_response: Callable[[httpx.Response], Awaitable[None]]) -> None:
        self._issuer = TokenIssuer(make_jwt_auth(get_settings(), load_principal))
        self._http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            event_hooks={"response": [on_response]},
        )
        self.ids: dict[str, UUID] = {}
        """User ids by e-mail."""
        self.orgs: dict[str, UUID] = {}
        """Organisation ids by slug."""

    async def __aenter__(self) -> Scenario:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    # --- organisations and people -----------------------------------------------------------------

    async def org(self, slug: str, kind: str = "guild") -> UUID:
        """An organisation named after its slug."""
        org = await create_organization(OrganizationCreate(slug=slug, name=slug.title(), kind=kind), actor_id=None)
        self.orgs[slug] = org.id
        return org.id

    async def organizations(self, kinds: Mapping[str, str]) -> dict[str, UUID]:
        """Organisations by slug -> kind, made in that order."""
        return {slug: await self.org(slug, kind) for slug, kind in kinds.items()}

    async def user(self, email: str, *roles: tuple[str, str], admin: bool = False) -> Person:
        """An account (password ``PASSWORD``) holding each ``(organisation slug, role)``."""
        created = await create_user(
            UserCreate(email=email, name=email.split("@")[0], password=PASSWORD, is_admin=admin)
        )
        for slug, role in roles:
            await add_member(slug, MembershipCreate(email=email, role=role), actor_id=None)
        self.ids[email] = created.id
        return Person(created.id, email, self.headers(created.id))

    async def people(self, **who: PersonSpec) -> dict[str, Headers]:
        """The people by a name the test uses, made in order; their auth headers by that name."""
        return {name: (await self.user(p.email, *p.roles, admin=p.admin)).headers for name, p in who.items()}

    def headers(self, user_id: UUID) -> Headers:
        token, _ = self._issuer.issue(user_id)
        return {"Authorization": f"Bearer {token}"}

    async def principal(self, who: str | Person) -> Principal:
        """A person as the services see them (by e-mail or handle)."""
        principal = await load_principal(self.ids[who] if isinstance(who, str) else who.id)
        assert principal is not None, who
        return principal

    # --- compacts ---------------------------------------------------------------------------------

    async def compact(
        self,
        slug: str,
        *,
        convening: str,
        by: str | Person,
        terms: Terms | None = None,
        parties: Iterable[str] = (),
        title: str | None = None,
        stage: Stage = "ratified",
    ) -> Version:
        """A compact convened by ``convening`` and created by its officer ``by``, taken to ``stage``: its first
        version drafted, proposed, or also approved by the convening organisation (ratified when that is
        every approval the terms need: the default terms, ``terms_without_quorum()``, with no parties)."""
        officer = await self.principal(by)
        await compacts.create_compact(
            officer,
            CompactCreate(
                slug=slug,
                title=slug.upper() if title is None else title,
                convening_org=convening,
                parties=list(parties),
                terms=terms_without_quorum() if terms is None else terms,
            ),
        )
        if stage != "draft":
            version = await compacts.propose(officer, slug, 1)
            if stage == "ratified":
                decision = DecisionCreate(organization=convening, decision="approve")
                version = await compacts.decide(officer, slug, 1, decision)
            assert version.status == stage, f"compact {slug!r} is {version.status}, not {stage}"
        return await self._version(slug, 1)

    async def amend(self, slug: str, *, by: str | Person) -> Version:
        """A draft amendment of a ratified compact (its terms as in force)."""
        version = await compacts.amend(await self.principal(by), slug, AmendmentCreate())
        return await self._version(slug, version.number)

    async def _version(self, slug: str, number: int) -> Version:
        row = (
            await CompactVersion.select(
                CompactVersion.id, CompactVersion.compact, CompactVersion.status, CompactVersion.terms_hash
            )
            .where((CompactVersion.compact.slug == slug) & (CompactVersion.number == number))
            .first()
        )
        assert row is not None, (slug, number)
        return Version(slug, row["compact"], number, row["id"], row["status"], row["terms_hash"])

    # --- productions, through the API -------------------------------------------------------------

    async def _ok(self, response: Awaitable[httpx.Response], status: int = 201) -> Any:
        r = await response
        assert r.status_code == status, r.text
        return r.json()

    async def production(
        self,
        company: str,
        title: str,
        *,
        by: Headers,
        budget_minor: int = 30_000_000,
        currency: str = "EUR",
        start_date: str | None = None,
        end_date: str | None = None,
        bind: Iterable[str | tuple[str, int]] = (),
    ) -> str:
        """A production of ``company`` registered by its producer ``by``, bound to each compact of ``bind``
        (a slug: its version 1; or ``(slug, version)``); its id."""
        body: dict[str, Any] = {"company": company, "title": title, "budget_minor": budget_minor, "currency": currency}
        body.update({k: v for k, v in (("start_date", start_date), ("end_date", end_date)) if v is not None})
        pid: str = (await self._ok(self._http.post("/api/v1/productions", json=body, headers=by)))["id"]
        for compact in bind:
            slug, version = (compact, 1) if isinstance(compact, str) else compact
            await self.bind(pid, slug, version, by=by)
        return pid

    async def bind(self, production: str, compact: str, version: int = 1, *, by: Headers) -> None:
        url = f"/api/v1/productions/{production}/bindings"
        await self._ok(self._http.post(url, json={"compact": compact, "version": version}, headers=by))

    async def engagement(self, production: str, person_name: str, *, by: Headers, **fields: Any) -> str:
        """An engagement on ``production``: ``ENGAGEMENT`` with ``fields`` over it; its id."""
        body = {"person_name": person_name, **ENGAGEMENT, **fields}
        url = f"/api/v1/productions/{production}/engagements"
        engagement: str = (await self._ok(self._http.post(url, json=body, headers=by)))["id"]
        return engagement

    async def disclosures(self, production: str, disclosures: list[dict[str, Any]], *, by: Headers) -> None:
        """The production's AI disclosures, replacing any before."""
        url = f"/api/v1/productions/{production}/disclosures"
        await self._ok(self._http.put(url, json={"disclosures": disclosures}, headers=by), 200)
