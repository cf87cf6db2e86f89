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

from pydantic import Field

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
    "CommitmentCitation",
    "CommitmentRead",
    "commitment_rows",
    "create_commitments",
    "due_dates",
    "list_commitments",
    "mark_done",
    "merge_commitments",
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


class CommitmentCitation(Out):
    commitment_id: UUID = Field(
        description="the row kept for this compact version (marking it done marks the whole commitment done)",
        examples=["5b0c6f1e-2d8a-4c1e-9a57-0f3e2b7d9c11"],
    )
    compact: str = Field(description="the slug of the compact requiring the commitment", examples=["screen-guild"])
    version_number: int = Field(description="the bound version of that compact", examples=[1])
    due_date: date = Field(description="when this compact requires it (ISO date)", examples=["2040-02-20"])
    status: str = Field(
        description="open, done, or withdrawn (this compact's rule no longer applies to the shoot dates)",
        examples=["open"],
    )


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
    cited_by: list[CommitmentCitation] = Field(
        default_factory=list,
        description=(
            "every bound compact version requiring this commitment of the production, by due date. One obligation,"
            " one commitment: the entry is due on the earliest open due date among them (the strictest; id, compact"
            " and version_number are that one's), and marking it done satisfies all of them"
        ),
        examples=[
            [
                {
                    "commitment_id": "5b0c6f1e-2d8a-4c1e-9a57-0f3e2b7d9c11",
                    "compact": "screen-guild",
                    "version_number": 1,
                    "due_date": "2040-02-20",
                    "status": "open",
                },
                {
                    "commitment_id": "9d4e2a70-61b3-4f0a-8c25-3e7f1d6b0a42",
                    "compact": "film-fund",
                    "version_number": 2,
                    "due_date": "2040-02-27",
                    "status": "open",
                },
            ]
        ],
    )


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

_STATUS_RANK = {OPEN: 0, DONE: 1, WITHDRAWN: 2}


def merge_commitments(rows: Sequence[dict[str, Any]], on: date) -> list[CommitmentRead]:
    """One entry per (production, key) out of the per-version rows (the ``_COLUMNS`` of each), as of ``on``.

    The entry is open while any row is open (what is still to be filed), else done while any is done,
    else withdrawn; it shows the earliest due date among the rows of that status, and that row's id, compact,
    version and title. ``done_at`` of a done entry is the latest of its rows' (when the last compact was
    satisfied). ``cited_by`` lists every row. Ordered by due date, production title, key."""
    groups: dict[tuple[Any, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["production_id"], r["key"]), []).append(r)
    out = []
    for group in groups.values():
        group.sort(key=lambda r: (r["due_date"], r["compact"], r["version_number"], str(r["id"])))
        first = min(group, key=lambda r: _STATUS_RANK.get(r["status"], 3))  # the earliest of the leading status
        status = first["status"]
        done_ats = [r["done_at"] for r in group if r["status"] == DONE and r["done_at"] is not None]
        out.append(
            CommitmentRead(
                **{**first, "done_at": max(done_ats) if status == DONE and done_ats else first["done_at"]},
                overdue=status == OPEN and first["due_date"] < on,
                cited_by=[
                    CommitmentCitation(
                        commitment_id=r["id"],
                        compact=r["compact"],
                        version_number=r["version_number"],
                        due_date=r["due_date"],
                        status=r["status"],
                    )
                    for r in group
                ],
            )
        )
    out.sort(key=lambda c: (c.due_date, c.production_title, c.key))
    return out


async def commitment_rows(production_ids: list[UUID], compact_ids: set[UUID] | None = None) -> list[CommitmentRead]:
    """Commitments of these productions (optionally under these compacts only: merged over those alone),
    one per production and key (:func:`merge_commitments`), by due date. Call inside a transaction."""
    if not production_ids or compact_ids == set():
        return []
    query = Commitment.select(*_COLUMNS).where(Commitment.production.is_in(sorted(set(production_ids))))
    if compact_ids is not None:
        query = query.where(Commitment.compact.is_in(sorted(compact_ids)))
    return merge_commitments(await query, today())


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
    """Producers of the company mark an open commitment done: every open row of its key on the production
    (one obligation, one commitment: each compact requiring it is satisfied), whichever row's id is given.
    One that is already done (or withdrawn) is 409. The production row is locked first, so a concurrent
    change of shoot dates (which reschedules or withdraws open commitments) runs before or after, never in
    between; the conditional UPDATE makes exactly one of several concurrent requests (by any row id of the
    key) the one that marks it (one audit event)."""

    async with write_tx():
        await production_row(principal, production_id, write=True, lock=True)
        row = (
            await Commitment.select(Commitment.id, Commitment.key)
            .where((Commitment.id == commitment_id) & (Commitment.production == production_id))
            .first()
        )
        if row is None:
            raise NotFound(f"production {production_id} has no commitment {commitment_id}")
        same_key = (Commitment.production == production_id) & (Commitment.key == row["key"])
        now = _now()
        changed = (
            await Commitment.update({Commitment.status: DONE, Commitment.done_at: now})
            .where(same_key & (Commitment.status == OPEN))
            .returning(Commitment.id, Commitment.due_date)
        )
        if not changed:
            statuses = {r["status"] for r in await Commitment.select(Commitment.status).where(same_key)}
            if DONE not in statuses:
                raise Conflict(
                    f"commitment {row['key']!r} was withdrawn: its rule no longer applies to the shoot dates",
                    rule="commitment_withdrawn",
                )
            raise Conflict(f"commitment {row['key']!r} is already {DONE}", rule="commitment_done")
        changed.sort(key=lambda r: (r["due_date"], str(r["id"])))
        due = changed[0]["due_date"]
        await audit.record(
            principal.id,
            "commitment.done",
            "production",
            production_id,
            {
                "commitment_id": str(commitment_id),
                "key": row["key"],
                "due_date": due.isoformat(),
                "late": now.date() > due,
                "commitments": [str(r["id"]) for r in changed],
            },
        )
        rows = await Commitment.select(*_COLUMNS).where(same_key)
    return merge_commitments(rows, today())[0]
