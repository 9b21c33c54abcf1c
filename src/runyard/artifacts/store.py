"""The ArtifactStore port and its fsspec adapter.

The port is a handful of byte-level primitives over names relative to a root; everything
else (run files, models, datastores, progress bars) is built above it. Names given to these
methods are checked with :func:`runyard.artifacts.paths.check_relpath`.

Contract:
- ``put_file``/``put_bytes`` never leave a half-written file under its final name: on a
  local root they write a temporary sibling and rename it; object stores write whole
  objects.
- ``append_bytes`` costs what it appends: a local file is opened with O_APPEND; on an
  object store each append is a new part object that reads, listings, sizes and
  downloads present as the one file (see ``runyard.artifacts.temporaries``).
- ``list(prefix)`` returns file names relative to the root, sorted, recursively: every
  file a user stored (``x.partial`` included), never the store's own temporaries or parts.
- Temporaries left by a killed transfer are removed by the next write of the same name
  and by ``clean_temporaries``.
- Missing names raise ``NotFound``; storage failures raise ``BackendError``.
"""

from __future__ import annotations

import abc
import builtins
import os
import shutil
import threading
from collections.abc import Callable
from typing import Any

from runyard.artifacts import temporaries
from runyard.artifacts.paths import check_relpath, join_safe
from runyard.errors import BackendError, NotFound, missing_extra

# fsspec protocol -> the extra that provides it, for a friendly install hint.
_PROTOCOL_EXTRAS = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "az": ("adlfs", "azure"),
    "abfs": ("adlfs", "azure"),
    "abfss": ("adlfs", "azure"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
}


def required_extra(url: str) -> str | None:
    """The Runyard extra (``pip install 'runyard[EXTRA]'``) a process needs to open an
    artifact store at ``url``, or None when the base install is enough."""
    protocol = url.split("://", 1)[0].lower() if "://" in url else "file"
    return _PROTOCOL_EXTRAS[protocol][1] if protocol in _PROTOCOL_EXTRAS else None


class ArtifactStore(abc.ABC):
    """Files under one root, addressed by safe relative names."""

    @abc.abstractmethod
    def put_file(self, local_path: str, name: str) -> None: ...

    @abc.abstractmethod
    def put_bytes(self, data: bytes, name: str) -> None: ...

    @abc.abstractmethod
    def append_bytes(self, data: bytes, name: str) -> None:
        """Append to a file, creating it (used for logs that stream while a run runs)."""

    @abc.abstractmethod
    def get_file(self, name: str, local_path: str) -> None:
        """Copy one file out; the local file appears whole or not at all."""

    @abc.abstractmethod
    def read_bytes(self, name: str) -> bytes: ...

    def read_range(self, name: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes of a file from byte ``start`` (fewer at its end): for
        downloads streamed in pieces and resumed. Adapters that can read a range without
        reading the whole file override this."""
        return self.read_bytes(name)[start : start + length]

    @abc.abstractmethod
    def list(self, prefix: str = "") -> list[str]: ...

    @abc.abstractmethod
    def exists(self, name: str) -> bool: ...

    @abc.abstractmethod
    def size(self, name: str) -> int: ...

    @abc.abstractmethod
    def delete(self, prefix: str) -> None:
        """Delete a file or everything under a folder; missing is fine."""

    def copy(self, source: str, target: str) -> None:
        """Copy one file inside the store (adapters may do it without a round trip)."""
        self.put_bytes(self.read_bytes(source), target)

    @abc.abstractmethod
    def local_path(self, name: str = "") -> str | None:
        """The path on this machine's disk, when the root is a local folder."""

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The root's URL."""

    def clean_temporaries(
        self, prefix: str = "", *, older_than_s: float = temporaries.STALE_AFTER_S
    ) -> builtins.list[str]:
        """Delete temporaries under ``prefix`` left by transfers that died (untouched for
        ``older_than_s`` seconds) and return their paths. Adapters that never leave
        temporaries keep this no-op."""
        return []

    def describe(self, prefix: str = "") -> builtins.list[tuple[str, int, str]] | None:
        """The files under ``prefix`` as ``(name, size, change tag)``, sorted, when this
        store lists them itself (a server's files: the server lists its storage); None:
        callers list the storage at :attr:`url` with fsspec."""
        return None

    def close(self) -> None:  # noqa: B027 - optional
        """Release clients."""


class FsspecArtifactStore(ArtifactStore):
    """An artifact store on any fsspec URL: a local folder, ``s3://``, ``az://``, ``gs://``."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        import fsspec
        from fsspec.core import url_to_fs

        protocol = url.split("://", 1)[0] if "://" in url else "file"
        try:
            fs, root = url_to_fs(url, **(storage_options or {}))
        except (ImportError, ValueError) as exc:
            if protocol in _PROTOCOL_EXTRAS:
                module, extra = _PROTOCOL_EXTRAS[protocol]
                raise missing_extra(module, extra) from exc
            known = ", ".join(sorted({"file", *_PROTOCOL_EXTRAS, *fsspec.available_protocols()}))
            raise BackendError(
                f"Cannot open artifact location {url!r}: {exc}. Known protocols: {known}."
            ) from exc
        self._fs = fs
        #: The fsspec options the store was opened with (a listing of its storage needs them).
        self.storage_options = dict(storage_options or {})
        self._local = protocol in ("file", "local") or "://" not in url
        self._root = os.path.abspath(root) if self._local else root.rstrip("/")
        self._url = url
        # Object stores: the next part number of each file appended to by this store.
        self._next_part: dict[str, int] = {}
        self._parts_lock = threading.Lock()
        if self._local:
            os.makedirs(self._root, exist_ok=True)

    @property
    def url(self) -> str:
        return self._url

    def _path(self, name: str) -> str:
        if name == "":
            return self._root
        return join_safe(self._root, name) if self._local else f"{self._root}/{check_relpath(name)}"

    def local_path(self, name: str = "") -> str | None:
        return self._path(name) if self._local else None

    def put_file(self, local_path: str, name: str) -> None:
        target = self._path(name)
        try:
            if self._local:
                _write_whole(target, lambda tmp: shutil.copyfile(local_path, tmp))
            else:
                self._drop_parts(target)
                self._fs.put_file(local_path, target)
        except FileNotFoundError as exc:
            raise NotFound(f"File to upload {local_path!r} does not exist.") from exc
        except OSError as exc:
            raise BackendError(f"Could not store {name!r} at {self._url}: {exc}") from exc

    def copy(self, source: str, target: str) -> None:
        if self._local:
            self.put_file(self._path(source), target)
        elif self._has_parts(self._path(source)):
            self.put_bytes(self.read_bytes(source), target)
        else:
            self._drop_parts(self._path(target))
            try:
                self._fs.copy(self._path(source), self._path(target))
            except FileNotFoundError as exc:
                raise NotFound(f"No file {source!r} to copy in {self._url}.") from exc

    def put_bytes(self, data: bytes, name: str) -> None:
        target = self._path(name)
        try:
            if self._local:
                _write_whole(target, lambda tmp: _write_bytes(tmp, data))
            else:
                self._drop_parts(target)
                self._fs.pipe_file(target, data)
        except OSError as exc:
            raise BackendError(f"Could not store {name!r} at {self._url}: {exc}") from exc

    def append_bytes(self, data: bytes, name: str) -> None:
        target = self._path(name)
        try:
            if self._local:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "ab") as fh:
                    fh.write(data)
            else:  # object stores have no append: each append is a part object
                self._fs.pipe_file(self._new_part(target), data)
        except OSError as exc:
            raise BackendError(f"Could not append to {name!r} at {self._url}: {exc}") from exc

    # -- parts of appended files (object stores) -------------------------------------
    def _parts(self, path: str) -> builtins.list[tuple[str, int]]:
        """The (path, size) of each part of ``path``, in append order."""
        folder = temporaries.parts_of(path)
        # Another process (the run's log streamer) may have added parts since this
        # filesystem object cached the folder's listing (s3fs, gcsfs and adlfs cache them).
        self._fs.invalidate_cache(folder)
        try:
            entries = self._fs.ls(folder, detail=True)
        except FileNotFoundError:
            return []
        parts = []
        for entry in entries:
            leaf = str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
            if entry.get("type") == "file" and leaf.isdigit():
                parts.append((int(leaf), str(entry["name"]), int(entry.get("size") or 0)))
        return [(part, size) for _, part, size in sorted(parts)]

    def _has_parts(self, path: str) -> bool:
        folder = temporaries.parts_of(path)
        self._fs.invalidate_cache(folder)
        return bool(self._fs.exists(folder))

    def _new_part(self, path: str) -> str:
        """The name of the next part of ``path``: the part count is read once per file,
        then kept, so an append costs one write, not a listing. One writer appends to a
        file at a time (a run's log streamer)."""
        with self._parts_lock:
            index = self._next_part.get(path)
            if index is None:
                names = [part.rsplit("/", 1)[-1] for part, _ in self._parts(path)]
                index = max((int(n) for n in names), default=0) + 1
            self._next_part[path] = index + 1
        return f"{temporaries.parts_of(path)}/{temporaries.part_name(index)}"

    def _drop_parts(self, path: str) -> None:
        """Forget the appended parts of ``path`` (and of files under it): its content is
        being replaced or deleted."""
        with self._parts_lock:
            for key in [k for k in self._next_part if k == path or k.startswith(path + "/")]:
                del self._next_part[key]
        folder = temporaries.parts_of(path)
        if self._fs.exists(folder):
            self._fs.rm(folder, recursive=True)

    def _read_object(self, path: str) -> bytes:
        """The whole content of an object-store file: the object, then its parts."""
        parts = self._parts(path)
        if not parts:
            return bytes(self._fs.cat_file(path))
        chunks = [bytes(self._fs.cat_file(path))] if self._fs.isfile(path) else []
        chunks.extend(bytes(self._fs.cat_file(part)) for part, _ in parts)
        return b"".join(chunks)

    def get_file(self, name: str, local_path: str) -> None:
        source = self._path(name)
        if not self._local and self._has_parts(source):
            data = self.read_bytes(name)
            try:
                _write_whole(os.path.abspath(local_path), lambda tmp: _write_bytes(tmp, data))
            except OSError as exc:
                raise BackendError(f"Could not download {name!r} to {local_path!r}: {exc}") from exc
            return
        if not self._fs.isfile(source):
            raise NotFound(f"No file {name!r} in {self._url}.")
        copy = shutil.copyfile if self._local else self._fs.get_file
        try:
            _write_whole(os.path.abspath(local_path), lambda tmp: copy(source, tmp))
        except OSError as exc:
            raise BackendError(f"Could not download {name!r} from {self._url}: {exc}") from exc

    def read_bytes(self, name: str) -> bytes:
        source = self._path(name)
        try:
            return bytes(self._fs.cat_file(source)) if self._local else self._read_object(source)
        except FileNotFoundError as exc:
            raise NotFound(f"No file {name!r} in {self._url}.") from exc
        except IsADirectoryError as exc:
            raise NotFound(f"{name!r} in {self._url} is a folder, not a file.") from exc

    def read_range(self, name: str, start: int, length: int) -> bytes:
        source = self._path(name)
        if not self._local and self._has_parts(source):
            return super().read_range(name, start, length)
        try:
            if self._local:
                with open(source, "rb") as fh:
                    fh.seek(start)
                    return fh.read(length)
            return bytes(self._fs.cat_file(source, start=start, end=start + length))
        except FileNotFoundError as exc:
            raise NotFound(f"No file {name!r} in {self._url}.") from exc
        except IsADirectoryError as exc:
            raise NotFound(f"{name!r} in {self._url} is a folder, not a file.") from exc

    def list(self, prefix: str = "") -> list[str]:
        base = self._path(prefix) if prefix else self._root
        if self._local:
            return self._list_local(base)
        found = []
        for where in (base, temporaries.parts_of(base)) if prefix else (base,):
            try:
                found.extend(self._fs.find(where))
            except FileNotFoundError:
                continue
        root = self._root + "/"
        names = set()
        for path in found:
            if not path.startswith(root):
                continue
            name = path[len(root) :]
            if temporaries.is_reserved(name):
                name = temporaries.appended_file(name) or ""  # a part stands for its file
            if name:
                names.add(name)
        return sorted(names)

    def _list_local(self, base: str) -> builtins.list[str]:
        if os.path.isfile(base):
            return [os.path.relpath(base, self._root).replace(os.sep, "/")]
        names = []
        for dirpath, _dirs, files in os.walk(base):
            for f in files:
                if temporaries.is_reserved(f):  # a transfer's temporary, not a user's file
                    continue
                full = os.path.join(dirpath, f)
                names.append(os.path.relpath(full, self._root).replace(os.sep, "/"))
        return sorted(names)

    def exists(self, name: str) -> bool:
        path = self._path(name)
        return bool(self._fs.exists(path)) or (not self._local and self._has_parts(path))

    def size(self, name: str) -> int:
        path = self._path(name)
        parts = [] if self._local else self._parts(path)
        try:
            whole = int(self._fs.size(path)) if not parts or self._fs.isfile(path) else 0
        except FileNotFoundError as exc:
            raise NotFound(f"No file {name!r} in {self._url}.") from exc
        return whole + sum(size for _, size in parts)

    def delete(self, prefix: str) -> None:
        target = self._path(prefix)
        if self._local:
            if os.path.isdir(target):
                shutil.rmtree(target)
            elif os.path.lexists(target):
                os.unlink(target)
            return
        self._drop_parts(target)
        if self._fs.exists(target):
            self._fs.rm(target, recursive=True)

    def clean_temporaries(
        self, prefix: str = "", *, older_than_s: float = temporaries.STALE_AFTER_S
    ) -> builtins.list[str]:
        """Delete the temporaries of killed transfers under ``prefix`` (local roots: object
        stores get whole objects, never temporaries) and return their names."""
        if not self._local:
            return []
        base = self._path(prefix)
        if not os.path.isdir(base):
            return []
        removed = temporaries.remove_stale_local(base, older_than_s=older_than_s)
        return [os.path.relpath(p, self._root).replace(os.sep, "/") for p in removed]


def _write_whole(target: str, write: Callable[[str], object]) -> None:
    """Write ``target`` through a temporary sibling renamed into place, so a reader never
    sees a half-written file under the final name; the temporary goes on failure, and
    temporaries of earlier writes of ``target`` that died (killed) go first."""
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    temporaries.remove_stale_local(
        folder,
        prefix=os.path.basename(target) + temporaries.TEMPORARY,
        older_than_s=temporaries.STALE_AFTER_S,
    )
    tmp = temporaries.temporary_for(target)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_bytes(path: str, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
