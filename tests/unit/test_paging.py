"""Keyset paging (guild.domain.paging): every row once across pages, whatever is inserted between them;
cursors round-trip and anything else is refused naming ``cursor``."""

from __future__ import annotations

import base64
import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guild.domain.errors import GuildError
from guild.domain.paging import (
    PageRequest,
    decode_cursor,
    encode_cursor,
    instant,
    moment,
    take_page,
)

keys = st.tuples(st.integers(-(2**53), 2**53), st.text(max_size=8))


@given(
    rows=st.sets(keys, max_size=40),
    inserted=st.lists(st.sets(keys, max_size=4), max_size=12),
    limit=st.integers(1, 7),
    descending=st.booleans(),
)
def test_every_row_once_under_inserts(rows, inserted, limit, descending):
    table = set(rows)
    seen: list[tuple[int, str]] = []
    cursor = None
    for step in range(100):
        page = take_page(table, lambda r: r, PageRequest(limit=limit, cursor=cursor), descending=descending)
        assert len(page.items) <= limit
        seen.extend(page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        if step < len(inserted):
            table |= inserted[step]
    assert len(seen) == len(set(seen)), "a row came twice"
    assert set(rows) <= set(seen), "a row present from the start was skipped"
    assert seen == sorted(seen, reverse=descending)


@given(
    st.lists(st.one_of(st.integers(-(2**62), 2**62), st.text(string.printable, max_size=20)), min_size=1, max_size=4)
)
def test_cursors_round_trip(key):
    assert decode_cursor(encode_cursor(tuple(key))) == tuple(key)


def test_instants_are_exact():
    t = datetime(2026, 11, 29, 23, 59, 59, 999_999, tzinfo=UTC)
    assert moment(instant(t)) == t
    assert instant(t + timedelta(microseconds=1)) == instant(t) + 1


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        base64.urlsafe_b64encode(b"\xff").decode(),
        base64.urlsafe_b64encode(b"[]").decode(),
        base64.urlsafe_b64encode(b"[true]").decode(),
        base64.urlsafe_b64encode(b"[1.5]").decode(),
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        base64.urlsafe_b64encode(b"[null]").decode(),
        "A" * 600,
    ],
)
def test_garbage_cursors_name_the_cursor(cursor):
    with pytest.raises(GuildError) as caught:
        decode_cursor(cursor)
    assert caught.value.status_code == 400
    assert caught.value.extra["errors"][0]["field"] == "cursor"


def test_a_cursor_of_another_shape_is_refused():
    with pytest.raises(GuildError):
        decode_cursor(encode_cursor(("slug",)), like=(1, "id"))
    with pytest.raises(GuildError):
        PageRequest(cursor=encode_cursor((1, "not-a-uuid"))).after_time_id()
    with pytest.raises(GuildError):
        PageRequest(cursor=encode_cursor((2**62, "00000000-0000-0000-0000-000000000000"))).after_time_id()
