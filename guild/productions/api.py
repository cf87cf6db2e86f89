from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from guild.domain.errors import Conflict, Forbidden
from guild.domain.paging import ident, instant
from guild.domain.principal import Principal
from guild.domain.statuses import ProductionStatus
from guild.productions import examples, imports, service
from guild.productions.schemas import (
    DISCLOSURE_COLUMNS,
    ENGAGEMENT_COLUMNS,
    BindingCreate,
    DisclosureIn,
    DisclosureRead,
    DisclosureSet,
    EngagementCreate,
    EngagementImportRow,
    EngagementRead,
    EngagementUpdate,
    ImportMode,
    ImportResult,
    ProductionCreate,
    ProductionRead,
    ProductionUpdate,
    RosterImportResult,
)
from guild.web.openapi import csv_import_body
from guild.web.paging import PAGE_HEADERS, Page, paged
from guild.web.problems import documented
from guild.web.responses import encoded

Req = Request[Principal, Any, Any]
IMPORT_MAX_BYTES = 8 * 1024 * 1024  # rosters of several thousand rows; anything larger is 413
# the import handlers read the body themselves (after the access check): its documentation
_ROSTER_BODY = csv_import_body(
    "Engagements",
    EngagementImportRow,
    examples.ROSTER_COLUMNS,
    {"A camera department: DoP, focus puller, apprentice": examples.ROSTER_CSV},
    {"A DoP and the apprentice they mentor": examples.ROSTER_JSON},
    imports.MAX_ROWS,
)
_DISCLOSURES_BODY = csv_import_body(
    "Disclosures",
    DisclosureIn,
    examples.DISCLOSURE_COLUMNS,
    {"VFX, script and music disclosures": examples.DISCLOSURES_CSV},
    {"VFX, script and music disclosures": examples.DISCLOSURES_JSON},
    imports.MAX_ROWS,
)


def _by_created(row: Any) -> tuple[int, str]:
    """Oldest first: the order of lists of rows with a creation time and an id."""
    return (instant(row.created_at), ident(row.id))


class ProductionController(Controller):
    path = "/api/v1/productions"
    tags = ["productions"]

    @post(
        "/",
        raises=documented(Forbidden),
        summary="Register a production (producers of the company)",
        opt={
            "location": "/api/v1/productions/{id}",
            "examples": {
                "A feature film in pre-production": examples.PRODUCTION_CREATE,
                "A short, budget in minor units": examples.PRODUCTION_CREATE_MINOR,
            },
            "response_examples": {"The production as registered": examples.PRODUCTION_READ},
        },
        operation_id="createProduction",
    )
    async def create(self, request: Req, data: JSONBody[ProductionCreate]) -> ProductionRead:
        """A producer of the production company registers a production: title, budget (in major units as `budget`,
        or minor units as `budget_minor`), currency, shoot dates and status."""
        return await service.create_production(request.user, data)

    @get(
        "/",
        response_headers=PAGE_HEADERS,
        summary="Productions of the companies you produce for or are an officer of",
        operation_id="listProductions",
    )
    async def list_productions(
        self, request: Req, page: Page, status: FromQuery[ProductionStatus | None] = None
    ) -> Response[list[ProductionRead]]:
        """Productions of the companies the caller produces for or is an officer of (`?status=` one status)."""
        rows = [p for p in await service.list_productions(request.user) if status is None or p.status == status]
        return paged(request, page, rows, _by_created)

    @get("/{production_id:uuid}", summary="One production", operation_id="getProduction")
    async def get_production(self, request: Req, production_id: FromPath[UUID]) -> Response[ProductionRead]:
        """One production with its budget in minor units, major units and as people read it, and the compact
        versions it is bound to."""
        return encoded(service.PRODUCTION_READ, await service.get_production(request.user, production_id))

    @patch(
        "/{production_id:uuid}",
        raises=documented(Forbidden),
        summary="Change a production's title, budget, dates or status (producers); "
        "new shoot dates move its open apprenticeship commitments",
        opt={"examples": {"Shooting starts; the wrap moves a week": examples.PRODUCTION_UPDATE}},
        operation_id="updateProduction",
    )
    async def update_production(
        self, request: Req, production_id: FromPath[UUID], data: JSONBody[ProductionUpdate]
    ) -> ProductionRead:
        """A producer changes the production's title, budget, currency, shoot dates or status; only the fields given
        change. New shoot dates move the due dates of its open apprenticeship commitments."""
        return await service.update_production(request.user, production_id, data)

    @post(
        "/{production_id:uuid}/bindings",
        raises=documented(Forbidden, Conflict),
        responses={
            200: ResponseSpec(ProductionRead, description="Already bound to an older version: moved to this one")
        },
        summary="Bind the production to a ratified compact version (a newer version of a bound compact moves it: 200)",
        opt={
            "location": "/api/v1/productions/{id}",
            "examples": {"Bind to a ratified compact version": examples.BINDING_CREATE},
        },
        operation_id="bindProduction",
    )
    async def bind(
        self, request: Req, production_id: FromPath[UUID], data: JSONBody[BindingCreate]
    ) -> Response[ProductionRead]:
        """Binds the production to a ratified version of a compact: its contracts must then comply with those terms,
        and its apprenticeship quotas and commitments follow from them. 201 for a new binding; 200 when the
        production was bound to an older version of the same compact and moves to this one."""
        production, created = await service.bind(request.user, production_id, data)
        return Response(production, status_code=201 if created else 200)

    @post(
        "/{production_id:uuid}/engagements",
        raises=documented(Forbidden, Conflict),
        summary="Add a crew or cast engagement (409: its external_ref is taken on this production)",
        opt={
            "location": "/api/v1/productions/{production_id}/engagements/{id}",
            "examples": {
                "A lead performer": examples.ENGAGEMENT_CREATE,
                "A camera apprentice and their mentor": examples.ENGAGEMENT_APPRENTICE,
            },
        },
        operation_id="addEngagement",
    )
    async def add_engagement(
        self, request: Req, production_id: FromPath[UUID], data: JSONBody[EngagementCreate]
    ) -> EngagementRead:
        """Adds a person engaged on the production: name, department, role, level, weekly pay and dates; `email`
        links it to the member's account (who then sees their contracts), `mentor_engagement_id` names the mentor
        of an apprentice or trainee, `external_ref` is your own id for it."""
        return await service.add_engagement(request.user, production_id, data)

    @patch(
        "/{production_id:uuid}/engagements/{engagement_id:uuid}",
        raises=documented(Forbidden, Conflict),
        summary="Correct an engagement (producers); to end it early, set its end_date",
        description="Only the fields given change; the result is checked by the rules of creation (dates in "
        "order, a member's e-mail, a qualified mentor of this production, a unique external_ref). 409 when the "
        "change would leave engagements that name it as their mentor without a qualified one.",
        opt={
            "examples": {
                "A raise and a later wrap": examples.ENGAGEMENT_UPDATE,
                "End the engagement early": examples.ENGAGEMENT_END_EARLY,
            }
        },
        operation_id="updateEngagement",
    )
    async def update_engagement(
        self,
        request: Req,
        production_id: FromPath[UUID],
        engagement_id: FromPath[UUID],
        data: JSONBody[EngagementUpdate],
    ) -> EngagementRead:
        return await service.update_engagement(request.user, production_id, engagement_id, data)

    @delete(
        "/{production_id:uuid}/engagements/{engagement_id:uuid}",
        raises=documented(Forbidden, Conflict),
        summary="Remove an engagement entered by mistake (producers)",
        description="Refused (409, rule contract_issued) once a contract was issued for it, whatever its status "
        "now: end the engagement instead by setting its end_date. Refused (409, rule mentor_of_others) while "
        "other engagements name it as their mentor.",
        operation_id="removeEngagement",
    )
    async def remove_engagement(
        self, request: Req, production_id: FromPath[UUID], engagement_id: FromPath[UUID]
    ) -> None:
        await service.remove_engagement(request.user, production_id, engagement_id)

    @get(
        "/{production_id:uuid}/engagements/{engagement_id:uuid}",
        summary="One engagement of the production",
        operation_id="getEngagement",
    )
    async def get_engagement(
        self, request: Req, production_id: FromPath[UUID], engagement_id: FromPath[UUID]
    ) -> EngagementRead:
        """One engagement of the production (where a new engagement's Location points), for those who may read the
        production's engagements."""
        return await service.get_engagement(request.user, production_id, engagement_id)

    @get(
        "/{production_id:uuid}/engagements",
        response_headers=PAGE_HEADERS,
        summary="The production's engagements",
        operation_id="listEngagements",
    )
    async def engagements(
        self, request: Req, production_id: FromPath[UUID], page: Page
    ) -> Response[list[EngagementRead]]:
        """Every engagement of the production, with pay in minor units, major units and formatted."""
        rows = await service.list_engagements(request.user, production_id)
        return paged(request, page, rows, _by_created, adapter=service.ENGAGEMENT_READS)

    @get(
        "/{production_id:uuid}/disclosures",
        response_headers=PAGE_HEADERS,
        summary="Asset disclosures per category",
        operation_id="listDisclosures",
    )
    async def disclosures(
        self, request: Req, production_id: FromPath[UUID], page: Page
    ) -> Response[list[DisclosureRead]]:
        """The production's AI disclosures: per asset category, how many assets and how many of them AI generated,
        with the tools used."""
        rows = await service.list_disclosures(request.user, production_id)
        return paged(request, page, rows, lambda d: (str(d.category),))

    @put(
        "/{production_id:uuid}/disclosures",
        raises=documented(Forbidden),
        summary="Replace the asset disclosures (one per category)",
        opt={"examples": {"VFX, script and music disclosures": examples.DISCLOSURE_SET}},
        operation_id="setDisclosures",
    )
    async def set_disclosures(
        self, request: Req, production_id: FromPath[UUID], data: JSONBody[DisclosureSet]
    ) -> list[DisclosureRead]:
        """Replaces all of the production's disclosures with the ones given (one per asset category); categories not
        named have none."""
        return await service.set_disclosures(request.user, production_id, data.disclosures)

    # these read the raw body themselves (after the access check): 413 declared
    @post(
        "/{production_id:uuid}/disclosures/import",
        status_code=200,
        request_max_body_size=IMPORT_MAX_BYTES,
        raises=documented(Forbidden, RequestEntityTooLarge),
        opt={
            "request_body": _DISCLOSURES_BODY,
            "response_examples": {"Three categories replaced": examples.DISCLOSURES_IMPORTED},
        },
        summary="Import disclosures from CSV (header: " + ",".join(DISCLOSURE_COLUMNS) + ") or JSON; replaces all",
        operation_id="importDisclosures",
    )
    async def import_disclosures(self, request: Req, production_id: FromPath[UUID]) -> ImportResult:
        """Replaces the production's disclosures with the rows of a CSV file or JSON array, all rows or none: a
        refusal (422) lists every bad row and column. Answers how many were imported."""
        content_type = request.headers.get("content-type", "")
        return ImportResult(
            imported=await imports.import_disclosures(request.user, production_id, request.body, content_type)
        )

    @post(
        "/{production_id:uuid}/engagements/import",
        status_code=200,
        request_max_body_size=IMPORT_MAX_BYTES,
        raises=documented(Forbidden, RequestEntityTooLarge),
        opt={
            "request_body": _ROSTER_BODY,
            "response_examples": {
                "Appended three rows": examples.ROSTER_IMPORTED,
                "Upserted: one new, one changed, one as it was": examples.ROSTER_UPSERTED,
            },
        },
        summary="Import a roster from CSV (header: " + ",".join(ENGAGEMENT_COLUMNS) + ") or JSON; all rows or none",
        description="Pay in rate_per_week (major units, 1800.00) or rate_minor_per_week (minor units, 180000). "
        "mode=append (default) adds every row. mode=upsert matches each row to an engagement by external_ref, "
        "or by email when the row has no external_ref (a row with neither is refused), updates it where the "
        "row differs (the row states the engagement whole: an empty email or mentor means none) and adds the "
        "rows that match nothing; engagements the file does not name stay. Importing the same file again "
        "changes nothing. The result counts created, updated and unchanged engagements.",
        operation_id="importRoster",
    )
    async def import_engagements(
        self,
        request: Req,
        production_id: FromPath[UUID],
        mode: Annotated[
            ImportMode,
            QueryParameter(
                description="append: every row is a new engagement; upsert: update the engagements rows match"
            ),
        ] = ImportMode.append,
    ) -> RosterImportResult:
        content_type = request.headers.get("content-type", "")
        return await imports.import_roster(request.user, production_id, request.body, content_type, mode)
