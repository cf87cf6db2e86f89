"""Every status a stored record can have: one StrEnum per record kind, used by tables (choices) and services.

A member is its stored value (``StrEnum``), so it compares equal to what a query returns and can be written
as is; raw SQL builds its literals from ``.value`` (never a hand-typed string). The ones the API shows keep
their notes in comments, not docstrings: a docstring would become the OpenAPI schema's description.
"""

from __future__ import annotations

from enum import StrEnum


class ContractStatus(StrEnum):
    """An engagement has at most one ``issued`` (live) contract; ``void`` and ``superseded`` ones stay readable."""

    issued = "issued"
    void = "void"
    superseded = "superseded"  # replaced by a later contract for the same engagement (``superseded_by``)


# A compact version: draft → proposed → ratified (→ superseded by the next ratified one), or rejected by a party, or
# withdrawn while a draft or proposal.
class VersionStatus(StrEnum):
    draft = "draft"
    proposed = "proposed"
    ratified = "ratified"
    superseded = "superseded"
    rejected = "rejected"
    withdrawn = "withdrawn"


# A party's recorded decision on a proposed version (the API's ``approve`` / ``reject``, stored as done).
class Decision(StrEnum):
    approved = "approved"
    rejected = "rejected"


class ProductionStatus(StrEnum):
    development = "development"
    pre_production = "pre_production"
    shooting = "shooting"
    post_production = "post_production"
    released = "released"


# An invitation exists only while it is pending: accepting it makes a membership, declining or withdrawing it
# deletes it (there is no stored column; API reads carry ``pending``).
class InvitationStatus(StrEnum):
    pending = "pending"


class CommitmentStatus(StrEnum):
    open = "open"
    done = "done"
    withdrawn = "withdrawn"  # its rule no longer applies (shoot dates moved out of its range, or cleared)


# Why a compliance run exists: a scheduled sweep slot, or an on-demand check.
class RunTrigger(StrEnum):
    scheduled = "scheduled"
    on_demand = "on_demand"


class RunStatus(StrEnum):
    running = "running"
    completed = "completed"
    failed = "failed"


# At most one ``open`` finding per (production, version, rule, subject); resolved ones are kept.
class FindingStatus(StrEnum):
    open = "open"
    resolved = "resolved"


# A webhook delivery: ``pending`` until delivered, or ``failed`` after its last attempt (or when its endpoint is
# deactivated). An endpoint itself is only active or not (``WebhookEndpoint.active``).
class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class MailStatus(StrEnum):
    """An outbox message: waiting (or retrying), handed to the SMTP server, or given up after its last attempt."""

    pending = "pending"
    sent = "sent"
    failed = "failed"
