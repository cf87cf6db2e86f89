"""Bindings follow amendments: a production bound to a compact version moves to the amendment that replaces it.

Two ways, one operation (:func:`move_bindings`):

- an amendment is ratified (its parent, the version in force, is superseded): every production bound to
  the superseded version moves to the amendment, in the ratification's transaction
  (:func:`guild.compacts.service.on_amendment_ratified`; the actor is the officer whose decision ratified);
- a producer binds a production to a newer version of a compact it is already bound to
  (:func:`guild.productions.service.bind`): the binding is updated, not refused.

Moving a binding changes its version, hash and ``bound_at``; the production's apprenticeship commitments under
the old version move with it (same key, status and due date) and, where the amendment changed the commitment
rules, are rescheduled against the new ones (:func:`guild.productions.commitments.reschedule_commitments`).
Each moved binding is audited as ``production.bound`` (the event every binding's row is cross-checked
against) with ``previous_version`` and ``cause``. The write to ``production_binding`` marks the production
changed (the compliance inputs trigger), so the next incremental sweep checks it against the new terms.

Writers take their locks in one order: the compact (advisory lock), then production rows (in id order),
then the audit log; the ratification takes the production rows in :func:`lock_bound` before it writes
anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from guild.compacts.lifecycle import Version
from guild.compacts.service import AmendmentFollower, AmendmentRatified, on_amendment_ratified
from guild.infra import audit
from guild.infra.db import in_list, is_sqlite, raw
from guild.infra.tables import Commitment, ProductionBinding
from guild.productions.commitments import reschedule_commitments

__all__ = ["Cause", "lock_productions", "move_bindings"]

Cause = Literal["amendment_ratified", "rebound_by_producer"]
_CHUNK = 500  # production ids per statement


def _chunks(ids: Sequence[UUID]) -> Iterator[list[UUID]]:
    for i in range(0, len(ids), _CHUNK):
        yield list(ids[i : i + _CHUNK])


async def lock_productions(production_ids: Sequence[UUID]) -> None:
    """Lock these production rows until the transaction ends, in id order (two lockers of overlapping sets
    cannot deadlock). PostgreSQL; SQLite's IMMEDIATE write transaction already holds the only write lock."""
    if is_sqlite():
        return
    for chunk in _chunks(sorted(set(production_ids))):
        await raw("SELECT id FROM production WHERE {} ORDER BY id FOR NO KEY UPDATE", in_list("id", chunk))


async def _bound_to(version_id: UUID) -> list[UUID]:
    rows = await ProductionBinding.select(ProductionBinding.production).where(ProductionBinding.version == version_id)
    return sorted({r["production"] for r in rows})


async def move_bindings(
    actor_id: UUID | None,
    compact_slug: str,
    old: Version,
    new: Version,
    production_ids: Sequence[UUID],
    *,
    cause: Cause,
) -> list[UUID]:
    """Move these productions' bindings from ``old`` to ``new`` (two versions of one compact), with their
    commitments, in the caller's write transaction (which holds the compact's lock). Only bindings still to
    ``old`` move (conditional UPDATE). Returns the productions moved, in id order."""
    ids = sorted(set(production_ids))
    if not ids or new.terms_hash is None:
        return []
    await lock_productions(ids)
    now = datetime.now(UTC)
    moved: list[UUID] = []
    for chunk in _chunks(ids):
        rows = (
            await ProductionBinding.update(
                {
                    ProductionBinding.version: new.id,
                    ProductionBinding.version_hash: new.terms_hash,
                    ProductionBinding.bound_at: now,
                }
            )
            .where((ProductionBinding.version == old.id) & ProductionBinding.production.is_in(chunk))
            .returning(ProductionBinding.production)
        )
        done = sorted({r["production"] for r in rows})
        if done:
            await Commitment.update({Commitment.version: new.id}).where(
                (Commitment.version == old.id) & Commitment.production.is_in(done)
            )
        moved += done
    if old.terms.apprenticeship_commitments != new.terms.apprenticeship_commitments:
        for pid in moved:  # the moved commitments follow the new rules (new, moved, withdrawn ones)
            await reschedule_commitments(actor_id, pid)
    for pid in moved:
        await audit.record(
            actor_id,
            "production.bound",
            "production",
            pid,
            {
                "compact": compact_slug,
                "version": new.number,
                "version_hash": new.terms_hash,
                "previous_version": old.number,
                "previous_version_hash": old.terms_hash,
                "cause": cause,
            },
        )
    return moved


async def _lock_bound(event: AmendmentRatified) -> None:
    await lock_productions(await _bound_to(event.superseded.id))


async def _follow(event: AmendmentRatified) -> None:
    await move_bindings(
        event.actor_id,
        event.compact_slug,
        event.superseded,
        event.ratified,
        await _bound_to(event.superseded.id),
        cause="amendment_ratified",
    )


FOLLOWER = on_amendment_ratified(AmendmentFollower(lock=_lock_bound, follow=_follow))
