"""Workspace: the top-level object that holds experiments, runs, models and datastores."""

from __future__ import annotations

import contextlib
import json
import os
from typing import TYPE_CHECKING, Any

from runyard.config import WorkspaceConfig, find_config_file
from runyard.entities.validation import check_entity_name
from runyard.errors import AlreadyExists, InvalidArgument, NotFound
from runyard.resources import WorkspaceResources
from runyard.settings import Settings

if TYPE_CHECKING:
    from runyard.core.datastore import Datastore
    from runyard.core.experiment import Experiment
    from runyard.core.model import Model
    from runyard.core.run import Run
    from runyard.core.webservice import Webservice

WORKSPACE_MARKER = "workspace.json"
#: Held while a workspace is created in its folder (see ``Workspace._create_embedded``).
WORKSPACE_LOCK = ".workspace.lock"
DEFAULT_DATASTORE = "workspaceblobstore"


def runyard_home(settings: Settings | None = None) -> str:
    """Where embedded workspaces live by default: ``$RUNYARD_HOME`` or ``~/.runyard``."""
    return (settings or Settings.from_env()).home_dir


class Workspace:
    """A workspace: one run history, one model registry, its datastores and compute targets.

    An embedded workspace is one folder (SQLite database + artifact folder); a server
    workspace is a database URL plus an artifact URL. Get one with :meth:`create`,
    :meth:`from_config` or :meth:`get`.
    """

    def __init__(self, config: WorkspaceConfig, *, _settings: Settings | None = None) -> None:
        self._resources = WorkspaceResources(config, _settings)

    @classmethod
    def _wrap(cls, resources: WorkspaceResources) -> Workspace:
        """The SDK front over resources someone else opened (the executor's, a backend's)."""
        ws = cls.__new__(cls)
        ws._resources = resources
        return ws

    @property
    def resources(self) -> WorkspaceResources:
        """The workspace's stores, below the SDK: its TrackingStore, ArtifactStore, metric
        buffer and settings (for code that talks to the ports directly)."""
        return self._resources

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
        if not tracking_uri:
            folder = os.path.abspath(
                os.fspath(path) if path else os.path.join(runyard_home(), "workspaces", name)
            )
            return cls._create_embedded(name, folder, exist_ok)
        config = WorkspaceConfig(
            name,
            path=None if artifact_uri else (os.fspath(path) if path else None),
            tracking_uri=tracking_uri,
            artifact_uri=artifact_uri,
            storage_options=dict(storage_options or {}),
        )
        ws = cls(config)
        ws.resources.store.list_experiments()  # creates the schema now, so errors show here
        ws._ensure_default_datastore()
        return ws

    @classmethod
    def _create_embedded(cls, name: str, folder: str, exist_ok: bool) -> Workspace:
        """Create (or, with ``exist_ok``, open) the embedded workspace ``name`` in ``folder``.

        Checking for the marker and writing it are one step under a lock on the folder:
        two processes creating different workspaces in one empty folder would otherwise
        both find it free and share one database.
        """
        from filelock import FileLock

        if os.path.exists(folder) and not os.path.isdir(folder):
            raise InvalidArgument(f"Workspace path {folder!r} is a file, not a folder.")
        os.makedirs(folder, exist_ok=True)
        marker = os.path.join(folder, WORKSPACE_MARKER)
        with FileLock(os.path.join(folder, WORKSPACE_LOCK)):
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
            ws = cls(WorkspaceConfig(name, path=folder))
            try:
                ws.resources.store.list_experiments()  # creates the schema: errors show here
                ws._ensure_default_datastore()
            except BaseException:
                ws.close()
                raise
            # The marker last: a workspace is there once everything it needs is.
            tmp = os.path.join(folder, WORKSPACE_MARKER + ".partial")
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"workspace_name": name}, fh)
            os.replace(tmp, marker)
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
    def _from_json(cls, text: str, *, metric_spool: str | None = None) -> Workspace:
        """The workspace of a submitted run (its config travels as JSON in the env);
        ``metric_spool``: where its script keeps values the store would not take."""
        return cls._wrap(WorkspaceResources.from_json(text, metric_spool=metric_spool))

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
            json.dump(self._resources.config.to_dict(), fh, indent=2, sort_keys=True)
            fh.write("\n")
        return file

    # -- what it holds -------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._resources.config.workspace_name

    @property
    def config(self) -> WorkspaceConfig:
        return self._resources.config

    @property
    def experiments(self) -> dict[str, Experiment]:
        """Experiments by name."""
        from runyard.core.experiment import Experiment

        return {
            e.name: Experiment(self, e.name, _record=e)
            for e in self.resources.store.list_experiments()
        }

    @property
    def models(self) -> dict[str, Model]:
        """The latest version of each registered model, by name."""
        from runyard.core.model import Model

        return {m.name: m for m in Model.list(self, latest=True)}

    @property
    def webservices(self) -> dict[str, Webservice]:
        """The deployed web services, by name."""
        from runyard.core.webservice import Webservice

        return {s.name: s for s in Webservice.list(self)}

    @property
    def datastores(self) -> dict[str, Datastore]:
        """Registered datastores by name."""
        from runyard.core.datastore import Datastore

        return {
            r.name: Datastore._from_record(self, r) for r in self.resources.store.list_datastores()
        }

    def get_default_datastore(self) -> Datastore:
        """The workspace's default datastore (``workspaceblobstore`` unless changed)."""
        from runyard.core.datastore import Datastore

        return Datastore._from_record(self, self.resources.store.get_datastore(None))

    def set_default_datastore(self, name: str) -> None:
        """Make the named datastore the default."""
        record = self.resources.store.get_datastore(name)
        record.is_default = True
        self.resources.store.save_datastore(record, overwrite=True)

    def get_runs(self, experiment_name: str | None = None) -> list[Run]:
        """Runs of every experiment (or one), newest first."""
        from runyard.core.run import Run

        return [
            Run._from_record(self, r)
            for r in self.resources.store.list_runs(experiment_name=experiment_name)
        ]

    def get_details(self) -> dict[str, Any]:
        """The workspace's name and where it keeps things."""
        return {
            "name": self.name,
            "path": self._resources.config.path,
            "tracking_uri": _redact(self._resources.config.resolved_tracking_uri),
            "artifact_uri": self._resources.config.resolved_artifact_uri,
        }

    def _ensure_default_datastore(self) -> None:
        from runyard.entities.datastore import DatastoreRecord

        try:
            self.resources.store.get_datastore(None)
        except NotFound:
            folder = os.path.join(
                self._resources.config.resolved_artifact_uri, "datastores", DEFAULT_DATASTORE
            )
            url = folder if "://" in folder else os.path.abspath(folder)
            if "://" not in url:
                os.makedirs(url, exist_ok=True)
            kind = "local" if "://" not in url else url.split("://", 1)[0]
            # AlreadyExists: another process created it first, which is fine.
            with contextlib.suppress(AlreadyExists):
                self.resources.store.save_datastore(
                    DatastoreRecord(DEFAULT_DATASTORE, url, kind=kind, is_default=True)
                )

    def flush(self) -> None:
        """Write every buffered metric now."""
        self._resources.flush()

    def close(self) -> None:
        """Flush buffered metrics and release database connections and clients."""
        self._resources.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self._resources.config.path or _redact(self._resources.config.resolved_tracking_uri)
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
