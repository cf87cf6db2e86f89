"""An officer's pages: compacts, one compact (versions, parties, ratification), decide, redline, findings."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field, ValidationError

from guild.apprenticeship import queries as apprenticeship
from guild.compacts import queries as compacts
from guild.compacts import service
from guild.compacts.schemas import AmendmentCreate, CompactRead, DecisionCreate, VersionRead
from guild.compacts.term_labels import shown_change
from guild.compliance import queries as compliance
from guild.domain.errors import Unprocessable
from guild.domain.principal import Principal
from guild.domain.values import Text
from guild.pages.render import page
from guild.pages.session import require_principal
from guild.web.params import SlugParam, VersionNumber


def _date_or_none(value: str | None, field: str) -> date | None:
    """A date field of a GET form: empty means no filter (a browser sends ``due_before=`` for an empty input)."""
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Unprocessable(f"{field}: a date like 2027-03-01", field=field, rule="date") from None


class DecisionForm(BaseModel):
    organization: Text = Field(default="", max_length=100)
    decision: Text = Field(default="", max_length=20)
    reason: Text = Field(default="", max_length=4000)


def _undecided(principal: Principal, compact: CompactRead, version: VersionRead) -> list[str]:
    """The parties this person is an officer of that have not yet decided on the proposed version."""
    if version.status != "proposed":
        return []
    decided = {d.organization for d in version.decisions}
    return [p for p in version.parties if p not in decided and principal.has_role(p, "officer")]


async def _compact_page(
    principal: Principal, slug: str, *, status_code: int = 200, errors: list[str] | None = None
) -> Template:
    compact = await compacts.get_compact(principal, slug)  # 404 for what this person cannot see
    versions = [(await compacts.get_version(principal, slug, v.number))[0] for v in compact.versions]
    decide = {v.number: _undecided(principal, compact, v) for v in versions}
    return page(
        "compact.html",
        principal,
        status_code=status_code,
        compact=compact,
        versions=versions,
        decide=decide,
        party_names={p.slug: p.name for p in compact.parties},
        convening=principal.is_admin or principal.has_role(compact.convening_org, "officer"),
        can_edit=principal.has_role(compact.convening_org, "officer"),  # the rule of the API's PUT of a draft
        errors=errors or [],
    )


class OfficerController(Controller):
    path = "/compacts"

    @get("/")
    async def list_compacts(self, request: Request[Any, Any, Any]) -> Template:
        principal = await require_principal(request)
        return page("compacts.html", principal, compacts=await compacts.list_compacts(principal))

    @get("/{slug:str}")
    async def compact(self, request: Request[Any, Any, Any], slug: FromPath[SlugParam]) -> Template:
        return await _compact_page(await require_principal(request), slug)

    @post("/{slug:str}/versions/{number:int}/decision", status_code=303)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[SlugParam],
        number: FromPath[VersionNumber],
        data: Annotated[DecisionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        principal = await require_principal(request)
        try:
            decision = DecisionCreate(organization=data.organization, decision=data.decision, reason=data.reason)
        except ValidationError as exc:
            messages = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
            return await _compact_page(principal, slug, status_code=422, errors=messages)
        await service.decide(principal, slug, number, decision)
        return Redirect(path=f"/compacts/{slug}#version-{number}", status_code=303)

    @post("/{slug:str}/versions/{number:int}/propose", status_code=303)
    async def propose(
        self, request: Request[Any, Any, Any], slug: FromPath[SlugParam], number: FromPath[VersionNumber]
    ) -> Redirect:
        """Put a draft to the parties (the convening organisation's officers; the service decides)."""
        await service.propose(await require_principal(request), slug, number)
        return Redirect(path=f"/compacts/{slug}#version-{number}", status_code=303)

    @post("/{slug:str}/amend", status_code=303)
    async def amend(self, request: Request[Any, Any, Any], slug: FromPath[SlugParam]) -> Redirect:
        """A new draft copying the version in force."""
        version = await service.amend(await require_principal(request), slug, AmendmentCreate())
        return Redirect(path=f"/compacts/{slug}#version-{version.number}", status_code=303)

    @get("/{slug:str}/redline")
    async def redline(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[SlugParam],
        from_: Annotated[int | None, QueryParameter(name="from", ge=1, required=False)] = None,
        to: Annotated[int | None, QueryParameter(ge=1, required=False)] = None,
    ) -> Template:
        principal = await require_principal(request)
        compact = await compacts.get_compact(principal, slug)
        numbers = [v.number for v in compact.versions]
        diff = None
        if from_ is not None and to is not None:
            diff = await compacts.diff(principal, slug, from_, to)
        changes = [shown_change(c) for c in diff.changes] if diff is not None else []
        return page(
            "redline.html", principal, compact=compact, numbers=numbers, diff=diff, changes=changes, from_=from_, to=to
        )

    @get("/{slug:str}/apprenticeships")
    async def apprenticeships(self, request: Request[Any, Any, Any], slug: FromPath[SlugParam]) -> Template:
        principal = await require_principal(request)
        compact = await compacts.get_compact(principal, slug)
        report = await apprenticeship.apprenticeship_totals(principal, slug)  # officers of its parties, else 404
        return page("apprenticeship_totals.html", principal, compact=compact, report=report)

    @get("/{slug:str}/apprenticeships.csv")
    async def apprenticeships_csv(self, request: Request[Any, Any, Any], slug: FromPath[SlugParam]) -> Response[str]:
        report = await apprenticeship.apprenticeship_totals(await require_principal(request), slug)
        return Response(
            apprenticeship.totals_csv(report),
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="{report.compact}-apprenticeship-totals-{report.as_of}.csv"'
            },
        )

    @get("/{slug:str}/findings")
    async def findings(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[SlugParam],
        status: Annotated[str | None, QueryParameter(max_length=100, required=False)] = None,
        severity: Annotated[str | None, QueryParameter(max_length=100, required=False)] = None,
        rule: Annotated[str | None, QueryParameter(max_length=100, required=False)] = None,
        due_before: Annotated[str | None, QueryParameter(max_length=40, required=False)] = None,
    ) -> Template:
        principal = await require_principal(request)
        compact = await compacts.get_compact(principal, slug)
        due = _date_or_none(due_before, "due_before")
        state = status if status in ("open", "resolved") else None
        found = await compliance.compact_findings(principal, slug, state)
        rules = sorted({f.rule for f in found})
        severities = sorted({f.severity for f in found})
        shown = [
            f
            for f in found
            if (not severity or f.severity == severity)
            and (not rule or f.rule == rule)
            and (due is None or f.due_at.date() < due)
        ]
        return page(
            "findings.html",
            principal,
            compact=compact,
            findings=shown,
            rules=rules,
            severities=severities,
            status=state or "",
            severity=severity or "",
            rule=rule or "",
            due_before=due.isoformat() if due else "",
        )
