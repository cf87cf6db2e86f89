"""Realistic request bodies of the accounts API (shown in the OpenAPI document, sent by its tests)."""

from __future__ import annotations

from typing import Any

TOKEN_REQUEST: dict[str, Any] = {"email": "aoife.byrne@screen-performers.example", "password": "harbour lights at dawn"}

USER_CREATE: dict[str, Any] = {
    "email": "aoife.byrne@screen-performers.example",
    "name": "Aoife Byrne",
    "password": "harbour lights at dawn",
    "is_admin": False,
}

# --- responses --------------------------------------------------------------------------------------

TOKEN_RESPONSE: dict[str, Any] = {
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0YjFlOTlkMiJ9.c2lnbmF0dXJl",
    "token_type": "Bearer",
    "expires_at": "2027-01-12T18:00:00Z",
}
