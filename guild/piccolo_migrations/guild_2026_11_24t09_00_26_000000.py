"""Composite unique index on membership (organization, user, role).

Written as raw SQL because SQLite cannot ALTER TABLE ... ADD CONSTRAINT; the index is portable.
"""

from guild.infra.migration_helpers import unique_indexes

ID = "2026-11-24T09:00:26:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique (organization, user, role) on membership"


INDEXES = {"membership_org_user_role": 'membership (organization, "user", role)'}


async def forwards():
    return unique_indexes(ID, DESCRIPTION, INDEXES)
