"""Resolving a run's data references to local paths on the node, before the script starts.

How a reference resolves:

- ``mount`` on a local datastore: the path of the file or folder in the datastore itself,
  used in place (nothing is copied, so a script that writes there changes the datastore).
- ``mount`` on a remote datastore: a copy in ``cache_dir``, keyed by datastore and path and
  versioned by a fingerprint of the remote listing (names, sizes, ETags), so a changed
  remote is downloaded again and an unchanged one is reused. Cached files and folders are
  made read-only so a script cannot change what the next run sees. Concurrent resolutions
  of one reference wait on a file lock and download once.
- ``download``: a writable copy at ``path_on_compute`` inside the working folder (default
  ``<datastore>/<path>``); a remote one is copied from the cache above.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from runyard.artifacts.datastores import datastore_artifact_store, datastore_storage_options
from runyard.artifacts.paths import join_safe
from runyard.entities.data_reference import DataReferenceSpec
from runyard.errors import InvalidArgument, NotFound
from runyard.node.data_cache import cached_copy, copy_writable

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore
    from runyard.entities.datastore import DatastoreRecord
    from runyard.resources import WorkspaceResources


def resolve_data_reference(
    resources: WorkspaceResources,
    ref: Any,
    cache_dir: str,
    *,
    working_dir: str | None = None,
) -> str:
    """The local path a run's script gets for a data reference (see the module docstring).

    Args:
        resources: the run's workspace (its datastore records hold the credentials).
        ref: a data reference dict, its checked spec, or anything with ``to_dict()``
            giving one (the SDK's ``DataReference``).
        cache_dir: where remote datastores' files are cached (created if missing).
        working_dir: the run's working folder, base of ``path_on_compute``; default the
            current folder.

    Returns:
        An absolute path: a folder, or a file when the reference names one.

    Raises:
        InvalidArgument: a malformed dict, an unsafe path, or a ``download`` target that
            exists already without ``overwrite``.
        NotFound: the datastore is not registered, or has nothing at the path.
        MissingDependency: the datastore needs an extra that is not installed here.
        BackendError: the datastore could not be read.
    """
    if not isinstance(ref, (DataReferenceSpec, dict)) and callable(getattr(ref, "to_dict", None)):
        ref = ref.to_dict()  # the SDK's DataReference, handed over as the run would get it
    spec = ref if isinstance(ref, DataReferenceSpec) else DataReferenceSpec.from_dict(ref)
    record = resources.store.get_datastore(spec.datastore_name)
    store = datastore_artifact_store(record, resources.config, resources.token)
    try:
        source = _source(resources, spec, record, store, cache_dir)
    finally:
        store.close()
    if spec.mode == "mount":
        return os.path.abspath(source)
    path = spec.path_on_datastore or ""
    rel = spec.path_on_compute or (f"{record.name}/{path}" if path else record.name)
    dest = join_safe(os.path.abspath(working_dir or os.getcwd()), rel, what="path_on_compute")
    if os.path.lexists(dest) and not spec.overwrite:
        raise InvalidArgument(
            f"Data reference {spec.data_reference_name!r}: {rel!r} exists already in the "
            "working folder; pass overwrite=True to as_download() or choose another "
            "path_on_compute."
        )
    return copy_writable(source, dest)


def _source(
    resources: WorkspaceResources,
    spec: DataReferenceSpec,
    record: DatastoreRecord,
    store: ArtifactStore,
    cache_dir: str,
) -> str:
    """Where the reference's files are on this node: in place on a local datastore, else a
    read-only cached copy."""
    path = spec.path_on_datastore or ""
    local_root = store.local_path("")
    if local_root is not None:
        source = join_safe(local_root, path, what="path_on_datastore") if path else local_root
        if not os.path.exists(source):
            raise NotFound(
                f"Data reference {spec.data_reference_name!r}: datastore {record.name!r} has no "
                f"file or folder {path!r} (in {local_root}). Upload it with ds.upload(...)."
            )
    else:
        source = cached_copy(
            store, record, datastore_storage_options(record, resources.config), path, cache_dir
        )
    return source
