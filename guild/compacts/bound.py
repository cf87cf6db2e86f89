"""A compact version as a production is bound to it: its identity and its parsed terms (pure).

One type for every reader of bindings: contract issuance and verification (``contracts.rules``
checks a contract against each), the compliance sweep (``guild.compliance.rules``), the
apprenticeship preview and totals, commitment scheduling. It is built by the one loader,
:func:`guild.productions.queries.bindings`, which parses each stored terms document once with
:func:`guild.compacts.terms.load_terms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from guild.compacts.terms import Terms

__all__ = ["Binding", "BoundVersion"]


@dataclass(frozen=True, slots=True)
class BoundVersion:
    """One compact version: which compact, which version (number, SHA-256 of its canonical terms), the terms."""

    version_id: UUID
    compact_id: UUID
    compact_slug: str
    compact_title: str
    version_number: int
    version_hash: str  # SHA-256 of the terms' canonical JSON
    terms: Terms

    @property
    def label(self) -> str:
        """How explanations name the version: ``screen-guild v2``."""
        return f"{self.compact_slug} v{self.version_number}"


@dataclass(frozen=True, slots=True)
class Binding:
    """A production's binding to a compact version, with the compact's convening organisation (the
    compliance sweep tells it about findings)."""

    production_id: UUID
    bound_at: datetime
    convening_org: UUID
    version: BoundVersion
