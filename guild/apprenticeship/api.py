"""Apprenticeship controllers: the producers' planning preview, commitments, members' placements, officers'
totals and the iCalendar feeds."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, Parameter, QueryParameter

from guild.apprenticeship import calendar, examples, queries, service
from guild.apprenticeship.schemas import PreviewRead, PreviewRequest
from guild.domain.errors import Conflict, Forbidden
from guild.domain.principal import Principal
from guild.domain.statuses import CommitmentStatus
from guild.infra.settings import get_settings
from guild.productions import commitments
from guild.web.paging import PAGE_HEADERS, Page, paged
from guild.web.params import SlugParam
from guild.web.problems import documented

Req = Request[Principal, Any, Any]
Format = Annotated[
    Literal["json", "csv"] | None,
    QueryParameter(required=False, description="json (default) or csv; Accept: text/csv also selects CSV; format wins"),
]

FeedFile = Annotated[str, Parameter(description="<production id>.ics")]

_NO_STORE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
# Litestar adds "; charset=utf-8" to text/* media types
CSV_MEDIA_TYPE = "text/csv"
ICS_MEDIA_TYPE = "text/calendar"
# secret URLs: the access log (guild.web.observability) prints their paths with the token redacted
_FEED_OPT = {"public": True}
_TOTALS_CSV = "CSV (Accept: text/csv or ?format=csv): a header row, one row per bound production, a TOTAL row"


def _wants_csv(request: Req, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    try:
        best = request.accept.best_match(["application/json", "text/csv"], default="application/json")
    except (ValueError, OverflowError):  # a malformed Accept header (e.g. q=1e9999): answer with the default
        return False
    return best == "text/csv"


def _ics(body: bytes, name: str) -> Response[bytes]:
    return Response(
        body,
        media_type=ICS_MEDIA_TYPE,
        headers={**_NO_STORE, "Content-Disposition": f'inline; filename="{name}.ics"'},
    )


PREVIEW_MAX_BYTES = 4 * 1024 * 1024  # 2000 rows of the longest names still fit


class ApprenticeshipPreviewController(Controller):
    path = "/api/v1/productions"
    tags = ["apprenticeship"]

    @post(
        "/{production_id:uuid}/apprenticeship/preview",
        status_code=200,
        request_max_body_size=PREVIEW_MAX_BYTES,
        summary="Preview apprenticeship quotas and commitment due dates for a planned roster (producers and officers)",
        opt={
            "examples": {
                "A camera department with one apprentice": examples.PREVIEW,
                "Only the roster: the production gives the rest": examples.PREVIEW_ROSTER_ONLY,
            }
        },
        operation_id="previewApprenticeships",
    )
    async def preview(self, request: Req, production_id: FromPath[UUID], data: JSONBody[PreviewRequest]) -> PreviewRead:
        """Computes, without saving anything, the apprentice placements a planned roster needs under the bound
        compacts' quotas, whether each planned placement counts (pay, weeks, mentor), and the due dates of the
        apprenticeship commitments. Budget, currency and shoot dates default to the production's."""
        return await service.preview(request.user, production_id, data)


class ApprenticeshipController(Controller):
    path = "/api/v1"
    tags = ["apprenticeship"]

    @get(
        "/productions/{production_id:uuid}/commitments",
        response_headers=PAGE_HEADERS,
        summary="A production's apprenticeship commitments (its company's producers and officers; party officers of a bound compact)",
        operation_id="listCommitments",
    )
    async def production_commitments(
        self,
        request: Req,
        production_id: FromPath[UUID],
        page: Page,
        status: Annotated[
            CommitmentStatus | None, QueryParameter(required=False, description="only commitments of this status")
        ] = None,
    ) -> Response[list[commitments.CommitmentRead]]:
        """The production's apprenticeship commitments (skills plan, placement plan ...): due date from the shoot
        dates and working calendar, and whether open, done or withdrawn."""
        rows = await commitments.list_commitments(request.user, production_id)
        rows = [c for c in rows if status is None or c.status == status]
        return paged(request, page, rows, lambda c: (c.due_date.isoformat(), c.production_title, c.key, str(c.id)))

    @post(
        "/productions/{production_id:uuid}/commitments/{commitment_id:uuid}/done",
        status_code=200,
        raises=documented(Forbidden, Conflict),
        summary="Mark an open commitment done (producers of the company; 409 when already done or withdrawn)",
        operation_id="completeCommitment",
    )
    async def mark_done(
        self, request: Req, production_id: FromPath[UUID], commitment_id: FromPath[UUID]
    ) -> commitments.CommitmentRead:
        """A producer of the company records an open commitment as done. 409 when it is already done or withdrawn."""
        return await commitments.mark_done(request.user, production_id, commitment_id)

    @get(
        "/me/apprenticeships",
        summary="Placements you hold or mentor, pay against each compact's minimum, and commitments",
        operation_id="getMyApprenticeships",
    )
    async def my_apprenticeships(self, request: Req) -> queries.MyApprenticeships:
        """The signed-in member's placements as apprentice or trainee and those they mentor, each with the pay
        against the compact's minimum, and the commitments of their productions."""
        return await queries.my_apprenticeships(request.user)

    @get(
        "/compacts/{slug:str}/apprenticeship-totals",
        opt={"also_returns": {CSV_MEDIA_TYPE: _TOTALS_CSV}},
        summary="Per bound production: placements required, filled, unpaid, overdue commitments (officers of the compact's parties); CSV with Accept: text/csv or ?format=csv",
        operation_id="getApprenticeshipTotals",
    )
    async def totals(
        self, request: Req, slug: FromPath[SlugParam], format: Format = None
    ) -> Response[queries.ApprenticeshipTotals]:
        """Per production bound to the compact: placements the quotas require, placements filled, placements paid
        under the minimum, and overdue commitments, with a total. As JSON, or CSV with `Accept: text/csv` or
        `?format=csv`."""
        report = await queries.apprenticeship_totals(request.user, slug)
        if _wants_csv(request, format):
            csv_text: Any = queries.totals_csv(report)  # the CSV form of the documented JSON answer
            return Response(
                csv_text,
                media_type=CSV_MEDIA_TYPE,
                headers={
                    "Content-Disposition": f'attachment; filename="{report.compact}-apprenticeship-totals-{report.as_of}.csv"',
                    "Vary": "Accept",
                },
            )
        return Response(report, headers={"Vary": "Accept"})

    @post(
        "/me/calendar-token",
        status_code=201,
        opt={"location": "/api/v1/calendar/{token}/me.ics"},
        summary="Create or replace your calendar feed token (the old feed URLs stop working); returns the feed URLs",
        operation_id="createCalendarToken",
    )
    async def calendar_token(self, request: Req) -> Response[calendar.CalendarTokenRead]:
        """Issues a secret token for iCalendar feeds of the signed-in account and answers the feed URLs (the
        account's and one per production it may see). A new token replaces the old one: its URLs stop working."""
        # Feed URLs from the configured public address, never from the request's Host header (which a client
        # or a misconfigured proxy controls): a forged Host would put a stranger's host around the secret token.
        issued = await calendar.issue_token(request.user, get_settings().public_base_url)
        return Response(issued, status_code=201, headers=_NO_STORE)

    @get(
        "/calendar/{token:str}/me.ics",
        opt=_FEED_OPT,
        media_type=ICS_MEDIA_TYPE,
        summary="iCalendar feed: commitments of your placements, those you mentor and your companies' productions",
        operation_id="getMyCalendarFeed",
    )
    async def my_feed(self, token: FromPath[str]) -> Response[bytes]:
        """iCalendar (RFC 5545) feed of the commitments of the token holder's placements, of those they mentor and
        of their companies' productions. The token in the path is the credential: no bearer token."""
        return _ics(await calendar.my_feed(token), "my-commitments")

    @get(
        "/calendar/{token:str}/production/{production_file:str}",
        opt=_FEED_OPT,
        media_type=ICS_MEDIA_TYPE,
        summary="iCalendar feed of one production's commitments: /calendar/{token}/production/{production_id}.ics",
        operation_id="getProductionCalendarFeed",
    )
    async def production_feed(self, token: FromPath[str], production_file: FeedFile) -> Response[bytes]:
        """iCalendar (RFC 5545) feed of one production's commitments, for a token holder who may see the production.
        The token in the path is the credential: no bearer token."""
        body, production_id = await calendar.production_feed(token, production_file)
        return _ics(body, f"production-{production_id}")
