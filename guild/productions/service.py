"""Productions owned by production companies, their compact bindings and their crew engagements.

A production is private to its company: producers and officers of that company read it; producers
change it; anyone else gets 404.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
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
    Contract,
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
    AmountError,
    BindingCreate,
    BindingRead,
    DisclosureIn,
    DisclosureRead,
    EngagementCreate,
    EngagementImportRow,
    EngagementRead,
    EngagementUpdate,
    ImportMode,
    ProductionCreate,
    ProductionRead,
    ProductionStatus,
    ProductionUpdate,
    RosterImportResult,
    minor_amount,
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
        ProductionRead.model_validate(
            {
                "id": row["id"],
                "company": row["company_slug"],
                "title": row["title"],
                "budget_minor": row["budget_minor"],
                "currency": row["currency"],
                "start_date": row["start_date"],
                "end_date": row["end_date"],
                "status": row["status"],
                "created_at": row["created_at"],
                "bindings": bindings.get(row["id"], []),
            }
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
            budget_minor=data.minor_budget,
            currency=data.currency,
            start_date=data.start_date,
            end_date=data.end_date,
            status=data.status.value,
            created_at=_now(),
        )
        await Production.insert(production)
        await audit.record(
            principal.id,
            "production.created",
            "production",
            production.id,
            data.model_dump(mode="json", exclude={"budget"}),
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
        if "budget" in given:
            given["budget_minor"] = _minor_or_refuse(
                given.pop("budget"), given.get("currency", row["currency"]), "budget"
            )
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


def _minor_or_refuse(major: Decimal, currency: str, field: str) -> int:
    """A major-unit amount in minor units of ``currency``; 422 naming ``field`` if the currency has fewer decimals."""
    try:
        return minor_amount(major, currency)
    except AmountError as exc:
        raise invalid(field, exc.rule, exc.message) from None


def _stored(value: Any) -> Any:
    return value.value if isinstance(value, ProductionStatus) else value


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


async def bind(principal: Principal, production_id: UUID, data: BindingCreate) -> tuple[ProductionRead, bool]:
    """Bind the production to a ratified compact version; whether a binding was created. Already bound to the
    compact: a newer version is an update of that binding (it moves, as when an amendment is ratified:
    :mod:`guild.productions.amendments`); the same version or an older one is refused (409, naming both)."""
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
            return await _production_read(row), False
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
        return await _production_read(row), True


def _engagement_read(row: dict[str, Any]) -> EngagementRead:
    return EngagementRead.model_validate(
        {
            **{k: v for k, v in row.items() if k not in ("production", "user", "mentor")},
            "production_id": row["production"],
            "user_id": row["user"],
            "mentor_engagement_id": row["mentor"],
        }
    )


async def _user_of(email: str | None) -> UUID | None:
    if not email:
        return None
    user = await User.select(User.id).where(User.email == email.lower()).first()
    if user is None:
        raise invalid("email", "user_exists", f"no user account has e-mail {email}")
    return UUID(str(user["id"]))


async def _check_mentor(production_id: UUID, mentor_id: UUID, department: str) -> None:
    """The one mentor rule of a roster: an engagement of this production, journey level or above, same department."""
    mentor = (
        await Engagement.select(Engagement.department, Engagement.level)
        .where((Engagement.id == mentor_id) & (Engagement.production == production_id))
        .first()
    )
    if mentor is None:
        raise invalid("mentor_engagement_id", "mentor_in_production", "the mentor must be engaged on this production")
    fit = mentor_fit(department, mentor["level"], mentor["department"])
    if not fit.same_department:
        raise invalid(
            "mentor_engagement_id",
            "mentor_same_department",
            f"the mentor works in {mentor['department']}, not {department}",
        )
    if not fit.journey_or_above:
        raise invalid(
            "mentor_engagement_id",
            "mentor_journey_or_above",
            f"the mentor is {mentor['level']} level; a mentor must be journey level or above",
        )


async def _check_external_ref(production_id: UUID, external_ref: str | None, engagement_id: UUID | None) -> None:
    if external_ref is None:
        return
    taken = await Engagement.select(Engagement.id).where(
        (Engagement.production == production_id) & (Engagement.external_ref == external_ref)
    )
    if any(r["id"] != engagement_id for r in taken):
        raise Conflict(
            f"another engagement of this production has external_ref {external_ref!r}",
            rule="external_ref_unique",
            field="external_ref",
            engagement_id=str(taken[0]["id"]),
        )


async def add_engagement(principal: Principal, production_id: UUID, data: EngagementCreate) -> EngagementRead:
    async with write_tx():
        await production_row(principal, production_id, write=True, lock=True)
        user_id = await _user_of(data.email)
        if data.mentor_engagement_id:
            await _check_mentor(production_id, data.mentor_engagement_id, data.department.value)
        await _check_external_ref(production_id, data.external_ref, None)
        engagement = Engagement(
            id=uuid4(),
            production=production_id,
            person_name=data.person_name,
            user=user_id,
            department=data.department.value,
            role=data.role,
            level=data.level.value,
            rate_minor_per_week=data.minor_rate,
            currency=data.currency,
            start_date=data.start_date,
            end_date=data.end_date,
            mentor=data.mentor_engagement_id,
            external_ref=data.external_ref,
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


async def _engagement_row(production_id: UUID, engagement_id: UUID) -> dict[str, Any]:
    row = (
        await Engagement.select()
        .where((Engagement.id == engagement_id) & (Engagement.production == production_id))
        .first()
    )
    if row is None:
        raise NotFound(f"engagement {engagement_id} not found on production {production_id}")
    return row


def _qualified_mentor(department: str, mentor_level: str, mentor_department: str) -> bool:
    return mentor_fit(department, mentor_level, mentor_department).qualified


async def _refuse_if_mentoring(engagement_id: UUID, level: str, department: str, *, removing: bool) -> None:
    """An engagement others name as their mentor keeps qualifying for them: removing it, or correcting its level
    or department so that it no longer qualifies, is refused naming those engagements (reassign them first)."""
    mentees = await Engagement.select(Engagement.id, Engagement.person_name, Engagement.department).where(
        Engagement.mentor == engagement_id
    )
    affected = [m for m in mentees if removing or not _qualified_mentor(m["department"], level, department)]
    if affected:
        names = ", ".join(m["person_name"] for m in affected)
        why = (
            "it is the mentor of"
            if removing
            else f"as {level} level in {department} it would no longer qualify as the mentor of"
        )
        raise Conflict(
            f"the engagement cannot be {'removed' if removing else 'changed so'}: {why} {names}; "
            "give them another mentor (or none) first",
            rule="mentor_of_others",
            field="mentor_engagement_id" if removing else "level",
            dependants=[{"engagement_id": str(m["id"]), "person_name": m["person_name"]} for m in affected],
        )


_ENGAGEMENT_COLUMNS = {
    "person_name": Engagement.person_name,
    "user": Engagement.user,
    "department": Engagement.department,
    "role": Engagement.role,
    "level": Engagement.level,
    "rate_minor_per_week": Engagement.rate_minor_per_week,
    "currency": Engagement.currency,
    "start_date": Engagement.start_date,
    "end_date": Engagement.end_date,
    "mentor": Engagement.mentor,
    "external_ref": Engagement.external_ref,
}
# what an audit event may say of a change (person_name, user and external_ref: only that they changed, since
# audit events are kept for good and personal data should not be)
_AUDITED_VALUES = {"department", "role", "level", "rate_minor_per_week", "currency", "start_date", "end_date", "mentor"}


def _audit_change(name: str, old: Any, new: Any) -> Any:
    if name not in _AUDITED_VALUES:
        return "changed"
    return {"from": _json_value(old), "to": _json_value(new)}


async def update_engagement(
    principal: Principal, production_id: UUID, engagement_id: UUID, data: EngagementUpdate
) -> EngagementRead:
    """Correct an engagement (producers of the company): the stored fields with these changes must pass the
    rules of creation (dates in order, a member's e-mail, a qualified mentor of this production, a unique
    external_ref), and it must remain a qualified mentor for those who name it. Contracts already issued
    for it do not change (they are re-checked by the next compliance run); to end an engagement early,
    set its end_date."""
    async with write_tx():
        await production_row(principal, production_id, write=True, lock=True)
        row = await _engagement_row(production_id, engagement_id)
        given = data.model_dump(exclude_unset=True)
        new: dict[str, Any] = {}
        for name in ("person_name", "role", "start_date", "end_date", "external_ref", "currency"):
            if name in given:
                new[name] = given[name]
        for name in ("department", "level"):
            if name in given:
                new[name] = given[name].value
        if (
            "currency" in given
            and given["currency"] != row["currency"]
            and not ("rate_per_week" in given or "rate_minor_per_week" in given)
        ):
            raise invalid(
                "currency",
                "rate_with_currency",
                "a new currency needs the rate in it too: give rate_per_week or rate_minor_per_week with it",
            )
        currency = new.get("currency", row["currency"])
        if "rate_per_week" in given:
            new["rate_minor_per_week"] = _minor_or_refuse(given["rate_per_week"], currency, "rate_per_week")
        elif "rate_minor_per_week" in given:
            new["rate_minor_per_week"] = given["rate_minor_per_week"]
        if "email" in given:
            new["user"] = await _user_of(given["email"])
        if "mentor_engagement_id" in given:
            new["mentor"] = given["mentor_engagement_id"]
        merged = {**row, **new}
        if merged["end_date"] < merged["start_date"]:
            field = "end_date" if "end_date" in given else "start_date"
            raise invalid(
                field,
                "dates_in_order",
                f"end_date ({merged['end_date']}) must not be before start_date ({merged['start_date']})",
            )
        if merged["mentor"] is not None:
            if merged["mentor"] == engagement_id:
                raise invalid("mentor_engagement_id", "mentor_not_self", "an engagement cannot be its own mentor")
            if "mentor" in new or "department" in new:
                await _check_mentor(production_id, merged["mentor"], merged["department"])
        if "level" in new or "department" in new:
            await _refuse_if_mentoring(engagement_id, merged["level"], merged["department"], removing=False)
        if "external_ref" in new:
            await _check_external_ref(production_id, merged["external_ref"], engagement_id)
        changes = {name: value for name, value in new.items() if value != row[name]}
        if changes:
            await Engagement.update({_ENGAGEMENT_COLUMNS[n]: v for n, v in changes.items()}).where(
                Engagement.id == engagement_id
            )
            await audit.record(
                principal.id,
                "engagement.updated",
                "production",
                production_id,
                {
                    "engagement_id": str(engagement_id),
                    "changes": {n: _audit_change(n, row[n], v) for n, v in sorted(changes.items())},
                },
            )
        return _engagement_read(await _engagement_row(production_id, engagement_id))


async def remove_engagement(principal: Principal, production_id: UUID, engagement_id: UUID) -> None:
    """Remove an engagement entered by mistake (producers of the company). Refused (409) once a contract was
    issued for it, whatever became of that contract since (a void or superseded contract stays on record and
    names the engagement): end it instead (its end_date). Refused too while others name it as their mentor."""
    async with write_tx():
        # The production's row lock: contract issuance takes it too, so a removal and an issuance for the
        # same engagement run one after the other, and whichever comes second sees the first.
        await production_row(principal, production_id, write=True, lock=True)
        row = await _engagement_row(production_id, engagement_id)
        contracts = (
            await Contract.select(Contract.id, Contract.status)
            .where(Contract.engagement == engagement_id)
            .order_by(Contract.issued_at)
        )
        if contracts:
            raise Conflict(
                f"a contract was issued for this engagement ({len(contracts)} on record); an engagement with "
                "contracts stays on the roster: end it instead by setting its end_date",
                rule="contract_issued",
                contracts=[{"contract_id": str(c["id"]), "status": c["status"]} for c in contracts],
            )
        await _refuse_if_mentoring(engagement_id, row["level"], row["department"], removing=True)
        await Engagement.delete().where(Engagement.id == engagement_id)
        await audit.record(
            principal.id,
            "engagement.removed",
            "production",
            production_id,
            {"engagement_id": str(engagement_id), "department": row["department"], "level": row["level"]},
        )


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
            Engagement.external_ref,
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


async def get_engagement(principal: Principal, production_id: UUID, engagement_id: UUID) -> EngagementRead:
    """One engagement of a production the caller may read (404 otherwise, as for the production)."""
    for engagement in await list_engagements(principal, production_id):
        if engagement.id == engagement_id:
            return engagement
    raise NotFound(f"engagement {engagement_id} not found")


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
    Engagement.external_ref,
    Engagement.created_at,
)
# what a row of an upsert sets on the engagement it matches (external_ref: the key, never changed by a row)
_ROW_FIELDS: tuple[str, ...] = ("person_name", "user", "department", "role", "level", "rate_minor_per_week")
_ROW_FIELDS += ("currency", "start_date", "end_date", "mentor")


def _row_error(number: int, field: str, rule: str, message: str) -> dict[str, Any]:
    return {"row": number, "field": field, "rule": rule, "message": message}


def _match_rows(
    rows: list[EngagementImportRow], existing: list[dict[str, Any]], users: dict[str, UUID], mode: ImportMode
) -> tuple[list[dict[str, Any] | None], list[dict[str, Any]]]:
    """Each row's engagement on the production (None: a new one) and the rows' key problems.

    append: every row is new; an external_ref already on the production or twice in the file is refused.
    upsert: a row with external_ref matches the engagement with that ref; a row without one matches by
    e-mail (the one engagement of the production linked to that member); a row with neither cannot be
    matched (a second import would duplicate it) and is refused."""
    by_ref = {e["external_ref"]: e for e in existing if e["external_ref"] is not None}
    by_user: dict[UUID, list[dict[str, Any]]] = {}
    for e in existing:
        if e["user"] is not None:
            by_user.setdefault(e["user"], []).append(e)
    matches: list[dict[str, Any] | None] = []
    errors: list[dict[str, Any]] = []
    first_ref: dict[str, int] = {}
    first_email: dict[str, int] = {}
    first_match: dict[UUID, int] = {}
    for number, r in enumerate(rows, start=1):
        match = None
        if r.external_ref is not None:
            if r.external_ref in first_ref:
                errors.append(
                    _row_error(
                        number,
                        "external_ref",
                        "unique_in_file",
                        f"external_ref {r.external_ref!r} is also on row {first_ref[r.external_ref]}",
                    )
                )
            first_ref.setdefault(r.external_ref, number)
            if mode is ImportMode.upsert:
                match = by_ref.get(r.external_ref)
            elif r.external_ref in by_ref:
                errors.append(
                    _row_error(
                        number,
                        "external_ref",
                        "external_ref_unique",
                        f"an engagement of this production already has external_ref {r.external_ref!r}; "
                        "import with mode=upsert to update it",
                    )
                )
        elif mode is ImportMode.upsert:
            if r.email is None:
                errors.append(
                    _row_error(
                        number,
                        "external_ref",
                        "upsert_key",
                        "in upsert mode a row needs external_ref or email to find its engagement again",
                    )
                )
            else:
                email = r.email.lower()
                if email in first_email:
                    errors.append(
                        _row_error(
                            number,
                            "email",
                            "unique_in_file",
                            f"{r.email} is also on row {first_email[email]}; give external_ref to tell them apart",
                        )
                    )
                first_email.setdefault(email, number)
                candidates = by_user.get(users[email], []) if email in users else []
                if len(candidates) > 1:
                    errors.append(
                        _row_error(
                            number,
                            "email",
                            "upsert_ambiguous",
                            f"{len(candidates)} engagements of this production are linked to {r.email}; "
                            "give external_ref to say which",
                        )
                    )
                elif candidates:
                    match = candidates[0]
        if match is not None:
            if match["id"] in first_match:
                errors.append(
                    _row_error(
                        number,
                        "external_ref" if r.external_ref else "email",
                        "unique_in_file",
                        f"matches the same engagement as row {first_match[match['id']]}",
                    )
                )
            first_match.setdefault(match["id"], number)
        matches.append(match)
    return matches, errors


async def import_engagements(principal: Principal, production_id: UUID, rows: list[EngagementImportRow]) -> int:
    """Append the rows (see :func:`import_roster_rows`); returns how many."""
    return (await import_roster_rows(principal, production_id, rows, ImportMode.append)).imported


async def import_roster_rows(
    principal: Principal, production_id: UUID, rows: list[EngagementImportRow], mode: ImportMode
) -> RosterImportResult:
    """All rows or none: keys, e-mails and mentors are resolved and checked before anything is written.

    append: every row becomes a new engagement. upsert: a row that matches an engagement (see
    :func:`_match_rows`) states it whole (an absent e-mail or mentor means none; its external_ref stays)
    and updates it where it differs; other rows become new engagements. Engagements the file does not
    name stay as they are. Nothing differs: nothing is written and nothing audited, so re-importing a
    file changes nothing."""
    async with write_tx():
        await production_row(principal, production_id, write=True, lock=True)
        emails = sorted({r.email.lower() for r in rows if r.email})
        users = {
            u["email"]: u["id"]
            for u in (await User.select(User.id, User.email).where(User.email.is_in(emails)) if emails else [])
        }
        existing = await Engagement.select(Engagement.id, *_ENGAGEMENT_COLUMNS.values()).where(
            Engagement.production == production_id
        )
        matches, errors = _match_rows(rows, existing, users, mode)
        new_ids = iter(uuid4s(sum(1 for m in matches if m is None)))
        ids = [m["id"] if m is not None else next(new_ids) for m in matches]
        # the roster as it will be: engagements the file leaves alone, and the file's rows
        named = {m["id"] for m in matches if m is not None}
        final: dict[UUID, tuple[str, str, str]] = {
            e["id"]: (e["person_name"], e["department"], e["level"]) for e in existing if e["id"] not in named
        }
        final.update({i: (r.person_name, r.department, r.level) for i, r in zip(ids, rows, strict=True)})
        by_name: dict[str, list[tuple[UUID, str, str]]] = {}
        for key, (name, department, level) in final.items():
            by_name.setdefault(name, []).append((key, department, level))
        mentors: list[UUID | None] = []
        for number, (own_id, r) in enumerate(zip(ids, rows, strict=True), start=1):
            if r.email and r.email.lower() not in users:
                errors.append(_row_error(number, "email", "user_exists", f"no user account has e-mail {r.email}"))
            mentor_id = None
            if r.mentor_person_name:
                found = by_name.get(r.mentor_person_name, [])
                problem = None
                if len(found) != 1:
                    problem = (
                        "mentor_in_production",
                        f"{len(found)} engagements named {r.mentor_person_name!r}; need exactly one",
                    )
                elif found[0][0] == own_id:
                    problem = ("mentor_not_self", "an engagement cannot be its own mentor")
                elif not (fit := mentor_fit(r.department, found[0][2], found[0][1])).same_department:
                    problem = ("mentor_same_department", f"the mentor works in {found[0][1]}, not {r.department.value}")
                elif not fit.journey_or_above:
                    problem = (
                        "mentor_journey_or_above",
                        f"the mentor is {found[0][2]} level; journey or above required",
                    )
                if problem:
                    errors.append(_row_error(number, "mentor_person_name", problem[0], problem[1]))
                else:
                    mentor_id = found[0][0]
            mentors.append(mentor_id)
        if mode is ImportMode.upsert and named:
            # engagements the file leaves alone keep a qualified mentor when the file changes that mentor
            row_of = {i: n for n, i in enumerate(ids, start=1)}
            for e in existing:
                if e["id"] in named or e["mentor"] not in named:
                    continue
                _, department, level = final[e["mentor"]]
                if not mentor_fit(e["department"], level, department).qualified:
                    errors.append(
                        _row_error(
                            row_of[e["mentor"]],
                            "level",
                            "mentor_of_others",
                            f"as {level} level in {department} it would no longer qualify as the mentor of "
                            f"{e['person_name']}",
                        )
                    )
        if errors:
            errors.sort(key=lambda e: e["row"])
            raise Unprocessable(
                f"{len({e['row'] for e in errors})} row(s) are invalid; nothing was imported",
                title="Validation failed",
                errors=errors,
            )
        now = _now()
        created = [(i, r, m) for i, r, m, match in zip(ids, rows, mentors, matches, strict=True) if match is None]
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
                    r.minor_rate,
                    r.currency,
                    r.start_date,
                    r.end_date,
                    r.external_ref,
                    now,
                )
                for new_id, r, _ in created
            ],
        )
        await update_many(Engagement, Engagement.mentor, Engagement.id, [(new_id, m) for new_id, _, m in created if m])
        # matched engagements: one statement per column that changes in any of them
        changed: dict[str, list[tuple[UUID, Any]]] = {}
        updated = 0
        for r, m, match in zip(rows, mentors, matches, strict=True):
            if match is None:
                continue
            wanted = _row_values(r, users, m)
            differs = [name for name in _ROW_FIELDS if wanted[name] != match[name]]
            for name in differs:
                changed.setdefault(name, []).append((match["id"], wanted[name]))
            updated += bool(differs)
        for name, pairs in changed.items():
            await update_many(Engagement, _ENGAGEMENT_COLUMNS[name], Engagement.id, pairs)
        result = RosterImportResult(
            imported=len(rows),
            mode=mode,
            created=len(created),
            updated=updated,
            unchanged=len(rows) - len(created) - updated,
        )
        if result.created or result.updated:
            await audit.record(
                principal.id,
                "production.roster_imported",
                "production",
                production_id,
                {"rows": len(rows), "mode": mode.value, "created": result.created, "updated": result.updated},
            )
    return result


def _row_values(r: EngagementImportRow, users: dict[str, UUID], mentor: UUID | None) -> dict[str, Any]:
    return {
        "person_name": r.person_name,
        "user": users.get(r.email.lower()) if r.email else None,
        "department": r.department.value,
        "role": r.role,
        "level": r.level.value,
        "rate_minor_per_week": r.minor_rate,
        "currency": r.currency,
        "start_date": r.start_date,
        "end_date": r.end_date,
        "mentor": mentor,
    }


async def assert_can_change(principal: Principal, production_id: UUID) -> None:
    """404/403 before an upload is even parsed."""
    async with read_tx():
        await production_row(principal, production_id, write=True)
