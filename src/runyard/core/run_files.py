"""A run's files: upload, list and download, with path safety and progress bars."""

from __future__ import annotations

import io
import os
from typing import IO, TYPE_CHECKING, Any

from runyard.artifacts.layout import run_files_prefix
from runyard.artifacts.paths import check_local_tree, check_relpath
from runyard.artifacts.progress import TransferProgress
from runyard.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore

#: Transfers above this many bytes show a progress bar.
PROGRESS_THRESHOLD = 20 * 1024 * 1024


class RunFilesMixin:
    """File methods of :class:`runyard.core.run.Run`."""

    id: str

    @property
    def _artifacts(self) -> ArtifactStore:  # provided by Run
        raise NotImplementedError

    def _file_key(self, name: str) -> str:
        return f"{run_files_prefix(self.id)}/{check_relpath(name, what='run file name')}"

    def upload_file(self, name: str, path_or_stream: str | os.PathLike[str] | IO[bytes]) -> str:
        """Upload a local file (or a binary stream) as the run file ``name``.

        Raises:
            InvalidArgument: ``name`` is not a safe relative path.
            NotFound: the local file does not exist.
        """
        key = self._file_key(name)
        if isinstance(path_or_stream, (str, os.PathLike)):
            local = os.fspath(path_or_stream)
            if not os.path.isfile(local):
                raise NotFound(f"Cannot upload {local!r}: no such file.")
            self._artifacts.put_file(local, key)
        else:
            data = path_or_stream.read()
            if isinstance(data, str):
                data = data.encode("utf-8")
            self._artifacts.put_bytes(data, key)
        return name

    def upload_files(
        self, names: list[str], paths: list[str], *, show_progress: bool = False
    ) -> list[str]:
        """Upload several files; ``names[i]`` gets the contents of ``paths[i]``."""
        if len(names) != len(paths):
            raise InvalidArgument(
                f"upload_files got {len(names)} names but {len(paths)} paths; give one each."
            )
        keys = [self._file_key(n) for n in names]  # check every name before uploading any
        for p in paths:
            if not os.path.isfile(p):
                raise NotFound(f"Cannot upload {p!r}: no such file.")
        total = sum(os.path.getsize(p) for p in paths)
        enabled = show_progress or total > PROGRESS_THRESHOLD
        with TransferProgress("Uploading", total, len(paths), enabled=enabled) as bar:
            for key, path in zip(keys, paths, strict=True):
                self._artifacts.put_file(path, key)
                bar.advance(os.path.getsize(path))
        return names

    def upload_folder(self, name: str, path: str | os.PathLike[str]) -> list[str]:
        """Upload a folder's files under the run folder ``name``.

        Symlinks that point outside the folder are refused (InvalidArgument).
        """
        folder = os.fspath(path)
        if not os.path.isdir(folder):
            raise NotFound(f"Cannot upload folder {folder!r}: no such folder.")
        check_local_tree(folder)
        prefix = check_relpath(name, what="run folder name")
        names, paths = [], []
        for dirpath, _dirs, files in os.walk(folder):
            for f in sorted(files):
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, folder).replace(os.sep, "/")
                names.append(f"{prefix}/{rel}")
                paths.append(full)
        return self.upload_files(names, paths)

    def get_file_names(self) -> list[str]:
        """Names of the run's files (outputs/..., logs/..., runyard-logs/...), sorted."""
        prefix = run_files_prefix(self.id) + "/"
        return [k[len(prefix) :] for k in self._artifacts.list(prefix.rstrip("/"))]

    def download_file(
        self, name: str, output_file_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Download one run file; by default to its base name in the current folder.

        ``output_file_path`` may be a folder, in which case the file keeps its base name.

        Raises:
            NotFound: the run has no such file (the message lists a few that exist).
        """
        key = self._file_key(name)
        target = os.fspath(output_file_path) if output_file_path else os.path.basename(name)
        if os.path.isdir(target):
            target = os.path.join(target, os.path.basename(name))
        try:
            self._artifacts.get_file(key, target)
        except NotFound:
            existing = self.get_file_names()
            hint = ", ".join(existing[:10]) + (" ..." if len(existing) > 10 else "")
            raise NotFound(
                f"Run {self.id} has no file {name!r}. Its files: {hint or 'none'}."
            ) from None
        return target

    def download_files(
        self,
        prefix: str | None = None,
        output_directory: str | os.PathLike[str] | None = None,
        output_paths: list[str] | None = None,
        batch_size: int = 100,
        append_prefix: bool = True,
        *,
        show_progress: bool = True,
    ) -> list[str]:
        """Download the run's files under ``prefix`` (all by default) into a folder.

        Args:
            prefix: a folder or name prefix such as ``outputs/``.
            output_directory: default the current folder.
            append_prefix: keep the files' full names (``outputs/model/x``); otherwise
                names are relative to ``prefix``.
            show_progress: a progress bar when the files are large (> 20 MB).

        Returns:
            The local paths written.
        """
        names = self.get_file_names()
        if prefix:
            check_relpath(prefix.rstrip("/") or ".", what="prefix")
            names = [n for n in names if n.startswith(prefix)]
        out = os.fspath(output_directory) if output_directory else "."
        written = []
        sizes = {n: self._artifacts.size(self._file_key(n)) for n in names}
        total = sum(sizes.values())
        enabled = show_progress and total > PROGRESS_THRESHOLD
        with TransferProgress("Downloading", total, len(names), enabled=enabled) as bar:
            for i, n in enumerate(names):
                rel = n if append_prefix or not prefix else n[len(prefix) :].lstrip("/")
                target = output_paths[i] if output_paths else os.path.join(out, *rel.split("/"))
                self._artifacts.get_file(self._file_key(n), target)
                written.append(target)
                bar.advance(sizes[n])
        return written

    def _upload_bytes(self, name: str, data: bytes) -> None:
        self._artifacts.put_bytes(data, self._file_key(name))

    def _read_file(self, name: str) -> bytes:
        return self._artifacts.read_bytes(self._file_key(name))

    def _upload_figure(self, name: str, plot: Any) -> bytes:
        """A matplotlib figure (or the pyplot module) as PNG bytes."""
        buf = io.BytesIO()
        savefig = getattr(plot, "savefig", None)
        if savefig is None:
            raise InvalidArgument(
                f"plot must be a matplotlib Figure or matplotlib.pyplot, got {type(plot).__name__}."
            )
        savefig(buf, format="png")
        return buf.getvalue()
