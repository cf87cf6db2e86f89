"""Merging per-version commitment rows into one entry per (production, key), without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from guild.productions.commitments import merge_commitments

P1, P2 = UUID(int=1), UUID(int=2)
ON = date(2040, 3, 1)


def row(n: int, compact: str, key: str, due: str, status: str = "open", production: UUID = P1, **kw: Any):
    return {
        "id": UUID(int=100 + n),
        "production_id": production,
        "production_title": {P1: "Harbour", P2: "Anchor"}[production],
        "compact": compact,
        "version_number": kw.get("version", 1),
        "key": key,
        "title": kw.get("title", f"{key} ({compact})"),
        "due_date": date.fromisoformat(due),
        "status": status,
        "done_at": kw.get("done_at"),
        "created_at": datetime(2040, 1, 1, tzinfo=UTC),
    }


def test_two_compacts_one_entry_due_on_the_earlier_date_citing_both():
    got = merge_commitments(
        [row(1, "c1", "skills_plan", "2040-02-27"), row(2, "c2", "skills_plan", "2040-02-20", version=3)], ON
    )
    [entry] = got
    assert (entry.id, entry.compact, entry.version_number, entry.due_date) == (
        UUID(int=102),
        "c2",
        3,
        date(2040, 2, 20),
    )
    assert entry.status == "open" and entry.overdue is True and entry.title == "skills_plan (c2)"
    assert [(c.compact, c.version_number, c.due_date.isoformat()) for c in entry.cited_by] == [
        ("c2", 3, "2040-02-20"),
        ("c1", 1, "2040-02-27"),
    ]


def test_keys_and_productions_stay_apart_and_come_by_due_date():
    got = merge_commitments(
        [
            row(1, "c1", "wrap_report", "2040-05-11"),
            row(2, "c1", "skills_plan", "2040-02-20"),
            row(3, "c1", "skills_plan", "2040-02-13", production=P2),
        ],
        ON,
    )
    assert [(c.production_title, c.key, len(c.cited_by)) for c in got] == [
        ("Anchor", "skills_plan", 1),
        ("Harbour", "skills_plan", 1),
        ("Harbour", "wrap_report", 1),
    ]
    assert got[2].overdue is False  # due after ON


def test_an_open_row_leads_a_done_one_even_when_the_done_one_is_earlier():
    """Filed under c1, then c2 bound with a later date: still to be filed for c2, so open, due on c2's date."""
    done_at = datetime(2040, 2, 1, tzinfo=UTC)
    [entry] = merge_commitments(
        [
            row(1, "c1", "skills_plan", "2040-02-13", status="done", done_at=done_at),
            row(2, "c2", "skills_plan", "2040-03-05"),
        ],
        ON,
    )
    assert (entry.status, entry.due_date, entry.compact, entry.done_at, entry.overdue) == (
        "open",
        date(2040, 3, 5),
        "c2",
        None,
        False,
    )
    assert [(c.compact, c.status) for c in entry.cited_by] == [("c1", "done"), ("c2", "open")]


def test_all_done_is_done_as_of_the_last_filing_and_withdrawn_only_when_every_row_is():
    early, late = datetime(2040, 2, 1, tzinfo=UTC), datetime(2040, 2, 9, tzinfo=UTC)
    [done] = merge_commitments(
        [
            row(1, "c1", "skills_plan", "2040-02-13", status="done", done_at=early),
            row(2, "c2", "skills_plan", "2040-02-20", status="done", done_at=late),
            row(3, "c3", "skills_plan", "2040-02-06", status="withdrawn"),
        ],
        ON,
    )
    assert (done.status, done.due_date, done.compact, done.done_at, done.overdue) == (
        "done",
        date(2040, 2, 13),
        "c1",
        late,
        False,
    )
    [withdrawn] = merge_commitments(
        [
            row(1, "c1", "final_plan", "2040-02-13", status="withdrawn"),
            row(2, "c2", "final_plan", "2040-02-06", status="withdrawn"),
        ],
        ON,
    )
    assert (withdrawn.status, withdrawn.due_date, withdrawn.overdue) == ("withdrawn", date(2040, 2, 6), False)


def test_nothing_in_nothing_out():
    assert merge_commitments([], ON) == []
