"""Realistic request bodies of the webhooks API (shown in the OpenAPI document, sent by its tests)."""

from __future__ import annotations

from typing import Any

ENDPOINT_CREATE: dict[str, Any] = {"url": "https://hooks.screen-performers.example/guild/events"}
