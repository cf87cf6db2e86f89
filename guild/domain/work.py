"""Kinds of work: contract types and job levels (entry, journey, ...), with the order of levels."""

from __future__ import annotations

from enum import StrEnum


class ContractType(StrEnum):
    performer = "performer"
    writer = "writer"
    crew = "crew"


class Level(StrEnum):
    """Seniority, lowest first; apprentice and trainee are entry levels of crew."""

    apprentice = "apprentice"
    trainee = "trainee"
    junior = "junior"
    journey = "journey"
    senior = "senior"
    head = "head"


_LEVELS = tuple(Level)


ENTRY_LEVELS = frozenset({Level.apprentice, Level.trainee})


_RANKS: dict[str, int] = {level: rank for rank, level in enumerate(_LEVELS)}  # a Level is its str value


def level_rank(level: Level | str) -> int:
    """0 for apprentice up to 5 for head."""
    rank = _RANKS.get(level)
    return _RANKS[Level(level)] if rank is None else rank
