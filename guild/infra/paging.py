"""Keyset paging in the database: rows after a (timestamp, id) key in that order, one more than a page.

The companion of :mod:`guild.domain.paging` for lists too long to cut in memory (findings, the webhook
delivery log): ``after`` comes from ``PageRequest.after_time_id()``, and the rows fetched go to
``take_page`` with ``PageRequest.first()``, which keeps ``limit`` of the ``limit + 1`` and makes the next
cursor when the extra row came back. UUIDs order the same way in PostgreSQL (bytes) and SQLite (text).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID


def keyset(
    query: Any, time_column: Any, id_column: Any, after: tuple[datetime, UUID] | None, limit: int, *, descending: bool
) -> Any:
    """``query`` ordered by (time_column, id_column), from after ``after``, at most ``limit + 1`` rows."""
    if after is not None:
        moment, row_id = after
        if descending:
            query = query.where((time_column < moment) | ((time_column == moment) & (id_column < row_id)))
        else:
            query = query.where((time_column > moment) | ((time_column == moment) & (id_column > row_id)))
    return (
        query.order_by(time_column, ascending=not descending)
        .order_by(id_column, ascending=not descending)
        .limit(limit + 1)
    )
