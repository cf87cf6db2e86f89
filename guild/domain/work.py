"""Kinds of work: contract types and job levels (entry, journey, ...), with the order of levels, and the
one rule of who may mentor whom (:func:`mentor_fit`)."""

from __future__ import annotations

from dataclasses import dataclass
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


JOURNEY_LEVELS = frozenset(level for level in Level if level_rank(level) >= level_rank(Level.journey))


def is_journey_level(level: Level | str | None) -> bool:
    """Journey, senior or head."""
    return level is not None and level_rank(level) >= level_rank(Level.journey)


@dataclass(frozen=True, slots=True)
class MentorFit:
    """How a named mentor measures up to the one rule: a mentor is qualified when one is named, of
    journey level or above, from the mentee's own department. Each caller words the failures its way."""

    named: bool
    journey_or_above: bool
    same_department: bool

    @property
    def qualified(self) -> bool:
        return self.named and self.journey_or_above and self.same_department


def mentor_fit(department: str | None, mentor_level: Level | str | None, mentor_department: str | None) -> MentorFit:
    """The qualified-mentor rule, for a mentee of ``department`` and a mentor of ``mentor_level`` in
    ``mentor_department`` (``mentor_level`` None: no mentor named). Departments are compared by value
    (a ``Department`` or its string)."""
    return MentorFit(
        named=mentor_level is not None,
        journey_or_above=is_journey_level(mentor_level),
        same_department=mentor_department is not None and mentor_department == department,
    )
