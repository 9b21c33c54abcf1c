"""Content-addressed snapshots of a run's source directory.

A snapshot is the list of a folder's files with their contents, stored once in the artifact
store under ``snapshots/<id>/``::

    snapshots/<id>/files/<relative path>   each file
    snapshots/<id>/manifest.json           written last: its presence means "complete"

``<id>`` is a hash of the file list (relative paths, contents, executable bits), so the same
source tree gives the same id and is stored once however often it is submitted.

What is left out, as SDK v1 does: the ``.git`` folder, ``__pycache__`` folders, and whatever
the folder's ignore files match. In each folder, ``.amlignore`` is used when it exists and
``.gitignore`` otherwise (SDK v1: "if both exist, .amlignore is used"); patterns follow
gitignore's rules, nested files apply below their folder and deeper ones win.

The size limit (the ``snapshot_limit_mb`` setting, default 300 MB) counts the files kept;
going over it raises ``InvalidArgument`` naming the biggest files.

Content addressing holds on read too: :func:`restore_snapshot` checks that the manifest
hashes to the snapshot's id and that every file it writes hashes to the manifest's entry,
so a stored snapshot changed on disk is refused, never executed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runyard.artifacts.paths import check_relpath, join_safe
from runyard.errors import InvalidArgument, InvalidState, NotFound
from runyard.settings import Settings

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore

SNAPSHOTS_PREFIX = "snapshots"
MANIFEST = "manifest.json"
FORMAT = 1
DEFAULT_LIMIT_MB = 300.0
IGNORE_FILES = (".amlignore", ".gitignore")  # the first that exists in a folder is used
ALWAYS_EXCLUDED = frozenset({".git", "__pycache__"})
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SnapshotFile:
    """One file of a snapshot."""

    path: str  # relative POSIX path
    size: int
    executable: bool
    local: str = ""  # where it was read from (not part of the manifest)


def _identity(entries: list[dict[str, object]]) -> str:
    """The snapshot id of a file list: a hash of each file's path, content hash and mode."""
    identity = json.dumps(
        [[e["path"], e["sha256"], e["executable"]] for e in entries], separators=(",", ":")
    )
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]


def _load_ignore(folder: str) -> object | None:
    """The compiled ignore patterns of ``folder`` (its .amlignore, else its .gitignore)."""
    for name in IGNORE_FILES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            import pathspec

            with open(path, encoding="utf-8", errors="replace") as fh:
                return pathspec.GitIgnoreSpec.from_lines(fh.read().splitlines())
    return None


def _ignored(rel: str, is_dir: bool, specs: list[tuple[str, object]]) -> bool:
    """Whether ``rel`` is ignored by the specs of its folder and its parents (deepest wins,
    a ``!pattern`` re-includes)."""
    for base, spec in reversed(specs):
        sub = rel[len(base) + 1 :] if base else rel
        result = spec.check_file(sub + "/" if is_dir else sub)  # type: ignore[attr-defined]
        if result.include is not None:
            return bool(result.include)
    return False


def list_files(folder: str) -> list[SnapshotFile]:
    """The files a snapshot of ``folder`` keeps, sorted by path.

    Symlinks are followed when they point inside ``folder``; one pointing outside it is
    refused, since the snapshot would silently copy files from elsewhere.

    Raises:
        NotFound: ``folder`` is not a folder.
        InvalidArgument: a kept file has a name that is not a safe relative path, or is a
            symlink that points outside the folder.
    """
    if not os.path.isdir(folder):
        raise NotFound(f"Source directory {folder!r} does not exist or is not a folder.")
    root = os.path.realpath(folder)
    found: list[SnapshotFile] = []
    for rel_dir, files in _walk(root, "", []):
        for name in files:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            full = os.path.join(root, *rel.split("/"))
            real = os.path.realpath(full)
            if real != root and not real.startswith(root + os.sep):
                raise InvalidArgument(
                    f"{full!r} is a symlink to {real!r}, outside the source directory "
                    f"{folder!r}. Copy the file in, or list it in .amlignore to leave it out."
                )
            try:
                st = os.stat(full)
            except FileNotFoundError:
                continue  # a dangling link, or a file removed while we walked
            if not stat.S_ISREG(st.st_mode):
                continue
            check_relpath(rel, what="source file name")
            found.append(SnapshotFile(rel, st.st_size, bool(st.st_mode & 0o111), full))
    found.sort(key=lambda f: f.path)
    return found


def _walk(
    root: str, rel_dir: str, specs: list[tuple[str, object]]
) -> Iterator[tuple[str, list[str]]]:
    folder = os.path.join(root, *rel_dir.split("/")) if rel_dir else root
    spec = _load_ignore(folder)
    if spec is not None:
        specs = [*specs, (rel_dir, spec)]
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise InvalidArgument(f"Cannot read folder {folder!r} for the snapshot: {exc}") from exc
    files: list[str] = []
    subdirs: list[str] = []
    for entry in entries:
        rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        # Links to folders are not followed: they could loop or reach anywhere.
        is_dir = entry.is_dir(follow_symlinks=False)
        if is_dir and entry.name in ALWAYS_EXCLUDED:
            continue
        if _ignored(rel, is_dir, specs):
            continue
        (subdirs if is_dir else files).append(entry.name)
    yield rel_dir, files
    for name in subdirs:
        yield from _walk(root, f"{rel_dir}/{name}" if rel_dir else name, specs)


def _check_size(folder: str, files: list[SnapshotFile], limit: int) -> None:
    total = sum(f.size for f in files)
    if total <= limit:
        return
    biggest = sorted(files, key=lambda f: f.size, reverse=True)[:5]
    listed = ", ".join(f"{f.path} ({_mb(f.size)})" for f in biggest)
    raise InvalidArgument(
        f"The source directory {folder!r} holds {_mb(total)} of files, over the snapshot "
        f"limit of {_mb(limit)}. Biggest: {listed}. Keep data out of the source directory "
        "(upload it to a datastore and pass ds.path(...).as_mount()), list large files in "
        f".amlignore, or raise the limit with RUNYARD_SNAPSHOT_LIMIT_MB (megabytes)."
    )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _hash_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def take_snapshot(
    artifact_store: ArtifactStore, folder: str | os.PathLike[str], limit_bytes: int | None = None
) -> str:
    """Snapshot ``folder`` into the artifact store, once per distinct content.

    Args:
        artifact_store: where snapshots are kept.
        folder: the source directory.
        limit_bytes: the size limit (default: the settings' default, 300 MB).

    Returns:
        The snapshot id (32 hexadecimal digits).

    Raises:
        NotFound: ``folder`` does not exist.
        InvalidArgument: the files kept are over the size limit (the message names the
            biggest), or a file's name or link is not allowed (see :func:`list_files`).
    """
    folder = os.fspath(folder)
    files = list_files(folder)
    _check_size(
        folder, files, Settings().snapshot_limit_bytes if limit_bytes is None else limit_bytes
    )
    entries = [
        {"path": f.path, "sha256": _hash_file(f.local), "size": f.size, "executable": f.executable}
        for f in files
    ]
    snapshot_id = _identity(entries)
    base = f"{SNAPSHOTS_PREFIX}/{snapshot_id}"
    if artifact_store.exists(f"{base}/{MANIFEST}"):
        return snapshot_id
    for f in files:
        artifact_store.put_file(f.local, f"{base}/files/{f.path}")
    manifest = {"format": FORMAT, "snapshot_id": snapshot_id, "files": entries}
    # The manifest goes last: a snapshot whose manifest exists is complete.
    artifact_store.put_bytes(json.dumps(manifest, indent=1).encode("utf-8"), f"{base}/{MANIFEST}")
    return snapshot_id


def read_manifest(artifact_store: ArtifactStore, snapshot_id: str) -> dict[str, object]:
    """The manifest of a stored snapshot.

    Raises:
        NotFound: no complete snapshot has that id.
    """
    check_relpath(snapshot_id, what="snapshot id")
    try:
        data = artifact_store.read_bytes(f"{SNAPSHOTS_PREFIX}/{snapshot_id}/{MANIFEST}")
    except NotFound:
        raise NotFound(
            f"Snapshot {snapshot_id!r} does not exist in {artifact_store.url}."
        ) from None
    manifest: dict[str, object] = json.loads(data)
    return manifest


def restore_snapshot(
    artifact_store: ArtifactStore, snapshot_id: str, target_dir: str | os.PathLike[str]
) -> list[str]:
    """Write a snapshot's files into ``target_dir`` (created if needed).

    Returns:
        The relative paths written.

    Raises:
        NotFound: no snapshot has that id.
        InvalidState: the stored snapshot does not match its id (its manifest or a file was
            changed after it was stored); nothing of it should run.
    """
    target = os.fspath(target_dir)
    manifest = read_manifest(artifact_store, snapshot_id)
    files = manifest.get("files")
    if not isinstance(files, list) or _identity(files) != snapshot_id:
        raise InvalidState(
            f"Snapshot {snapshot_id} is corrupt: its manifest does not hash to its id (it was "
            "changed after it was stored). Submit the run again to store a fresh snapshot."
        )
    os.makedirs(target, exist_ok=True)
    written = []
    for entry in files:
        rel = entry["path"]
        local = join_safe(os.path.abspath(target), rel, what="snapshot file name")
        artifact_store.get_file(f"{SNAPSHOTS_PREFIX}/{snapshot_id}/files/{rel}", local)
        if _hash_file(local) != entry["sha256"]:
            os.remove(local)
            raise InvalidState(
                f"Snapshot {snapshot_id} is corrupt: its file {rel!r} does not match the hash "
                "recorded when it was stored (it was changed on disk). Submit the run again "
                "to store a fresh snapshot."
            )
        if entry.get("executable"):
            os.chmod(local, os.stat(local).st_mode | 0o111)
        written.append(rel)
    return written
