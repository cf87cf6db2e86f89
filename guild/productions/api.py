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
from guild.productions import imports, service
from guild.productions.schemas import (
    DISCLOSURE_COLUMNS,
    ENGAGEMENT_COLUMNS,
    BindingCreate,
    DisclosureRead,
    DisclosureSet,
    EngagementCreate,
    EngagementRead,
    EngagementUpdate,
    ImportMode,
    ImportResult,
    ProductionCreate,
    ProductionRead,
    ProductionUpdate,
    RosterImportResult,
)
from guild.web.paging import PAGE_HEADERS, Page, paged
from guild.web.problems import documented
from guild.web.responses import encoded

Req = Request[Principal, Any, Any]
IMPORT_MAX_BYTES = 8 * 1024 * 1024  # rosters of several thousand rows; anything larger is 413


def _by_created(row: Any) -> tuple[int, str]:
    """Oldest first: the order of lists of rows with a creation time and an id."""
    return (instant(row.created_at), ident(row.id))


class ProductionController(Controller):
    path = "/api/v1/productions"
    tags = ["productions"]

    @post(
        "/",
        opt={"location": "/api/v1/productions/{id}"},
        raises=documented(Forbidden),
        summary="Register a production (producers of the company)",
    )
    async def create(self, request: Req, data: JSONBody[ProductionCreate]) -> ProductionRead:
        return await service.create_production(request.user, data)

    @get(
        "/",
        response_headers=PAGE_HEADERS,
        summary="Productions of the companies you produce for or are an officer of",
    )
    async def list_productions(
        self, request: Req, page: Page, status: FromQuery[ProductionStatus | None] = None
    ) -> Response[list[ProductionRead]]:
        rows = [p for p in await service.list_productions(request.user) if status is None or p.status == status]
        return paged(request, page, rows, _by_created)

    @get("/{production_id:uuid}", summary="One production")
    async def get_production(self, request: Req, production_id: FromPath[UUID]) -> Response[ProductionRead]:
        return encoded(service.PRODUCTION_READ, await service.get_production(request.user, production_id))

    @patch(
        "/{production_id:uuid}",
        raises=documented(Forbidden),
        summary="Change a production's title, budget, dates or status (producers); "
        "new shoot dates move its open apprenticeship commitments",
    )
    async def update_production(
        self, request: Req, production_id: FromPath[UUID], data: JSONBody[ProductionUpdate]
    ) -> ProductionRead:
        return await service.update_production(request.user, production_id, data)

    @post(
        "/{production_id:uuid}/bindings",
        opt={"location": "/api/v1/productions/{id}"},
        raises=documented(Forbidden, Conflict),
        responses={
            200: ResponseSpec(ProductionRead, description="Already bound to an older version: moved to this one")
        },
        summary="Bind the production to a ratified compact version (a newer version of a bound compact moves it: 200)",
    )
    async def bind(
        self, request: Req, production_id: FromPath[UUID], data: JSONBody[BindingCreate]
    ) -> Response[ProductionRead]:
        production, created = await service.bind(request.user, production_id, data)
        return Response(production, status_code=201 if created else 200)

    @post(
        "/{production_id:uuid}/engagements",
        opt={"location": "/api/v1/productions/{production_id}/engagements/{id}"},
        raises=documented(Forbidden, Conflict),
        summary="Add a crew or cast engagement (409: its external_ref is taken on this production)",
    )
    async def add_engagement(
        self, request: Req, production_id: FromPath[UUID], data: JSONBody[EngagementCreate]
    ) -> EngagementRead:
        return await service.add_engagement(request.user, production_id, data)

    @patch(
        "/{production_id:uuid}/engagements/{engagement_id:uuid}",
        raises=documented(Forbidden, Conflict),
        summary="Correct an engagement (producers); to end it early, set its end_date",
        description="Only the fields given change; the result is checked by the rules of creation (dates in "
        "order, a member's e-mail, a qualified mentor of this production, a unique external_ref). 409 when the "
        "change would leave engagements that name it as their mentor without a qualified one.",
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
    )
    async def remove_engagement(
        self, request: Req, production_id: FromPath[UUID], engagement_id: FromPath[UUID]
    ) -> None:
        await service.remove_engagement(request.user, production_id, engagement_id)

    @get("/{production_id:uuid}/engagements/{engagement_id:uuid}", summary="One engagement of the production")
    async def get_engagement(
        self, request: Req, production_id: FromPath[UUID], engagement_id: FromPath[UUID]
    ) -> EngagementRead:
        return await service.get_engagement(request.user, production_id, engagement_id)

    @get("/{production_id:uuid}/engagements", response_headers=PAGE_HEADERS, summary="The production's engagements")
    async def engagements(
        self, request: Req, production_id: FromPath[UUID], page: Page
    ) -> Response[list[EngagementRead]]:
        rows = await service.list_engagements(request.user, production_id)
        return paged(request, page, rows, _by_created, adapter=service.ENGAGEMENT_READS)

    @get("/{production_id:uuid}/disclosures", response_headers=PAGE_HEADERS, summary="Asset disclosures per category")
    async def disclosures(
        self, request: Req, production_id: FromPath[UUID], page: Page
    ) -> Response[list[DisclosureRead]]:
        rows = await service.list_disclosures(request.user, production_id)
        return paged(request, page, rows, lambda d: (str(d.category),))

    @put(
        "/{production_id:uuid}/disclosures",
        raises=documented(Forbidden),
        summary="Replace the asset disclosures (one per category)",
    )
    async def set_disclosures(
        self, request: Req, production_id: FromPath[UUID], data: JSONBody[DisclosureSet]
    ) -> list[DisclosureRead]:
        return await service.set_disclosures(request.user, production_id, data.disclosures)

    # these read the raw body themselves (after the access check): 413 declared
    @post(
        "/{production_id:uuid}/disclosures/import",
        status_code=200,
        request_max_body_size=IMPORT_MAX_BYTES,
        raises=documented(Forbidden, RequestEntityTooLarge),
        summary="Import disclosures from CSV (header: " + ",".join(DISCLOSURE_COLUMNS) + ") or JSON; replaces all",
    )
    async def import_disclosures(self, request: Req, production_id: FromPath[UUID]) -> ImportResult:
        content_type = request.headers.get("content-type", "")
        return ImportResult(
            imported=await imports.import_disclosures(request.user, production_id, request.body, content_type)
        )

    @post(
        "/{production_id:uuid}/engagements/import",
        status_code=200,
        request_max_body_size=IMPORT_MAX_BYTES,
        raises=documented(Forbidden, RequestEntityTooLarge),
        summary="Import a roster from CSV (header: " + ",".join(ENGAGEMENT_COLUMNS) + ") or JSON; all rows or none",
        description="Pay in rate_per_week (major units, 1800.00) or rate_minor_per_week (minor units, 180000). "
        "mode=append (default) adds every row. mode=upsert matches each row to an engagement by external_ref, "
        "or by email when the row has no external_ref (a row with neither is refused), updates it where the "
        "row differs (the row states the engagement whole: an empty email or mentor means none) and adds the "
        "rows that match nothing; engagements the file does not name stay. Importing the same file again "
        "changes nothing. The result counts created, updated and unchanged engagements.",
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
