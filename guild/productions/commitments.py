"""Apprenticeship commitments: obligations with due dates that a production takes on when it binds.

When a production binds to a compact version, each rule of the version's
``terms.apprenticeship_commitments`` that applies to the shoot becomes one :class:`~guild.infra.tables.Commitment`
row, its due date computed from the production's shoot dates (``start_date`` = shoot start,
``end_date`` = shoot end). A production without both shoot dates gets no commitments at binding;
creating them when the dates are set later is not done yet.

Producers of the production company mark a commitment done; producers and officers of the company
read all of a production's commitments, officers of a bound compact's parties read those under
that compact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import TypeAdapter

from guild.compacts.terms import CommitmentRule
from guild.domain.errors import Conflict, NotFound
from guild.domain.principal import Principal, Role
from guild.domain.statuses import CommitmentStatus
from guild.domain.values import Out
from guild.infra import audit
from guild.infra.db import read_tx, write_tx
from guild.infra.tables import Commitment, CompactParty, CompactVersion, Production, ProductionBinding
from guild.productions.queries import production_row
from guild.productions.rules import commitment_due_dates

__all__ = [
    "CommitmentRead",
    "commitment_rows",
    "create_commitments",
    "due_dates",
    "list_commitments",
    "mark_done",
    "party_officer_compacts",
    "today",
]

_RULES = TypeAdapter(list[CommitmentRule])


def today() -> date:
    """The current UTC date: what "overdue" and "weeks served" are measured against."""
    return datetime.now(UTC).date()


def _now() -> datetime:
    return datetime.now(UTC)


# --- due dates -----------------------------------------------------------------------------------------


def due_dates(rules: list[CommitmentRule], shoot_start: date, shoot_end: date) -> list[tuple[CommitmentRule, date]]:
    """The rules that apply to a shoot of these dates, each with its due date, in the rules' order.

    :func:`guild.apprenticeship.rules.commitment_due_dates` decides (working days skip weekends; rules
    outside their ``min_shoot_weeks``/``max_shoot_weeks`` are left out); a key that appears twice
    counts once (the first), as a production holds one commitment per version and key.
    """
    seen: set[str] = set()
    out = []
    for rule, due in commitment_due_dates(rules, shoot_start, shoot_end):
        if rule.key not in seen:
            seen.add(rule.key)
            out.append((rule, due))
    return out


# --- reading -----------------------------------------------------------------------------------------


class CommitmentRead(Out):
    id: UUID
    production_id: UUID
    production_title: str
    compact: str
    version_number: int
    key: str
    title: str
    due_date: date
    status: str
    overdue: bool
    done_at: datetime | None
    created_at: datetime


_COLUMNS = (
    Commitment.id,
    Commitment.production.as_alias("production_id"),
    Commitment.production.title.as_alias("production_title"),
    Commitment.compact.slug.as_alias("compact"),
    Commitment.version.number.as_alias("version_number"),
    Commitment.key,
    Commitment.title,
    Commitment.due_date,
    Commitment.status,
    Commitment.done_at,
    Commitment.created_at,
)


def _read(row: dict[str, Any], on: date) -> CommitmentRead:
    return CommitmentRead(**row, overdue=row["status"] == CommitmentStatus.open and row["due_date"] < on)


async def commitment_rows(production_ids: list[UUID], compact_ids: set[UUID] | None = None) -> list[CommitmentRead]:
    """Commitments of these productions (optionally under these compacts only), by due date. Call inside a transaction."""
    if not production_ids or compact_ids == set():
        return []
    query = Commitment.select(*_COLUMNS).where(Commitment.production.is_in(sorted(set(production_ids))))
    if compact_ids is not None:
        query = query.where(Commitment.compact.is_in(sorted(compact_ids)))
    rows = await query.order_by(Commitment.due_date).order_by(Commitment.production.title).order_by(Commitment.key)
    on = today()
    return [_read(r, on) for r in rows]


async def party_officer_compacts(principal: Principal) -> set[UUID]:
    """Compacts one of whose parties this user is an officer of."""
    orgs = principal.orgs_with_role(Role.officer)
    if not orgs:
        return set()
    rows = await CompactParty.select(CompactParty.compact).where(CompactParty.organization.is_in(orgs))
    return {r["compact"] for r in rows}


async def list_commitments(principal: Principal, production_id: UUID) -> list[CommitmentRead]:
    """All of them for the company's producers and officers; a party officer sees those under their compacts."""

    async with read_tx():
        try:
            await production_row(principal, production_id)
            visible = None
        except NotFound:
            bound = {
                b["compact"]
                for b in await ProductionBinding.select(ProductionBinding.compact).where(
                    ProductionBinding.production == production_id
                )
            }
            visible = bound & await party_officer_compacts(principal)
            if not visible:
                raise
        return await commitment_rows([production_id], visible)


# --- writing -----------------------------------------------------------------------------------------


async def create_commitments(actor_id: UUID | None, production_id: UUID, version_id: UUID) -> list[UUID]:
    """Turn the version's commitment rules into rows for this production. Runs in the caller's write transaction.

    Nothing is created when the production lacks a shoot start or end date. Returns the new rows' ids.
    """
    production = (
        await Production.select(Production.start_date, Production.end_date)
        .where(Production.id == production_id)
        .first()
    )
    version = (
        await CompactVersion.select(
            CompactVersion.compact,
            CompactVersion.number,
            CompactVersion.terms,
            CompactVersion.compact.slug.as_alias("slug"),
        )
        .where(CompactVersion.id == version_id)
        .first()
        .output(load_json=True)
    )
    if production is None or version is None:
        return []
    start, end = production["start_date"], production["end_date"]
    if start is None or end is None or end < start:
        return []
    rules = _RULES.validate_python((version["terms"] or {}).get("apprenticeship_commitments") or [])
    now = _now()
    rows = [
        Commitment(
            id=uuid4(),
            production=production_id,
            compact=version["compact"],
            version=version_id,
            key=rule.key,
            title=rule.title,
            due_date=due,
            status=CommitmentStatus.open.value,
            done_at=None,
            created_at=now,
        )
        for rule, due in due_dates(rules, start, end)
    ]
    if not rows:
        return []
    await Commitment.insert(*rows)
    await audit.record(
        actor_id,
        "commitments.created",
        "production",
        production_id,
        {
            "compact": version["slug"],
            "version": version["number"],
            "commitments": [{"key": r.key, "due_date": r.due_date.isoformat()} for r in rows],
        },
    )
    return [r.id for r in rows]


async def reschedule_commitments(actor_id: UUID | None, production_id: UUID) -> list[dict[str, Any]]:
    """After the shoot dates changed, in the caller's write transaction: every open commitment of every
    bound version takes the due date the new dates give; a rule that now applies gets its commitment
    (a withdrawn one reopens); an open commitment whose rule no longer applies (the shoot's length is
    outside the rule's range, or a date was cleared) is withdrawn, kept with status ``withdrawn``. Done
    commitments never change (the caller holds the production's row lock, as ``mark_done`` does, and the
    updates are conditional besides). Returns the changes (also audited)."""
    production = (
        await Production.select(Production.start_date, Production.end_date)
        .where(Production.id == production_id)
        .first()
    )
    if production is None:
        return []
    start, end = production["start_date"], production["end_date"]
    bindings = (
        await ProductionBinding.select(
            ProductionBinding.version,
            ProductionBinding.compact,
            ProductionBinding.version.terms.as_alias("terms"),
        )
        .where(ProductionBinding.production == production_id)
        .output(load_json=True)
    )
    existing = await Commitment.select(
        Commitment.id, Commitment.version, Commitment.key, Commitment.due_date, Commitment.status
    ).where(Commitment.production == production_id)
    now, changes, new_rows = _now(), [], []
    for binding in bindings:
        rules = _RULES.validate_python((binding["terms"] or {}).get("apprenticeship_commitments") or [])
        wanted = {} if start is None or end is None else {r.key: (r, due) for r, due in due_dates(rules, start, end)}
        mine = {c["key"]: c for c in existing if c["version"] == binding["version"]}
        for key, c in mine.items():
            if c["status"] == CommitmentStatus.done:
                continue
            if key in wanted:
                due = wanted[key][1]
                if c["status"] != CommitmentStatus.open or c["due_date"] != due:
                    await Commitment.update(
                        {Commitment.status: CommitmentStatus.open.value, Commitment.due_date: due}
                    ).where((Commitment.id == c["id"]) & (Commitment.status != CommitmentStatus.done.value))
                    changes.append(
                        {
                            "key": key,
                            "from": c["due_date"].isoformat(),
                            "to": due.isoformat(),
                            "status": CommitmentStatus.open.value,
                        }
                    )
            elif c["status"] == CommitmentStatus.open:
                await Commitment.update({Commitment.status: CommitmentStatus.withdrawn.value}).where(
                    (Commitment.id == c["id"]) & (Commitment.status == CommitmentStatus.open.value)
                )
                changes.append(
                    {
                        "key": key,
                        "from": c["due_date"].isoformat(),
                        "to": None,
                        "status": CommitmentStatus.withdrawn.value,
                    }
                )
        for key, (rule, due) in wanted.items():
            if key not in mine:
                new_rows.append(
                    Commitment(
                        id=uuid4(),
                        production=production_id,
                        compact=binding["compact"],
                        version=binding["version"],
                        key=key,
                        title=rule.title,
                        due_date=due,
                        status=CommitmentStatus.open.value,
                        done_at=None,
                        created_at=now,
                    )
                )
                changes.append({"key": key, "from": None, "to": due.isoformat(), "status": CommitmentStatus.open.value})
    if new_rows:
        await Commitment.insert(*new_rows)
    if changes:
        await audit.record(
            actor_id,
            "commitments.rescheduled",
            "production",
            production_id,
            {"shoot": [None if d is None else d.isoformat() for d in (start, end)], "changes": changes},
        )
    return changes


async def mark_done(principal: Principal, production_id: UUID, commitment_id: UUID) -> CommitmentRead:
    """Producers of the company mark an open commitment done; one that is already done (or withdrawn) is
    409. The production row is locked first, so a concurrent change of shoot dates (which reschedules or
    withdraws open commitments) runs before or after, never in between; the conditional UPDATE makes
    exactly one of several concurrent requests the one that marks it (one audit event)."""

    async with write_tx():
        await production_row(principal, production_id, write=True, lock=True)
        row = (
            await Commitment.select(Commitment.id, Commitment.key, Commitment.due_date, Commitment.status)
            .where((Commitment.id == commitment_id) & (Commitment.production == production_id))
            .first()
        )
        if row is None:
            raise NotFound(f"production {production_id} has no commitment {commitment_id}")
        now = _now()
        changed = (
            await Commitment.update({Commitment.status: CommitmentStatus.done.value, Commitment.done_at: now})
            .where((Commitment.id == commitment_id) & (Commitment.status == CommitmentStatus.open.value))
            .returning(Commitment.id)
        )
        if not changed:
            status = (await Commitment.select(Commitment.status).where(Commitment.id == commitment_id).first())[
                "status"
            ]
            if status == CommitmentStatus.withdrawn:
                raise Conflict(
                    f"commitment {row['key']!r} was withdrawn: its rule no longer applies to the shoot dates",
                    rule="commitment_withdrawn",
                )
            raise Conflict(f"commitment {row['key']!r} is already {status}", rule="commitment_done")
        await audit.record(
            principal.id,
            "commitment.done",
            "production",
            production_id,
            {
                "commitment_id": str(commitment_id),
                "key": row["key"],
                "due_date": row["due_date"].isoformat(),
                "late": now.date() > row["due_date"],
            },
        )
        rows = await Commitment.select(*_COLUMNS).where(Commitment.id == commitment_id)
    return _read(rows[0], today())
