"""Realistic request bodies of the webhooks API (shown in the OpenAPI document, sent by its tests)."""

from __future__ import annotations

from typing import Any

ENDPOINT_CREATE: dict[str, Any] = {"url": "https://hooks.screen-performers.example/guild/events"}

ENDPOINT_CREATED: dict[str, Any] = {
    "id": "7e6d5c4b-3a29-4817-9f6e-5d4c3b2a1908",
    "url": "https://hooks.screen-performers.example/guild/events",
    "active": True,
    "created_at": "2027-01-12T10:15:00Z",
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}
