"""The webhook API's models: endpoints (the secret only in the creation answer) and the delivery log."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from guild.domain.statuses import DeliveryStatus
from guild.domain.values import In, Out, Text


class EndpointCreate(In):
    url: Text = Field(
        description="https URL that receives POSTed events; http only for loopback hosts (127.0.0.0/8, localhost, ::1)"
    )


class EndpointRead(Out):
    id: UUID
    url: str
    active: bool
    created_at: datetime


class EndpointCreated(EndpointRead):
    secret: str = Field(description="HMAC-SHA256 signing secret; shown only in this response, store it now")


class DeliveryRead(Out):
    id: UUID
    endpoint_id: UUID
    url: str
    event: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
