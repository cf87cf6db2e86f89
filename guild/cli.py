"""The ``guild`` command: Litestar's CLI pointed at the app factory, plus guild's own subcommands."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from uuid import UUID

import asyncpg
import click
from litestar.cli.main import litestar_group
from prometheus_client import start_http_server
from pydantic import EmailStr, TypeAdapter, ValidationError
from pydantic_core import to_json
from pypdf.errors import PyPdfError
from rich.progress import Progress

from contracts.service import verify_file
from guild.accounts.schemas import UserCreate
from guild.accounts.service import create_user
from guild.compacts.queries import diff, get_compact, get_version, list_compacts
from guild.compliance.queries import FindingRead, list_all_findings, run_read
from guild.compliance.service import check_production, run_check
from guild.demo import DemoRefused, load_demo
from guild.domain.errors import GuildError
from guild.domain.principal import Principal
from guild.domain.statuses import FindingStatus, MailStatus
from guild.infra import db
from guild.infra.audit import verify_log, write_checkpoint
from guild.infra.settings import get_settings
from guild.mail.queries import MAX_LIST as MAX_MAIL_LIST
from guild.mail.queries import list_messages
from guild.mail.service import send_test
from guild.web.observability import use_json_server_logs
from scheduler.service import run_forever

T = TypeVar("T")
U = TypeVar("U")


GUILD_HELP = (
    "guild: federated labour compacts for independent film. Guilds and production companies agree compacts, "
    "issue talent contracts that comply with them, and have compliance checked on a schedule.\n\n"
    "Start the service with `guild run` (see `guild run --help`); the other commands work on its database "
    "(GUILD_DATABASE_URL, default: SQLite in GUILD_DATA_DIR)."
)


def main() -> None:
    os.environ.setdefault("LITESTAR_APP", "guild.app:create_app")
    os.environ.setdefault("LITESTAR_QUIET_CONSOLE", "1")  # no banner: a server's output is its JSON log lines
    try:
        settings = get_settings()  # the app factory reads them first: a bad GUILD_* value is one line, no traceback
    except ValidationError as exc:
        _settings_errors(exc)
    use_json_server_logs(settings.log_level)
    litestar_group.help = GUILD_HELP
    litestar_group()


def _settings_errors(exc: ValidationError) -> NoReturn:
    for err in exc.errors():
        name = "GUILD_" + "_".join(map(str, err["loc"])).upper()
        click.echo(f"error: {name}: {err['msg']}", err=True)
    sys.exit(2)


def fail(message: str, code: int = 1) -> NoReturn:
    """A user error: one line on stderr, a non-zero exit, no traceback."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _database_problem(exc: BaseException) -> str | None:
    """What to tell the user when the database cannot serve the command, or None for a bug (left to raise)."""
    where = get_settings().database_url or f"sqlite:///{get_settings().sqlite_path}"
    shown = where.split("@")[-1] if "@" in where else where  # never echo a password
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"database {shown} does not exist: create it (createdb), then run `guild db migrate`"
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError):
        return f"database {shown} refused the credentials in GUILD_DATABASE_URL"
    if isinstance(exc, asyncpg.UndefinedTableError) or (
        isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc)
    ):
        return f"database {shown} has no guild tables: run `guild db migrate`"
    if isinstance(exc, sqlite3.OperationalError):
        return f"database {shown}: {exc}"
    if isinstance(exc, OSError | TimeoutError | asyncpg.CannotConnectNowError):
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        return f"cannot reach the database {shown}: {reason}"
    return None


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run one async service call from the CLI, with the database opened and closed around it."""

    async def wrapper() -> T:
        settings = get_settings()
        await db.startup(settings.model_copy(update={"migrate_on_start": False, "pg_pool_max": 2}))
        try:
            return await coro_fn()
        finally:
            await db.shutdown()

    try:
        with warnings.catch_warnings():  # Piccolo warns before it raises: the error below says it once
            warnings.filterwarnings("ignore", message=".*Unable to (connect|fetch)")
            return asyncio.run(wrapper())
    except GuildError as exc:
        fail(exc.detail)
    except Exception as exc:
        problem = _database_problem(exc)
        if problem is None:
            raise
        fail(problem)


@click.group(name="db", help="Database: migrations.")
def db_group() -> None:
    pass


@db_group.command(name="migrate", help="Apply all pending migrations (SQLite or PostgreSQL).")
def db_migrate() -> None:

    run(db.migrate)
    click.echo("migrations applied")


@click.group(name="users", help="User accounts.")
def users_group() -> None:
    pass


@users_group.command(name="create", help="Create a user account (the first site admin is made here).")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="GUILD_NEW_USER_PASSWORD")
@click.option("--admin", is_flag=True, default=False, help="Make the user a site administrator.")
def users_create(email: str, name: str, password: str, admin: bool) -> None:

    try:
        data = UserCreate(email=email, name=name, password=password, is_admin=admin)
        user = run(lambda: create_user(data))
    except ValidationError as exc:
        for err in exc.errors():
            click.echo(f"error: {'.'.join(map(str, err['loc']))}: {err['msg']}", err=True)
        sys.exit(2)
    click.echo(f"created user {user.email} ({user.id}){' as site admin' if user.is_admin else ''}")


@click.command(name="demo", help="Load demo organisations, people and logins into an EMPTY database.")
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) when the database already has users.")
def demo_command(if_empty: bool) -> None:

    try:
        logins = run(load_demo)
    except DemoRefused as exc:
        if if_empty:
            click.echo(f"demo data not loaded: {exc}")
            return
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo("demo data loaded; logins:")
    for email, password, what in logins:
        click.echo(f"  {email:32} {password:22} {what}")


@click.group(name="audit", help="The hash-chained audit log.")
def audit_group() -> None:
    pass


@audit_group.command(
    name="verify",
    help="Check the audit log: every event's hash and MAC, the checkpoints (database and checkpoint file), and "
    "that every audited row has its event. Exit 1 naming what was altered or is missing.",
)
def audit_verify() -> None:

    report = run(verify_log)
    chain = report.chain
    if report.ok:
        click.echo(
            f"audit log intact: {chain.events} events (hashes and MACs verified), {report.checkpoints} checkpoint(s) "
            f"match, every audited row has its event"
        )
        return
    if not chain.ok:
        click.echo(
            f"audit chain BROKEN at event seq={chain.broken_at_seq}: {chain.reason} "
            f"({chain.events} events verified before it)",
            err=True,
        )
    for problem in report.problems:
        click.echo(f"audit log: {problem}", err=True)
    sys.exit(1)


@audit_group.command(
    name="checkpoint",
    help="Anchor the audit chain's head now: a MAC'd checkpoint in the database and in the checkpoint file "
    "(the scheduler does this every GUILD_AUDIT_CHECKPOINT_MINUTES).",
)
def audit_checkpoint() -> None:

    checkpoint = run(write_checkpoint)
    if checkpoint is None:
        click.echo("audit log is empty: nothing to anchor")
        return
    click.echo(
        f"checkpoint: {checkpoint.seq} events, head {checkpoint.head_hash} "
        f"(also in {get_settings().audit_checkpoint_path})"
    )


def _operator() -> Principal:
    """The CLI acts as the site operator: it reads everything, like a site admin."""

    return Principal(id=UUID(int=0), email="cli@localhost", name="guild CLI", is_admin=True)


@click.group(name="compacts", help="Compacts: list, show a version, redline two versions.")
def compacts_group() -> None:
    pass


JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of objects) instead of text.")


def echo_json(value: Any) -> None:
    click.echo(to_json(value, indent=2).decode())


def _uuid(value: str, option: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        fail(f"{option} must be a UUID, not {value!r}", 2)


@compacts_group.command(name="list", help="Every compact with its parties and versions.")
@JSON_OPTION
def compacts_list(as_json: bool) -> None:

    compacts = run(lambda: list_compacts(_operator()))
    if as_json:
        echo_json(compacts)
        return
    for c in compacts:
        versions = ", ".join(f"v{v.number} {v.status}" for v in c.versions)
        click.echo(f"{c.slug:28} {c.title[:40]:40} in force: {c.current_version or '-':>3}  [{versions}]")
        click.echo(f"{'':28} convened by {c.convening_org}; parties: {', '.join(p.slug for p in c.parties)}")


@compacts_group.command(name="show", help="One version's status, hash, decisions and terms (JSON).")
@click.argument("slug")
@click.argument("number", type=int, required=False)
def compacts_show(slug: str, number: int | None) -> None:

    if number is None:
        compact = run(lambda: get_compact(_operator(), slug))
        number = compact.current_version or compact.versions[-1].number
    version, _ = run(lambda: get_version(_operator(), slug, number))
    click.echo(f"{slug} v{version.number}: {version.status}; sha256 {version.terms_hash or '(draft)'}")
    click.echo(f"parties: {', '.join(version.parties)}; approvals required: {version.approvals_required}")
    for d in version.decisions:
        click.echo(f"  {d.organization}: {d.decision} by {d.decided_by} at {d.decided_at:%Y-%m-%d %H:%M}Z {d.reason}")
    click.echo(version.terms.model_dump_json(indent=2))


@compacts_group.command(name="diff", help="Redline between two versions of a compact.")
@click.argument("slug")
@click.argument("from_number", type=int)
@click.argument("to_number", type=int)
def compacts_diff(slug: str, from_number: int, to_number: int) -> None:

    click.echo(run(lambda: diff(_operator(), slug, from_number, to_number)).text)


@click.group(name="contracts", help="Talent contracts.")
def contracts_group() -> None:
    pass


@contracts_group.command(name="verify", help="Recompute a contract PDF's hashes and re-check its embedded data.")
@click.argument("pdf_file", type=click.Path(exists=True, dir_okay=False))
def contracts_verify(pdf_file: str) -> None:

    data = Path(pdf_file).read_bytes()
    if not data.startswith(b"%PDF-"):
        fail(f"{pdf_file} is not a PDF")

    async def verify() -> list[tuple[bool, str]]:
        try:
            return await verify_file(data)
        except PyPdfError as exc:
            fail(f"{pdf_file} is not a readable PDF: {exc}")

    checks = run(verify)
    for ok, what in checks:
        click.echo(f"{'ok  ' if ok else 'FAIL'} {what}")
    sys.exit(0 if all(ok for ok, _ in checks) else 1)


@click.group(name="check", help="Compliance checks on demand.")
def check_group() -> None:
    pass


@check_group.command(
    name="run",
    help="Check productions now: the bound ones changed since their last check or due (all of them with --all), "
    "those of one compact, or one production.",
)
@click.option("--compact", "compact_slug", default=None, help="only productions bound to this compact")
@click.option("--production", "production_id", default=None, help="only this production (UUID)")
@click.option("--all", "check_all", is_flag=True, help="re-evaluate every bound production, changed or not")
def check_run(compact_slug: str | None, production_id: str | None, check_all: bool) -> None:

    if production_id:
        pid = _uuid(production_id, "--production")
        run_row = run(lambda: _then(check_production(pid, None), run_read))
        click.echo(
            f"run {run_row.id}: {run_row.status}; opened {run_row.findings_opened}, resolved {run_row.findings_resolved}"
        )
        return

    with Progress() as bar:
        task = bar.add_task("checking productions", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, total=total, advance=done)

        totals = run(lambda: run_check(compact_slug, progress, full=check_all))
    click.echo(", ".join(f"{k} {v}" for k, v in asdict(totals).items()))


async def _then(first: Awaitable[T], then: Callable[[T], Awaitable[U]]) -> U:
    return await then(await first)


@click.command(name="findings", help="Findings (open by default) with production, compact, rule and due date.")
@click.option("--compact", "compact_slug", default=None)
@click.option("--production", "production_id", default=None)
@click.option(
    "--status", type=click.Choice([*(s.value for s in FindingStatus), "all"]), default=FindingStatus.open.value
)
@JSON_OPTION
def findings_command(compact_slug: str | None, production_id: str | None, status: str, as_json: bool) -> None:

    if production_id:
        production_id = str(_uuid(production_id, "--production"))

    async def findings() -> list[FindingRead]:
        if compact_slug:
            await get_compact(_operator(), compact_slug)  # an unknown compact is an error, not an empty list
        return await list_all_findings(compact_slug, production_id, None if status == "all" else status)

    rows = run(findings)
    if as_json:
        echo_json(rows)
        return
    for f in rows:
        click.echo(
            f"{f.severity:9} {f.status:8} {f.compact} v{f.version_number}  {f.production_title[:30]:30} "
            f"{f.rule:24} {f.subject[:36]:36} due {f.due_at:%Y-%m-%d}"
        )
    click.echo(f"{len(rows)} finding(s)")


@click.group(name="scheduler", help="Scheduled compliance sweeps and webhook deliveries.")
def scheduler_group() -> None:
    pass


@scheduler_group.command(
    name="run", help="Run the scheduler as its own process (set GUILD_SCHEDULER_ENABLED=false on app instances)."
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    envvar="GUILD_SCHEDULER_METRICS_PORT",
    help="Serve this process's Prometheus metrics (sweep durations, findings opened) on this port.",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    envvar="GUILD_SCHEDULER_METRICS_HOST",
    help="Address the metrics port listens on (0.0.0.0 in a container network); no token is asked there.",
)
def scheduler_run(metrics_port: int | None, metrics_host: str) -> None:

    if metrics_port is not None:
        try:
            start_http_server(metrics_port, addr=metrics_host)
        except OSError as exc:
            fail(f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc.strerror or exc}")
    try:
        asyncio.run(run_forever(get_settings()))
    except Exception as exc:
        problem = _database_problem(exc)
        if problem is None:
            raise
        fail(problem)


@click.group(name="mail", help="The e-mail outbox: what was queued and how its delivery went.")
def mail_group() -> None:
    pass


@mail_group.command(name="list", help="The newest messages (never their text), newest first.")
@click.option("--status", type=click.Choice([s.value for s in MailStatus]), default=None)
@click.option("--limit", type=click.IntRange(1, MAX_MAIL_LIST), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON document (a list) instead of lines.")
def mail_list(status: str | None, limit: int, as_json: bool) -> None:

    messages = run(lambda: list_messages(status, limit))
    if as_json:
        click.echo(json.dumps([asdict(m) for m in messages], default=str, indent=2))
        return
    for m in messages:
        click.echo(
            f"{m.created_at:%Y-%m-%d %H:%M} {m.status:8} {m.attempts:>2}x {m.kind:16} {m.to[:36]:36} {m.subject[:40]}"
            + (f"  ({m.last_error[:60]})" if m.last_error else "")
        )
    click.echo(f"{len(messages)} message(s)")


@mail_group.command(name="send-test", help="Queue a test message and deliver it now, with the SMTP settings.")
@click.option("--to", "to", required=True, help="Recipient address.")
def mail_send_test(to: str) -> None:

    try:
        address = str(TypeAdapter(EmailStr).validate_python(to))
    except ValidationError:
        raise click.BadParameter(f"{to!r} is not an e-mail address", param_hint="--to") from None
    message = run(lambda: send_test(address))
    click.echo(f"{message.status}: {message.to} ({message.last_error or 'accepted by the SMTP server'})")
    if message.status != MailStatus.sent.value or message.last_error:
        sys.exit(1)


def register(cli: click.Group) -> None:
    for command in (
        db_group,
        users_group,
        demo_command,
        audit_group,
        compacts_group,
        contracts_group,
        scheduler_group,
        check_group,
        findings_command,
        mail_group,
    ):
        cli.add_command(command)
