"""The compliance engine: check member productions against their bound compact versions, set-based.

A batch of productions is loaded with a fixed handful of queries (``is_in`` on their ids, whatever
the batch size), evaluated by the pure rules of :mod:`guild.compliance.rules`, and reconciled with
the batch's OPEN findings in the same write transaction:

- a new (production, rule, subject) → a finding opens, citing every bound version that requires it
  (``finding_citation``; its own compact and version: the strictest one's), due after the shortest
  grace period among them;
- a key seen again → the same row is touched (last seen, last run, current evidence, its citations and
  primary version as they are now: never resolved and reopened for that); past its due date it
  escalates once (severity one step up, ``escalated_at`` set);
- an open finding whose key is no longer produced → resolved (kept, never deleted).

Each change queues a webhook (``finding.opened`` / ``.escalated`` / ``.resolved``) to the production
company and the convening organisation of every citing compact, in the same transaction. A sweep commits batch by
batch and advances its run's cursor with each batch's results (:mod:`guild.compliance.runs` writes the
run rows: on-demand checks from the API and the CLI, scheduled sweeps), so a crashed sweep resumes
after the last committed batch and never duplicates a finding (the partial unique index
``finding_one_obligation`` is the last line of defence; all writers also serialise on one advisory lock on
PostgreSQL, the IMMEDIATE write lock on SQLite).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache, partial
from typing import Any, TypeVar
from uuid import UUID, uuid4

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString
from piccolo.utils.encoding import dump_json

from guild.compacts.bound import Binding, BoundVersion
from guild.compliance import runs
from guild.compliance.recheck import Recheck, recheck
from guild.compliance.rules import (
    CommitmentFact,
    ContractFact,
    Disclosure,
    EngagementFact,
    FindingDraft,
    Headcount,
    ProductionFacts,
    escalated,
    evaluate_production,
)
from guild.compliance.runs import RunCounts, RunLease, SweepConflict
from guild.domain.errors import NotFound
from guild.domain.statuses import CommitmentStatus, ContractStatus, FindingStatus
from guild.domain.work import ENTRY_LEVELS
from guild.infra import audit
from guild.infra.db import in_list, insert_many, is_sqlite, raw, read_tx, write_tx
from guild.infra.db import rows as db_rows
from guild.infra.metrics import FINDINGS_OPENED
from guild.infra.tables import (
    AssetDisclosure,
    Commitment,
    Compact,
    Contract,
    ContractRecheck,
    Finding,
    FindingCitation,
    Production,
)
from guild.productions.queries import bindings
from guild.webhooks.service import enqueue_many

__all__ = [
    "CLI_BATCH",
    "MAX_BATCH",
    "BatchStats",
    "SweepConflict",
    "SweepStats",
    "check_batch",
    "check_production",
    "productions_to_check",
    "run_check",
    "sweep_compact",
]

MAX_BATCH = 500  # productions per query set: keeps every ``IN (...)`` list well inside both engines' limits
CLI_BATCH = 200  # productions per transaction of a check from the CLI
_ID_CHUNK = 500  # finding ids per UPDATE ... WHERE id IN (...)

OPEN, RESOLVED = FindingStatus.open.value, FindingStatus.resolved.value
OPENED, ESCALATED_EVENT, RESOLVED_EVENT = "finding.opened", "finding.escalated", "finding.resolved"

Key = tuple[str, str, str]  # (production id, rule, subject)
T = TypeVar("T")


@dataclass
class BatchStats:
    productions: int = 0
    opened: int = 0
    resolved: int = 0
    escalated: int = 0
    still_open: int = 0  # open before and still open (escalated ones included)

    def add(self, other: BatchStats) -> None:
        for name in ("productions", "opened", "resolved", "escalated", "still_open"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def counts(self) -> RunCounts:
        """What the run row keeps of it."""
        return RunCounts(self.productions, self.opened, self.resolved)


@dataclass
class SweepStats(BatchStats):
    batches: int = 0
    cursor: str = ""  # the last production id committed


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _loaded(value: Any) -> Any:
    """A JSON column's value: text on some drivers and queries, parsed on others."""
    return json.loads(value) if isinstance(value, str | bytes) else value


# --- loading a batch -----------------------------------------------------------------------------


@dataclass
class _Batch:
    facts: dict[str, ProductionFacts] = field(default_factory=dict)
    company: dict[str, UUID] = field(default_factory=dict)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    # contracts re-checked by this batch for the first time: (contract id, version hash, result), to keep
    new_rechecks: list[tuple[UUID, str, Recheck]] = field(default_factory=list)


async def _bindings(ids: Sequence[UUID]) -> dict[str, list[Binding]]:
    """Per production, its bound versions (the one loader: each version's terms parsed once)."""
    out: dict[str, list[Binding]] = {}
    for b in await bindings(ids):
        out.setdefault(str(b.production_id), []).append(b)
    return out


async def _disclosures(ids: Sequence[UUID]) -> dict[str, list[Disclosure]]:
    rows = await AssetDisclosure.select(
        AssetDisclosure.production,
        AssetDisclosure.category,
        AssetDisclosure.total_count,
        AssetDisclosure.ai_generated_count,
    ).where(AssetDisclosure.production.is_in(list(ids)))
    out: dict[str, list[Disclosure]] = {}
    for r in sorted(rows, key=lambda r: r["category"]):
        out.setdefault(str(r["production"]), []).append(
            Disclosure(r["category"], r["total_count"], r["ai_generated_count"])
        )
    return out


_LATEST_CONTRACTS = f"""
    SELECT c.engagement, c.id, c.status, c.contract_type, c.clause_keys, c.planned_ai_uses, c.version_hashes,
           c.compliant, row_number() OVER (
               PARTITION BY c.engagement
               ORDER BY CASE WHEN c.status = '{ContractStatus.issued.value}' THEN 0 ELSE 1 END, c.issued_at DESC, c.id DESC
           ) AS latest
    FROM contract c WHERE {{}}
"""

# Per engagement: its live (issued) contract, else its latest void or superseded one.
_ENGAGEMENTS = f"""
SELECT e.production, e.id, e.person_name, e.department, e.level, e.rate_minor_per_week, e.currency,
       e.start_date, e.end_date, m.level AS mentor_level, m.department AS mentor_department,
       c.id AS contract_id, c.status AS contract_status, c.contract_type, c.clause_keys, c.planned_ai_uses,
       c.version_hashes, c.compliant
FROM engagement e
LEFT JOIN engagement m ON m.id = e.mentor
LEFT JOIN ({_LATEST_CONTRACTS}) c ON c.engagement = e.id AND c.latest = 1
WHERE {{}}
ORDER BY e.id
"""

# ``rules.settled`` in SQL, per engine, over ``e`` (the engagement), ``c`` (its contract, as above) and ``b.hashes``
# (the hashes of the versions its production is bound to): not a placement, and an issued contract planning no
# AI use that complies with every bound version: its stored report is compliant and was made against that
# version, or its stored re-check against that version is compliant (``contract_recheck``). The common case
# (checked at issue against every bound version) is decided by the first test alone. NULL (unknown) is not
# settled: the engagement is then listed and the rules decide.
_RECHECKED = (
    "EXISTS (SELECT 1 FROM contract_recheck r WHERE r.contract = c.id AND r.version_hash = {hash} AND r.compliant)"
)
_SETTLED = {
    "postgres": (
        # the mentor looked up by primary key (OFFSET 0 keeps it a lookup, not a hash over every engagement)
        "LEFT JOIN LATERAL (SELECT m.level, m.department FROM engagement m WHERE m.id = e.mentor OFFSET 0) m ON TRUE",
        "array_agg(b.version_hash)",
        "cardinality(c.planned_ai_uses) = 0 AND ("
        "(c.compliant AND c.version_hashes @> coalesce(b.hashes, ARRAY[]::varchar[])) "
        "OR NOT EXISTS (SELECT 1 FROM unnest(b.hashes) h(hash) "
        "WHERE NOT ((c.compliant AND h.hash = ANY(c.version_hashes)) OR " + _RECHECKED.format(hash="h.hash") + ")))",
    ),
    "sqlite": (
        "LEFT JOIN engagement m ON m.id = e.mentor",
        "json_group_array(b.version_hash)",
        "json_array_length(c.planned_ai_uses) = 0 AND c.version_hashes IS NOT NULL AND NOT EXISTS ("
        "SELECT 1 FROM json_each(coalesce(b.hashes, '[]')) h "
        "WHERE NOT ((c.compliant AND h.value IN (SELECT value FROM json_each(c.version_hashes))) OR "
        + _RECHECKED.format(hash="h.value")
        + "))",
    ),
}


@lru_cache(maxsize=2)
def _settling_sql(engine_type: str) -> str:
    """The engagement query of a sweep: the engagements it lists (as ``_ENGAGEMENTS``, its last column
    NULL, in no order), then per production, department and level the number of settled ones (``id`` NULL)."""
    mentor, hashes, settled = _SETTLED[engine_type]
    entry = ", ".join(f"'{level.value}'" for level in sorted(ENTRY_LEVELS))
    return f"""
WITH x AS (
    SELECT e.production, e.id, e.person_name, e.department, e.level, e.rate_minor_per_week, e.currency,
           e.start_date, e.end_date, m.level AS mentor_level, m.department AS mentor_department,
           c.id AS contract_id, c.status AS contract_status, c.contract_type, c.clause_keys, c.planned_ai_uses,
           c.version_hashes, c.compliant,
           (e.level NOT IN ({entry}) AND c.status = '{ContractStatus.issued.value}' AND {settled})
           AS settled
    FROM engagement e
    {mentor}
    LEFT JOIN ({_LATEST_CONTRACTS}) c ON c.engagement = e.id AND c.latest = 1
    LEFT JOIN (SELECT b.production, {hashes} AS hashes FROM production_binding b WHERE {{}} GROUP BY b.production) b
        ON b.production = e.production
    WHERE {{}}
)
SELECT production, id, person_name, department, level, rate_minor_per_week, currency, start_date, end_date,
       mentor_level, mentor_department, contract_id, contract_status, contract_type, clause_keys,
       planned_ai_uses, version_hashes, compliant, NULL AS headcount
FROM x WHERE settled IS NOT TRUE
UNION ALL
SELECT production, NULL, NULL, department, level, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, count(*)
FROM x WHERE settled
GROUP BY production, department, level
"""


def _contract(r: Sequence[Any]) -> ContractFact | None:
    return None if r[11] is None else ContractFact(r[11], r[12], r[13], r[14], r[15], r[16], bool(r[17]))


def _engagement(r: Sequence[Any]) -> EngagementFact:
    return EngagementFact(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], _contract(r))


_Roster = tuple[dict[UUID, list[EngagementFact]], dict[UUID, list[Headcount]]]


async def _engagements(ids: Sequence[UUID], *, settle: bool = True) -> _Roster:
    """Per production, its engagements in id order, each with its mentor's level and department and
    its contract's facts (the columns stored at issue: never the document, report or PDF). One query.

    ``settle``: the engagements no rule can flag (:func:`guild.compliance.rules.settled` under every
    version the production is bound to; most of a roster in order) are not loaded but counted per
    department and level (second dict): no row, no arrays to decode, no fact to build for each."""
    contracts, engagements = in_list("c.production", ids), in_list("e.production", ids)
    if settle:
        bound = in_list("b.production", ids)
        query = QueryString(_settling_sql("sqlite" if is_sqlite() else "postgres"), contracts, bound, engagements)
    else:
        query = QueryString(_ENGAGEMENTS, contracts, engagements)
    listed: dict[UUID, list[EngagementFact]] = {}
    counted: dict[UUID, list[Headcount]] = {}
    for r in await db_rows(query):
        if settle and r[18] is not None:
            counted.setdefault(r[0], []).append(Headcount(r[3], r[4], r[18]))
        else:
            listed.setdefault(r[0], []).append(_engagement(r))
    if settle:  # in id order (sorted here: the server would sort the wide rows on disk)
        for roster in listed.values():
            roster.sort(key=_by_id)
    return listed, counted


def _by_id(e: EngagementFact) -> UUID:
    return e.id


async def _commitments(ids: Sequence[UUID]) -> dict[str, list[CommitmentFact]]:
    rows = await Commitment.select(
        Commitment.production,
        Commitment.version,
        Commitment.key,
        Commitment.title,
        Commitment.due_date,
        Commitment.status,
    ).where(Commitment.production.is_in(list(ids)))
    out: dict[str, list[CommitmentFact]] = {}
    for r in sorted(rows, key=lambda r: (str(r["version"]), r["key"])):
        out.setdefault(str(r["production"]), []).append(
            CommitmentFact(
                version_id=r["version"],
                key=r["key"],
                title=r["title"],
                due_date=r["due_date"],
                status=r["status"],
            )
        )
    return out


async def _load(ids: Sequence[UUID], today: date | None = None, *, settle: bool = True) -> _Batch:
    """Facts and bound versions of up to MAX_BATCH productions: six queries, whatever their number.
    ``today`` (the run's UTC date) is what open commitments are overdue against; ``settle``: settled
    engagements counted, not listed (:func:`_engagements`)."""
    batch = _Batch()
    productions = await Production.select(
        Production.id, Production.company, Production.budget_minor, Production.currency
    ).where(Production.id.is_in(list(ids)))
    if not productions:
        return batch
    ids = [p["id"] for p in productions]
    batch.company = {str(p["id"]): p["company"] for p in productions}
    batch.bindings = await _bindings(ids)
    disclosures, (engagements, settled) = await _disclosures(ids), await _engagements(ids, settle=settle)
    commitments = await _commitments(ids)
    await _recheck_contracts(batch, engagements)
    for p in productions:
        pid = str(p["id"])
        batch.facts[pid] = ProductionFacts(
            production_id=p["id"],
            budget_minor=p["budget_minor"],
            currency=p["currency"],
            disclosures=disclosures.get(pid, []),
            engagements=engagements.get(p["id"], []),
            commitments=commitments.get(pid, []),
            today=today,
            settled=settled.get(p["id"], []),
        )
    return batch


# --- contracts re-checked against versions they were not issued under ------------------------------------


async def _recheck_contracts(batch: _Batch, engagements: dict[UUID, list[EngagementFact]]) -> None:
    """Give each listed engagement's issued contract its re-check against every bound version it was not
    checked against at issue (:mod:`guild.compliance.recheck`): the stored ones (one query), the others
    computed now from the contract's stored document (one more query, for those contracts only) and queued
    in ``batch.new_rechecks`` for the batch to keep. Nothing is queried when every contract was issued under
    the versions its production is bound to."""
    wanted: dict[UUID, list[BoundVersion]] = {}
    for pid, roster in engagements.items():
        bound = [b.version for b in batch.bindings.get(str(pid), [])]
        for e in roster:
            c = e.contract
            if c is None or c.status != ContractStatus.issued:
                continue
            missing = [v for v in bound if not (c.compliant and v.version_hash in c.version_hashes)]
            if missing:
                wanted[c.id] = missing
    if not wanted:
        return
    stored = await ContractRecheck.select(
        ContractRecheck.contract, ContractRecheck.version_hash, ContractRecheck.compliant, ContractRecheck.violations
    ).where(ContractRecheck.contract.is_in(list(wanted)))
    found: dict[UUID, dict[str, Recheck]] = {}
    for r in stored:
        violations = tuple(_loaded(r["violations"]) or ())
        found.setdefault(r["contract"], {})[r["version_hash"]] = Recheck(bool(r["compliant"]), violations)
    todo = {cid: [v for v in versions if v.version_hash not in found.get(cid, {})] for cid, versions in wanted.items()}
    todo = {cid: versions for cid, versions in todo.items() if versions}
    if todo:
        documents = await Contract.select(Contract.id, Contract.contract_type, Contract.document).where(
            Contract.id.is_in(list(todo))
        )
        for d in documents:
            document = _loaded(d["document"])
            for v in todo[d["id"]]:
                result = recheck(d["contract_type"], document, v)
                found.setdefault(d["id"], {})[v.version_hash] = result
                batch.new_rechecks.append((d["id"], v.version_hash, result))
    for roster in engagements.values():
        for i, e in enumerate(roster):
            c = e.contract
            if c is not None and c.id in found and c.status == ContractStatus.issued:
                roster[i] = replace(e, contract=replace(c, rechecks=found[c.id]))


async def _keep_rechecks(rechecks: list[tuple[UUID, str, Recheck]], now: datetime) -> None:
    """Store the batch's new re-checks (a concurrent checker's identical row wins: unique per contract and
    version hash)."""
    if not rechecks:
        return
    await ContractRecheck.insert(
        *[
            ContractRecheck(
                id=uuid4(),
                contract=cid,
                version_hash=version_hash,
                compliant=result.compliant,
                violations=[dict(v) for v in result.violations],
                checked_at=now,
            )
            for cid, version_hash, result in rechecks
        ]
    ).on_conflict(action="DO NOTHING")


_FINDING_FIELDS = (
    "id",
    "production",
    "compact",
    "version",
    "rule",
    "subject",
    "severity",
    "evidence",
    "remediation",
    "first_seen_at",
    "due_at",
    "escalated_at",
    "compact_slug",
    "convening_org",
    "version_number",
    "company",
)


async def _open_findings(ids: Sequence[UUID]) -> dict[Key, dict[str, Any]]:
    """The batch's open findings by key; ``evidence`` as its stored JSON text (compared as text)."""
    rows = await db_rows(
        Finding.select(
            Finding.id,
            Finding.production,
            Finding.compact,
            Finding.version,
            Finding.rule,
            Finding.subject,
            Finding.severity,
            Finding.evidence,
            Finding.remediation,
            Finding.first_seen_at,
            Finding.due_at,
            Finding.escalated_at,
            Finding.compact.slug.as_alias("compact_slug"),
            Finding.compact.convening_org.as_alias("convening_org"),
            Finding.version.number.as_alias("version_number"),
            Finding.production.company.as_alias("company"),
        ).where(Finding.production.is_in(list(ids)) & (Finding.status == OPEN))
    )
    found = [dict(zip(_FINDING_FIELDS, r, strict=True)) for r in rows]
    citations = await _citations([r["id"] for r in found])
    for r in found:
        r["cited"] = citations.get(r["id"], {})
    return {(str(r["production"]), r["rule"], r["subject"]): r for r in found}


async def _citations(finding_ids: Sequence[UUID]) -> dict[UUID, dict[str, UUID]]:
    """Per finding, its citing versions: {version id: the compact's convening organisation}."""
    out: dict[UUID, dict[str, UUID]] = {}
    for ids in _chunks(finding_ids, _ID_CHUNK):
        query = QueryString(
            "SELECT c.finding, c.version, k.convening_org FROM finding_citation c JOIN compact k ON k.id = c.compact "
            "WHERE {}",
            in_list("c.finding", ids),
        )
        for finding, version, convening_org in await db_rows(query):
            out.setdefault(finding, {})[str(version)] = convening_org
    return out


# --- reconciling ---------------------------------------------------------------------------------


@dataclass
class _Event:
    orgs: list[UUID]
    event: str
    payload: Callable[[], dict[str, Any]]  # built only if an endpoint of ``orgs`` will receive it


def _payload(row: dict[str, Any], status: str, run_id: UUID, **at: datetime | None) -> dict[str, Any]:
    """What a webhook receiver gets about a finding."""
    stamps = {name: None if value is None else _utc(value).isoformat() for name, value in at.items()}
    return {
        "finding_id": str(row["id"]),
        "production_id": str(row["production"]),
        "compact": row["compact_slug"],
        "version_number": row["version_number"],
        "rule": row["rule"],
        "subject": row["subject"],
        "severity": row["severity"],
        "status": status,
        "evidence": _loaded(row["evidence"]),
        "remediation": row["remediation"],
        "first_seen_at": _utc(row["first_seen_at"]).isoformat(),
        "due_at": _utc(row["due_at"]).isoformat(),
        "run_id": str(run_id),
        **stamps,
    }


def _orgs(*ids: UUID) -> list[UUID]:
    return list(dict.fromkeys(ids))


@dataclass
class _Plan:
    """What one batch writes: new rows, changed rows, touched ids, resolved ids, events."""

    inserts: list[tuple[Any, ...]] = field(default_factory=list)  # values in _INSERT_COLUMNS order
    cite: list[tuple[UUID, UUID, UUID, UUID]] = field(default_factory=list)  # (id, finding, compact, version)
    uncite: list[tuple[UUID, list[str]]] = field(default_factory=list)  # (finding, version ids no longer citing)
    changes: list[tuple[UUID, dict[Any, Any]]] = field(default_factory=list)
    touched: list[UUID] = field(default_factory=list)
    resolved: list[UUID] = field(default_factory=list)
    events: list[_Event] = field(default_factory=list)
    stats: BatchStats = field(default_factory=BatchStats)
    # per production checked: the next instant a time-driven rule can change its findings with no write
    next_check: dict[str, datetime | None] = field(default_factory=dict)

    def due(self, pid: str, at: datetime) -> None:
        current = self.next_check.get(pid)
        if current is None or at < current:
            self.next_check[pid] = at


_INSERT_COLUMNS = (
    Finding.id,
    Finding.production,
    Finding.compact,
    Finding.version,
    Finding.rule,
    Finding.subject,
    Finding.severity,
    Finding.status,
    Finding.evidence,
    Finding.remediation,
    Finding.first_seen_at,
    Finding.last_seen_at,
    Finding.due_at,
    Finding.first_run,
    Finding.last_run,
)


_CITATION_COLUMNS = (FindingCitation.id, FindingCitation.finding, FindingCitation.compact, FindingCitation.version)


def _grace_days(citing: Sequence[Binding]) -> int:
    """The shortest grace period of the citing versions: the finding is due when the strictest says."""
    return min(b.version.terms.compliance.grace_period_days for b in citing)


def _escalate_after_days(citing: Sequence[Binding]) -> int:
    return min(b.version.terms.compliance.escalate_after_days for b in citing)


def _citing_orgs(company: UUID, citing: Sequence[Binding]) -> list[UUID]:
    return _orgs(company, *(b.convening_org for b in citing))


def _open(plan: _Plan, citing: Sequence[Binding], company: UUID, d: FindingDraft, run_id: UUID, now: datetime) -> None:
    """A new finding, under its primary version (``citing[0]``), citing every version that requires it."""
    b = citing[0]
    due = now + timedelta(days=_grace_days(citing))
    finding_id, evidence = uuid4(), dump_json(d.evidence)
    plan.inserts.append(
        (
            finding_id,
            b.production_id,
            b.version.compact_id,
            d.version_id,
            str(d.rule),
            d.subject,
            str(d.severity),
            OPEN,
            evidence,
            d.remediation,
            now,
            now,
            due,
            run_id,
            run_id,
        )
    )
    info = {
        "id": finding_id,
        "production": b.production_id,
        "compact_slug": b.version.compact_slug,
        "version_number": b.version.version_number,
        "rule": str(d.rule),
        "subject": d.subject,
        "severity": str(d.severity),
        "evidence": evidence,
        "remediation": d.remediation,
        "first_seen_at": now,
        "due_at": due,
    }
    plan.cite.extend((uuid4(), finding_id, c.version.compact_id, c.version.version_id) for c in citing)
    plan.events.append(_Event(_citing_orgs(company, citing), OPENED, partial(_payload, info, OPEN, run_id)))
    plan.stats.opened += 1
    plan.due(str(b.production_id), _escalates_at(due, _escalate_after_days(citing)))


def _escalates_at(due_at: datetime, escalate_after_days: int) -> datetime:
    """The first instant an open finding due at ``due_at`` escalates (strictly after due + the term's days)."""
    return _utc(due_at) + timedelta(days=escalate_after_days, microseconds=1)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _commitments_due(plan: _Plan, pid: str, facts: ProductionFacts) -> None:
    """An open commitment becomes overdue the day after its due date; once overdue, its finding's evidence
    (days late) changes every day: the next such midnight (UTC) is when the production is due again."""
    if facts.today is None:
        return
    for c in facts.commitments:
        if c.status == CommitmentStatus.open:
            plan.due(pid, _midnight(max(c.due_date, facts.today) + timedelta(days=1)))


def _persist(
    plan: _Plan, row: dict[str, Any], d: FindingDraft, citing: Sequence[Binding], run_id: UUID, now: datetime
) -> None:
    """The same finding seen again: keep the row, refresh it (its evidence, its primary version and its
    citations as the versions bound now say; due the shortest grace period of the citing versions after it
    was first seen), escalate it once when it is still open the shortest ``escalate_after_days`` of the
    citing versions after its due date."""
    primary = citing[0]
    due_at = _utc(row["first_seen_at"]) + timedelta(days=_grace_days(citing))
    values: dict[Any, Any] = {}
    if due_at != _utc(row["due_at"]):
        values[Finding.due_at] = due_at
        row = {**row, "due_at": due_at}
    if str(row["version"]) != str(primary.version.version_id):
        values[Finding.compact] = primary.version.compact_id
        values[Finding.version] = primary.version.version_id
    now_citing = {str(c.version.version_id): c for c in citing}
    plan.cite.extend(
        (uuid4(), row["id"], c.version.compact_id, c.version.version_id)
        for v, c in now_citing.items()
        if v not in row["cited"]
    )
    gone = sorted(v for v in row["cited"] if v not in now_citing)
    if gone:
        plan.uncite.append((row["id"], gone))
    escalates_at = _escalates_at(row["due_at"], _escalate_after_days(citing))
    newly = row["escalated_at"] is None and now >= escalates_at
    if row["escalated_at"] is None and not newly:
        plan.due(str(row["production"]), escalates_at)
    severity = str(escalated(d.severity) if newly or row["escalated_at"] is not None else d.severity)
    evidence = dump_json(d.evidence)  # the stored JSON text is compared as text: no parsing of every open finding
    if severity != row["severity"]:
        values[Finding.severity] = severity
    if evidence != row["evidence"]:
        values[Finding.evidence] = evidence
    if d.remediation != row["remediation"]:
        values[Finding.remediation] = d.remediation
    if newly:
        values[Finding.escalated_at] = now
    if values:
        plan.changes.append((row["id"], values))
    plan.touched.append(row["id"])
    plan.stats.still_open += 1
    if newly:
        info = {
            **row,
            "compact_slug": primary.version.compact_slug,
            "version_number": primary.version.version_number,
            "severity": severity,
            "evidence": evidence,
            "remediation": d.remediation,
        }

        def payload() -> dict[str, Any]:
            return {**_payload(info, OPEN, run_id, escalated_at=now), "previous_severity": row["severity"]}

        plan.events.append(_Event(_citing_orgs(row["company"], citing), ESCALATED_EVENT, payload))
        plan.stats.escalated += 1


def _resolve(plan: _Plan, row: dict[str, Any], run_id: UUID, now: datetime) -> None:
    plan.resolved.append(row["id"])
    payload = partial(_payload, row, RESOLVED, run_id, resolved_at=now)
    orgs = _orgs(row["company"], row["convening_org"], *row["cited"].values())
    plan.events.append(_Event(orgs, RESOLVED_EVENT, payload))
    plan.stats.resolved += 1


def _plan(batch: _Batch, existing: dict[Key, dict[str, Any]], run_id: UUID, now: datetime) -> _Plan:
    plan = _Plan(stats=BatchStats(productions=len(batch.facts)))
    for pid in sorted(batch.facts):
        plan.next_check[pid] = None
        _commitments_due(plan, pid, batch.facts[pid])
        bound = batch.bindings.get(pid, [])
        by_version = {b.version.version_id: b for b in bound}
        for d in evaluate_production(batch.facts[pid], [b.version for b in bound]):
            citing = [by_version[v] for v in d.citing]
            row = existing.pop((pid, str(d.rule), d.subject), None)
            if row is None:
                _open(plan, citing, batch.company[pid], d, run_id, now)
            else:
                _persist(plan, row, d, citing, run_id, now)
    for key in sorted(existing):  # open findings no rule produced any more (or of deleted productions)
        _resolve(plan, existing[key], run_id, now)
    return plan


def _ids(ids: Sequence[UUID]) -> WhereRaw:
    return WhereRaw("{}", in_list('"id"', ids))


async def _write(plan: _Plan, run_id: UUID, now: datetime) -> None:
    await insert_many(Finding, _INSERT_COLUMNS, plan.inserts)
    # one statement per version no longer citing (an unbinding or amendment uncites one version from many findings)
    uncited: dict[str, list[UUID]] = {}
    for finding_id, versions in plan.uncite:
        for v in versions:
            uncited.setdefault(v, []).append(finding_id)
    for version, finding_ids in uncited.items():
        for chunk in _chunks(finding_ids, _ID_CHUNK):
            await FindingCitation.delete().where(
                (FindingCitation.version == UUID(version)) & FindingCitation.finding.is_in(list(chunk))
            )
    await insert_many(FindingCitation, _CITATION_COLUMNS, plan.cite)
    for finding_id, values in plan.changes:
        await Finding.update(values).where(Finding.id == finding_id)
    for ids in _chunks(plan.touched, _ID_CHUNK):
        await Finding.update({Finding.last_seen_at: now, Finding.last_run: run_id}).where(_ids(ids))
    for ids in _chunks(plan.resolved, _ID_CHUNK):
        await Finding.update({Finding.status: RESOLVED, Finding.resolved_at: now, Finding.last_run: run_id}).where(
            _ids(ids)
        )
    if plan.events:
        await enqueue_many([(e.orgs, e.event, e.payload) for e in plan.events])
    await _mark_evaluated(plan.next_check, run_id)


async def _mark_evaluated(next_check: dict[str, datetime | None], run_id: UUID) -> None:
    """The productions checked: evaluated at their current input revision (their rows are locked by the
    batch, so no write moved it since their facts were read), by this run, due again at ``next_check``."""
    if not next_check:
        return
    if not is_sqlite():
        await raw(
            "UPDATE production AS p SET evaluated_rev = p.inputs_rev, checked_run = {}, next_check_at = v.next "
            "FROM unnest({}::uuid[], {}::timestamptz[]) AS v(id, next) WHERE p.id = v.id",
            run_id,
            [UUID(pid) for pid in next_check],
            list(next_check.values()),
        )
        return
    by_instant: dict[datetime | None, list[UUID]] = {}
    for pid, at in next_check.items():
        by_instant.setdefault(at, []).append(UUID(pid))
    for at, ids in by_instant.items():
        for chunk in _chunks(ids, _ID_CHUNK):
            await raw(
                "UPDATE production SET evaluated_rev = inputs_rev, checked_run = {}, next_check_at = {} WHERE {}",
                run_id,
                at,
                in_list("id", chunk),
            )


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch builds its tens of thousands of short-lived,
    acyclic objects (driver records, facts, drafts). Otherwise every few hundred allocations start a
    collection that scans them again and again, which cost a third of a sweep's time (measured with
    ``benchmarks/compliance_sweep.py``). Reference counting still frees them when the batch ends; the
    collector resumes then (it stays off if something else had turned it off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def _planner_settings() -> None:
    """How PostgreSQL plans a batch's queries, for the current transaction only:

    - each execution planned for its own ids (``force_custom_plan``): a prepared statement run a few times
      may otherwise get a generic plan, blind to the ids, which for the engagement query was 100× slower
      (seen in ``benchmarks/compliance_sweep.py``: 48 s instead of 0.3 s for one batch);
    - no JIT: it compiled the batch's queries anew each time (their estimated cost is high), ~0.2 s per
      batch, longer than running them (measured with EXPLAIN ANALYZE on the benchmark's data)."""
    if not is_sqlite():
        await raw("SET LOCAL plan_cache_mode = force_custom_plan")
        await raw("SET LOCAL jit = off")


async def _check_in_tx(production_ids: Sequence[UUID], run_id: UUID, now: datetime) -> BatchStats:
    """Check up to MAX_BATCH productions inside the caller's write transaction."""
    if not production_ids:
        return BatchStats()
    await _planner_settings()
    with _cyclic_gc_paused():
        batch = await _load(production_ids, _utc(now).date())
        await _keep_rechecks(batch.new_rechecks, now)
        existing = await _open_findings(production_ids)
        plan = _plan(batch, existing, run_id, now)
        await _write(plan, run_id, now)
    return plan.stats


async def _lock(production_ids: Sequence[UUID]) -> None:
    """Make these productions' checks one at a time: their rows locked (in id order, so two checkers of
    overlapping sets cannot deadlock) until the transaction ends. PostgreSQL; SQLite's IMMEDIATE write
    transaction already holds the only write lock. A sweep's batches lock theirs as they claim them."""
    if production_ids and not is_sqlite():
        await raw(
            "SELECT id FROM production WHERE {} ORDER BY id FOR NO KEY UPDATE",
            in_list("id", list(production_ids)),
        )


# --- public API ----------------------------------------------------------------------------------


async def check_batch(production_ids: list[UUID], run_id: UUID, now: datetime) -> BatchStats:
    """Check these productions against their bound compact versions and reconcile their findings,
    in ONE write transaction (loaded MAX_BATCH productions at a time)."""
    now = _utc(now)
    ids = list(dict.fromkeys(production_ids))
    total = BatchStats()
    async with write_tx():
        await _lock(ids)
        for chunk in _chunks(ids, MAX_BATCH):
            total.add(await _check_in_tx(chunk, run_id, now))
    FINDINGS_OPENED.inc(total.opened)  # committed
    return total


def _candidates(
    compact_id: UUID | None, run_id: UUID | None, now: datetime, full: bool, limit: int | None
) -> QueryString:
    """Productions a run still has to check, in id order: bound to the compact (to any, when None), not
    checked by this run yet and, unless ``full``, changed since their last evaluation or due (a time-driven
    rule's instant reached): the partial index ``production_unevaluated`` and the index on
    ``next_check_at`` find them."""
    where = []
    if run_id is not None:
        where.append(QueryString("(p.checked_run IS NULL OR p.checked_run <> {})", run_id))
    if compact_id is not None:
        where.append(
            QueryString("p.id IN (SELECT b.production FROM production_binding b WHERE b.compact = {})", compact_id)
        )
    else:
        where.append(QueryString("p.id IN (SELECT b.production FROM production_binding b)"))
    if not full:
        where.append(QueryString("(p.inputs_rev <> p.evaluated_rev OR p.next_check_at <= {})", now))
    sql = "SELECT p.id FROM production p WHERE " + " AND ".join("{}" for _ in where) + " ORDER BY p.id"
    if limit is None:
        return QueryString(sql, *where)
    return QueryString(sql + " LIMIT {}", *where, limit)


def _locking(query: QueryString, how: str) -> QueryString:
    return QueryString("{} " + how, query)


async def _next_productions(compact_id: UUID, run_id: UUID, now: datetime, full: bool, limit: int) -> list[UUID]:
    """Claim the next batch of the run: up to ``limit`` candidates, their rows locked until the batch's
    transaction ends. On PostgreSQL rows another process has claimed are skipped (``SKIP LOCKED``): several
    processes share one run's batches, and a process that dies releases its batch with its connection.
    On SQLite the IMMEDIATE write transaction makes this process the only one claiming."""
    query = _candidates(compact_id, run_id, now, full, limit)
    if not is_sqlite():
        query = _locking(query, "FOR NO KEY UPDATE OF p SKIP LOCKED")
    return [r[0] for r in await db_rows(query)]


async def _in_flight(compact_id: UUID, run_id: UUID, now: datetime, full: bool) -> bool:
    """Nothing was left to claim: wait for batches other processes hold (their locks), then say whether a
    candidate remains (a batch rolled back, or its process died). SQLite: nobody else holds any."""
    if is_sqlite():
        return False
    async with write_tx():
        left = await db_rows(_locking(_candidates(compact_id, run_id, now, full, 1), "FOR NO KEY UPDATE OF p"))
    return bool(left)


async def sweep_compact(
    compact_id: UUID,
    run_id: UUID,
    after: str,
    now: datetime,
    batch_size: int = 500,
    *,
    lease: RunLease | None = None,
    helping: bool = False,
) -> SweepStats:
    """Check the productions of a run: every production bound to any version of the compact (a full run),
    or only those changed since their last evaluation or due (an incremental run; the run row says which).

    Batches are claimed, not ranged: each batch is one transaction that locks its productions, checks them,
    marks them checked by this run (and evaluated at their input revision) and adds its results to the run
    row, so a production is checked once per run however many processes share the run (``helping``: a
    process that does not own the run takes batches too, and stops when none is left to claim) and a crashed
    sweep resumes with what no committed batch covered. ``after`` (the run's cursor, the highest production
    id committed) is informational. With the owner's ``lease`` a batch commits only while this process still
    holds the run (:class:`SweepConflict` otherwise, nothing of the batch kept), and each commit renews it;
    without it, only while the run is running. The owner returns when no candidate is left, after waiting
    for the batches other processes hold."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be 1..{MAX_BATCH}, not {batch_size}")
    now = _utc(now)
    full = await runs.is_full(run_id)
    total = SweepStats(cursor=after)
    while True:
        async with write_tx():
            ids = await _next_productions(compact_id, run_id, now, full, batch_size)
            if ids:
                stats = await _check_in_tx(ids, run_id, now)
                await _advance(run_id, str(ids[-1]), stats, lease)
        if not ids:
            if helping or not await _in_flight(compact_id, run_id, now, full):
                return total
            continue
        FINDINGS_OPENED.inc(stats.opened)  # committed
        total.add(stats)
        total.batches += 1
        total.cursor = max(total.cursor, str(ids[-1]))


async def _advance(run_id: UUID, cursor: str, stats: BatchStats, lease: RunLease | None) -> None:
    """The batch's results move the run (:func:`guild.compliance.runs.advance`) in the batch's transaction."""
    await runs.advance(run_id, cursor, stats.counts, lease)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


async def check_production(production_id: UUID, trigger_user: UUID | None) -> UUID:
    """An on-demand check of one production: its own run, completed (or failed) here."""
    now = datetime.now(UTC)
    async with write_tx():
        if not await Production.exists().where(Production.id == production_id):
            raise NotFound(f"production {production_id} not found")
        run_id = await runs.start(f"user:{trigger_user}" if trigger_user else "", now, production_id=production_id)
    try:
        async with write_tx():
            await _lock([production_id])
            stats = await _check_in_tx([production_id], run_id, now)
            await runs.finish(run_id, runs.COMPLETED, counts=stats.counts)
            await audit.record(
                trigger_user,
                "compliance.checked",
                "production",
                production_id,
                {
                    "run_id": str(run_id),
                    "opened": stats.opened,
                    "resolved": stats.resolved,
                    "escalated": stats.escalated,
                    "still_open": stats.still_open,
                },
            )
    except Exception as exc:
        async with write_tx():
            await runs.finish(run_id, runs.FAILED, error=_error(exc))
        raise
    FINDINGS_OPENED.inc(stats.opened)  # committed
    return run_id


# --- checks from the CLI (``guild check run``) -----------------------------------------------------


async def productions_to_check(
    compact_slug: str | None, *, full: bool = True, now: datetime | None = None
) -> tuple[UUID | None, list[UUID]]:
    """The compact (None: every compact) and, in id order, the productions bound to it: all of them
    (``full``), else those changed since their last evaluation or due at ``now``."""
    async with read_tx():
        compact_id = None
        if compact_slug:
            row = await Compact.select(Compact.id).where(Compact.slug == compact_slug).first()
            if row is None:
                raise NotFound(f"compact {compact_slug!r} not found")
            compact_id = row["id"]
        query = _candidates(compact_id, None, _utc(now or datetime.now(UTC)), full, None)
        ids = [r[0] for r in await db_rows(query)]
    return compact_id, sorted(ids, key=str)


async def run_check(
    compact_slug: str | None, progress: Callable[[int, int], None], *, full: bool = False
) -> BatchStats:
    """Check the productions bound to a compact (None: to any) now, CLI_BATCH per transaction, in one run
    that the CLI owns: those changed since their last evaluation or due, or all of them (``full``, the
    CLI's ``--all``). ``progress(done in this batch, total)`` after each batch. Returns the totals."""
    now = datetime.now(UTC)
    compact_id, ids = await productions_to_check(compact_slug, full=full, now=now)
    async with write_tx():
        run_id = await runs.start("cli", now, compact_id=compact_id, full=full)
    totals = BatchStats()
    status, error = runs.COMPLETED, ""
    try:
        for chunk in _chunks(ids, CLI_BATCH):
            totals.add(await check_batch(list(chunk), run_id, now))
            await runs.heartbeat(run_id)  # alive: the scheduler's reaper closes runs silent for too long
            progress(len(chunk), len(ids))
    except BaseException as exc:  # interrupted too: the run is closed, not left running
        status, error = runs.FAILED, _error(exc)
        raise
    finally:
        async with write_tx():
            await runs.finish(run_id, status, error=error, counts=totals.counts)
    return totals
