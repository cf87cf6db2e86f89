"""The pages' pure helpers: where a sign-in may send the browser, and dates and money as people read them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from guild.pages.auth import _safe_next
from guild.pages.filters import day, instant, money, words


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/my/contracts", "/my/contracts"),
        ("/compacts/x?from=1&to=2", "/compacts/x?from=1&to=2"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_sign_in_only_returns_to_a_path_on_this_site(target: str, expected: str) -> None:
    assert _safe_next(target) == expected


def test_dates_instants_and_money_read_as_people_write_them() -> None:
    assert day(date(2027, 3, 1)) == "1 Mar 2027"
    assert day(None) == ""
    late = datetime(2027, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # already 2 March in UTC
    assert day(late) == "2 Mar 2027"
    assert instant(datetime(2027, 3, 1, 14, 5, tzinfo=UTC)) == "1 Mar 2027, 14:05 UTC"
    assert money(250_000, "EUR") == "EUR 2,500.00"
    assert money(1500, "JPY") == "JPY 1,500"
    assert money(None, "EUR") == ""
    assert words("pre_production") == "pre production"
