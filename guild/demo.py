"""Demo data for a fresh, empty database: organisations, people and logins (demo only)."""

from __future__ import annotations

from uuid import UUID

from contracts.schemas import ClauseReviewCreate, ContractRequest, CustomClauseCreate
from contracts.screening import screen_custom_clause
from contracts.service import create_custom_clause, issue, review_custom_clause
from guild.accounts.schemas import UserCreate
from guild.accounts.service import create_user, load_principal, user_count
from guild.compacts import service as compacts
from guild.compacts.queries import get_version
from guild.compacts.schemas import AmendmentCreate, CompactCreate, DecisionCreate
from guild.compacts.terms import WorkingCalendar, example_terms
from guild.domain.principal import Principal
from guild.domain.statuses import ProductionStatus
from guild.infra.pdf import PdfRenderer
from guild.infra.tables import User
from guild.orgs.invitations import invite
from guild.orgs.schemas import MembershipCreate, OrganizationCreate, OrgKind
from guild.orgs.service import add_member, create_organization
from guild.productions import service as productions
from guild.productions.schemas import BindingCreate, DisclosureIn, EngagementCreate, ProductionCreate

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
    (
        "producer.blueharbor",
        "Farah Haddad",
        [("blue-harbor-pictures", "producer"), ("blue-harbor-pictures", "officer")],
    ),
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


async def _principal(local: str) -> Principal:
    """The demo user ``local@DOMAIN`` (created by :func:`load_demo`) as a principal."""
    row = await User.select(User.id).where(User.email == f"{local}@{DOMAIN}").first()
    principal = None if row is None else await load_principal(row["id"])
    if principal is None:
        raise RuntimeError(f"demo user {local}@{DOMAIN} is missing or inactive")
    return principal


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
    await _demo_invitation()
    await _demo_compacts()
    await _demo_production()
    return logins


INVITEE = f"new.crew@{DOMAIN}"
"""An address without an account, invited by the VFX union's officer: the invitation link is in the outbox."""


async def _demo_invitation() -> None:
    officer = await _principal("officer.vfx")
    await invite("vfx-crew-union", MembershipCreate(email=INVITEE, role="member"), actor_id=officer.id)


async def _demo_compacts() -> None:
    """A ratified three-party compact with a proposed amendment, and a draft only its parties see."""

    performers = await _principal("officer.performers")
    writers = await _principal("officer.writers")
    vfx = await _principal("officer.vfx")
    terms = example_terms().model_copy(
        update={"quorum": None, "working_calendar": WorkingCalendar(country="IE")}  # an Irish co-production
    )
    await compacts.create_compact(
        performers,
        CompactCreate(
            slug="ai-and-apprenticeship-2027",
            title="Independent Film AI & Apprenticeship Compact 2027",
            convening_org="screen-performers-guild",
            parties=["writers-guild-indie", "vfx-crew-union"],
            terms=terms,
        ),
    )
    slug = "ai-and-apprenticeship-2027"
    await compacts.propose(performers, slug, 1)
    for officer, org in [
        (performers, "screen-performers-guild"),
        (writers, "writers-guild-indie"),
        (vfx, "vfx-crew-union"),
    ]:
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
            slug="writers-source-material",
            title="Writers' Source Material Compact (draft)",
            convening_org="writers-guild-indie",
            parties=["screen-performers-guild"],
            terms=terms,
        ),
    )


async def _demo_production() -> None:
    """Blue Harbor's feature bound to the ratified compact: a roster, disclosures and one issued contract."""

    producer = await _principal("producer.blueharbor")
    prod = await productions.create_production(
        producer,
        ProductionCreate(
            company="blue-harbor-pictures",
            title="Harbour Lights",
            budget_minor=30_000_000,
            currency="EUR",
            start_date="2027-03-01",
            end_date="2027-06-30",
            status=ProductionStatus.pre_production,
        ),
    )
    await productions.bind(producer, prod.id, BindingCreate(compact="ai-and-apprenticeship-2027", version=1))
    common = {"currency": "EUR", "start_date": "2027-03-01", "end_date": "2027-05-28"}
    lead = await productions.add_engagement(
        producer,
        prod.id,
        EngagementCreate(
            person_name="Hana Ito",
            email=f"performer@{DOMAIN}",
            department="production",
            role="Lead (Mara)",
            level="journey",
            rate_minor_per_week=250_000,
            **common,
        ),
    )
    dop = await productions.add_engagement(
        producer,
        prod.id,
        EngagementCreate(
            person_name="Luis Ortega",
            department="camera",
            role="Director of photography",
            level="head",
            rate_minor_per_week=320_000,
            **common,
        ),
    )
    await productions.add_engagement(
        producer,
        prod.id,
        EngagementCreate(
            person_name="June Park",
            email=f"apprentice@{DOMAIN}",
            department="camera",
            role="Camera apprentice",
            level="apprentice",
            rate_minor_per_week=65_000,
            mentor_engagement_id=dop.id,
            **common,
        ),
    )
    await productions.set_disclosures(
        producer,
        prod.id,
        [
            DisclosureIn(category="vfx_shot", total_count=180, ai_generated_count=22, tools=["rotoscoping assist"]),
            DisclosureIn(category="script_page", total_count=104, ai_generated_count=0),
            DisclosureIn(category="music_cue", total_count=31, ai_generated_count=2, tools=["stem separation"]),
        ],
    )

    def clause(key: str, **params: object) -> dict[str, object]:
        return {"key": key, "version": 1, "params": params}

    renderer = PdfRenderer(max_workers=1)
    try:
        await issue(
            producer,
            prod.id,
            ContractRequest.model_validate(
                {
                    "engagement_id": str(lead.id),
                    "contract_type": "performer",
                    "planned_ai_uses": ["performer_digital_replica"],
                    "clauses": [
                        clause(
                            "fees_and_schedule",
                            rate_minor_per_week=250_000,
                            currency="EUR",
                            payment_terms_days=14,
                            schedule="weekly",
                        ),
                        clause("no_required_generative_tools", worker_may_be_required_to_use=False),
                        clause("no_training_ingestion", ingestion_without_licence_permitted=False),
                        clause("no_scan_condition_of_hire", consent_is_condition_of_hire=False),
                        clause(
                            "digital_replica_consent",
                            notice_hours=72,
                            consent_scope="per_use",
                            pay_multiple_of_scale=1.5,
                            use_description="Crowd extension of Mara in the harbour night sequence (scenes 40-44).",
                            separate_signature=True,
                        ),
                    ],
                }
            ),
            renderer,
            "demo-contract-hana",
        )
        await _demo_crew_scan(producer, prod.id, dop.id, renderer)
    finally:
        renderer.shutdown()


async def _demo_crew_scan(producer: Principal, production_id: UUID, dop_id: UUID, renderer: PdfRenderer) -> None:
    """The director of photography is to be scanned for a stunt double: a crew contract with the replica
    clauses' second versions (money typed in major units), a licence within the compact's limits, kit
    rental of his own AI tools, and the company's side letter on scan days, reviewed by the convening
    guild's officer against the terms it touches."""
    side_letter = await create_custom_clause(
        producer,
        "blue-harbor-pictures",
        CustomClauseCreate(
            key="custom.scan_days",
            title="Scan days",
            text="The body scan for the crane-fall double is scheduled on a paid prep day, within working hours, "
            "with the Worker's chosen representative present.",
        ),
    )
    slug = "ai-and-apprenticeship-2027"
    version, _ = await get_version(await _principal("officer.performers"), slug, 1)
    touched = [t.term_path for t in screen_custom_clause(f"{side_letter.title}\n{side_letter.text}", version.terms)]
    await review_custom_clause(
        await _principal("officer.performers"),
        slug,
        1,
        ClauseReviewCreate(
            organization="blue-harbor-pictures",
            key=side_letter.key,
            version=side_letter.version,
            party="screen-performers-guild",
            term_paths=touched,
            note="Scheduling only: consent, notice and pay stay with the typed clauses.",
        ),
    )

    def v(key: str, version: int, **params: object) -> dict[str, object]:
        return {"key": key, "version": version, "params": params}

    await issue(
        producer,
        production_id,
        ContractRequest.model_validate(
            {
                "engagement_id": str(dop_id),
                "contract_type": "crew",
                "planned_ai_uses": ["performer_digital_replica"],
                "clauses": [
                    v(
                        "fees_and_schedule",
                        1,
                        rate_per_week="3200.00",
                        currency="EUR",
                        payment_terms_days=14,
                        schedule="weekly",
                    ),
                    v(
                        "no_required_generative_tools",
                        2,
                        worker_may_be_required_to_use=False,
                        displacing_tools_excluded=True,
                    ),
                    v("no_training_ingestion", 1, ingestion_without_licence_permitted=False),
                    v("no_scan_condition_of_hire", 2, consent_is_condition_of_hire=False),
                    v(
                        "digital_replica_consent",
                        2,
                        notice_hours=72,
                        consent_scope="per_use",
                        use_description="A digital double of Luis for the crane-fall shot (scene 51), that shot only.",
                        scale_per_day="1500.00",
                        replica_pay_per_day="1500.00",
                        currency="EUR",
                        separate_signature=True,
                    ),
                    v(
                        "voice_likeness_licence",
                        2,
                        includes_voice=False,
                        exclusive=False,
                        duration_months=12,
                        territory="Worldwide",
                    ),
                    v(
                        "ai_tool_kit_rental",
                        1,
                        tools="His own licensed lens-emulation and denoising models",
                        rate_per_week="75.00",
                        currency="EUR",
                        supplied_at_workers_choice=True,
                    ),
                ],
                "custom_clauses": [
                    {"organization": "blue-harbor-pictures", "key": side_letter.key, "version": side_letter.version}
                ],
            }
        ),
        renderer,
        "demo-contract-luis",
    )
