"""Unique indexes for compacts (raw SQL: portable to SQLite, which cannot ALTER TABLE ... ADD CONSTRAINT).

- one party row per (compact, organization)
- version numbers unique per compact
- one decision per (version, organization): ratifying twice is refused by the database too
- at most one open (draft or proposed) version per compact: amendments do not fork
"""

from guild.infra.migration_helpers import unique_indexes

ID = "2026-11-24T09:26:18:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes for compacts"

INDEXES = {
    "compact_party_compact_org": "compact_party (compact, organization)",
    "compact_version_compact_number": "compact_version (compact, number)",
    "ratification_version_org": "ratification_decision (version, organization)",
    "compact_version_one_open": "compact_version (compact) WHERE status IN ('draft', 'proposed')",
}


async def forwards():
    return unique_indexes(ID, DESCRIPTION, INDEXES)
