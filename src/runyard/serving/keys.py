"""Service keys: made here, checked by the scoring server from their digests only.

The scoring server never sees a key: it reads the SHA-256 digests of the primary and
secondary keys from a keys file (re-read when the file changes, so a regenerated key
takes effect without a restart) and compares the digest of the key a request presents
with both, in constant time (``hmac.compare_digest``). A Ray Serve replica on a node that
does not share this machine's folders gets the same digests in memory instead
(:class:`HeldKeys`, updated through Serve's ``user_config``).
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


def key_digests(auth_enabled: bool, keys: tuple[str, ...]) -> dict[str, object]:
    """What a scoring server checks requests against: ``{"auth_enabled", "digests"}`` (hex
    SHA-256 digests; never the keys)."""
    return {"auth_enabled": auth_enabled, "digests": [digest(k).hex() for k in keys if k]}


def write_keys_file(path: str, auth_enabled: bool, keys: tuple[str, ...]) -> None:
    """Write (atomically, readable by this user only) what the scoring server checks."""
    data = key_digests(auth_enabled, keys)
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


def _loaded_from(stamp: tuple[int, int, int], data: dict[str, object]) -> _Loaded:
    """Parse :func:`key_digests`' dict. Raises ValueError, AttributeError or TypeError on a
    malformed one."""
    digests = data.get("digests", ())
    if not isinstance(digests, (list, tuple)):
        raise ValueError("digests must be a list")
    return _Loaded(
        stamp, bool(data.get("auth_enabled", True)), tuple(bytes.fromhex(d) for d in digests)
    )


def _allows(loaded: _Loaded, authorization: str | None) -> bool:
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


class HeldKeys:
    """A key check whose digests are held in memory and replaced with :meth:`update`.

    Until the first :meth:`update` (or after a malformed one) every request is refused:
    auth stays on, as with a missing keys file.
    """

    def __init__(self) -> None:
        self._loaded = _Loaded((-1, -1, -1), True, ())

    def update(self, data: dict[str, object]) -> None:
        """Take :func:`key_digests`' dict as what requests are checked against."""
        try:
            self._loaded = _loaded_from((0, 0, 0), data)
        except (ValueError, AttributeError, TypeError):
            self._loaded = _Loaded((-1, -1, -1), True, ())

    @property
    def auth_enabled(self) -> bool:
        """Whether requests need a key now."""
        return self._loaded.auth_enabled

    def allows(self, authorization: str | None) -> bool:
        """Whether a request with this ``Authorization`` header value may score."""
        return _allows(self._loaded, authorization)


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
                    self._loaded = _loaded_from(stamp, json.load(fh))
            except (OSError, ValueError, AttributeError, TypeError):
                return _Loaded((-1, -1, -1), True, ())
        return self._loaded

    @property
    def auth_enabled(self) -> bool:
        """Whether requests need a key now."""
        return self._current().auth_enabled

    def allows(self, authorization: str | None) -> bool:
        """Whether a request with this ``Authorization`` header value may score."""
        return _allows(self._current(), authorization)
