"""Piccolo tables. Every primary key is a UUID; every timestamp is ``Timestamptz`` (UTC)."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    ForeignKey,
    OnDelete,
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
