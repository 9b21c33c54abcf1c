"""Artifact storage: run files, logs, snapshots, models and datastores, on any fsspec URL."""

from runyard.artifacts.paths import check_relpath, join_safe
from runyard.artifacts.store import ArtifactStore, FsspecArtifactStore

__all__ = ["ArtifactStore", "FsspecArtifactStore", "check_relpath", "join_safe"]
