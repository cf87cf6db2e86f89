"""Passwords: argon2 hashes (pwdlib), with the same cost whether or not the account exists."""

from __future__ import annotations

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verified against when the e-mail is unknown, so both paths cost one argon2 verification.
_DUMMY_HASH = _hasher.hash("guild-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)
