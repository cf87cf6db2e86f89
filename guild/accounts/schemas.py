from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import EmailStr, Field

from guild.domain.values import In, Name, Out, Password, Text


class TokenRequest(In):
    email: EmailStr = Field(max_length=254)
    password: Text = Field(min_length=1, max_length=256)


class TokenResponse(Out):
    access_token: str
    token_type: str = "Bearer"
    expires_at: datetime


class UserCreate(In):
    email: EmailStr = Field(max_length=254)
    name: Name
    password: Password
    is_admin: bool = False


class UserRead(Out):
    id: UUID
    email: str
    name: str
    is_admin: bool
    created_at: datetime


class MyMembership(Out):
    organization_id: UUID
    organization_slug: str
    organization_name: str
    organization_kind: str
    role: str


class MeRead(UserRead):
    memberships: list[MyMembership]
