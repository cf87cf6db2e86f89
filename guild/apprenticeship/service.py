"""The producers' apprenticeship planning preview: what a planned roster would meet. Nothing is written.

For a planned roster (and, optionally, another budget or other shoot dates than the production's) it
answers, for every compact version the production is bound to, the explained quota results of
:func:`guild.apprenticeship.rules.quota_report` — the function the compliance sweep uses — and the
commitments' due dates.

Only producers and officers of the production's company may preview (anyone else: 404). Besides the
request model's own refusals (:mod:`guild.apprenticeship.schemas`), a 422 names: another currency without
a budget in it (``budget_with_currency``), shoot dates out of order once the production's own dates fill
in what the request leaves out (``dates_in_order``), a due date outside the calendar
(``due_date_in_calendar``; request dates are bounded to 1900-01-01..2200-12-31, so this stays a guard).
"""

from __future__ import annotations

from uuid import UUID

from guild.apprenticeship.rules import PlannedEngagement, quota_report
from guild.apprenticeship.schemas import PreviewRead, PreviewRequest, RosterRow, VersionPreview
from guild.domain.dates import shoot_weeks
from guild.domain.errors import invalid
from guild.domain.principal import Principal
from guild.infra.db import read_tx
from guild.productions.queries import bound_versions, production_row
from guild.productions.rules import DueDateOutOfRange, commitment_schedule


def planned_roster(roster: list[RosterRow]) -> list[PlannedEngagement]:
    """The rows as the quota engine reads them: ``roster[i]`` refs, mentors resolved (the request model has
    checked that every named mentor is exactly one row)."""
    by_name = {r.person_name: r for r in roster}
    out = []
    for i, r in enumerate(roster):
        mentor = by_name.get(r.mentor_person_name) if r.mentor_person_name else None
        out.append(
            PlannedEngagement(
                ref=f"roster[{i}]",
                person_name=r.person_name,
                department=r.department,
                level=r.level,
                rate_minor_per_week=r.rate_minor_per_week,
                currency=r.currency,
                start_date=r.start_date,
                end_date=r.end_date,
                mentor_level=mentor.level if mentor else None,
                mentor_department=mentor.department if mentor else None,
            )
        )
    return out


async def preview(principal: Principal, production_id: UUID, data: PreviewRequest) -> PreviewRead:
    async with read_tx():
        production = await production_row(principal, production_id)
        bindings = await bound_versions(production_id)

    if data.currency is not None and data.budget_minor is None and data.currency != production["currency"]:
        raise invalid(
            "budget_minor",
            "budget_with_currency",
            f"the production's budget is in {production['currency']}; give budget_minor in {data.currency}",
        )
    budget = production["budget_minor"] if data.budget_minor is None else data.budget_minor
    currency = data.currency or production["currency"]
    start = data.shoot_start or production["start_date"]
    end = data.shoot_end or production["end_date"]
    if start is not None and end is not None and end < start:
        field = "shoot_end" if data.shoot_end is not None else "shoot_start"
        raise invalid(
            field,
            "dates_in_order",
            f"the shoot ends ({end}) before it starts ({start})",
            shoot_start=start.isoformat(),
            shoot_end=end.isoformat(),
        )
    notes = []
    if start is None or end is None:
        notes.append("no commitment due dates: give shoot_start and shoot_end (the production has no shoot dates)")
    if not bindings:
        notes.append("the production is not bound to any compact version: no quota or commitment applies")

    roster = planned_roster(data.roster)
    versions = []
    for b in bindings:
        terms, label = b.terms, b.label
        quotas = quota_report(budget, currency, roster, terms, label)
        try:
            schedule = (
                []
                if start is None or end is None
                else commitment_schedule(list(terms.apprenticeship_commitments), start, end, terms.working_calendar)
            )
        except DueDateOutOfRange as exc:
            field = str(exc.rule.anchor)
            raise invalid(field, "due_date_in_calendar", f"{exc} (under {label})", commitment=exc.rule.key) from None
        versions.append(
            VersionPreview(
                compact=b.compact_slug,
                compact_title=b.compact_title,
                version_number=b.version_number,
                version_hash=b.version_hash,
                label=label,
                quotas_met=all(q.met for q in quotas),
                quotas=quotas,
                commitments=schedule,
            )
        )
    return PreviewRead(
        production_id=production_id,
        budget_minor=budget,
        currency=currency,
        shoot_start=start,
        shoot_end=end,
        shoot_weeks=None if start is None or end is None else shoot_weeks(start, end),
        roster_rows=len(roster),
        versions=versions,
        notes=notes,
    )
