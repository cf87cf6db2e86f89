"""The ``guild`` command as a user meets it: what ``--help`` says first, JSON from the listing commands, and
a user's mistakes answered with one ``error:`` line and a non-zero exit, never a Python traceback."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.integration.processes import ROOT, free_port, guild_env
from tests.integration.test_demo_and_cli import _cli


def _guild(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``guild ...`` as its own process (the console script's ``main``), on the test's database."""
    return subprocess.run(
        [sys.executable, "-m", "guild", *args],
        cwd=ROOT,
        env=guild_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_error_line(result, code: int, *phrases: str) -> None:
    output = result.output if hasattr(result, "output") else result.stdout + result.stderr
    exit_code = result.exit_code if hasattr(result, "exit_code") else result.returncode
    assert exit_code == code, output
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    for phrase in phrases:
        assert phrase in errors[0], output


def test_help_starts_with_what_guild_is():
    shown = _guild("--help")
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())  # rich-click boxes and wraps it
    usage = text.index("Usage: ")
    assert (
        text[usage:]
        .split("]...", 1)[1]
        .lstrip(" │")
        .startswith("guild: federated labour compacts for independent film")
    )
    assert "Litestar CLI" not in text


def test_listing_commands_print_json():
    assert _cli("demo").exit_code == 0
    compacts = _cli("compacts", "list", "--json")
    assert compacts.exit_code == 0, compacts.output
    listed = json.loads(compacts.output)
    assert "ai-and-apprenticeship-2027" in {c["slug"] for c in listed}
    assert all({"slug", "title", "versions", "parties"} <= c.keys() for c in listed)

    findings = _cli("findings", "--status", "all", "--json")
    assert findings.exit_code == 0, findings.output
    rows = json.loads(findings.output)
    assert isinstance(rows, list) and all({"rule", "severity", "status", "due_at"} <= f.keys() for f in rows)
    text = _cli("findings", "--status", "all")
    assert text.output.strip().endswith(f"{len(rows)} finding(s)")


def test_user_mistakes_are_one_line_errors(tmp_path):
    not_a_pdf = tmp_path / "notes.pdf"
    not_a_pdf.write_text("just some text\n")
    _one_error_line(_cli("contracts", "verify", str(not_a_pdf)), 1, "is not a PDF")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj\n")
    _one_error_line(_cli("contracts", "verify", str(broken)), 1, "is not a readable PDF")
    missing = _cli("contracts", "verify", str(tmp_path / "nowhere.pdf"))
    assert missing.exit_code == 2 and "does not exist" in missing.output and "Traceback" not in missing.output

    _one_error_line(_cli("findings", "--production", "12"), 2, "--production must be a UUID")
    _one_error_line(_cli("check", "run", "--production", "not-an-id"), 2, "--production must be a UUID")
    _one_error_line(_cli("findings", "--compact", "no-such-compact"), 1, "no-such-compact", "not found")
    _one_error_line(_cli("compacts", "show", "no-such-compact"), 1, "not found")
    _one_error_line(_cli("compacts", "diff", "no-such-compact", "1", "2"), 1, "not found")


def test_no_database_is_one_line_error_naming_what_to_do(tmp_path):
    """Each as the console script runs it: the database unreachable, not migrated, or misnamed."""
    closed = f"postgresql://guild:secret@127.0.0.1:{free_port()}/guild"
    unreachable = _guild("findings", GUILD_DATABASE_URL=closed)
    _one_error_line(unreachable, 1, "cannot reach the database", "127.0.0.1")
    assert "secret" not in unreachable.stdout + unreachable.stderr  # the password is never echoed

    empty = _guild("compacts", "list", GUILD_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite'}")
    _one_error_line(empty, 1, "guild db migrate")

    misnamed = _guild("findings", GUILD_DATABASE_URL="mysql://localhost/guild")
    _one_error_line(misnamed, 2, "GUILD_DATABASE_URL")
