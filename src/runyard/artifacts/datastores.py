"""The artifact store behind a registered datastore, from its record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore
    from runyard.config import WorkspaceConfig
    from runyard.entities.datastore import DatastoreRecord


def datastore_storage_options(record: DatastoreRecord, config: WorkspaceConfig) -> dict[str, Any]:
    """fsspec options of a datastore: the record's own; the default datastore inside a remote
    workspace artifact location borrows the workspace's credentials; a team server's
    workspace: none (its files go through the server)."""
    if config.server:
        return {}
    if record.options:
        return dict(record.options)
    if record.url.startswith(config.resolved_artifact_uri):
        return dict(config.storage_options)
    return {}


def datastore_artifact_store(
    record: DatastoreRecord, config: WorkspaceConfig, token: str | None = None
) -> ArtifactStore:
    """An artifact store over the datastore's files (close it when done): for a team
    server's workspace (its config names ``server``), the files through the server's API
    with ``token``, so neither clients nor nodes need the storage or its credentials."""
    if config.server:
        from runyard.artifacts.rest import RestArtifactStore

        return RestArtifactStore(config.server, config.workspace_name, token, datastore=record.name)
    from runyard.artifacts.store import FsspecArtifactStore

    return FsspecArtifactStore(record.url, datastore_storage_options(record, config))
