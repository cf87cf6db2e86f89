from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import EmailStr, Field

from guild.accounts.tokens import TOKEN_PATTERN
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


class PasswordChange(In):
    current_password: Text = Field(min_length=1, max_length=256)
    new_password: Password


class PasswordResetRequest(In):
    email: EmailStr = Field(max_length=254, description="The account's e-mail address; the reset link goes there")


class PasswordResetRequested(Out):
    detail: str = Field(
        default="If an account has this e-mail address, a message with a password reset link is on its way.",
        description="The same answer whether or not an account has the address",
    )


class PasswordResetConfirm(In):
    token: str = Field(pattern=TOKEN_PATTERN, max_length=128, description="The token from the e-mailed reset link")
    password: Password
