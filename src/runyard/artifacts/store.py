"""The ArtifactStore port and its fsspec adapter.

The port is a handful of byte-level primitives over names relative to a root; everything
else (run files, models, datastores, progress bars) is built above it. Names given to these
methods are checked with :func:`runyard.artifacts.paths.check_relpath`.

Contract:
- ``put_file``/``put_bytes`` never leave a half-written file under its final name: on a
  local root they write a temporary sibling and rename it; object stores write whole
  objects.
- ``list(prefix)`` returns file names relative to the root, sorted, recursively.
- Missing names raise ``NotFound``; storage failures raise ``BackendError``.
"""

from __future__ import annotations

import abc
import builtins
import os
import shutil
import uuid
from collections.abc import Callable
from typing import Any

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
        self._local = protocol in ("file", "local") or "://" not in url
        self._root = os.path.abspath(root) if self._local else root.rstrip("/")
        self._url = url
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
                self._fs.put_file(local_path, target)
        except FileNotFoundError as exc:
            raise NotFound(f"File to upload {local_path!r} does not exist.") from exc
        except OSError as exc:
            raise BackendError(f"Could not store {name!r} at {self._url}: {exc}") from exc

    def copy(self, source: str, target: str) -> None:
        if self._local:
            self.put_file(self._path(source), target)
        else:
            self._fs.copy(self._path(source), self._path(target))

    def put_bytes(self, data: bytes, name: str) -> None:
        target = self._path(name)
        try:
            if self._local:
                _write_whole(target, lambda tmp: _write_bytes(tmp, data))
            else:
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
            else:  # object stores have no append: rewrite the whole object
                old = self._fs.cat_file(target) if self._fs.exists(target) else b""
                self._fs.pipe_file(target, old + data)
        except OSError as exc:
            raise BackendError(f"Could not append to {name!r} at {self._url}: {exc}") from exc

    def get_file(self, name: str, local_path: str) -> None:
        source = self._path(name)
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
            return bytes(self._fs.cat_file(source))
        except FileNotFoundError as exc:
            raise NotFound(f"No file {name!r} in {self._url}.") from exc
        except IsADirectoryError as exc:
            raise NotFound(f"{name!r} in {self._url} is a folder, not a file.") from exc

    def list(self, prefix: str = "") -> list[str]:
        base = self._path(prefix) if prefix else self._root
        if self._local:
            return self._list_local(base)
        try:
            found = self._fs.find(base)
        except FileNotFoundError:
            return []
        root = self._root + "/"
        return sorted(p[len(root) :] for p in found if p.startswith(root))

    def _list_local(self, base: str) -> builtins.list[str]:
        if os.path.isfile(base):
            return [os.path.relpath(base, self._root).replace(os.sep, "/")]
        names = []
        for dirpath, _dirs, files in os.walk(base):
            for f in files:
                if f.endswith(".partial"):
                    continue
                full = os.path.join(dirpath, f)
                names.append(os.path.relpath(full, self._root).replace(os.sep, "/"))
        return sorted(names)

    def exists(self, name: str) -> bool:
        return bool(self._fs.exists(self._path(name)))

    def size(self, name: str) -> int:
        try:
            return int(self._fs.size(self._path(name)))
        except FileNotFoundError as exc:
            raise NotFound(f"No file {name!r} in {self._url}.") from exc

    def delete(self, prefix: str) -> None:
        target = self._path(prefix)
        if self._local:
            if os.path.isdir(target):
                shutil.rmtree(target)
            elif os.path.lexists(target):
                os.unlink(target)
            return
        if self._fs.exists(target):
            self._fs.rm(target, recursive=True)


def _write_whole(target: str, write: Callable[[str], object]) -> None:
    """Write ``target`` through a temporary sibling renamed into place, so a reader never
    sees a half-written file under the final name; the temporary goes on failure."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = f"{target}.{uuid.uuid4().hex[:8]}.partial"
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_bytes(path: str, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
