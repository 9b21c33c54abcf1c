"""A small in-process cache of credentials, keyed by token hash, so that checking a token
costs a hash and a dict lookup instead of a database query on every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from runyard.server.identity.records import Credential


class CredentialCache:
    """Credentials by token hash, each kept for ``ttl_s`` seconds.

    The TTL bounds how long a change made by another server process (a revoke, a disabled
    user, a new role) takes to be seen here; changes made through this process clear the
    cache at once (:meth:`clear`).

    Args:
        ttl_s: how long an entry is trusted.
        max_entries: the most entries kept (the cache is emptied when it is full, so a
            flood of distinct tokens cannot grow it without bound).
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        ttl_s: float = 5.0,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, Credential]] = {}
        # Requests read it on the event loop; routes clear it from worker threads.
        self._lock = threading.Lock()

    def get(self, token_hash: str) -> Credential | None:
        """The cached credential, None when absent or older than the TTL."""
        entry = self._entries.get(token_hash)
        if entry is None or self._clock() - entry[0] > self._ttl_s:
            return None
        return entry[1]

    def put(self, token_hash: str, credential: Credential) -> None:
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[token_hash] = (self._clock(), credential)

    def clear(self) -> None:
        """Forget everything (after a revoke, a disabled user or a membership change)."""
        with self._lock:
            self._entries.clear()
