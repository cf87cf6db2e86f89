"""Every state change leaves a hash-chained audit event; tampering is detected."""

from __future__ import annotations

from click.testing import CliRunner


async def _changes(users) -> None:
    await users.org("guild-a")
    await users.user("ada@example.org", ("guild-a", "officer"))


async def test_state_changes_are_audited_in_order(users):
    from guild.tables import AuditEvent

    await _changes(users)
    rows = await AuditEvent.select(AuditEvent.seq, AuditEvent.action).order_by(AuditEvent.seq)
    assert [r["action"] for r in rows] == ["organization.created", "user.created", "membership.added"]
    assert [r["seq"] for r in rows] == [1, 2, 3]


async def test_chain_verifies_and_detects_an_edited_row(users):
    from guild.audit import verify_chain
    from guild.tables import AuditEvent

    await _changes(users)
    assert (await verify_chain()).ok
    await AuditEvent.update({AuditEvent.action: "membership.removed"}).where(AuditEvent.seq == 2)
    report = await verify_chain()
    assert not report.ok
    assert report.broken_at_seq == 2
    assert report.events == 1


async def test_chain_detects_a_deleted_row(users):
    from guild.audit import verify_chain
    from guild.tables import AuditEvent

    await _changes(users)
    await AuditEvent.delete().where(AuditEvent.seq == 2)
    report = await verify_chain()
    assert not report.ok and report.broken_at_seq == 3


def test_cli_audit_verify_exit_codes(tmp_path):
    """`guild audit verify` exits 0 on an intact chain and 1 on a tampered one (a real CLI run)."""
    import asyncio

    from guild.app import create_app
    from guild.cli import audit_group
    from guild.tables import AuditEvent

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
