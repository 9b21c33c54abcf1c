"""What routes take from the app: the served workspace's stores."""

from __future__ import annotations

from fastapi import Request

from runyard.artifacts.store import ArtifactStore
from runyard.resources import WorkspaceResources
from runyard.tracking.store import TrackingStore


def resources(request: Request) -> WorkspaceResources:
    """The served workspace's resources (opened by ``create_app``'s lifespan)."""
    served: WorkspaceResources = request.app.state.resources
    return served


def tracking_store(request: Request) -> TrackingStore:
    return resources(request).store


def artifact_store(request: Request) -> ArtifactStore:
    return resources(request).artifacts
