"""Unique index: one commitment per (production, compact version, key) (raw SQL, portable to SQLite)."""

from guild.infra.migration_helpers import unique_indexes

ID = "2026-11-24T10:12:18:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique commitments"

INDEXES = {"commitment_production_version_key": "commitment (production, version, key)"}


async def forwards():
    return unique_indexes(ID, DESCRIPTION, INDEXES)
