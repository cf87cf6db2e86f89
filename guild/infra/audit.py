"""Append-only audit events, each hash-chained to the one before it and anchored by a key outside the database.

``record`` must run inside the caller's write transaction, so an event exists exactly when the
change it describes was committed.

Three anchors make the log verifiable against someone who can write to the database:

* every event carries a MAC (HMAC-SHA256 of its hash with the audit key, ``GUILD_AUDIT_KEY`` or the
  key file in the data folder): re-hashing an edited chain without the key does not verify;
* checkpoints (event count, head hash, time, MAC) are stored in ``audit_checkpoint`` and appended to a
  file outside the database (``GUILD_AUDIT_CHECKPOINT_LOG``): deleting the newest events, or all of
  them, leaves the chain shorter than a checkpoint says it was;
* a cross-check of the tables against the events: every organisation, user, membership, compact,
  version, decision, production, binding, contract, clause, endpoint and invitation has the event
  that created it (and the events of the state it is in).

:func:`verify_log` runs all of them (``guild audit verify``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import structlog

from guild.domain.canonical import canonical_hash
from guild.domain.statuses import VersionStatus
from guild.infra.db import is_sqlite, raw, read_tx, write_tx, xact_lock
from guild.infra.settings import get_settings
from guild.infra.tables import AuditCheckpoint, AuditEvent

log = structlog.get_logger("guild.infra.audit")

GENESIS = "0" * 64
_AUDIT_LOCK = 0x6775696C64  # "guild": advisory lock key serialising chain appends on PostgreSQL
_CHECKPOINT_LOCK = 0x6775696C6463  # "guildc": serialises checkpoint writers
_EVENT_MAC = b"guild.audit.event/1\x00"
_CHECKPOINT_MAC = b"guild.audit.checkpoint/1\x00"


# --- the key and the MACs ------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _key_for(configured: str | None, data_dir: Path) -> bytes:

    return get_settings().audit_mac_key()


def audit_key() -> bytes:
    """The audit HMAC key of the current settings (read once per configured key and data folder)."""

    settings = get_settings()
    return _key_for(settings.audit_key, settings.data_dir)


def event_mac(key: bytes, event_hash: str) -> str:
    """HMAC-SHA256 of an event's hash (which covers its content and, through prev_hash, every event before)."""
    return hmac.new(key, _EVENT_MAC + event_hash.encode("ascii"), hashlib.sha256).hexdigest()


def checkpoint_mac(key: bytes, seq: int, head_hash: str, at: datetime) -> str:
    message = f"{seq}\x00{head_hash}\x00{_utc_text(at)}".encode("ascii")
    return hmac.new(key, _CHECKPOINT_MAC + message, hashlib.sha256).hexdigest()


def _mac_ok(expected: str, actual: str | None) -> bool:
    return hmac.compare_digest(expected.encode("ascii"), (actual or "").encode("utf-8", "replace"))


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: str | None,
    action: str,
    entity_type: str,
    entity_id: str,
    data: Any,
    prev_hash: str,
) -> str:
    return canonical_hash(
        {
            "seq": seq,
            "at": _utc_text(at),
            "actor_id": actor_id,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "data": data,
            "prev_hash": prev_hash,
        }
    )


async def record(
    actor_id: UUID | str | None,
    action: str,
    entity_type: str,
    entity_id: UUID | str,
    data: dict[str, Any] | None = None,
) -> None:
    await xact_lock(_AUDIT_LOCK)
    last = await AuditEvent.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq, ascending=False).first()
    seq = (last["seq"] + 1) if last else 1
    prev = last["hash"] if last else GENESIS
    at = datetime.now(UTC)
    actor = str(actor_id) if actor_id is not None else None
    payload = data or {}
    digest = event_hash(
        seq=seq,
        at=at,
        actor_id=actor,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        data=payload,
        prev_hash=prev,
    )
    await AuditEvent.insert(
        AuditEvent(
            id=uuid4(),
            seq=seq,
            at=at,
            actor_id=actor,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            data=payload,
            prev_hash=prev,
            hash=digest,
            mac=event_mac(audit_key(), digest),
        )
    )


@dataclass(frozen=True)
class ChainReport:
    events: int
    ok: bool
    broken_at_seq: int | None = None
    reason: str = ""


async def verify_chain(
    batch: int = 5000, *, anchors: frozenset[int] = frozenset(), seen: dict[int, str] | None = None
) -> ChainReport:
    """Walk the chain in order and recompute every hash and MAC; report the first event that does not fit.

    ``seen`` (if given) receives the hash of each event whose seq is in ``anchors`` (checkpointed seqs).
    """
    key = audit_key()
    seen = {} if seen is None else seen
    expected_prev, expected_seq, count = GENESIS, 1, 0
    after = 0
    while True:
        rows = (
            await AuditEvent.select()
            .where(AuditEvent.seq > after)
            .order_by(AuditEvent.seq)
            .limit(batch)
            .output(load_json=True)
        )
        if not rows:
            return ChainReport(events=count, ok=True)
        for row in rows:
            if row["seq"] != expected_seq:
                return ChainReport(count, False, row["seq"], f"sequence gap: expected {expected_seq}")
            if row["prev_hash"] != expected_prev:
                return ChainReport(count, False, row["seq"], "prev_hash does not match the previous event")
            digest = event_hash(
                seq=row["seq"],
                at=row["at"],
                actor_id=row["actor_id"],
                action=row["action"],
                entity_type=row["entity_type"],
                entity_id=row["entity_id"],
                data=row["data"],
                prev_hash=row["prev_hash"],
            )
            if digest != row["hash"]:
                return ChainReport(count, False, row["seq"], "content does not match its hash")
            if not _mac_ok(event_mac(key, digest), row["mac"]):
                return ChainReport(
                    count,
                    False,
                    row["seq"],
                    "MAC does not match: the event was altered and re-hashed, or written without the audit key",
                )
            if row["seq"] in anchors:
                seen[row["seq"]] = row["hash"]
            expected_prev, expected_seq, count = row["hash"], expected_seq + 1, count + 1
        after = rows[-1]["seq"]


# --- checkpoints ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    seq: int  # events in the chain when it was taken (the head's seq)
    head_hash: str
    at: datetime
    mac: str

    def line(self) -> str:
        return json.dumps(
            {"seq": self.seq, "head_hash": self.head_hash, "at": _utc_text(self.at), "mac": self.mac}, sort_keys=True
        )


def _checkpoint_path() -> Path:

    return get_settings().audit_checkpoint_path


def _append_line(path: Path, line: str) -> None:
    """Append one line and flush it to disk (O_APPEND: concurrent writers never interleave within a line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


async def write_checkpoint(now: datetime | None = None) -> Checkpoint | None:
    """Anchor the chain's current head: a MAC'd checkpoint row, then the same line in the checkpoint file.

    Nothing is written when the chain is empty or its head is already checkpointed (any number of
    scheduler processes may call this; one of them writes). Returns the head's checkpoint, or None.
    """
    key = audit_key()
    async with write_tx():
        await xact_lock(_CHECKPOINT_LOCK)
        head = (
            await AuditEvent.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq, ascending=False).first()
        )
        if head is None:
            return None
        last = await AuditCheckpoint.select().order_by(AuditCheckpoint.seq, ascending=False).first()
        if last is not None and last["seq"] >= head["seq"]:
            return Checkpoint(last["seq"], last["head_hash"], last["at"], last["mac"])
        at = (now or datetime.now(UTC)).astimezone(UTC)
        checkpoint = Checkpoint(head["seq"], head["hash"], at, checkpoint_mac(key, head["seq"], head["hash"], at))
        await AuditCheckpoint.insert(
            AuditCheckpoint(id=uuid4(), seq=checkpoint.seq, head_hash=checkpoint.head_hash, at=at, mac=checkpoint.mac)
        )
    # After the commit: a line in the file always has its row (a crash in between loses only this line).
    _append_line(_checkpoint_path(), checkpoint.line())
    log.debug("audit.checkpoint", seq=checkpoint.seq)
    return checkpoint


def _parse_time(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError("naive time")
    return at


def _file_checkpoints(path: Path, problems: list[str]) -> list[Checkpoint]:
    if not path.exists():
        return []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        problems.append(f"checkpoint file {path} cannot be read: {exc}")
        return []
    found = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
            found.append(
                Checkpoint(int(item["seq"]), str(item["head_hash"]), _parse_time(item["at"]), str(item["mac"]))
            )
        except (ValueError, KeyError, TypeError):
            problems.append(f"checkpoint file {path}, line {number}: not a checkpoint record (altered?)")
    return found


async def _checkpoints(problems: list[str]) -> tuple[dict[int, Checkpoint], Path]:
    """Every authentic checkpoint, from the table and the file, by seq; problems for forged or deleted ones."""
    key = audit_key()
    path = _checkpoint_path()
    in_file = _file_checkpoints(path, problems)
    rows = await AuditCheckpoint.select().order_by(AuditCheckpoint.seq)
    in_table = [Checkpoint(r["seq"], r["head_hash"], r["at"], r["mac"]) for r in rows]
    authentic: dict[int, Checkpoint] = {}
    for source, items in (("database", in_table), ("file", in_file)):
        for cp in items:
            if not _mac_ok(checkpoint_mac(key, cp.seq, cp.head_hash, cp.at), cp.mac):
                problems.append(f"checkpoint seq={cp.seq} in the {source} has an invalid MAC (forged or altered)")
                continue
            known = authentic.get(cp.seq)
            if known is not None and known.head_hash != cp.head_hash:
                problems.append(f"checkpoint seq={cp.seq}: the database and the file record different head hashes")
            authentic.setdefault(cp.seq, cp)
    table_seqs = {cp.seq for cp in in_table}
    deleted = sorted(cp.seq for cp in in_file if cp.seq not in table_seqs)
    if deleted:
        problems.append(
            f"{len(deleted)} checkpoint(s) of the file are missing from the database (deleted rows), "
            f"seq={', '.join(map(str, deleted[:10]))}{', ...' if len(deleted) > 10 else ''}"
        )
    return authentic, path


# --- cross-check: every row has the event that made it ------------------------------------------


def _json_text(column: str, key: str) -> str:
    if is_sqlite():
        return f"CAST(json_extract({column}, '$.{key}') AS TEXT)"
    return f"({column} ->> '{key}')"


def _event(action: str, entity_type: str, entity_id: str, *matches: tuple[str, str]) -> str:
    """``NOT EXISTS`` an event with this action (an SQL expression when it starts with ``=``) about this
    entity, whose data has these fields (each compared with an SQL expression of the row)."""
    action_sql = action[1:] if action.startswith("=") else f"'{action}'"
    extra = "".join(f" AND {_json_text('e.data', k)} = {v}" for k, v in matches)
    return (
        f"NOT EXISTS (SELECT 1 FROM audit_event e WHERE e.entity_type = '{entity_type}' "
        f"AND e.entity_id = {entity_id} AND e.action = {action_sql}{extra})"
    )


def _cross_checks() -> list[tuple[str, str]]:
    """(what is missing, SELECT of the ids of rows missing it). Each is one statement: a row and its event
    are committed together, so a check never sees one without the other while changes go on."""
    t = "CAST({} AS TEXT)".format
    return [
        (
            "organizations without their organization.created event",
            f"SELECT {t('r.id')} AS id FROM organization r WHERE {_event('organization.created', 'organization', t('r.id'))}",
        ),
        (
            "users without their user.created event",
            f"SELECT {t('r.id')} AS id FROM guild_user r WHERE {_event('user.created', 'user', t('r.id'))}",
        ),
        (
            "memberships without their membership.added event",
            f"SELECT {t('r.id')} AS id FROM membership r WHERE "
            + _event(
                "membership.added", "organization", t("r.organization"), ("user_id", t('r."user"')), ("role", "r.role")
            ),
        ),
        (
            "membership invitations without their membership.invited event",
            f"SELECT {t('r.id')} AS id FROM membership_invitation r WHERE "
            + _event("membership.invited", "organization", t("r.organization"), ("invitation_id", t("r.id"))),
        ),
        (
            "compacts without their compact.created event",
            f"SELECT {t('r.id')} AS id FROM compact r WHERE {_event('compact.created', 'compact', t('r.id'))}",
        ),
        (
            "amendment versions without their compact_version.drafted event",
            f"SELECT {t('r.id')} AS id FROM compact_version r WHERE r.number > 1 AND "
            + _event("compact_version.drafted", "compact_version", t("r.id")),
        ),
        (
            "proposed versions without their compact_version.proposed event",
            f"SELECT {t('r.id')} AS id FROM compact_version r WHERE r.proposed_at IS NOT NULL AND "
            + _event("compact_version.proposed", "compact_version", t("r.id")),
        ),
        (
            "ratified versions without their compact_version.ratified event",
            f"SELECT {t('r.id')} AS id FROM compact_version r WHERE r.ratified_at IS NOT NULL AND "
            + _event("compact_version.ratified", "compact_version", t("r.id")),
        ),
        (
            "superseded versions without their compact_version.superseded event",
            f"SELECT {t('r.id')} AS id FROM compact_version r WHERE r.superseded_at IS NOT NULL AND "
            + _event("compact_version.superseded", "compact_version", t("r.id")),
        ),
        (
            "withdrawn versions without their compact_version.withdrawn event",
            f"SELECT {t('r.id')} AS id FROM compact_version r WHERE r.status = '{VersionStatus.withdrawn.value}' AND "
            + _event("compact_version.withdrawn", "compact_version", t("r.id")),
        ),
        (
            "ratification decisions without their event",
            f"SELECT {t('r.id')} AS id FROM ratification_decision r JOIN organization o ON o.id = r.organization WHERE "
            + _event(
                "='compact_version.' || r.decision", "compact_version", t("r.version"), ("organization", "o.slug")
            ),
        ),
        (
            "productions without their production.created event",
            f"SELECT {t('r.id')} AS id FROM production r WHERE {_event('production.created', 'production', t('r.id'))}",
        ),
        (
            "production bindings without their production.bound event",
            f"SELECT {t('r.id')} AS id FROM production_binding r JOIN compact c ON c.id = r.compact "
            f"JOIN compact_version v ON v.id = r.version WHERE "
            + _event(
                "production.bound", "production", t("r.production"), ("compact", "c.slug"), ("version", t("v.number"))
            ),
        ),
        (
            "contracts without their contract.issued event",
            f"SELECT {t('r.id')} AS id FROM contract r WHERE {_event('contract.issued', 'contract', t('r.id'))}",
        ),
        (
            "voided contracts without their contract.voided event",
            f"SELECT {t('r.id')} AS id FROM contract r WHERE r.voided_at IS NOT NULL AND "
            + _event("contract.voided", "contract", t("r.id")),
        ),
        (
            "custom clauses without their custom_clause.created event",
            f"SELECT {t('r.id')} AS id FROM custom_clause r WHERE "
            + _event(
                "custom_clause.created",
                "organization",
                t("r.organization"),
                ("key", "r.key"),
                ("version", t("r.version")),
            ),
        ),
        (
            "webhook endpoints without their webhook_endpoint.created event",
            f"SELECT {t('r.id')} AS id FROM webhook_endpoint r WHERE "
            + _event("webhook_endpoint.created", "organization", t("r.organization"), ("endpoint_id", t("r.id"))),
        ),
    ]


@dataclass(frozen=True)
class MissingEvents:
    what: str
    count: int
    sample: list[str]


async def rows_without_events(sample: int = 5) -> list[MissingEvents]:
    """Rows of the audited tables that lack the event of their creation or of the state they are in."""
    missing = []
    for what, query in _cross_checks():
        [count] = await raw(f"SELECT COUNT(*) AS n FROM ({query}) m")
        if count["n"]:
            ids = await raw(f"SELECT id FROM ({query}) m ORDER BY id LIMIT {int(sample)}")
            missing.append(MissingEvents(what, count["n"], [str(r["id"]) for r in ids]))
    return missing


# --- everything ----------------------------------------------------------------------------------


@dataclass
class AuditReport:
    chain: ChainReport
    head_seq: int  # the highest seq present (a broken chain may have events after the break)
    checkpoints: int
    checkpoint_file: Path
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems


async def verify_log() -> AuditReport:
    """The chain (hashes and MACs), the checkpoints (database and file), and the tables against the events.

    Checkpoints are read first: a checkpoint taken while this runs only covers events already committed,
    which the walk that follows sees.
    """
    problems: list[str] = []
    async with read_tx():
        anchors, path = await _checkpoints(problems)
    seen: dict[int, str] = {}
    chain = await verify_chain(anchors=frozenset(anchors), seen=seen)
    head = await AuditEvent.select(AuditEvent.seq).order_by(AuditEvent.seq, ascending=False).first()
    head_seq = head["seq"] if head else 0
    if anchors:
        latest = anchors[max(anchors)]
        if head_seq < latest.seq:
            gone = f"events {head_seq + 1}..{latest.seq}" if head_seq + 1 < latest.seq else f"event {latest.seq}"
            problems.append(
                f"{gone} missing: the checkpoint of {_utc_text(latest.at)} recorded {latest.seq} events, "
                f"the log ends at seq={head_seq}" + (" (it is empty)" if head_seq == 0 else "")
            )
        for seq, cp in sorted(anchors.items()):
            if seq in seen and seen[seq] != cp.head_hash:
                problems.append(
                    f"event seq={seq} differs from the checkpoint of {_utc_text(cp.at)} (the log was rewritten)"
                )
                break
    for missing in await rows_without_events():
        problems.append(
            f"{missing.count} {missing.what}: {', '.join(missing.sample)}"
            + (", ..." if missing.count > len(missing.sample) else "")
        )
    return AuditReport(
        chain=chain, head_seq=head_seq, checkpoints=len(anchors), checkpoint_file=path, problems=problems
    )
