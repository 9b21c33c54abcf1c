"""Writes per token: a token bucket each, in process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class WriteRateLimiter:
    """Allows each key (a token) ``rate_per_s`` writes per second on average, in bursts of
    up to ``burst``.

    Args:
        rate_per_s: the sustained rate; 0 turns limiting off.
        burst: the bucket's size (at least 1).
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = max(1, burst)
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one write of ``key``'s bucket: 0 when allowed, else the seconds until the
        next write will be."""
        if self.rate_per_s <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate_per_s)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / self.rate_per_s
            if len(self._buckets) >= self._max_keys and key not in self._buckets:
                self._forget_full(now)
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled says nothing a fresh one would not: drop those.
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.rate_per_s >= self.burst:
                del self._buckets[key]
        if len(self._buckets) >= self._max_keys:
            self._buckets.clear()
