"""Link tokens: random, URL-safe, stored only as a hash that cannot be turned back into the link."""

from __future__ import annotations

import re

from guild.accounts.tokens import TOKEN_PATTERN, hash_token, new_token


def test_tokens_are_url_safe_distinct_and_stored_hashed():
    tokens = [new_token() for _ in range(200)]
    assert len({t for t, _ in tokens}) == 200
    for token, stored in tokens:
        assert re.fullmatch(TOKEN_PATTERN, token)
        assert stored == hash_token(token) and len(stored) == 64 and token not in stored


def test_the_web_edge_accepts_exactly_the_token_shape():
    from guild.web import params

    assert params._LINK_TOKEN_PATTERN == TOKEN_PATTERN
