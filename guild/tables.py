"""Piccolo tables. Every primary key is a UUID; every timestamp is ``Timestamptz`` (UTC)."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class User(Table, tablename="guild_user"):
    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True, index=True)
    name = Varchar(length=200)
    password_hash = Varchar(length=255)
    is_admin = Boolean(default=False)
    is_active = Boolean(default=True)
    created_at = Timestamptz()


class Organization(Table, tablename="organization"):
    id = UUID(primary_key=True)
    slug = Varchar(length=64, unique=True, index=True)
    name = Varchar(length=200)
    kind = Varchar(length=32)
    created_at = Timestamptz()


class Membership(Table, tablename="membership"):
    id = UUID(primary_key=True)
    organization = ForeignKey(references=Organization, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=16)
    created_at = Timestamptz()
    # unique (organization, user, role): a unique index made in the migration (SQLite cannot ALTER ADD CONSTRAINT)


class AuditEvent(Table, tablename="audit_event"):
    """Append-only, hash-chained log of every state change."""

    seq = BigInt(unique=True, index=True)
    id = UUID(primary_key=True)
    at = Timestamptz()
    actor_id = Varchar(length=64, null=True)
    action = Varchar(length=64)
    entity_type = Varchar(length=64)
    entity_id = Varchar(length=64)
    data = JSON()
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)


class Compact(Table, tablename="compact"):
    id = UUID(primary_key=True)
    slug = Varchar(length=64, unique=True, index=True)
    title = Varchar(length=200)
    convening_org = ForeignKey(references=Organization, on_delete=OnDelete.restrict, index=True)
    created_by = Varchar(length=64, null=True)
    created_at = Timestamptz()


class CompactParty(Table, tablename="compact_party"):
    """A signatory organisation of a compact (unique per compact: index made in the migration)."""

    id = UUID(primary_key=True)
    compact = ForeignKey(references=Compact, on_delete=OnDelete.cascade, index=True)
    organization = ForeignKey(references=Organization, on_delete=OnDelete.restrict, index=True)
    added_at = Timestamptz()


class CompactVersion(Table, tablename="compact_version"):
    """One version of a compact's terms. From ``proposed`` on, ``terms`` and ``parties`` never change."""

    id = UUID(primary_key=True)
    compact = ForeignKey(references=Compact, on_delete=OnDelete.cascade, index=True)
    number = Integer()
    parent_number = Integer(null=True)
    status = Varchar(length=16, index=True)
    terms = JSON()
    parties = JSON(default="[]")  # signatory org slugs, frozen at proposal
    terms_hash = Varchar(length=64, null=True, index=True)
    revision = Integer(default=1)
    created_by = Varchar(length=64, null=True)
    created_at = Timestamptz()
    proposed_at = Timestamptz(null=True, default=None)
    ratified_at = Timestamptz(null=True, default=None)
    superseded_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    closed_reason = Text(default="")


class RatificationDecision(Table, tablename="ratification_decision"):
    """One party's decision on one proposed version (unique per version and party: index in the migration)."""

    id = UUID(primary_key=True)
    version = ForeignKey(references=CompactVersion, on_delete=OnDelete.cascade, index=True)
    organization = ForeignKey(references=Organization, on_delete=OnDelete.restrict)
    decision = Varchar(length=16)
    reason = Text(default="")
    decided_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    decided_at = Timestamptz()
