"""The lease a process holds on a running compliance run, as the sweep sees it at each batch commit.

A scheduled run is worked on by one process at a time: the one whose claim is recorded on the
``compliance_run`` row (``owner`` and ``lease_epoch``) and whose lease (``lease_expires_at``) it keeps
renewing. Any other process may take a run over once its lease has lapsed; the take-over bumps
``lease_epoch``. ``lease_epoch`` is a fencing token: every write that needs the lease (a batch's
cursor, a renewal, the final status) is conditional on the epoch the writer claimed, so an owner
that lost its lease (it was frozen, its heartbeats failed) has its next write refused instead of
racing the process that took over. Claiming and taking over live in :mod:`scheduler.runs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from guild.domain.statuses import RunStatus
from guild.infra.tables import ComplianceRun

RUNNING = RunStatus.running.value


@dataclass(frozen=True)
class RunLease:
    """Proof of a claim on a running run: who claimed it, with which epoch, for how long at a time."""

    run_id: UUID
    owner: str
    epoch: int
    length: timedelta

    def held(self) -> Any:
        """WHERE clause: the run is still running under this very claim (nobody took it over since)."""
        return (
            (ComplianceRun.id == self.run_id)
            & (ComplianceRun.status == RUNNING)
            & (ComplianceRun.owner == self.owner)
            & (ComplianceRun.lease_epoch == self.epoch)
        )

    def renewal(self, now: datetime) -> dict[Any, Any]:
        """Column values that extend the lease from ``now`` (a heartbeat, or a committed batch)."""
        return {ComplianceRun.heartbeat_at: now, ComplianceRun.lease_expires_at: now + self.length}


__all__ = ["RUNNING", "RunLease"]
