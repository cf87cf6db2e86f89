"""Link tokens (invitations, password resets): random, handed out once in an e-mail, stored only hashed."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32
"""Random bytes of a token: 43 URL-safe characters, beyond guessing."""

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,128}$"
"""What a token in a path or body may look like; anything else cannot name a link."""


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """(token for the link, its hash for the database)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)
