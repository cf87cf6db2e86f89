"""Productions owned by production companies, their compact bindings and their crew engagements.

A production is private to its company: producers and officers of that company read it; producers
change it; anyone else gets 404.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import TypeAdapter

from guild.compacts.lifecycle import binding_move
from guild.compacts.queries import sees_drafts, version_row
from guild.compacts.service import lock_compact
from guild.domain.errors import Conflict, Forbidden, NotFound, Unprocessable, invalid
from guild.domain.principal import Principal, Role
from guild.domain.statuses import VersionStatus
from guild.domain.work import mentor_fit
from guild.infra import audit
from guild.infra.db import Param, Prepared, copy_many, present, read_tx, update_many, uuid4s, write_tx
from guild.infra.tables import (
    AssetDisclosure,
    CompactVersion,
    Engagement,
    Organization,
    Production,
    ProductionBinding,
    User,
)
from guild.productions.amendments import move_bindings
from guild.productions.commitments import create_commitments, reschedule_commitments
from guild.productions.queries import READERS, may_read, production_row
from guild.productions.schemas import (
    BindingCreate,
    BindingRead,
    DisclosureIn,
    DisclosureRead,
    EngagementCreate,
    EngagementImportRow,
    EngagementRead,
    ProductionCreate,
    ProductionRead,
    ProductionStatus,
    ProductionUpdate,
)


def _now() -> datetime:
    return datetime.now(UTC)


async def _production_reads(rows: list[dict[str, Any]]) -> list[ProductionRead]:
    """Productions with their bindings: one query for the bindings of all of them."""
    bindings: dict[UUID, list[BindingRead]] = {}
    if rows:
        for b in (
            await ProductionBinding.select(
                ProductionBinding.production,
                ProductionBinding.compact.slug.as_alias("compact_slug"),
                ProductionBinding.version.number.as_alias("version_number"),
                ProductionBinding.version_hash,
                ProductionBinding.bound_at,
            )
            .where(ProductionBinding.production.is_in([r["id"] for r in rows]))
            .order_by(ProductionBinding.compact.slug)
        ):
            bindings.setdefault(b["production"], []).append(
                BindingRead(
                    compact=b["compact_slug"],
                    version_number=b["version_number"],
                    version_hash=b["version_hash"],
                    bound_at=b["bound_at"],
                )
            )
    return [
        ProductionRead(
            id=row["id"],
            company=row["company_slug"],
            title=row["title"],
            budget_minor=row["budget_minor"],
            currency=row["currency"],
            start_date=row["start_date"],
            end_date=row["end_date"],
            status=row["status"],
            created_at=row["created_at"],
            bindings=bindings.get(row["id"], []),
        )
        for row in rows
    ]


async def _production_read(row: dict[str, Any]) -> ProductionRead:
    [read] = await _production_reads([row])
    return read


async def create_production(principal: Principal, data: ProductionCreate) -> ProductionRead:
    async with write_tx():
        company = (
            await Organization.select(Organization.id, Organization.kind)
            .where(Organization.slug == data.company)
            .first()
        )
        if company is None or not (principal.is_member_of(data.company) or principal.is_admin):
            raise invalid("company", "organization_exists", f"no organisation {data.company!r} you belong to")
        if not principal.has_role(data.company, Role.producer):
            raise Forbidden(f"only producers of {data.company!r} may register its productions")
        if company["kind"] != "production_company":
            raise invalid(
                "company", "production_company", f"{data.company!r} is a {company['kind']}, not a production company"
            )
        production = Production(
            id=uuid4(),
            company=company["id"],
            title=data.title,
            budget_minor=data.budget_minor,
            currency=data.currency,
            start_date=data.start_date,
            end_date=data.end_date,
            status=data.status.value,
            created_at=_now(),
        )
        await Production.insert(production)
        await audit.record(
            principal.id, "production.created", "production", production.id, data.model_dump(mode="json")
        )
        return await _production_read(await production_row(principal, production.id))


async def list_productions(principal: Principal) -> list[ProductionRead]:
    companies = principal.orgs_with_role(*READERS)
    async with read_tx():
        query = Production.select(*Production.all_columns(), Production.company.slug.as_alias("company_slug"))
        if not principal.is_admin:
            query = query.where(Production.company.is_in(companies or [UUID(int=0)]))
        rows = await query.order_by(Production.created_at)
        return await _production_reads(rows)


PRODUCTION_READ = TypeAdapter(ProductionRead)
_PRODUCTION_SHOWN = Prepared(
    lambda: Production.select(
        Production.id,
        Production.company.slug.as_alias("company"),
        Production.title,
        Production.budget_minor,
        Production.currency,
        Production.start_date,
        Production.end_date,
        Production.status,
        Production.created_at,
    ).where(Production.id == Param("id"))
)
_BINDINGS_SHOWN = Prepared(
    lambda: (
        ProductionBinding.select(
            ProductionBinding.compact.slug.as_alias("compact"),
            ProductionBinding.version.number.as_alias("version_number"),
            ProductionBinding.version_hash,
            ProductionBinding.bound_at,
        )
        .where(ProductionBinding.production == Param("production"))
        .order_by(ProductionBinding.compact.slug)
    )
)


async def get_production(principal: Principal, production_id: UUID) -> ProductionRead:
    """Stored values parsed by the response model in one call (``Prepared.plain``)."""
    async with read_tx():  # PostgreSQL: both statements on one pooled connection
        found = await _PRODUCTION_SHOWN.plain(id=production_id)
        if not found or not may_read(principal, found[0]["company"]):
            raise NotFound(f"production {production_id} not found")
        bindings = await _BINDINGS_SHOWN.plain(production=production_id)
    return PRODUCTION_READ.validate_python({**found[0], "bindings": bindings})


_COLUMNS_OF = {
    "title": Production.title,
    "budget_minor": Production.budget_minor,
    "currency": Production.currency,
    "start_date": Production.start_date,
    "end_date": Production.end_date,
    "status": Production.status,
}


async def update_production(principal: Principal, production_id: UUID, data: ProductionUpdate) -> ProductionRead:
    """Producers change a production's title, budget, dates or status. New shoot dates move the open
    apprenticeship commitments of every bound version (done ones never change)."""

    async with write_tx():
        row = await production_row(principal, production_id, write=True, lock=True)
        given = data.model_dump(exclude_unset=True)
        start, end = given.get("start_date", row["start_date"]), given.get("end_date", row["end_date"])
        if start and end and end < start:
            field = "end_date" if "end_date" in given else "start_date"
            raise invalid(field, "date_order", f"end_date {end} is before start_date {start}")
        changes = {name: value for name, value in given.items() if _stored(value) != row[name]}
        if changes:
            await Production.update({_COLUMNS_OF[name]: _stored(value) for name, value in changes.items()}).where(
                Production.id == production_id
            )
            await audit.record(
                principal.id,
                "production.updated",
                "production",
                production_id,
                {
                    name: {"from": _json_value(row[name]), "to": _json_value(_stored(value))}
                    for name, value in changes.items()
                },
            )
            if "start_date" in changes or "end_date" in changes:
                await reschedule_commitments(principal.id, production_id)
        return await _production_read(await production_row(principal, production_id))


def _stored(value: Any) -> Any:
    return value.value if isinstance(value, ProductionStatus) else value


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


async def bind(principal: Principal, production_id: UUID, data: BindingCreate) -> ProductionRead:
    """Bind the production to a ratified compact version. Already bound to the compact: a newer version is an
    update of that binding (it moves, as when an amendment is ratified: :mod:`guild.productions.amendments`);
    the same version or an older one is refused (409, naming both)."""
    async with write_tx():
        await production_row(principal, production_id, write=True)
        query = CompactVersion.select(
            CompactVersion.id,
            CompactVersion.status,
            CompactVersion.terms_hash,
            CompactVersion.compact,
            CompactVersion.proposed_at,
        ).where((CompactVersion.compact.slug == data.compact) & (CompactVersion.number == data.version))
        version = await query.first()
        if (
            version is not None
            and version["proposed_at"] is None
            and not await sees_drafts(principal, version["compact"])
        ):
            version = None  # a draft outside the caller's organisations: answered as if there were none
        if version is None:
            raise invalid("version", "version_exists", f"compact {data.compact!r} has no version {data.version}")
        # Locks in the order every writer takes them (the compact, then the production row): a ratification
        # that supersedes this version, or moves this production's binding, commits before the re-reads below
        # or waits for this binding; so does a concurrent binding of the same production.
        await lock_compact(version["compact"])
        row = await production_row(principal, production_id, write=True, lock=True)
        version = await present(query)
        bound = (
            await ProductionBinding.select(ProductionBinding.version.number.as_alias("number"))
            .where((ProductionBinding.production == production_id) & (ProductionBinding.compact == version["compact"]))
            .first()
        )
        bound_number: int | None = None if bound is None else bound["number"]
        move = None if bound_number is None else binding_move(bound_number, data.version)
        if move == "same":
            raise Conflict(
                f"the production is already bound to compact {data.compact!r} v{data.version}",
                rule="already_bound",
                field="compact",
            )
        if move == "older":
            raise Conflict(
                f"the production is bound to {data.compact} v{bound_number}; v{data.version} is older, and a "
                "binding never goes back to terms replaced since",
                rule="older_version",
                field="version",
                bound_version=bound_number,
                requested_version=data.version,
            )
        if version["status"] != VersionStatus.ratified:
            raise invalid(
                "version",
                "ratified_only",
                f"{data.compact} v{data.version} is {version['status']}; productions bind to the ratified version in force",
            )
        if move == "newer" and bound_number is not None:
            old, new = (
                await version_row(version["compact"], bound_number),
                await version_row(version["compact"], data.version),
            )
            await move_bindings(principal.id, data.compact, old, new, [production_id], cause="rebound_by_producer")
            return await _production_read(row)
        await ProductionBinding.insert(
            ProductionBinding(
                id=uuid4(),
                production=production_id,
                compact=version["compact"],
                version=version["id"],
                version_hash=version["terms_hash"],
                bound_at=_now(),
            )
        )

        await create_commitments(principal.id, production_id, version["id"])
        await audit.record(
            principal.id,
            "production.bound",
            "production",
            production_id,
            {"compact": data.compact, "version": data.version, "version_hash": version["terms_hash"]},
        )
        return await _production_read(row)


def _engagement_read(row: dict[str, Any]) -> EngagementRead:
    return EngagementRead(
        id=row["id"],
        production_id=row["production"],
        person_name=row["person_name"],
        user_id=row["user"],
        department=row["department"],
        role=row["role"],
        level=row["level"],
        rate_minor_per_week=row["rate_minor_per_week"],
        currency=row["currency"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        mentor_engagement_id=row["mentor"],
        created_at=row["created_at"],
    )


async def add_engagement(principal: Principal, production_id: UUID, data: EngagementCreate) -> EngagementRead:
    async with write_tx():
        await production_row(principal, production_id, write=True)
        user_id = None
        if data.email:
            user = await User.select(User.id).where(User.email == data.email.lower()).first()
            if user is None:
                raise invalid("email", "user_exists", f"no user account has e-mail {data.email}")
            user_id = user["id"]
        if data.mentor_engagement_id:
            mentor = (
                await Engagement.select(Engagement.department, Engagement.level)
                .where((Engagement.id == data.mentor_engagement_id) & (Engagement.production == production_id))
                .first()
            )
            if mentor is None:
                raise invalid(
                    "mentor_engagement_id", "mentor_in_production", "the mentor must be engaged on this production"
                )
            fit = mentor_fit(data.department, mentor["level"], mentor["department"])
            if not fit.same_department:
                raise invalid(
                    "mentor_engagement_id",
                    "mentor_same_department",
                    f"the mentor works in {mentor['department']}, not {data.department.value}",
                )
            if not fit.journey_or_above:
                raise invalid(
                    "mentor_engagement_id",
                    "mentor_journey_or_above",
                    f"the mentor is {mentor['level']} level; a mentor must be journey level or above",
                )
        engagement = Engagement(
            id=uuid4(),
            production=production_id,
            person_name=data.person_name,
            user=user_id,
            department=data.department.value,
            role=data.role,
            level=data.level.value,
            rate_minor_per_week=data.rate_minor_per_week,
            currency=data.currency,
            start_date=data.start_date,
            end_date=data.end_date,
            mentor=data.mentor_engagement_id,
            created_at=_now(),
        )
        await Engagement.insert(engagement)
        await audit.record(
            principal.id,
            "engagement.added",
            "production",
            production_id,
            {"engagement_id": str(engagement.id), "department": data.department.value, "level": data.level.value},
        )
        return _engagement_read(await present(Engagement.select().where(Engagement.id == engagement.id)))


ENGAGEMENT_READS = TypeAdapter(list[EngagementRead])
_ENGAGEMENTS_OF = Prepared(
    lambda: (
        Engagement.select(
            Engagement.id,
            Engagement.production.as_alias("production_id"),
            Engagement.person_name,
            Engagement.user.as_alias("user_id"),
            Engagement.department,
            Engagement.role,
            Engagement.level,
            Engagement.rate_minor_per_week,
            Engagement.currency,
            Engagement.start_date,
            Engagement.end_date,
            Engagement.mentor.as_alias("mentor_engagement_id"),
            Engagement.created_at,
        )
        .where(Engagement.production == Param("production"))
        .order_by(Engagement.created_at)
    )
)


async def list_engagements(principal: Principal, production_id: UUID) -> list[EngagementRead]:
    async with read_tx():
        await production_row(principal, production_id)
        rows = await _ENGAGEMENTS_OF.plain(production=production_id)
    return ENGAGEMENT_READS.validate_python(rows)


# --- disclosures and bulk imports ------------------------------------------------------------------


def _disclosure_read(row: dict[str, Any]) -> DisclosureRead:
    return DisclosureRead(
        category=row["category"],
        total_count=row["total_count"],
        ai_generated_count=row["ai_generated_count"],
        tools=row["tools"],
        evidence_notes=row["evidence_notes"],
        updated_at=row["updated_at"],
    )


async def list_disclosures(principal: Principal, production_id: UUID) -> list[DisclosureRead]:
    async with read_tx():
        await production_row(principal, production_id)
        rows = (
            await AssetDisclosure.select()
            .where(AssetDisclosure.production == production_id)
            .order_by(AssetDisclosure.category)
            .output(load_json=True)
        )
    return [_disclosure_read(r) for r in rows]


async def set_disclosures(principal: Principal, production_id: UUID, items: list[DisclosureIn]) -> list[DisclosureRead]:
    """Replace the production's disclosures with these (one row per category), in one transaction."""
    if len({d.category for d in items}) != len(items):
        raise invalid("disclosures", "one_per_category", "each category may appear once")
    async with write_tx():
        await production_row(principal, production_id, write=True, lock=True)
        await AssetDisclosure.delete().where(AssetDisclosure.production == production_id)
        now = _now()
        rows = [
            AssetDisclosure(
                id=uuid4(),
                production=production_id,
                category=d.category.value,
                total_count=d.total_count,
                ai_generated_count=d.ai_generated_count,
                tools=d.tools,
                evidence_notes=d.evidence_notes,
                updated_at=now,
            )
            for d in items
        ]
        if rows:
            await AssetDisclosure.insert(*rows)
        await audit.record(
            principal.id,
            "production.disclosures_set",
            "production",
            production_id,
            {d.category.value: [d.total_count, d.ai_generated_count] for d in items},
        )
    return await list_disclosures(principal, production_id)


_IMPORT_COLUMNS = (
    Engagement.id,
    Engagement.production,
    Engagement.person_name,
    Engagement.user,
    Engagement.department,
    Engagement.role,
    Engagement.level,
    Engagement.rate_minor_per_week,
    Engagement.currency,
    Engagement.start_date,
    Engagement.end_date,
    Engagement.created_at,
)


async def import_engagements(principal: Principal, production_id: UUID, rows: list[EngagementImportRow]) -> int:
    """All rows or none: e-mails and mentors are resolved and checked before anything is written."""
    async with write_tx():
        await production_row(principal, production_id, write=True)
        emails = sorted({r.email.lower() for r in rows if r.email})
        users = {
            u["email"]: u["id"]
            for u in (await User.select(User.id, User.email).where(User.email.is_in(emails)) if emails else [])
        }
        existing = await Engagement.select(
            Engagement.id, Engagement.person_name, Engagement.department, Engagement.level
        ).where(Engagement.production == production_id)
        ids = uuid4s(len(rows))
        by_name: dict[str, list[tuple[UUID, str, str]]] = {}
        for e in existing:
            by_name.setdefault(e["person_name"], []).append((e["id"], e["department"], e["level"]))
        for new_id, r in zip(ids, rows, strict=True):
            by_name.setdefault(r.person_name, []).append((new_id, r.department, r.level))
        errors, mentors = [], []
        for number, r in enumerate(rows, start=1):
            if r.email and r.email.lower() not in users:
                errors.append(
                    {
                        "row": number,
                        "field": "email",
                        "rule": "user_exists",
                        "message": f"no user account has e-mail {r.email}",
                    }
                )
            mentor_id = None
            if r.mentor_person_name:
                found = by_name.get(r.mentor_person_name, [])
                problem = None
                if len(found) != 1:
                    problem = (
                        "mentor_in_production",
                        f"{len(found)} engagements named {r.mentor_person_name!r}; need exactly one",
                    )
                elif not (fit := mentor_fit(r.department, found[0][2], found[0][1])).same_department:
                    problem = ("mentor_same_department", f"the mentor works in {found[0][1]}, not {r.department.value}")
                elif not fit.journey_or_above:
                    problem = (
                        "mentor_journey_or_above",
                        f"the mentor is {found[0][2]} level; journey or above required",
                    )
                if problem:
                    errors.append(
                        {"row": number, "field": "mentor_person_name", "rule": problem[0], "message": problem[1]}
                    )
                else:
                    mentor_id = found[0][0]
            mentors.append(mentor_id)
        if errors:
            raise Unprocessable(
                f"{len({e['row'] for e in errors})} row(s) are invalid; nothing was imported",
                title="Validation failed",
                errors=errors,
            )
        now = _now()
        # Through the driver (COPY on PostgreSQL): every row is validated above; the ORM would build
        # one Python object and one SQL fragment per row. Mentors may be rows of this same file, so
        # the links are set once all rows exist.
        await copy_many(
            Engagement,
            _IMPORT_COLUMNS,
            [
                (
                    new_id,
                    production_id,
                    r.person_name,
                    users.get(r.email.lower()) if r.email else None,
                    r.department,  # StrEnum members are strings to both drivers
                    r.role,
                    r.level,
                    r.rate_minor_per_week,
                    r.currency,
                    r.start_date,
                    r.end_date,
                    now,
                )
                for new_id, r in zip(ids, rows, strict=True)
            ],
        )
        await update_many(
            Engagement,
            Engagement.mentor,
            Engagement.id,
            [(new_id, mentor_id) for new_id, mentor_id in zip(ids, mentors, strict=True) if mentor_id],
        )
        await audit.record(principal.id, "production.roster_imported", "production", production_id, {"rows": len(rows)})
    return len(rows)


async def assert_can_change(principal: Principal, production_id: UUID) -> None:
    """404/403 before an upload is even parsed."""
    async with read_tx():
        await production_row(principal, production_id, write=True)
