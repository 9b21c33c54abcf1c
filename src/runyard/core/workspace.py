"""Workspace: the top-level object that holds experiments, runs, models and datastores."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from typing import TYPE_CHECKING, Any

from runyard.config import WorkspaceConfig, find_config_file
from runyard.entities.validation import check_entity_name
from runyard.errors import AlreadyExists, InvalidArgument, NotFound

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore
    from runyard.core.datastore import Datastore
    from runyard.core.experiment import Experiment
    from runyard.core.model import Model
    from runyard.core.run import Run
    from runyard.tracking.buffer import MetricBuffer
    from runyard.tracking.store import TrackingStore

WORKSPACE_MARKER = "workspace.json"
DEFAULT_DATASTORE = "workspaceblobstore"


def runyard_home() -> str:
    """Where embedded workspaces live by default: ``$RUNYARD_HOME`` or ``~/.runyard``."""
    return os.environ.get("RUNYARD_HOME") or os.path.join(os.path.expanduser("~"), ".runyard")


class Workspace:
    """A workspace: one run history, one model registry, its datastores and compute targets.

    An embedded workspace is one folder (SQLite database + artifact folder); a server
    workspace is a database URL plus an artifact URL. Get one with :meth:`create`,
    :meth:`from_config` or :meth:`get`.
    """

    def __init__(self, config: WorkspaceConfig) -> None:
        self._config = config
        self._store_obj: TrackingStore | None = None
        self._artifacts_obj: ArtifactStore | None = None
        self._buffer_obj: MetricBuffer | None = None
        self._lock = threading.Lock()

    # -- finding and creating ------------------------------------------------------
    @classmethod
    def create(
        cls,
        name: str,
        path: str | os.PathLike[str] | None = None,
        exist_ok: bool = False,
        *,
        tracking_uri: str | None = None,
        artifact_uri: str | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> Workspace:
        """Create a workspace.

        Args:
            name: the workspace's name (letters, digits, ``_``, ``-``, ``.``).
            path: the folder of an embedded workspace; default ``~/.runyard/workspaces/NAME``
                (``$RUNYARD_HOME`` moves it). Ignored when ``tracking_uri`` is given.
            exist_ok: return the existing workspace instead of raising AlreadyExists.
            tracking_uri: a SQLAlchemy URL (PostgreSQL) instead of an embedded database.
            artifact_uri: where files go (any fsspec URL) when ``tracking_uri`` is given.
            storage_options: fsspec options for ``artifact_uri``.

        Raises:
            AlreadyExists: the folder already holds a workspace and ``exist_ok`` is False.
            InvalidArgument: a bad name, or a path that is a file.
        """
        _check_name(name)
        if tracking_uri:
            config = WorkspaceConfig(
                name,
                path=None if artifact_uri else (os.fspath(path) if path else None),
                tracking_uri=tracking_uri,
                artifact_uri=artifact_uri,
                storage_options=dict(storage_options or {}),
            )
            ws = cls(config)
        else:
            folder = os.path.abspath(
                os.fspath(path) if path else os.path.join(runyard_home(), "workspaces", name)
            )
            marker = os.path.join(folder, WORKSPACE_MARKER)
            if os.path.exists(folder) and not os.path.isdir(folder):
                raise InvalidArgument(f"Workspace path {folder!r} is a file, not a folder.")
            if os.path.exists(marker):
                existing = _read_marker(marker)
                if not exist_ok:
                    raise AlreadyExists(
                        f"A workspace {existing!r} already exists in {folder}. Open it with "
                        "Workspace.from_config() or pass exist_ok=True."
                    )
                if existing != name:
                    raise AlreadyExists(
                        f"{folder} holds workspace {existing!r}, not {name!r}; choose another path."
                    )
                return cls(WorkspaceConfig(name, path=folder))
            os.makedirs(folder, exist_ok=True)
            ws = cls(WorkspaceConfig(name, path=folder))
        ws._store.list_experiments()  # creates the schema now, so errors show here
        ws._ensure_default_datastore()
        if not tracking_uri:
            tmp = os.path.join(folder, WORKSPACE_MARKER + ".partial")
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"workspace_name": name}, fh)
            os.replace(tmp, os.path.join(folder, WORKSPACE_MARKER))
        return ws

    @classmethod
    def from_config(
        cls, path: str | os.PathLike[str] | None = None, _file_name: str | None = None
    ) -> Workspace:
        """Open the workspace a ``config.json`` describes.

        Searches ``path`` (a file or folder) or, by default, the current folder and its
        parents, each with ``.runyard/``, ``.azureml/`` and ``aml_config/``.

        Raises:
            NotFound: no config was found (the message lists where it looked).
        """
        if path is not None and _file_name:
            path = os.path.join(os.fspath(path), _file_name)
        file = find_config_file(path)
        config = WorkspaceConfig.load(file)
        if config.path and not config.tracking_uri:
            marker = os.path.join(config.path, WORKSPACE_MARKER)
            if not os.path.exists(marker):
                raise NotFound(
                    f"{file} points at {config.path}, which holds no workspace. Create it "
                    f"with 'runyard workspace create {config.workspace_name} --path "
                    f"{config.path}'."
                )
        return cls(config)

    @classmethod
    def get(cls, name: str, path: str | os.PathLike[str] | None = None) -> Workspace:
        """Open an existing embedded workspace by name (from ``~/.runyard/workspaces``) or
        by folder."""
        _check_name(name)
        folder = os.fspath(path) if path else os.path.join(runyard_home(), "workspaces", name)
        marker = os.path.join(folder, WORKSPACE_MARKER)
        if not os.path.exists(marker):
            raise NotFound(
                f"Workspace {name!r} not found in {folder}. Create it with "
                f"Workspace.create({name!r}) or 'runyard workspace create {name}'."
            )
        existing = _read_marker(marker)
        if existing != name:
            raise NotFound(f"{folder} holds workspace {existing!r}, not {name!r}.")
        return cls(WorkspaceConfig(name, path=os.path.abspath(folder)))

    @classmethod
    def _from_json(cls, text: str) -> Workspace:
        """The workspace of a submitted run (its config travels as JSON in the env)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidArgument(
                f"Workspace config in the environment is not JSON: {exc}"
            ) from exc
        return cls(WorkspaceConfig.from_dict(data, source="RUNYARD_WORKSPACE"))

    def write_config(
        self, path: str | os.PathLike[str] | None = None, file_name: str | None = None
    ) -> str:
        """Write ``config.json`` so :meth:`from_config` finds this workspace.

        Args:
            path: a folder; default ``.runyard`` in the current folder.
            file_name: default ``config.json``.

        Returns:
            The path of the file written.
        """
        folder = os.fspath(path) if path is not None else ".runyard"
        os.makedirs(folder, exist_ok=True)
        file = os.path.join(folder, file_name or "config.json")
        with open(file, "w", encoding="utf-8") as fh:
            json.dump(self._config.to_dict(), fh, indent=2, sort_keys=True)
            fh.write("\n")
        return file

    # -- what it holds -------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._config.workspace_name

    @property
    def config(self) -> WorkspaceConfig:
        return self._config

    @property
    def experiments(self) -> dict[str, Experiment]:
        """Experiments by name."""
        from runyard.core.experiment import Experiment

        return {e.name: Experiment(self, e.name, _record=e) for e in self._store.list_experiments()}

    @property
    def models(self) -> dict[str, Model]:
        """The latest version of each registered model, by name."""
        from runyard.core.model import Model

        return {m.name: m for m in Model.list(self, latest=True)}

    @property
    def datastores(self) -> dict[str, Datastore]:
        """Registered datastores by name."""
        from runyard.core.datastore import Datastore

        return {r.name: Datastore._from_record(self, r) for r in self._store.list_datastores()}

    def get_default_datastore(self) -> Datastore:
        """The workspace's default datastore (``workspaceblobstore`` unless changed)."""
        from runyard.core.datastore import Datastore

        return Datastore._from_record(self, self._store.get_datastore(None))

    def set_default_datastore(self, name: str) -> None:
        """Make the named datastore the default."""
        record = self._store.get_datastore(name)
        record.is_default = True
        self._store.save_datastore(record, overwrite=True)

    def get_runs(self, experiment_name: str | None = None) -> list[Run]:
        """Runs of every experiment (or one), newest first."""
        from runyard.compute.liveness import check_liveness
        from runyard.core.run import Run

        return [
            Run._from_record(self, check_liveness(self, r))
            for r in self._store.list_runs(experiment_name=experiment_name)
        ]

    def get_details(self) -> dict[str, Any]:
        """The workspace's name and where it keeps things."""
        return {
            "name": self.name,
            "path": self._config.path,
            "tracking_uri": _redact(self._config.resolved_tracking_uri),
            "artifact_uri": self._config.resolved_artifact_uri,
        }

    # -- resources (opened on first use, closed by close()) ------------------------
    @property
    def _store(self) -> TrackingStore:
        if self._store_obj is None:
            with self._lock:
                if self._store_obj is None:
                    from runyard.tracking import open_tracking_store

                    self._store_obj = open_tracking_store(self._config.resolved_tracking_uri)
        return self._store_obj

    @property
    def _artifacts(self) -> ArtifactStore:
        if self._artifacts_obj is None:
            with self._lock:
                if self._artifacts_obj is None:
                    from runyard.artifacts.store import FsspecArtifactStore

                    self._artifacts_obj = FsspecArtifactStore(
                        self._config.resolved_artifact_uri, self._config.storage_options
                    )
        return self._artifacts_obj

    @property
    def _metric_buffer(self) -> MetricBuffer:
        if self._buffer_obj is None:
            with self._lock:
                if self._buffer_obj is None:
                    from runyard.tracking.buffer import MetricBuffer

                    self._buffer_obj = MetricBuffer(lambda batch: self._store.log_metrics(batch))
        if self._buffer_obj.closed:  # used again after close(): runs may hold its append
            self._buffer_obj.reopen()
        return self._buffer_obj

    def _ensure_default_datastore(self) -> None:
        from runyard.entities.datastore import DatastoreRecord

        try:
            self._store.get_datastore(None)
        except NotFound:
            folder = os.path.join(
                self._config.resolved_artifact_uri, "datastores", DEFAULT_DATASTORE
            )
            url = folder if "://" in folder else os.path.abspath(folder)
            if "://" not in url:
                os.makedirs(url, exist_ok=True)
            kind = "local" if "://" not in url else url.split("://", 1)[0]
            # AlreadyExists: another process created it first, which is fine.
            with contextlib.suppress(AlreadyExists):
                self._store.save_datastore(
                    DatastoreRecord(DEFAULT_DATASTORE, url, kind=kind, is_default=True)
                )

    def flush(self) -> None:
        """Write every buffered metric now."""
        if self._buffer_obj is not None:
            self._buffer_obj.flush()

    def close(self) -> None:
        """Flush buffered metrics and release database connections and clients."""
        if self._buffer_obj is not None:
            # Kept (closed), not dropped: runs cache its append method.
            self._buffer_obj.close()
        if self._store_obj is not None:
            self._store_obj.close()
            self._store_obj = None
        if self._artifacts_obj is not None:
            self._artifacts_obj.close()
            self._artifacts_obj = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self._config.path or _redact(self._config.resolved_tracking_uri)
        return f"Workspace(name={self.name!r}, location={where!r})"


def _check_name(name: str) -> None:
    check_entity_name("Workspace", name)


def _read_marker(marker: str) -> str:
    with open(marker, encoding="utf-8") as fh:
        return str(json.load(fh).get("workspace_name", "?"))


def _redact(uri: str) -> str:
    """Hide a password in a database URL."""
    if "://" in uri and "@" in uri.split("://", 1)[1]:
        scheme, rest = uri.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else uri
    return uri
