"""The cache of remote datastore files that data references resolve to.

Layout under the cache folder: ``<datastore>-<path>-<key>/<version>/`` where ``key``
hashes the datastore's name, URL and the path, and ``version`` hashes the remote listing
(names, sizes and ETags or modification times). A changed remote gets a new version; an
unchanged one is reused. A lock file per key makes concurrent resolutions download once;
versions appear by renaming a finished folder, so no one sees a partial copy, and they are
made read-only so a run cannot change what the next run sees. Old versions are kept (a run
may still be reading one).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import stat
import uuid
from typing import TYPE_CHECKING, Any

from runyard.artifacts.paths import join_safe
from runyard.artifacts.transfer import (
    MAX_PARALLEL_TRANSFERS,
    Entry,
    TransferProgress,
    list_entries,
    run_transfers,
)
from runyard.errors import NotFound

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore
    from runyard.entities.datastore import DatastoreRecord


def cached_copy(
    store: ArtifactStore,
    ds: DatastoreRecord,
    storage_options: dict[str, Any],
    path: str,
    cache_dir: str,
) -> str:
    """A read-only local copy of a remote file or folder, downloaded once per version."""
    from filelock import FileLock

    entries = list_entries(store, path, storage_options)
    if path and not entries:
        raise NotFound(
            f"Datastore {ds.name!r} ({ds.url}) has no file or folder {path!r}. Upload it "
            "with ds.upload(...)."
        )
    is_file = len(entries) == 1 and entries[0].name == path
    key = hashlib.sha256(f"{ds.name}\0{ds.url}\0{path}".encode()).hexdigest()[:12]
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{ds.name}-{path or 'root'}")[:80]
    entry_dir = os.path.join(os.path.abspath(cache_dir), f"{slug}-{key}")
    listing = json.dumps([[e.name, e.size, e.tag] for e in entries])
    version = os.path.join(entry_dir, hashlib.sha256(listing.encode()).hexdigest()[:16])
    os.makedirs(entry_dir, exist_ok=True)
    with FileLock(entry_dir + ".lock"):
        if not os.path.isdir(version):
            _remove_partials(entry_dir)
            tmp = f"{version}.ry~tmp-{uuid.uuid4().hex[:8]}"
            try:
                _download(store, entries, path, is_file, tmp, ds.name)
                _make_read_only(tmp)
                os.replace(tmp, version)
                os.chmod(version, 0o555)
            finally:
                if os.path.exists(tmp):
                    _force_rmtree(tmp)
    return os.path.join(version, posixpath.basename(path)) if is_file else version


def _download(
    store: ArtifactStore, entries: list[Entry], path: str, is_file: bool, folder: str, ds_name: str
) -> None:
    os.makedirs(folder)
    targets = {}
    for e in entries:
        rel = posixpath.basename(path) if is_file else (e.name[len(path) + 1 :] if path else e.name)
        targets[e.name] = join_safe(folder, rel, what="datastore file name")
    with TransferProgress("Downloading", 0, len(entries), enabled=False) as bar:
        run_transfers(
            [(e.name, e.size) for e in entries],
            lambda name: store.get_file(name, targets[name]),
            bar,
            what=f"Download of {path or 'the root'!r} from datastore {ds_name!r}",
            parallel=MAX_PARALLEL_TRANSFERS,
        )


def copy_writable(source: str, dest: str) -> str:
    """Copy a file or folder to ``dest`` (replacing what is there), writable whatever the
    source's modes; ``dest`` appears whole or not at all."""
    if os.path.lexists(dest):
        _remove(dest)
    tmp = f"{dest}.ry~tmp-{uuid.uuid4().hex[:8]}"
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    try:
        if os.path.isdir(source):
            for dirpath, _dirs, files in os.walk(source):
                out = os.path.join(tmp, os.path.relpath(dirpath, source))
                os.makedirs(out, exist_ok=True)
                for f in files:
                    # copyfile, not copy2: modes are not copied, so cached read-only files
                    # become the script's own writable ones.
                    shutil.copyfile(os.path.join(dirpath, f), os.path.join(out, f))
        else:
            shutil.copyfile(source, tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.lexists(tmp):
            _remove(tmp)
    return dest


def _make_read_only(folder: str) -> None:
    # The top folder stays writable until it is renamed into place: renaming a folder
    # may need write access to it (to update its '..').
    for dirpath, _dirs, files in os.walk(folder, topdown=False):
        for f in files:
            os.chmod(os.path.join(dirpath, f), stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        if dirpath != folder:
            os.chmod(dirpath, 0o555)


def _force_rmtree(path: str) -> None:
    """Remove a tree, read-only folders included (cached copies are read-only)."""
    for dirpath, _dirs, _files in os.walk(path):
        os.chmod(dirpath, 0o755)
    shutil.rmtree(path)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        _force_rmtree(path)
    else:
        os.unlink(path)


def _remove_partials(entry_dir: str) -> None:
    """Partial downloads left by a killed process (the caller holds the entry's lock)."""
    for name in os.listdir(entry_dir):
        if ".ry~tmp-" in name:
            _force_rmtree(os.path.join(entry_dir, name))
