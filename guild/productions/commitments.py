"""Apprenticeship commitments: obligations with due dates that a production takes on when it binds.

When a production binds to a compact version, each rule of the version's
``terms.apprenticeship_commitments`` that applies to the shoot becomes one :class:`~guild.infra.tables.Commitment`
row, its due date computed from the production's shoot dates (``start_date`` = shoot start,
``end_date`` = shoot end). A production without both shoot dates gets no commitments at binding.
When the shoot dates change, the commitments follow them: where they move, reopen, are withdrawn or
are new is decided by the pure :func:`guild.productions.lifecycle.reschedule`; this module loads,
calls it, persists the changes and audits them.

Producers of the production company mark a commitment done; producers and officers of the company
read all of a production's commitments, officers of a bound compact's parties read those under
that compact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from guild.compacts.bound import BoundVersion
from guild.domain.errors import Conflict, NotFound
from guild.domain.principal import Principal, Role
from guild.domain.values import Out
from guild.infra import audit
from guild.infra.db import read_tx, write_tx
from guild.infra.tables import Commitment, CompactParty, Production, ProductionBinding
from guild.productions.lifecycle import DONE, OPEN, WITHDRAWN, Change, Held, Shoot, VersionRules, due_dates, reschedule
from guild.productions.queries import bound_versions, production_row

__all__ = [
    "CommitmentRead",
    "commitment_rows",
    "create_commitments",
    "due_dates",
    "list_commitments",
    "mark_done",
    "party_officer_compacts",
    "reschedule_commitments",
    "today",
]


def today() -> date:
    """The current UTC date: what "overdue" and "weeks served" are measured against."""
    return datetime.now(UTC).date()


def _now() -> datetime:
    return datetime.now(UTC)


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
    return CommitmentRead(**row, overdue=row["status"] == OPEN and row["due_date"] < on)


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


async def _dates(production_id: UUID) -> tuple[date | None, date | None] | None:
    """The production's shoot start and end (either may be unset); None: no such production."""
    row = (
        await Production.select(Production.start_date, Production.end_date)
        .where(Production.id == production_id)
        .first()
    )
    return None if row is None else (row["start_date"], row["end_date"])


def _shoot(start: date | None, end: date | None) -> Shoot | None:
    return None if start is None or end is None else Shoot(start, end)


def _rules(bound: Sequence[BoundVersion]) -> list[VersionRules]:
    return [VersionRules(b.version_id, b.terms.apprenticeship_commitments, b.terms.working_calendar) for b in bound]


async def _held(production_id: UUID) -> list[Held]:
    rows = await Commitment.select(
        Commitment.id, Commitment.version, Commitment.key, Commitment.due_date, Commitment.status, Commitment.title
    ).where(Commitment.production == production_id)
    return [Held(r["id"], r["version"], r["key"], r["due_date"], r["status"], r["title"]) for r in rows]


async def _persist(production_id: UUID, changes: Sequence[Change], bound: Sequence[BoundVersion]) -> list[Commitment]:
    """Write the changes: moves and reopenings never touch a done commitment, withdrawals only an open one
    (conditional UPDATEs), new commitments in one INSERT. Returns the new rows."""
    compact_of = {b.version_id: b.compact_id for b in bound}
    now, new_rows = _now(), []
    for c in changes:
        if c.commitment_id is None:
            new_rows.append(
                Commitment(
                    id=uuid4(),
                    production=production_id,
                    compact=compact_of[c.version_id],
                    version=c.version_id,
                    key=c.key,
                    title=c.title,
                    due_date=c.to_date,
                    status=OPEN,
                    done_at=None,
                    created_at=now,
                )
            )
        elif c.status == WITHDRAWN:
            await Commitment.update({Commitment.status: WITHDRAWN}).where(
                (Commitment.id == c.commitment_id) & (Commitment.status == OPEN)
            )
        else:
            await Commitment.update({Commitment.status: OPEN, Commitment.due_date: c.to_date}).where(
                (Commitment.id == c.commitment_id) & (Commitment.status != DONE)
            )
    if new_rows:
        await Commitment.insert(*new_rows)
    return new_rows


async def create_commitments(actor_id: UUID | None, production_id: UUID, version_id: UUID) -> list[UUID]:
    """Turn the newly bound version's commitment rules into rows for this production. Runs in the caller's
    write transaction, after the binding is written.

    Nothing is created when the production lacks a shoot start or end date. Returns the new rows' ids.
    """
    dates = await _dates(production_id)
    shoot = None if dates is None else _shoot(*dates)
    if shoot is None or shoot.end < shoot.start:
        return []
    bound = [b for b in await bound_versions(production_id) if b.version_id == version_id]
    if not bound:
        return []
    rows = await _persist(production_id, reschedule([], _rules(bound), shoot), bound)
    if not rows:
        return []
    await audit.record(
        actor_id,
        "commitments.created",
        "production",
        production_id,
        {
            "compact": bound[0].compact_slug,
            "version": bound[0].version_number,
            "commitments": [{"key": r.key, "due_date": r.due_date.isoformat()} for r in rows],
        },
    )
    return [r.id for r in rows]


async def reschedule_commitments(actor_id: UUID | None, production_id: UUID) -> list[Change]:
    """After the shoot dates changed, in the caller's write transaction: the commitments of every bound
    version follow the new dates (:func:`guild.productions.lifecycle.reschedule`: open ones move, a rule
    that now applies gets its commitment or reopens a withdrawn one, an open one whose rule no longer
    applies is withdrawn; done ones never change). The caller holds the production's row lock, as
    ``mark_done`` does, and the updates are conditional besides. Returns the changes (also audited)."""
    dates = await _dates(production_id)
    if dates is None:
        return []
    bound = await bound_versions(production_id)
    changes = reschedule(await _held(production_id), _rules(bound), _shoot(*dates))
    await _persist(production_id, changes, bound)
    if changes:
        await audit.record(
            actor_id,
            "commitments.rescheduled",
            "production",
            production_id,
            {
                "shoot": [None if d is None else d.isoformat() for d in dates],
                "changes": [c.audit() for c in changes],
            },
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
            await Commitment.update({Commitment.status: DONE, Commitment.done_at: now})
            .where((Commitment.id == commitment_id) & (Commitment.status == OPEN))
            .returning(Commitment.id)
        )
        if not changed:
            status = (await Commitment.select(Commitment.status).where(Commitment.id == commitment_id))[0]["status"]
            if status == WITHDRAWN:
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
