"""Path, query and header parameter types shared by the controllers.

What a URL or header may carry is decided here, before any service or query runs: a value that
cannot name anything (a slug with NUL or upper case, a number beyond its column) is a 422 naming
the parameter, never a database error.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, Parameter

from guild.domain.values import MAX_VERSION_NUMBER, SLUG_PATTERN

__all__ = ["MAX_VERSION_NUMBER", "IdempotencyKey", "LinkToken", "SlugParam", "VersionNumber"]

_LINK_TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,128}$"  # guild.accounts.tokens.TOKEN_PATTERN (web may not import it)

SlugParam = Annotated[str, Parameter(pattern=SLUG_PATTERN, max_length=64, description="a slug: a-z, 0-9 and -")]
LinkToken = Annotated[
    str, Parameter(pattern=_LINK_TOKEN_PATTERN, max_length=128, description="the token of an e-mailed link")
]
VersionNumber = Annotated[int, Parameter(ge=1, le=MAX_VERSION_NUMBER, description="a version number of the compact")]
# visible ASCII and spaces (RFC 9110 field values without obs-text); a key is stored with the contract
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", pattern=r"^[\x20-\x7e]{1,200}$", max_length=200, required=False),
]
