"""Demo data for a fresh, empty database: organisations, people and logins (demo only)."""

from __future__ import annotations

from guild.accounts.schemas import UserCreate
from guild.accounts.service import create_user, user_count
from guild.orgs.schemas import MembershipCreate, OrganizationCreate, OrgKind
from guild.orgs.service import add_member, create_organization

DOMAIN = "demo.guild.example"

ORGS = [
    ("screen-performers-guild", "Screen Performers Guild", OrgKind.guild),
    ("writers-guild-indie", "Independent Writers Guild", OrgKind.guild),
    ("vfx-crew-union", "VFX & Post Crew Union", OrgKind.union),
    ("riverlight-festival", "Riverlight Film Festival", OrgKind.festival),
    ("northsea-film-fund", "North Sea Film Fund", OrgKind.film_fund),
    ("blue-harbor-pictures", "Blue Harbor Pictures", OrgKind.production_company),
    ("kestrel-films", "Kestrel Films", OrgKind.production_company),
    ("synthetic-studios-ai", "Synthetic Studios AI", OrgKind.ai_licensee),
]

# (local part, display name, [(org slug, role), ...])
PEOPLE = [
    ("officer.performers", "Ada Okafor", [("screen-performers-guild", "officer")]),
    ("officer.writers", "Bruno Salas", [("writers-guild-indie", "officer")]),
    ("officer.vfx", "Chen Wei", [("vfx-crew-union", "officer")]),
    ("reviewer.festival", "Dora Lind", [("riverlight-festival", "reviewer"), ("riverlight-festival", "officer")]),
    ("officer.fund", "Emil Novak", [("northsea-film-fund", "officer")]),
    ("producer.blueharbor", "Farah Haddad", [("blue-harbor-pictures", "producer"), ("blue-harbor-pictures", "officer")]),
    ("producer.kestrel", "Gus Moreau", [("kestrel-films", "producer"), ("kestrel-films", "officer")]),
    ("performer", "Hana Ito", [("screen-performers-guild", "member")]),
    ("writer", "Ivan Petrov", [("writers-guild-indie", "member")]),
    ("apprentice", "June Park", [("vfx-crew-union", "member")]),
    ("licensee", "Kai Meyer", [("synthetic-studios-ai", "licensee"), ("synthetic-studios-ai", "officer")]),
]

ADMIN_PASSWORD = "demo-admin-password"
PEOPLE_PASSWORD = "demo-password-2026"


class DemoRefused(Exception):
    pass


async def load_demo() -> list[tuple[str, str, str]]:
    """Load the demo set; refuse unless the database has no users (never mixes into real data)."""
    if await user_count() > 0:
        raise DemoRefused("the database already has users; demo data only goes into an empty database")
    admin = await create_user(
        UserCreate(email=f"admin@{DOMAIN}", name="Site Admin", password=ADMIN_PASSWORD, is_admin=True)
    )
    logins = [(admin.email, ADMIN_PASSWORD, "site admin")]
    for slug, name, kind in ORGS:
        await create_organization(OrganizationCreate(slug=slug, name=name, kind=kind), actor_id=admin.id)
    for local, name, roles in PEOPLE:
        user = await create_user(UserCreate(email=f"{local}@{DOMAIN}", name=name, password=PEOPLE_PASSWORD))
        for slug, role in roles:
            await add_member(slug, MembershipCreate(email=user.email, role=role), actor_id=admin.id)
        logins.append((user.email, PEOPLE_PASSWORD, ", ".join(f"{r} of {s}" for s, r in roles)))
    await _demo_compacts()
    return logins


async def _demo_compacts() -> None:
    """A ratified three-party compact with a proposed amendment, and a draft only its parties see."""
    from guild.accounts.service import load_principal
    from guild.compacts import service as compacts
    from guild.compacts.schemas import AmendmentCreate, CompactCreate, DecisionCreate
    from guild.compacts.terms import example_terms
    from guild.tables import User

    async def who(local: str):
        row = await User.select(User.id).where(User.email == f"{local}@{DOMAIN}").first()
        return await load_principal(row["id"])

    performers, writers, vfx = await who("officer.performers"), await who("officer.writers"), await who("officer.vfx")
    terms = example_terms().model_copy(update={"quorum": None})
    await compacts.create_compact(
        performers,
        CompactCreate(
            slug="ai-and-apprenticeship-2027", title="Independent Film AI & Apprenticeship Compact 2027",
            convening_org="screen-performers-guild", parties=["writers-guild-indie", "vfx-crew-union"], terms=terms,
        ),
    )
    slug = "ai-and-apprenticeship-2027"
    await compacts.propose(performers, slug, 1)
    for officer, org in [(performers, "screen-performers-guild"), (writers, "writers-guild-indie"), (vfx, "vfx-crew-union")]:
        await compacts.decide(officer, slug, 1, DecisionCreate(organization=org, decision="approve"))
    stricter = terms.model_copy(
        update={"ai_disclosure": terms.ai_disclosure.model_copy(update={"max_ai_share_pct": 15.0})}
    )
    await compacts.amend(performers, slug, AmendmentCreate(terms=stricter))
    await compacts.propose(performers, slug, 2)
    await compacts.decide(writers, slug, 2, DecisionCreate(organization="writers-guild-indie", decision="approve"))

    await compacts.create_compact(
        writers,
        CompactCreate(
            slug="writers-source-material", title="Writers' Source Material Compact (draft)",
            convening_org="writers-guild-indie", parties=["screen-performers-guild"], terms=terms,
        ),
    )
