"""Who acts: the roles a person holds in an organisation, and the authenticated principal of a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID


class Role(StrEnum):
    officer = "officer"
    producer = "producer"
    member = "member"
    reviewer = "reviewer"
    licensee = "licensee"


@dataclass(frozen=True)
class Principal:
    """The authenticated user of one request, with roles per organisation (keyed by organisation slug)."""

    id: UUID
    email: str
    name: str
    is_admin: bool
    roles: dict[str, frozenset[str]] = field(default_factory=dict)
    org_ids: dict[str, UUID] = field(default_factory=dict)
    credentials_version: int = 0
    """Raised by each password change or reset; a token issued with an older value no longer signs in."""

    def has_role(self, org_slug: str, *roles: str) -> bool:
        return bool(self.roles.get(org_slug, frozenset()) & set(roles))

    def is_member_of(self, org_slug: str) -> bool:
        return org_slug in self.roles

    def orgs_with_role(self, *roles: str) -> list[UUID]:
        return [self.org_ids[slug] for slug, have in self.roles.items() if have & set(roles)]
