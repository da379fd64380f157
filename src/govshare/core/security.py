"""Passwords, random tokens and their digests."""

from __future__ import annotations

import hmac as std_hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from govshare.core.sm import hmac_sm3_hex, sm3_hex

_hasher = PasswordHasher()

# A fixed hash verified when the user does not exist, so a login takes as long for an unknown user
# as for a wrong password and does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("govshare-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """Digest under which a high-entropy token (API key, session id) is stored. A fast hash is right
    here: the token is random, so there is nothing to brute-force, and every request checks it."""
    return sm3_hex(token.encode())


def keyed_digest(key: str, message: str) -> str:
    return hmac_sm3_hex(key.encode(), message.encode())


def same(a: str, b: str) -> bool:
    return std_hmac.compare_digest(a.encode(), b.encode())
