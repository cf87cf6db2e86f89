"""Unique indexes for productions, custom clauses and contracts (raw SQL, portable to SQLite).

- a production binds to one version per compact
- custom clause keys are versioned per organisation
- an Idempotency-Key issues at most one contract per production
"""

from guild.infra.migration_helpers import unique_indexes

ID = "2026-11-24T09:32:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes for productions, custom clauses and contracts"

INDEXES = {
    "production_binding_production_compact": "production_binding (production, compact)",
    "custom_clause_org_key_version": "custom_clause (organization, key, version)",
    "contract_production_idempotency_key": "contract (production, idempotency_key)",
}


async def forwards():
    return unique_indexes(ID, DESCRIPTION, INDEXES)
