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

ME: dict[str, Any] = {
    "id": "4b1e99d2-6c3a-4f0e-9d8b-2a7c5e1f3b60",
    "email": "aoife.byrne@screen-performers.example",
    "name": "Aoife Byrne",
    "is_admin": False,
    "created_at": "2026-12-01T09:12:00Z",
    "memberships": [
        {
            "organization_id": "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b",
            "organization_slug": "screen-performers-guild",
            "organization_name": "Screen Performers Guild",
            "organization_kind": "guild",
            "role": "officer",
        }
    ],
}

PASSWORD_CHANGE: dict[str, Any] = {
    "current_password": "harbour lights at dawn",
    "new_password": "a north sea swell at noon",
}

PASSWORD_RESET_REQUEST: dict[str, Any] = {"email": "aoife.byrne@screen-performers.example"}

PASSWORD_RESET_CONFIRM: dict[str, Any] = {
    "token": "Xq3vJ9mK2pL7nR4sT8wY1zA5bC6dE0fG-hI_jKlMnOp",
    "password": "the tide comes in at six",
}

PASSWORD_RESET_REQUESTED: dict[str, Any] = {
    "detail": "If an account has this e-mail address, a message with a password reset link is on its way."
}
