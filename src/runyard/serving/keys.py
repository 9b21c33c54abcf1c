"""Service keys: made here, checked by the scoring server from their digests only.

The scoring server never sees a key: it reads the SHA-256 digests of the primary and
secondary keys from a keys file (re-read when the file changes, so a regenerated key
takes effect without a restart) and compares the digest of the key a request presents
with both, in constant time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass

from runyard.errors import InvalidArgument

#: The header a request presents its key in: ``Authorization: Bearer <key>``.
SCHEME = "bearer"
#: The longest key accepted.
MAX_KEY_LENGTH = 256


def generate_key() -> str:
    """A new random key (256 bits, URL-safe base64: 43 characters)."""
    return secrets.token_urlsafe(32)


def check_key(which: str, key: object) -> str:
    """Check a key a user chose.

    Raises:
        InvalidArgument: not 16 to 256 printable ASCII characters without spaces.
    """
    if (
        not isinstance(key, str)
        or not 16 <= len(key) <= MAX_KEY_LENGTH
        or not all(33 <= ord(c) < 127 for c in key)
    ):
        raise InvalidArgument(
            f"The {which} key must be 16 to {MAX_KEY_LENGTH} printable ASCII characters "
            "without spaces; leave it out to have one generated."
        )
    return key


def digest(key: str) -> bytes:
    """The SHA-256 digest a key is checked by."""
    return hashlib.sha256(key.encode("utf-8")).digest()


def write_keys_file(path: str, auth_enabled: bool, keys: tuple[str, ...]) -> None:
    """Write (atomically, readable by this user only) what the scoring server checks."""
    data = {"auth_enabled": auth_enabled, "digests": [digest(k).hex() for k in keys if k]}
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


@dataclass(frozen=True)
class _Loaded:
    stamp: tuple[int, int, int]
    auth_enabled: bool
    digests: tuple[bytes, ...]


class KeyCheck:
    """The scoring server's check of a request's ``Authorization`` header.

    Args:
        path: the keys file (:func:`write_keys_file`). A missing or unreadable file
            refuses every request (auth stays on: failing open would expose the model).
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._loaded = _Loaded((-1, -1, -1), True, ())

    def _current(self) -> _Loaded:
        # One stat per request: os.replace gives the file a new inode, so a new key is
        # seen on the next request, without a restart.
        try:
            st = os.stat(self._path)
        except OSError:
            return _Loaded((-1, -1, -1), True, ())
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._loaded.stamp:
            try:
                with open(self._path, encoding="utf-8") as fh:
                    data = json.load(fh)
                self._loaded = _Loaded(
                    stamp,
                    bool(data.get("auth_enabled", True)),
                    tuple(bytes.fromhex(d) for d in data.get("digests", ())),
                )
            except (OSError, ValueError, AttributeError):
                return _Loaded((-1, -1, -1), True, ())
        return self._loaded

    @property
    def auth_enabled(self) -> bool:
        """Whether requests need a key now."""
        return self._current().auth_enabled

    def allows(self, authorization: str | None) -> bool:
        """Whether a request with this ``Authorization`` header value may score."""
        loaded = self._current()
        if not loaded.auth_enabled:
            return True
        if not authorization:
            return False
        scheme, _, key = authorization.strip().partition(" ")
        if scheme.lower() != SCHEME or not key or len(key) > MAX_KEY_LENGTH:
            return False
        presented = digest(key.strip())
        # Compare with every digest (no early exit): the time taken does not tell which
        # key matched, or how far.
        ok = False
        for expected in loaded.digests:
            ok |= hmac.compare_digest(presented, expected)
        return ok
