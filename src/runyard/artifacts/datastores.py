"""The artifact store behind a registered datastore, from its record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore
    from runyard.config import WorkspaceConfig
    from runyard.entities.datastore import DatastoreRecord


def datastore_storage_options(record: DatastoreRecord, config: WorkspaceConfig) -> dict[str, Any]:
    """fsspec options of a datastore: the record's own; the default datastore inside a remote
    workspace artifact location borrows the workspace's credentials."""
    if record.options:
        return dict(record.options)
    if record.url.startswith(config.resolved_artifact_uri):
        return dict(config.storage_options)
    return {}


def datastore_artifact_store(record: DatastoreRecord, config: WorkspaceConfig) -> ArtifactStore:
    """An artifact store over the datastore's files (close it when done)."""
    from runyard.artifacts.store import FsspecArtifactStore

    return FsspecArtifactStore(record.url, datastore_storage_options(record, config))
