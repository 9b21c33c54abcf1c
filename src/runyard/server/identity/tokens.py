"""Token secrets: how they are made and how they are stored.

A token is ``ry_`` followed by 32 random bytes (``secrets.token_urlsafe``): 256 bits, so a
fast hash is enough to store it (no salt or slow hash: nobody can guess a preimage, and the
check stays well under a tenth of a millisecond). The ``ry_`` prefix lets secret scanners
and people recognise one.
"""

from __future__ import annotations

import hashlib
import secrets

#: What every Runyard token starts with.
TOKEN_PREFIX = "ry_"


def new_secret() -> str:
    """A fresh random token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_token_id() -> str:
    """A fresh public id for a token (what lists show and revoke takes)."""
    return secrets.token_hex(8)


def hash_secret(secret: str) -> str:
    """The SHA-256 of ``secret``, hex: what the store keeps and looks tokens up by."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
