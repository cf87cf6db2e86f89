"""How much free text one contract may carry (a pure rule: no framework, no database, no renderer).

Each free-text field has its own limit (notes 20,000 characters, a custom clause 20,000, a replica use
description 4,000...), but a request may combine dozens of them: at every limit a contract held a
PDF worker for seconds, and a few of them delayed everyone's issuance. The total is capped too, so
one document stays a document: about 25 printed pages of free text besides the clause library's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

__all__ = ["CONTRACT_TEXT_MAX", "TextOverflow", "text_overflow"]

CONTRACT_TEXT_MAX = 60_000


class TextOverflow(NamedTuple):
    field: str  # the field at which the running total passes the limit
    total: int  # the contract's free text, all fields together


def _strings(value: Any, path: str) -> Iterator[tuple[str, int]]:
    if isinstance(value, str):
        yield path, len(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def text_overflow(
    clause_params: Sequence[Mapping[str, Any]],
    custom_clauses: Sequence[tuple[str, str]],
    notes: str,
    limit: int = CONTRACT_TEXT_MAX,
) -> TextOverflow | None:
    """None if the contract's free text fits in ``limit`` characters, else where it overflows.

    Counted, in document order: every string in the library clauses' parameters
    (``clauses[i].params.<name>``), each custom clause's title and text (``custom_clauses[i]``),
    and the notes (``notes``).
    """
    parts: list[tuple[str, int]] = []
    for i, params in enumerate(clause_params):
        parts.extend(_strings(params, f"clauses[{i}].params"))
    for i, (title, text) in enumerate(custom_clauses):
        parts.append((f"custom_clauses[{i}]", len(title) + len(text)))
    parts.append(("notes", len(notes)))
    total = sum(n for _, n in parts)
    if total <= limit:
        return None
    running = 0
    for field, n in parts:
        running += n
        if running > limit:
            return TextOverflow(field, total)
    raise AssertionError("unreachable: the total exceeds the limit")  # pragma: no cover
