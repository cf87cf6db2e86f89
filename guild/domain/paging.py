"""Keyset paging over a stable order: the page after a cursor, and the cursor of the page after that.

A page is taken after the sort key of the last row a client saw (never by offset), so rows inserted or
removed between two requests neither repeat nor vanish from the pages still to come. Every list names
its order as a key function returning a tuple of ints and strings that ends with something unique
(an id), so the order is total. A cursor is that tuple, as JSON, base64url-encoded: opaque to clients,
checked on the way in (a cursor that does not decode to a tuple of the list's shape is refused), and
harmless when forged, since a page is always cut from what the caller may see.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar
from uuid import UUID

from guild.domain.errors import GuildError, field_error

T = TypeVar("T")
KeyPart = int | str
Key = tuple[KeyPart, ...]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 512

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def instant(value: datetime | None) -> int:
    """A timestamp as whole microseconds since 1970 (UTC): an exact, totally ordered key part."""
    if value is None:
        return -(2**62)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // timedelta(microseconds=1)


def ident(value: UUID | str) -> str:
    return str(value)


def bad_cursor(message: str) -> GuildError:
    return GuildError(message, title="Invalid cursor", errors=[field_error("cursor", "cursor_invalid", message)])


def encode_cursor(key: Key) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, like: Key | None = None) -> Key:
    """The key a cursor carries; a 400 naming ``cursor`` for anything this API did not hand out.

    ``like`` (any key of the list) fixes the shape: as many parts, each an int or a str where it has one.
    """
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise bad_cursor(f"the cursor is longer than {MAX_CURSOR_LENGTH} characters")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_cursor("the cursor is not one this API handed out") from None
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(part, (int, str)) and not isinstance(part, bool) for part in value)
    ):
        raise bad_cursor("the cursor is not one this API handed out")
    key = tuple(value)
    if like is not None and (
        len(key) != len(like) or any(type(a) is not type(b) for a, b in zip(key, like, strict=True))
    ):
        raise bad_cursor("the cursor belongs to another list")
    return key


def moment(micros: int) -> datetime:
    """The inverse of :func:`instant`."""
    return _EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True)
class PageRequest:
    """What a client asked for: at most ``limit`` rows after the row whose key the cursor carries."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    def after_time_id(self) -> tuple[datetime, UUID] | None:
        """For lists ordered by (a timestamp, an id) in the database: the key the cursor carries, typed."""
        if self.cursor is None:
            return None
        micros, row_id = decode_cursor(self.cursor, (0, ""))
        try:
            return moment(int(micros)), UUID(str(row_id))
        except (ValueError, OverflowError):
            raise bad_cursor("the cursor is not one this API handed out") from None

    def first(self) -> PageRequest:
        """The same size of page from the start: for rows the database already cut after the cursor."""
        return PageRequest(limit=self.limit)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def take_page(rows: Iterable[T], key: Callable[[T], Key], request: PageRequest, *, descending: bool = False) -> Page[T]:
    """The page of ``rows`` (in any order) after the request's cursor, ordered by ``key``."""
    ordered: Sequence[T] = sorted(rows, key=key, reverse=descending)
    if request.cursor is not None:
        like = key(ordered[0]) if ordered else None
        after = decode_cursor(request.cursor, like)
        if descending:
            ordered = [row for row in ordered if key(row) < after]
        else:
            ordered = [row for row in ordered if key(row) > after]
    items = list(ordered[: request.limit])
    more = len(ordered) > request.limit
    return Page(items=items, next_cursor=encode_cursor(key(items[-1])) if more and items else None)
