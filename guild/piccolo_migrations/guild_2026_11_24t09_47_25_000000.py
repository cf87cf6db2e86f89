"""Unique indexes for compliance (raw SQL, portable to SQLite).

- one disclosure row per (production, category)
- a scheduled slot runs once: one run per (job_id, slot); on-demand runs have NULL job ids
- one OPEN finding per (production, version, rule, subject); resolved ones accumulate as history
"""

from guild.infra.migration_helpers import unique_indexes

ID = "2026-11-24T09:47:25:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes for disclosures, runs and findings"

INDEXES = {
    "asset_disclosure_production_category": "asset_disclosure (production, category)",
    "compliance_run_job_slot": "compliance_run (job_id, slot)",
    "finding_one_open": "finding (production, version, rule, subject) WHERE status = 'open'",
}


async def forwards():
    return unique_indexes(ID, DESCRIPTION, INDEXES)
