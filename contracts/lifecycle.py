"""The life of an issued contract, as pure functions over frozen values.

    issued ──void──▶ void
       └──a later contract for the same engagement──▶ superseded

An engagement has at most one live (``issued``) contract. A new contract for it names the live one in
``supersedes`` (or there is none), and that one becomes ``superseded``. ``void`` and ``superseded`` are
final: such a contract stays readable and never changes again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from guild.domain.errors import Conflict
from guild.domain.statuses import ContractStatus

FINAL_STATUSES = frozenset({ContractStatus.void, ContractStatus.superseded})


@dataclass(frozen=True)
class ContractState:
    """What a contract's lifecycle changes."""

    id: UUID
    status: ContractStatus
    voided_at: datetime | None = None
    void_reason: str = ""
    superseded_by: UUID | None = None
    superseded_at: datetime | None = None


def void(contract: ContractState, reason: str, *, at: datetime) -> ContractState:
    """Void the live contract; a void or superseded one cannot be voided (409)."""
    if contract.status != ContractStatus.issued:
        raise Conflict(f"contract {contract.id} is already {contract.status}", rule="void_issued_only")
    return replace(contract, status=ContractStatus.void, voided_at=at, void_reason=reason)


def supersede(contract: ContractState, *, by: UUID, at: datetime) -> ContractState:
    """Replace the live contract with contract ``by``; one that is no longer live cannot be replaced (409)."""
    if contract.status != ContractStatus.issued:
        raise Conflict(
            f"contract {contract.id} is no longer live: nothing to supersede",
            rule="supersede_live_only",
            field="supersedes",
        )
    return replace(contract, status=ContractStatus.superseded, superseded_by=by, superseded_at=at)


def replaceable(live: UUID | None, engagement_id: UUID, supersedes: UUID | None) -> UUID | None:
    """The live contract a new contract for the engagement replaces (None: there is none).

    409 when the engagement has a live contract the request does not name in ``supersedes``, or when the
    request names one that is not the live one.
    """
    if live is None:
        if supersedes is not None:
            raise Conflict(
                f"contract {supersedes} is not the live contract of engagement {engagement_id} "
                "(it has none): nothing to supersede",
                rule="supersede_live_only",
                field="supersedes",
            )
        return None
    if supersedes is None:
        raise Conflict(
            f"engagement {engagement_id} already has a live contract, {live}; void it, or send "
            f'"supersedes": "{live}" to replace it',
            rule="one_live_contract",
            field="engagement_id",
            live_contract_id=str(live),
        )
    if supersedes != live:
        raise Conflict(
            f"contract {supersedes} is not the live contract of engagement {engagement_id}; "
            f"its live contract is {live}",
            rule="supersede_live_only",
            field="supersedes",
            live_contract_id=str(live),
        )
    return live
