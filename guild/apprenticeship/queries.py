"""Reading apprenticeships: a member's own placements, and per-compact totals for the compact's officers.

Who sees what:
- a member sees the entry-level placements (apprentice, trainee) they hold, and those they mentor
  (the mentor engagement is linked to their account); nobody else's. A mentor does not see the
  apprentice's pay: only the holder does.
- officers of a compact's parties (and site administrators) see the totals of every production
  bound to that compact; for anyone else the compact's totals do not exist (404).

Pay is checked against the quota rule whose band holds the production's budget, in the budget's
currency, for the placement's department (``contracts.clauses.applicable_quota_rules``); totals come
from :func:`guild.apprenticeship.rules.quota_report`, the rules the scheduled sweep applies.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from guild.apprenticeship.rules import PlannedEngagement, quota_report
from guild.compacts.bound import BoundVersion
from guild.compacts.terms import Department, QuotaRule, Terms, applicable_quota_rules
from guild.domain.dates import placement_weeks
from guild.domain.errors import NotFound
from guild.domain.principal import Principal
from guild.domain.statuses import CommitmentStatus
from guild.domain.values import Out
from guild.domain.work import ENTRY_LEVELS
from guild.infra.db import read_tx
from guild.infra.tables import Commitment, Compact, Engagement, Production
from guild.productions.commitments import CommitmentRead, commitment_rows, party_officer_compacts, today
from guild.productions.queries import bindings

__all__ = [
    "ApprenticeshipTotals",
    "MyApprenticeships",
    "PayCheck",
    "Placement",
    "ProductionTotals",
    "TOTALS_CSV_COLUMNS",
    "apprenticeship_totals",
    "my_apprenticeships",
    "totals_csv",
    "weeks_planned",
    "weeks_served",
]

_ENTRY = sorted(str(level) for level in ENTRY_LEVELS)


# --- weeks -------------------------------------------------------------------------------------------


def weeks_planned(start: date, end: date) -> int:
    """Days from start to end, both included, divided by 7 and rounded up (as the quota rules count a placement)."""
    return placement_weeks(start, end)


def weeks_served(start: date, end: date, on: date) -> int:
    """Whole weeks served from start to min(on, end), both days included; 0 before the start."""
    last = min(on, end)
    if last < start:
        return 0
    return ((last - start).days + 1) // 7


# --- pay against a compact's minimum -------------------------------------------------------------------


def _rule_for(terms: Terms, department: str, budget_minor: int, currency: str) -> tuple[int, QuotaRule] | None:
    """The quota rule for the department whose band (and currency) holds the production's budget."""
    try:
        dept = Department(department)
    except ValueError:
        return None
    found = applicable_quota_rules(terms, dept, budget_minor, currency)
    return found[0] if found else None


def _meets(rule: QuotaRule, rate_minor_per_week: int, currency: str) -> bool:
    return currency == rule.currency and rate_minor_per_week >= rule.min_rate_minor_per_week


# --- members' view -------------------------------------------------------------------------------------


class PayCheck(Out):
    compact: str
    version_number: int
    term_path: str | None = Field(
        description="the quota rule that sets the minimum, e.g. apprenticeship[0]; null: none applies"
    )
    min_rate_minor_per_week: int | None = Field(
        description="the minimum weekly pay, integer minor units; null: no rule applies"
    )
    currency: str | None
    meets_minimum: bool | None = Field(
        description="whether the placement's pay meets the minimum; null when no rule applies or for a mentor"
    )


class Placement(Out):
    engagement_id: UUID
    relation: Literal["holder", "mentor"] = Field(description="holder: your placement; mentor: you mentor it")
    production_id: UUID
    production_title: str
    company: str
    person_name: str
    department: str
    role: str
    level: str
    rate_minor_per_week: int | None = Field(description="weekly pay in minor units; shown to the holder only")
    currency: str
    start_date: date
    end_date: date
    weeks_served: int
    weeks_planned: int
    mentor_name: str | None
    pay: list[PayCheck] = Field(description="pay against the minimum of each bound compact version")


class MyApprenticeships(Out):
    as_of: date
    placements: list[Placement]
    commitments: list[CommitmentRead] = Field(description="the apprenticeship commitments of those productions")


_PLACEMENT_COLUMNS = (
    Engagement.id,
    Engagement.production.as_alias("production_id"),
    Engagement.production.title.as_alias("production_title"),
    Engagement.production._.company._.slug.as_alias("company"),
    Engagement.production.budget_minor.as_alias("budget_minor"),
    Engagement.production.currency.as_alias("budget_currency"),
    Engagement.person_name,
    Engagement.department,
    Engagement.role,
    Engagement.level,
    Engagement.rate_minor_per_week,
    Engagement.currency,
    Engagement.start_date,
    Engagement.end_date,
    Engagement.mentor.person_name.as_alias("mentor_name"),
)


async def _bound(production_ids: list[UUID]) -> dict[UUID, list[BoundVersion]]:
    """Per production, its bound versions (by compact slug); a version whose stored terms cannot be read
    is left out (no rule applies rather than a 500)."""
    out: dict[UUID, list[BoundVersion]] = defaultdict(list)
    for b in await bindings(production_ids, skip_unreadable=True):
        out[b.production_id].append(b.version)
    return out


def _pay(row: dict[str, Any], bound: list[BoundVersion], show: bool) -> list[PayCheck]:
    checks = []
    for b in bound:
        found = _rule_for(b.terms, row["department"], row["budget_minor"], row["budget_currency"])
        if found is None:
            checks.append(
                PayCheck(
                    compact=b.compact_slug,
                    version_number=b.version_number,
                    term_path=None,
                    min_rate_minor_per_week=None,
                    currency=None,
                    meets_minimum=None,
                )
            )
            continue
        index, rule = found
        checks.append(
            PayCheck(
                compact=b.compact_slug,
                version_number=b.version_number,
                term_path=f"apprenticeship[{index}]",
                min_rate_minor_per_week=rule.min_rate_minor_per_week,
                currency=rule.currency,
                meets_minimum=_meets(rule, row["rate_minor_per_week"], row["currency"]) if show else None,
            )
        )
    return checks


async def my_apprenticeships(principal: Principal) -> MyApprenticeships:
    on = today()
    async with read_tx():
        held = await Engagement.select(*_PLACEMENT_COLUMNS).where(
            (Engagement.user == principal.id) & Engagement.level.is_in(_ENTRY)
        )
        mentored = await Engagement.select(*_PLACEMENT_COLUMNS).where(
            (Engagement.mentor.user == principal.id) & Engagement.level.is_in(_ENTRY)
        )
        rows = [(r, "holder") for r in held] + [(r, "mentor") for r in mentored]
        production_ids = [r["production_id"] for r, _ in rows]
        bound = await _bound(production_ids)
        commitments = await commitment_rows(production_ids)
    placements = [
        Placement(
            engagement_id=r["id"],
            relation=relation,
            production_id=r["production_id"],
            production_title=r["production_title"],
            company=r["company"],
            person_name=r["person_name"],
            department=r["department"],
            role=r["role"],
            level=r["level"],
            rate_minor_per_week=r["rate_minor_per_week"] if relation == "holder" else None,
            currency=r["currency"],
            start_date=r["start_date"],
            end_date=r["end_date"],
            weeks_served=weeks_served(r["start_date"], r["end_date"], on),
            weeks_planned=weeks_planned(r["start_date"], r["end_date"]),
            mentor_name=r["mentor_name"],
            pay=_pay(r, bound.get(r["production_id"], []), relation == "holder"),
        )
        for r, relation in rows
    ]
    placements.sort(key=lambda p: (p.start_date, p.production_title, p.relation, str(p.engagement_id)))
    return MyApprenticeships(as_of=on, placements=placements, commitments=commitments)


# --- officers' totals ----------------------------------------------------------------------------------


class ProductionTotals(Out):
    production_id: UUID
    production_title: str
    company: str
    version_number: int
    required: int = Field(
        description="placements required by the applicable quota rules (min_apprentices or the ratio schedule, the larger)"
    )
    filled: int = Field(description="apprentice and trainee engagements in the departments those rules cover")
    unpaid: int = Field(description="of those, placements paid below the rule's minimum weekly rate")
    overdue_commitments: int = Field(description="commitments under this compact still open after their due date")


class TotalsSum(Out):
    productions: int
    required: int
    filled: int
    unpaid: int
    overdue_commitments: int


class ApprenticeshipTotals(Out):
    compact: str
    as_of: date
    productions: list[ProductionTotals]
    totals: TotalsSum


async def _compact_for_party_officer(principal: Principal, slug: str) -> dict[str, Any]:
    compact = await Compact.select(Compact.id, Compact.slug).where(Compact.slug == slug).first()
    if compact is None or not (principal.is_admin or compact["id"] in await party_officer_compacts(principal)):
        raise NotFound(f"compact {slug!r} not found")
    return compact


def _roster(rows: list[dict[str, Any]]) -> list[PlannedEngagement]:
    return [
        PlannedEngagement(
            ref=str(e["id"]),
            person_name=e["person_name"],
            department=e["department"],
            level=e["level"],
            rate_minor_per_week=e["rate_minor_per_week"],
            currency=e["currency"],
            start_date=e["start_date"],
            end_date=e["end_date"],
            mentor_level=e["mentor_level"],
            mentor_department=e["mentor_department"],
        )
        for e in rows
    ]


async def apprenticeship_totals(principal: Principal, slug: str) -> ApprenticeshipTotals:
    """Per bound production, from :func:`guild.apprenticeship.rules.quota_report` (the sweep's own rules):
    ``required`` its required count per department (the larger of min_apprentices and the ratio schedule),
    ``filled`` the entry-level placements in those departments whether they count or not, ``unpaid`` those
    paid below the rule's minimum weekly rate."""
    on = today()
    async with read_tx():
        compact = await _compact_for_party_officer(principal, slug)
        versions = {b.production_id: b.version for b in await bindings(compact_id=compact["id"], skip_unreadable=True)}
        productions = (
            await Production.select(
                Production.id,
                Production.title,
                Production.company.slug.as_alias("company"),
                Production.budget_minor,
                Production.currency,
            )
            .where(Production.id.is_in(list(versions)))
            .order_by(Production.title)
            .order_by(Production.id)
            if versions
            else []
        )
        ids = [p["id"] for p in productions]
        engagements = (
            await Engagement.select(
                Engagement.id,
                Engagement.production,
                Engagement.person_name,
                Engagement.department,
                Engagement.level,
                Engagement.rate_minor_per_week,
                Engagement.currency,
                Engagement.start_date,
                Engagement.end_date,
                Engagement.mentor.level.as_alias("mentor_level"),
                Engagement.mentor.department.as_alias("mentor_department"),
            )
            .where(Engagement.production.is_in(ids))
            .order_by(Engagement.created_at)
            if ids
            else []
        )
        overdue = (
            await Commitment.select(Commitment.production).where(
                Commitment.production.is_in(ids)
                & (Commitment.compact == compact["id"])
                & (Commitment.status == CommitmentStatus.open.value)
                & (Commitment.due_date < on)
            )
            if ids
            else []
        )
    by_production: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for e in engagements:
        by_production[e["production"]].append(e)
    overdue_count: dict[UUID, int] = defaultdict(int)
    for c in overdue:
        overdue_count[c["production"]] += 1
    rows = []
    for p in productions:
        version = versions[p["id"]]
        results = quota_report(
            p["budget_minor"], p["currency"], _roster(by_production[p["id"]]), version.terms, version.label
        )
        rows.append(
            ProductionTotals(
                production_id=p["id"],
                production_title=p["title"],
                company=p["company"],
                version_number=version.version_number,
                required=sum(r.required for r in results),
                filled=sum(r.counted + len(r.not_counted) for r in results),
                unpaid=sum(len(r.underpaid) for r in results),
                overdue_commitments=overdue_count[p["id"]],
            )
        )
    return ApprenticeshipTotals(
        compact=compact["slug"],
        as_of=on,
        productions=rows,
        totals=TotalsSum(
            productions=len(rows),
            required=sum(r.required for r in rows),
            filled=sum(r.filled for r in rows),
            unpaid=sum(r.unpaid for r in rows),
            overdue_commitments=sum(r.overdue_commitments for r in rows),
        ),
    )


TOTALS_CSV_COLUMNS = (
    "production_id",
    "production_title",
    "company",
    "version",
    "required",
    "filled",
    "unpaid",
    "overdue_commitments",
)


def _cell(value: Any) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def totals_csv(report: ApprenticeshipTotals) -> str:
    """One header row, one row per production, a TOTAL row (its production_id column says TOTAL)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TOTALS_CSV_COLUMNS)
    for r in report.productions:
        writer.writerow(
            [
                r.production_id,
                _cell(r.production_title),
                _cell(r.company),
                r.version_number,
                r.required,
                r.filled,
                r.unpaid,
                r.overdue_commitments,
            ]
        )
    t = report.totals
    writer.writerow(["TOTAL", "", "", "", t.required, t.filled, t.unpaid, t.overdue_commitments])
    return out.getvalue()
