"""The in-memory adapter of the TrackingStore port: a workspace that lives as long as its
process (tests, notebooks, dry runs), opened with ``open_tracking_store("memory://")``.

Layout: ``state.py`` holds the data and the lock; ``runs.py`` (experiments, runs,
metrics) and ``registry.py`` (models, catalogue) implement the ports on it; ``store.py``
composes them. It behaves like the SQL adapter in every contract test.
"""

from runyard.tracking.memory.store import MemoryTrackingStore

__all__ = ["MemoryTrackingStore"]
