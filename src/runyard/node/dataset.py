"""Getting a dataset's pinned files, checking each against the sha256 it was pinned to.

Used on the node, before the script starts, for a run's dataset inputs, and by the SDK's
``dataset.download()``/``mount()``. How a dataset input resolves:

- ``mount``: a read-only folder in ``<cache>/datasets/<fingerprint>``, filled once per
  fingerprint (concurrent runs wait on a file lock) and reused by every later run on the
  node. The cache is *content-addressed*: a folder is only ever completed with files whose
  hashes match the pin, so a run reads exactly the bytes the dataset version was pinned to.
  When the files are cached already, the source is not read again (so a run succeeds even
  if the source changed or was deleted since; the run still reads the pinned bytes).
- ``download``: a writable copy of that folder at ``path_on_compute`` in the working folder
  (default ``<input_name>``).

When a source file's content no longer matches its pin, the resolution fails with
``InvalidState`` naming the file: the dataset version no longer describes what is there,
so the run does not start on other data than it records.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from runyard.artifacts.paths import join_safe
from runyard.entities.dataset import DatasetFile, DatasetInputSpec, fingerprint
from runyard.errors import BackendError, InvalidArgument, InvalidState, NotFound
from runyard.node.data_cache import _force_rmtree, _make_read_only, copy_writable

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore
    from runyard.resources import WorkspaceResources

_CHUNK = 1 << 20
#: How long one read of an http(s) dataset file may stall.
URL_TIMEOUT_S = 60.0


def resolve_dataset(
    resources: WorkspaceResources | None,
    spec: DatasetInputSpec,
    cache_dir: str,
    *,
    working_dir: str | None = None,
) -> str:
    """The local folder a run's script gets for a dataset input (see the module docstring).

    Raises:
        InvalidState: a file no longer matches the hash the dataset pinned.
        InvalidArgument: a ``download`` target that exists already without ``overwrite``.
        NotFound: a file or its datastore is gone.
        BackendError: a file could not be read.
    """
    folder = cached_dataset(resources, spec.files, cache_dir, what=_what(spec))
    if spec.mode == "mount":
        return folder
    rel = spec.path_on_compute or spec.input_name
    dest = join_safe(os.path.abspath(working_dir or os.getcwd()), rel, what="path_on_compute")
    if os.path.lexists(dest) and not spec.overwrite:
        raise InvalidArgument(
            f"Dataset input {spec.input_name!r}: {rel!r} exists already in the working "
            "folder; pass overwrite=True to as_download() or choose another path_on_compute."
        )
    return copy_writable(folder, dest)


def cached_dataset(
    resources: WorkspaceResources | None,
    files: Iterable[DatasetFile],
    cache_dir: str,
    *,
    what: str = "Dataset",
) -> str:
    """The read-only folder holding exactly ``files`` (filled once per fingerprint)."""
    from filelock import FileLock

    files = tuple(files)
    root = os.path.join(os.path.abspath(cache_dir), "datasets")
    folder = os.path.join(root, fingerprint(files))
    if os.path.isdir(folder):
        return folder
    os.makedirs(root, exist_ok=True)
    with FileLock(folder + ".lock"):
        if os.path.isdir(folder):
            return folder
        tmp = f"{folder}.ry~tmp-{uuid.uuid4().hex[:8]}"
        try:
            fetch_files(resources, files, tmp, what=what)
            _make_read_only(tmp)
            os.replace(tmp, folder)
            os.chmod(folder, 0o555)
        finally:
            if os.path.exists(tmp):
                _force_rmtree(tmp)
    return folder


def fetch_files(
    resources: WorkspaceResources | None,
    files: Iterable[DatasetFile],
    folder: str,
    *,
    overwrite: bool = True,
    what: str = "Dataset",
) -> list[str]:
    """Copy ``files`` into ``folder`` at their ``relpath``, checking each hash; returns the
    local paths.

    Raises:
        InvalidState: a file's content differs from its pin (the file is not kept).
        InvalidArgument: a file exists at its place and ``overwrite`` is False.
    """
    stores: dict[str, ArtifactStore] = {}
    paths = []
    try:
        for file in files:
            dest = join_safe(os.path.abspath(folder), file.relpath, what="dataset file name")
            if os.path.lexists(dest) and not overwrite:
                raise InvalidArgument(
                    f"{what}: {dest} exists already; pass overwrite=True to replace it."
                )
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            tmp = f"{dest}.ry~tmp-{uuid.uuid4().hex[:8]}"
            try:
                _fetch(resources, stores, file, tmp)
                digest, size = sha256_of(tmp)
                if digest != file.sha256 or size != file.size:
                    raise InvalidState(
                        f"{what}: {describe(file)} changed since the dataset was pinned "
                        f"(sha256 {digest[:12]}..., {size} bytes; pinned {file.sha256[:12]}..., "
                        f"{file.size} bytes). Restore the file, or register the current files "
                        "as a new version (dataset.register(ws, name, "
                        "create_new_version=True)) and use that."
                    )
                os.replace(tmp, dest)
            finally:
                if os.path.lexists(tmp):
                    os.unlink(tmp)
            paths.append(dest)
    finally:
        for store in stores.values():
            store.close()
    return paths


def sha256_of(path: str) -> tuple[str, int]:
    """The sha256 (hex) and size of a local file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def download_url(url: str, dest: str) -> None:
    """Download an http(s) URL to ``dest``.

    Raises:
        NotFound: the server answered 404.
        BackendError: any other failure (the message names the URL).
    """
    if not url.startswith(("http://", "https://")):
        raise InvalidArgument(f"{url!r} is not an http(s) URL.")
    try:
        # urlopen is given http(s) URLs only (checked above), never file:// or others.
        with (
            urllib.request.urlopen(url, timeout=URL_TIMEOUT_S) as response,
            open(dest, "wb") as out,
        ):
            shutil.copyfileobj(response, out, _CHUNK)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise NotFound(f"{url} does not exist (HTTP 404).") from exc
        raise BackendError(f"Could not download {url}: HTTP {exc.code} {exc.reason}.") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise BackendError(f"Could not download {url}: {exc}.") from exc


def describe(file: DatasetFile) -> str:
    """A file of a dataset, as messages name it."""
    if file.source == "datastore":
        return f"file {file.location!r} of datastore {file.datastore!r}"
    return f"file {file.location}"


def _fetch(
    resources: WorkspaceResources | None,
    stores: dict[str, ArtifactStore],
    file: DatasetFile,
    dest: str,
) -> None:
    if file.source == "url":
        download_url(file.location, dest)
    elif file.source == "local":
        if not os.path.isfile(file.location):
            raise NotFound(
                f"{describe(file)} does not exist on {_host()}. A dataset of local files "
                "works where those files are; upload them to a datastore (ds.upload) and "
                "make the dataset from there to use it on other machines."
            )
        shutil.copyfile(file.location, dest)
    else:
        assert file.datastore is not None
        if resources is None:
            raise InvalidArgument(f"{describe(file)}: a workspace is needed to read it.")
        store = stores.get(file.datastore)
        if store is None:
            from runyard.artifacts.datastores import datastore_artifact_store

            record = resources.store.get_datastore(file.datastore)
            store = stores[file.datastore] = datastore_artifact_store(
                record, resources.config, resources.token
            )
        store.get_file(file.location, dest)


def _what(spec: DatasetInputSpec) -> str:
    if spec.name:
        return f"Dataset {spec.name!r} version {spec.version}"
    return f"Dataset input {spec.input_name!r}"


def _host() -> str:
    import socket

    return socket.gethostname()
