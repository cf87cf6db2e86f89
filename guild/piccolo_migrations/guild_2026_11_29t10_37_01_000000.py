"""Audit anchoring and invitations, the raw part: indexes, and a MAC for every existing audit event.

The MAC is HMAC-SHA256 over the event's hash with the audit key (GUILD_AUDIT_KEY, or the key file in
the data folder, made here when missing): ``guild.infra.audit.event_mac``, scheme "guild.audit.event/1",
written out here so this released migration never changes with later code.
"""

import hashlib
import hmac

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T10:37:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit event entity index, invitation uniqueness, MACs of existing audit events"
BATCH = 1000


class _Raw(Table):
    pass


def _mac(key: bytes, event_hash: str) -> str:
    return hmac.new(key, b"guild.audit.event/1\x00" + event_hash.encode("ascii"), hashlib.sha256).hexdigest()


async def create_indexes() -> None:
    await _Raw.raw("CREATE INDEX audit_event_entity ON audit_event (entity_type, entity_id)")
    await _Raw.raw(
        "CREATE UNIQUE INDEX membership_invitation_one ON membership_invitation (organization, email, role)"
    )


async def backfill_macs() -> None:
    rows = await _Raw.raw("SELECT COUNT(*) AS n FROM audit_event WHERE mac = ''")
    if not rows or not rows[0]["n"]:
        return  # no key file is made for a database without events
    from guild.infra.settings import get_settings

    key = get_settings().audit_mac_key()
    after = 0
    while True:
        batch = await _Raw.raw(
            "SELECT seq, hash FROM audit_event WHERE seq > {} AND mac = '' ORDER BY seq LIMIT {}", after, BATCH
        )
        for row in batch:
            await _Raw.raw("UPDATE audit_event SET mac = {} WHERE seq = {}", _mac(key, row["hash"]), row["seq"])
        if len(batch) < BATCH:
            return
        after = batch[-1]["seq"]


async def drop_indexes() -> None:
    await _Raw.raw("DROP INDEX membership_invitation_one")
    await _Raw.raw("DROP INDEX audit_event_entity")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="guild", description=DESCRIPTION)
    manager.add_raw(create_indexes)
    manager.add_raw(backfill_macs)
    manager.add_raw_backwards(drop_indexes)
    return manager
