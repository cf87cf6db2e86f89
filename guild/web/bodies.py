"""Request bodies: JSON is UTF-8 and nests at most :data:`MAX_JSON_DEPTH` levels, or the request is a 400.

The JSON decoders (msgspec for request bodies, ``json`` for imports) recurse once per nesting level and
fail with ``RecursionError`` near 1,000 levels; no document of this API nests more than a handful.
:func:`refuse_deep_json` measures the nesting of the raw bytes before anything decodes them, and
:class:`GuildRequest` (the app's request class) applies it, and a clear refusal for malformed or
non-UTF-8 JSON, to every JSON request body.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from guild.domain.errors import GuildError, field_error

MAX_JSON_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST = re.compile(rb"\[\]|\{\}")


def json_nesting_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than ``limit`` levels deep.

    Strings are removed, then only the brackets are kept; each pass removes every innermost ``[]``/``{}``
    pair, so balanced brackets vanish in exactly as many passes as they nest. Malformed text may be
    judged either way: the decoder refuses it anyway.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    skeleton = _STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    for _ in range(limit):
        skeleton = _INNERMOST.sub(b"", skeleton)
        if not skeleton:
            return False
    return _INNERMOST.search(skeleton) is not None


def _body_error(rule: str, message: str) -> GuildError:
    return GuildError(message, title="Malformed request body", errors=[field_error("body", rule, message)])


def refuse_deep_json(body: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """400 (field ``body``, rule ``json_depth``) when the JSON nests more than ``limit`` levels."""
    if json_nesting_exceeds(body, limit):
        raise _body_error("json_depth", f"JSON nested more than {limit} levels deep")


def refuse_undecodable(body: bytes, exc: Exception) -> GuildError:
    """The 400 for a body the JSON decoder refused: not UTF-8 (rule ``utf8``) or not JSON (rule ``json``)."""
    if isinstance(exc, RecursionError):
        return _body_error("json_depth", f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as bad:
        return _body_error("utf8", f"the body must be UTF-8 encoded: invalid byte at position {bad.start}")
    return _body_error("json", str(exc) or "malformed JSON")


class GuildRequest(Request[Any, Any, Any]):
    """The app's request class: JSON bodies are depth-checked before decoding; decoding errors are 400s."""

    async def json(self) -> Any:
        body = await self.body()
        refuse_deep_json(body)
        try:
            return await super().json()
        except (SerializationException, RecursionError) as exc:
            raise refuse_undecodable(body, exc) from None
