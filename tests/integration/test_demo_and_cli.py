"""The demo loader and the guild CLI, run as a user would run them."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner


def _cli(*args: str):
    import click

    from guild.app import create_app
    from guild.cli import register

    group = click.Group()
    register(group)
    create_app()
    return CliRunner().invoke(group, list(args))


def test_demo_loads_once_into_an_empty_database_only():
    first = _cli("demo")
    assert first.exit_code == 0, first.output
    assert "admin@demo.guild.example" in first.output

    again = _cli("demo")
    assert again.exit_code == 1 and "already has users" in again.output
    quiet = _cli("demo", "--if-empty")
    assert quiet.exit_code == 0 and "not loaded" in quiet.output

    listed = _cli("compacts", "list")
    assert "ai-and-apprenticeship-2027" in listed.output and "v1 ratified, v2 proposed" in listed.output
    redline = _cli("compacts", "diff", "ai-and-apprenticeship-2027", "1", "2")
    assert "~ ai_disclosure.max_ai_share_pct: 20.0 → 15.0" in redline.output
    assert _cli("compacts", "show", "no-such-compact").exit_code == 1
    assert "intact" in _cli("audit", "verify").output

    # every contract type the demo shows is issued compliant, the crew one with a reviewed side letter
    from guild.infra.tables import Contract, CustomClauseReview

    contracts = asyncio.run(Contract.select(Contract.contract_type, Contract.compliant, Contract.clause_keys).run())
    assert {(c["contract_type"], c["compliant"]) for c in contracts} == {("performer", True), ("crew", True)}
    [crew] = [c for c in contracts if c["contract_type"] == "crew"]
    assert {"digital_replica_consent", "ai_tool_kit_rental", "voice_likeness_licence"} <= set(crew["clause_keys"])
    assert asyncio.run(CustomClauseReview.count().run()) >= 1

    # a pending invitation of an address without an account, its link in the outbox
    from guild.demo import INVITEE
    from guild.infra.tables import MailMessage, MembershipInvitation

    [pending] = asyncio.run(MembershipInvitation.select(MembershipInvitation.email, MembershipInvitation.role).run())
    assert pending == {"email": INVITEE, "role": "member"}
    [message] = asyncio.run(MailMessage.select(MailMessage.body_text).where(MailMessage.to_address == INVITEE).run())
    assert "/invitations/" in message["body_text"]


def test_users_create_refuses_duplicates_and_weak_passwords(monkeypatch):
    monkeypatch.setenv("GUILD_NEW_USER_PASSWORD", "a sufficiently long password")
    ok = _cli("users", "create", "--email", "root@example.org", "--name", "Root", "--admin")
    assert ok.exit_code == 0 and "as site admin" in ok.output
    dup = _cli("users", "create", "--email", "ROOT@example.org", "--name", "Root")
    assert dup.exit_code == 1 and "already exists" in dup.output
    monkeypatch.setenv("GUILD_NEW_USER_PASSWORD", "short")
    weak = _cli("users", "create", "--email", "weak@example.org", "--name", "Weak")
    assert weak.exit_code == 2 and "password" in weak.output

    from guild.accounts.service import authenticate

    asyncio.run(authenticate("root@example.org", "a sufficiently long password"))
