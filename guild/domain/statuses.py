"""Every status a stored record can have: one StrEnum per record kind, used by tables (choices) and services."""

from __future__ import annotations

from enum import StrEnum


class ContractStatus(StrEnum):
    """An engagement has at most one ``issued`` (live) contract; ``void`` and ``superseded`` ones stay readable."""

    issued = "issued"
    void = "void"
    superseded = "superseded"  # replaced by a later contract for the same engagement (``superseded_by``)
