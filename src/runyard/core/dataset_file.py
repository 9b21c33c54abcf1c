"""FileDataset: files of datastores, web servers or this machine, as SDK v1 has them.

An unregistered dataset is a list of paths (:mod:`runyard.core.dataset_paths`); its files
are read and hashed each time it is used (given to a run, downloaded, mounted), so it
always means "what is there now". A registered version is pinned: its files and their
sha256 were recorded when it was registered, it never changes, and using it fails with
``InvalidState`` when a file no longer matches (see :mod:`runyard.node.dataset`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import TYPE_CHECKING, Any

from runyard.entities.dataset import DatasetFile, DatasetRecord, check_files, fingerprint
from runyard.entities.validation import check_entity_name, check_key, check_tag_value
from runyard.errors import InvalidArgument

if TYPE_CHECKING:
    from runyard.core.dataset_input import DatasetConsumptionConfig
    from runyard.core.dataset_paths import Source
    from runyard.core.workspace import Workspace
    from runyard.resources import WorkspaceResources


class FileDataset:
    """Files given to runs as a folder: ``Dataset.File.from_files(path=...)``.

    Make one with :meth:`runyard.core.dataset.Dataset.File.from_files` or get a registered
    one with :meth:`runyard.core.dataset.Dataset.get_by_name`.
    """

    _KIND = "file"

    def __init__(
        self,
        *,
        sources: list[Source] | None = None,
        files: tuple[DatasetFile, ...] | None = None,
        workspace: Workspace | None = None,
        record: DatasetRecord | None = None,
    ) -> None:
        self._sources = list(sources or [])
        self._files = files
        self._workspace = workspace
        self._record = record

    @classmethod
    def _from_record(cls, workspace: Workspace, record: DatasetRecord) -> FileDataset:
        files = check_files(record.definition.get("files"))
        return cls(files=files, workspace=workspace, record=record)

    # -- what it is ---------------------------------------------------------------
    @property
    def name(self) -> str | None:
        """The registered name (None until registered)."""
        return self._record.name if self._record else None

    @property
    def version(self) -> int | None:
        """The registered version (None until registered)."""
        return self._record.version if self._record else None

    @property
    def id(self) -> str | None:
        """``name:version`` of a registered dataset (None until registered)."""
        return f"{self.name}:{self.version}" if self._record else None

    @property
    def description(self) -> str | None:
        return self._record.description if self._record else None

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.tags) if self._record else {}

    @property
    def fingerprint(self) -> str | None:
        """The sha256 of the pinned files' names and hashes (None until pinned: an
        unregistered dataset is pinned when it is used)."""
        return self._record.fingerprint if self._record else None

    @property
    def workspace(self) -> Workspace | None:
        return self._workspace

    def to_path(self) -> list[str]:
        """The files' paths in the dataset's folder, each starting with ``/`` (as SDK v1
        lists them). Lists the sources without reading the files.

        Raises:
            NotFound: a path matches no file.
        """
        if self._files is not None:
            return [f"/{f.relpath}" for f in self._files]
        from runyard.core.dataset_paths import list_files, relpaths

        return [f"/{r}" for r in relpaths([item.key for item in list_files(self._sources)])]

    # -- using it here ---------------------------------------------------------------
    def download(
        self, target_path: str | os.PathLike[str] | None = None, overwrite: bool = False
    ) -> list[str]:
        """Copy the files into ``target_path`` (default: a new temporary folder), each
        checked against its pinned hash.

        Returns:
            The local paths of the files.

        Raises:
            InvalidArgument: a file exists at its place and ``overwrite`` is False.
            InvalidState: a registered version's file changed since it was registered.
            NotFound, BackendError: a file cannot be read.
        """
        from runyard.node.dataset import fetch_files

        folder = os.fspath(target_path) if target_path else tempfile.mkdtemp(prefix="dataset-")
        return fetch_files(
            self._resources(), self._pinned_files(), folder, overwrite=overwrite, what=self._what()
        )

    def mount(self, mount_point: str | os.PathLike[str] | None = None) -> MountContext:
        """A read-only copy of the files, for ``with dataset.mount() as m: m.mount_point``.

        Runyard copies rather than mounts (no FUSE): the copy is checked against the pinned
        hashes and removed by ``stop()`` (or leaving the ``with`` block).
        """
        return MountContext(self, os.fspath(mount_point) if mount_point else None)

    # -- giving it to a run -----------------------------------------------------------
    def as_named_input(self, name: str) -> DatasetConsumptionConfig:
        """The dataset as the run input ``name`` (then ``.as_mount()``/``.as_download()``)."""
        from runyard.core.dataset_input import DatasetConsumptionConfig

        return DatasetConsumptionConfig(name, self)

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """The dataset as a run input: a read-only folder on the node."""
        from runyard.core.dataset_input import DatasetConsumptionConfig, default_name

        return DatasetConsumptionConfig(default_name(self), self).as_mount(path_on_compute)

    def as_download(
        self, path_on_compute: str | None = None, overwrite: bool = False
    ) -> DatasetConsumptionConfig:
        """The dataset as a run input: a writable copy in the run's working folder."""
        from runyard.core.dataset_input import DatasetConsumptionConfig, default_name

        config = DatasetConsumptionConfig(default_name(self), self)
        return config.as_download(path_on_compute, overwrite)

    # -- registering ---------------------------------------------------------------------
    def register(
        self,
        workspace: Workspace,
        name: str,
        description: str | None = None,
        tags: dict[str, Any] | None = None,
        create_new_version: bool = False,
    ) -> FileDataset:
        """Register the files as they are now (each pinned to its sha256) under ``name``.

        Registering the same files again returns the existing version.

        Returns:
            The registered dataset (``name``, ``version`` set).

        Raises:
            AlreadyExists: ``name`` has other files and ``create_new_version`` is False.
            InvalidArgument: a bad name or tags.
            NotFound, BackendError: a file cannot be read.
        """
        check_entity_name("Dataset", name)
        checked_tags = {
            check_key("Tag", k): check_tag_value("Tag", k, v) for k, v in (tags or {}).items()
        }
        files = self._pinned_files()
        record = workspace.resources.store.register_dataset_version(
            name,
            kind=self._KIND,
            definition=self._definition(files),
            fingerprint=fingerprint(files),
            description=description,
            tags=checked_tags,
            create_new_version=create_new_version,
        )
        return type(self)._from_record(workspace, record)

    # -- internals ------------------------------------------------------------------
    def _definition(self, files: tuple[DatasetFile, ...]) -> dict[str, Any]:
        return {"files": [f.to_dict() for f in files]}

    def _pinned_files(self) -> tuple[DatasetFile, ...]:
        """A registered version's files; an unregistered dataset's, read and hashed now."""
        if self._files is not None:
            return self._files
        from runyard.core.dataset_paths import list_files, pin

        return check_files(pin(list_files(self._sources)))

    def _definition_key(self) -> str:
        """A stable hash of what the dataset is (its fingerprint, or its paths)."""
        if self._record is not None:
            return self._record.fingerprint
        if self._files is not None:
            return fingerprint(self._files)
        text = json.dumps(
            [[s.kind, s.pattern, s.datastore.name if s.datastore else None] for s in self._sources]
        )
        return hashlib.sha256(text.encode()).hexdigest()

    def _resources(self) -> WorkspaceResources | None:
        if self._workspace is not None:
            return self._workspace.resources
        for source in self._sources:
            if source.datastore is not None:
                return source.datastore.workspace.resources
        return None

    def _what(self) -> str:
        return f"Dataset {self.name!r} version {self.version}" if self._record else "Dataset"

    def __repr__(self) -> str:
        if self._record is not None:
            return f"{type(self).__name__}(name={self.name!r}, version={self.version})"
        patterns = [s.pattern for s in self._sources]
        return f"{type(self).__name__}(path={patterns!r})"


class MountContext:
    """A dataset's files in a read-only folder for as long as the context is started
    (SDK v1's ``MountContext``: ``start()``, ``stop()``, ``mount_point``)."""

    def __init__(self, dataset: FileDataset, mount_point: str | None) -> None:
        self._dataset = dataset
        self._requested = mount_point
        self._folder: str | None = None

    @property
    def mount_point(self) -> str:
        """The folder holding the files (known once started).

        Raises:
            InvalidArgument: the context is not started.
        """
        if self._folder is None:
            raise InvalidArgument("The dataset is not mounted: call start() or use 'with'.")
        return self._folder

    def start(self) -> None:
        """Copy the files in and make them read-only.

        Raises:
            InvalidArgument: ``mount_point`` exists and is not an empty folder.
        """
        from runyard.node.data_cache import _make_read_only
        from runyard.node.dataset import fetch_files

        folder = self._requested or tempfile.mkdtemp(prefix="dataset-mount-")
        if os.path.exists(folder) and os.listdir(folder):
            raise InvalidArgument(f"mount_point {folder} is not empty; give an empty folder.")
        fetch_files(
            self._dataset._resources(),
            self._dataset._pinned_files(),
            folder,
            what=self._dataset._what(),
        )
        _make_read_only(folder)
        self._folder = folder

    def stop(self) -> None:
        """Remove the copy (nothing happens when it is not started)."""
        from runyard.node.data_cache import _force_rmtree

        if self._folder is not None and os.path.isdir(self._folder):
            if self._requested:  # the caller's folder stays, emptied
                _force_rmtree(self._folder)
                os.makedirs(self._folder)
            else:
                _force_rmtree(self._folder)
        self._folder = None

    def __enter__(self) -> MountContext:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
