"""Every state change leaves a hash-chained audit event; tampering is detected."""

from __future__ import annotations

import pytest
from click.testing import CliRunner


async def _changes(scenario) -> None:
    await scenario.org("guild-a")
    await scenario.user("ada@example.org", ("guild-a", "officer"))


async def test_state_changes_are_audited_in_order(scenario):
    from guild.infra.tables import AuditEvent

    await _changes(scenario)
    rows = await AuditEvent.select(AuditEvent.seq, AuditEvent.action).order_by(AuditEvent.seq)
    assert [r["action"] for r in rows] == ["organization.created", "user.created", "membership.added"]
    assert [r["seq"] for r in rows] == [1, 2, 3]


async def test_chain_verifies_and_detects_an_edited_row(scenario):
    from guild.infra.audit import verify_chain
    from guild.infra.tables import AuditEvent

    await _changes(scenario)
    assert (await verify_chain()).ok
    await AuditEvent.update({AuditEvent.action: "membership.removed"}).where(AuditEvent.seq == 2)
    report = await verify_chain()
    assert not report.ok
    assert report.broken_at_seq == 2
    assert report.events == 1


async def test_chain_detects_a_deleted_row(scenario):
    from guild.infra.audit import verify_chain
    from guild.infra.tables import AuditEvent

    await _changes(scenario)
    await AuditEvent.delete().where(AuditEvent.seq == 2)
    report = await verify_chain()
    assert not report.ok and report.broken_at_seq == 3


def test_cli_audit_verify_exit_codes(tmp_path):
    """`guild audit verify` exits 0 on an intact chain and 1 on a tampered one (a real CLI run)."""
    import asyncio

    from guild.app import create_app
    from guild.cli import audit_group
    from guild.infra.tables import AuditEvent

    create_app()  # the CLI's app, as `guild` would build it

    async def seed():
        from guild.orgs.schemas import OrganizationCreate
        from guild.orgs.service import create_organization

        await create_organization(OrganizationCreate(slug="guild-x", name="X", kind="guild"), None)

    asyncio.run(seed())
    ok = CliRunner().invoke(audit_group, ["verify"])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output

    asyncio.run(AuditEvent.update({AuditEvent.entity_type: "forged"}).where(AuditEvent.seq == 1).run())
    bad = CliRunner().invoke(audit_group, ["verify"])
    assert bad.exit_code == 1
    assert "BROKEN at event seq=1" in bad.output


# --- anchoring: the key, checkpoints and the cross-check ----------------------------------------------


@pytest.fixture
def anchored(tmp_path, monkeypatch):
    """This test's own audit key and checkpoint file (the suite's data folder is shared between tests)."""
    from guild.infra.settings import get_settings

    settings = get_settings()
    monkeypatch.setattr(settings, "data_dir", tmp_path / "data")
    monkeypatch.setattr(settings, "audit_checkpoint_log", None)
    monkeypatch.setattr(settings, "audit_key", None)
    return settings.audit_checkpoint_path


async def _rehash_from(seq: int, key: bytes | None = None) -> None:
    """What an attacker with database access does after editing event ``seq``: recompute the chain from there
    (and the MACs with ``key``, a key that is not the audit key; without one the MACs stay as they were)."""
    from guild.infra.audit import GENESIS, event_hash, event_mac
    from guild.infra.tables import AuditEvent

    rows = await AuditEvent.select().order_by(AuditEvent.seq).output(load_json=True)
    prev = GENESIS
    for row in rows:
        if row["seq"] >= seq:
            digest = event_hash(
                seq=row["seq"],
                at=row["at"],
                actor_id=row["actor_id"],
                action=row["action"],
                entity_type=row["entity_type"],
                entity_id=row["entity_id"],
                data=row["data"],
                prev_hash=prev,
            )
            values = {AuditEvent.prev_hash: prev, AuditEvent.hash: digest}
            if key is not None:
                values[AuditEvent.mac] = event_mac(key, digest)
            await AuditEvent.update(values).where(AuditEvent.seq == row["seq"])
            prev = digest
        else:
            prev = row["hash"]


async def test_intact_log_verifies_and_checkpoints_once_per_head(scenario, anchored):
    import json

    from guild.infra.audit import verify_log, write_checkpoint
    from guild.infra.tables import AuditCheckpoint

    await _changes(scenario)
    first = await write_checkpoint()
    assert first is not None and first.seq == 3
    assert (await write_checkpoint()).seq == 3  # same head: nothing new written
    assert await AuditCheckpoint.count() == 1
    [line] = anchored.read_text().splitlines()
    assert json.loads(line)["seq"] == 3 and json.loads(line)["head_hash"] == first.head_hash
    assert anchored.stat().st_mode & 0o777 == 0o600

    await scenario.org("guild-b")
    assert (await write_checkpoint()).seq == 4
    assert len(anchored.read_text().splitlines()) == 2

    report = await verify_log()
    assert report.ok, report.problems
    assert (report.chain.events, report.checkpoints, report.problems) == (4, 2, [])


async def test_deleting_the_newest_events_is_named_against_the_checkpoint(scenario, anchored):
    from guild.infra.audit import verify_log, write_checkpoint
    from guild.infra.tables import AuditEvent

    await _changes(scenario)
    await scenario.org("guild-b")  # seq 4
    await write_checkpoint()
    await AuditEvent.delete().where(AuditEvent.seq >= 3)

    report = await verify_log()
    assert report.chain.ok  # what is left still chains: only the anchors see the cut
    assert not report.ok
    assert any(
        p.startswith("events 3..4 missing: the checkpoint of ") and "recorded 4 events, the log ends at seq=2" in p
        for p in report.problems
    ), report.problems
    # the rows whose events went are named too
    assert any(p.startswith("1 memberships without their membership.added event") for p in report.problems)
    assert any(p.startswith("1 organizations without their organization.created event") for p in report.problems)


async def test_deleting_every_event_fails_even_without_a_checkpoint(scenario, anchored):
    from guild.infra.audit import verify_log
    from guild.infra.tables import AuditEvent

    await _changes(scenario)
    await AuditEvent.delete().where(AuditEvent.seq > 0)
    report = await verify_log()  # no checkpoint yet: the tables still tell
    assert not report.ok and report.chain.ok and report.chain.events == 0
    assert {p.split(":")[0] for p in report.problems} == {
        "1 organizations without their organization.created event",
        "1 users without their user.created event",
        "1 memberships without their membership.added event",
    }


async def test_deleting_every_event_and_checkpoint_row_is_caught_by_the_file(scenario, anchored):
    from guild.infra.audit import verify_log, write_checkpoint
    from guild.infra.tables import AuditCheckpoint, AuditEvent

    await _changes(scenario)
    await write_checkpoint()
    await AuditEvent.delete().where(AuditEvent.seq > 0)
    await AuditCheckpoint.delete().where(AuditCheckpoint.seq > 0)
    report = await verify_log()
    assert not report.ok
    assert any(p.startswith("events 1..3 missing") and "(it is empty)" in p for p in report.problems), report.problems
    assert any("checkpoint(s) of the file are missing from the database" in p for p in report.problems)


async def test_an_edit_with_the_chain_rehashed_fails_on_the_mac(scenario, anchored):
    from guild.infra.audit import verify_chain, verify_log
    from guild.infra.tables import AuditEvent

    await _changes(scenario)
    await AuditEvent.update({AuditEvent.data: {"email": "mallory@example.org", "is_admin": True}}).where(
        AuditEvent.seq == 2
    )
    await _rehash_from(2)
    report = await verify_chain()
    assert (report.ok, report.broken_at_seq, report.events) == (False, 2, 1)
    assert report.reason.startswith("MAC does not match")

    await _rehash_from(2, key=b"a guess at the key")  # MACs made with any other key fail the same way
    assert (await verify_chain()).broken_at_seq == 2
    assert not (await verify_log()).ok


async def test_a_forged_checkpoint_is_refused(scenario, anchored):
    from datetime import UTC, datetime
    from uuid import uuid4

    from guild.infra.audit import verify_log
    from guild.infra.tables import AuditCheckpoint, AuditEvent

    await _changes(scenario)
    head = await AuditEvent.select(AuditEvent.hash).where(AuditEvent.seq == 3).first()
    await AuditCheckpoint.insert(
        AuditCheckpoint(id=uuid4(), seq=3, head_hash=head["hash"], at=datetime.now(UTC), mac="0" * 64)
    )
    report = await verify_log()
    assert report.problems == ["checkpoint seq=3 in the database has an invalid MAC (forged or altered)"]


async def test_rows_of_compacts_need_their_state_events(scenario, anchored):
    from guild.infra.audit import rows_without_events
    from guild.infra.tables import AuditEvent

    await scenario.org("guild-a")
    await scenario.user("ada@example.org", ("guild-a", "officer"))
    await scenario.compact("fair-ai", convening="guild-a", by="ada@example.org")
    assert await rows_without_events() == []
    await AuditEvent.delete().where(AuditEvent.action == "compact_version.ratified")
    await AuditEvent.delete().where(AuditEvent.action == "compact_version.approved")
    assert {m.what for m in await rows_without_events()} == {
        "ratified versions without their compact_version.ratified event",
        "ratification decisions without their event",
    }


async def test_the_scheduler_checkpoints_the_log(scenario, anchored):
    from guild.infra.settings import get_settings
    from guild.infra.tables import AuditCheckpoint
    from scheduler.service import AUDIT_CHECKPOINT_JOB_ID, GuildScheduler

    await _changes(scenario)
    sched = GuildScheduler(catch_up=False)
    sched.start()
    try:
        job = sched.scheduler.get_job(AUDIT_CHECKPOINT_JOB_ID)
        assert job.trigger.interval.total_seconds() == 60 * get_settings().audit_checkpoint_minutes
        await job.func()  # what the interval fires
    finally:
        await sched.shutdown()
    assert [r["seq"] for r in await AuditCheckpoint.select(AuditCheckpoint.seq)] == [3]
    assert len(anchored.read_text().splitlines()) == 1


def test_cli_checkpoint_then_truncation_exits_1_naming_the_gap(anchored):
    import asyncio

    from guild.app import create_app
    from guild.cli import audit_group
    from guild.infra.tables import AuditEvent

    create_app()

    async def seed():
        from guild.orgs.schemas import OrganizationCreate
        from guild.orgs.service import create_organization

        for slug in ("guild-x", "guild-y"):
            await create_organization(OrganizationCreate(slug=slug, name=slug, kind="guild"), None)

    asyncio.run(seed())
    made = CliRunner().invoke(audit_group, ["checkpoint"])
    assert made.exit_code == 0 and made.output.startswith("checkpoint: 2 events"), made.output
    assert "intact: 2 events" in CliRunner().invoke(audit_group, ["verify"]).output

    asyncio.run(AuditEvent.delete().where(AuditEvent.seq == 2).run())
    bad = CliRunner().invoke(audit_group, ["verify"])
    assert bad.exit_code == 1
    assert "event 2 missing: the checkpoint of" in bad.output
    assert "1 organizations without their organization.created event" in bad.output


async def test_the_migration_gives_events_written_before_it_their_mac(scenario, anchored):
    import importlib

    from guild.infra.audit import verify_chain
    from guild.infra.tables import AuditEvent

    await _changes(scenario)
    await AuditEvent.update({AuditEvent.mac: ""}).where(AuditEvent.seq > 0)  # as before the migration
    assert (await verify_chain()).broken_at_seq == 1
    migration = importlib.import_module("guild.piccolo_migrations.guild_2026_11_29t10_37_01_000000")
    await migration.backfill_macs()
    assert (await verify_chain()).ok
