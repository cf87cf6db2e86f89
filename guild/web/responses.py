"""Responses whose JSON pydantic writes in one call from the validated models (no per-model dump and
second encoding pass), for the reads every user repeats: lists and single resources."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Response
from litestar.enums import MediaType
from pydantic import TypeAdapter

T = TypeVar("T")


def encoded(adapter: TypeAdapter[T], value: T, headers: dict[str, Any] | None = None) -> Response[T]:
    """``value`` (already a valid ``T``) as its JSON bytes; the handler declares ``Response[T]``."""
    return Response(content=adapter.dump_json(value), media_type=MediaType.JSON, headers=headers)  # type: ignore[arg-type]
