from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import EmailStr, Field

from guild.domain.principal import Role
from guild.domain.statuses import InvitationStatus
from guild.domain.values import In, Name, Out, Password, Slug


class OrgKind(StrEnum):
    guild = "guild"
    union = "union"
    festival = "festival"
    film_fund = "film_fund"
    production_company = "production_company"
    ai_licensee = "ai_licensee"


class OrganizationCreate(In):
    slug: Slug = Field(description="URL name: lower-case letters, digits and hyphens, 2-64 characters; never changes")
    name: Name
    kind: OrgKind


class OrganizationRead(Out):
    id: UUID
    slug: str
    name: str
    kind: OrgKind
    created_at: datetime


class MembershipCreate(In):
    email: EmailStr = Field(
        max_length=254,
        description="E-mail of the person offered the role; they accept it with the account that has this e-mail",
    )
    role: Role


class InvitationRead(Out):
    """An offered role, pending until the account with ``email`` accepts it. The same answer whether or not
    such an account exists yet."""

    id: UUID
    organization: str
    organization_name: str
    email: str
    role: Role
    status: str = Field(
        default=InvitationStatus.pending.value, description="pending: accepted invitations become memberships"
    )
    created_at: datetime
    expires_at: datetime | None = Field(
        default=None, description="When the e-mailed link stops working (inviting the address again renews it)"
    )


class InvitationPreview(Out):
    """What an invitation link offers, for whoever holds the link (the link went to ``email``)."""

    organization: str
    organization_name: str
    email: str
    role: Role
    expires_at: datetime
    needs_password: bool = Field(
        description="true: no account has this address yet; accepting creates one with the name and password given"
    )


class InvitationAccept(In):
    """Accepting by link: ``name`` and ``password`` make the account when the address has none (both required
    then); for an existing account they are ignored and the role is added to it."""

    name: Name | None = None
    password: Password | None = None


class MembershipRead(Out):
    id: UUID
    user_id: UUID
    email: str
    name: str
    role: Role
    created_at: datetime
