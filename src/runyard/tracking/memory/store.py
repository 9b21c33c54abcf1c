"""``MemoryTrackingStore``: the TrackingStore port kept in this process's memory."""

from __future__ import annotations

from runyard.tracking.memory.datasets import MemoryDatasets
from runyard.tracking.memory.registry import MemoryRegistry
from runyard.tracking.memory.runs import MemoryRuns
from runyard.tracking.memory.search import MemorySearch
from runyard.tracking.memory.series import MemorySeries
from runyard.tracking.memory.services import MemoryServices
from runyard.tracking.memory.state import MemoryState
from runyard.tracking.store import TrackingStore


class MemoryTrackingStore(
    MemoryRuns,
    MemorySearch,
    MemorySeries,
    MemoryRegistry,
    MemoryDatasets,
    MemoryServices,
    TrackingStore,
):
    """A tracking store that lives as long as this object: nothing is written to disk.

    Safe to share between threads (one lock guards all of it). Each store is separate:
    two ``open_tracking_store("memory://")`` calls give two empty workspaces, and child
    processes cannot see it. ``close()`` keeps the data, so a closed store can be used
    again, as a SQL store reconnects.

    Args:
        url: ``memory://`` (accepted for symmetry with the other adapters; ignored).
        busy_timeout_s: accepted as ``open_tracking_store`` passes it to every adapter;
            nothing waits here for another process.
    """

    def __init__(self, url: str = "memory://", *, busy_timeout_s: float = 30.0) -> None:
        del busy_timeout_s  # one process, one lock: there is no other writer to wait for
        self._state = MemoryState()
        self._url = url

    @property
    def url(self) -> str:
        """The URL the store was opened with."""
        return self._url

    def __repr__(self) -> str:
        return f"MemoryTrackingStore({self._url!r})"

    def close(self) -> None:
        """Nothing to release: the data stays until the store is garbage-collected."""

    def __enter__(self) -> MemoryTrackingStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
