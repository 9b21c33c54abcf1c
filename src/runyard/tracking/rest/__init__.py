"""The REST adapters: the TrackingStore and ArtifactStore ports over a Runyard server's
API (``/api/v1``), for workspaces whose config names a ``server``."""

from runyard.tracking.rest.store import RestTrackingStore

__all__ = ["RestTrackingStore"]
