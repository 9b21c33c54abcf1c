"""Workspace: the top-level object that holds experiments, runs, models and datastores."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from runyard.config import CLOUD_KEYS, WorkspaceConfig, find_config_file
from runyard.entities.validation import check_entity_name
from runyard.errors import AlreadyExists, InvalidArgument, NotFound, RunyardError
from runyard.resources import WorkspaceResources
from runyard.settings import Settings

if TYPE_CHECKING:
    from runyard.core.compute_target import ComputeTarget
    from runyard.core.dataset_file import FileDataset
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

    _resources: WorkspaceResources

    def __init__(
        self,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        workspace_name: str | None = None,
        auth: object = None,
        _location: str | None = None,
        _disable_service_check: bool = False,
        _workspace_id: str | None = None,
        sku: str = "basic",
        tags: dict[str, str] | None = None,
        _cloud: str = "AzureCloud",
    ) -> None:
        """Open an existing workspace, as SDK v1's ``Workspace(subscription_id,
        resource_group, workspace_name)`` does: the same as :meth:`get`.

        ``auth``, ``sku``, ``tags`` and the underscored arguments describe Azure and are
        accepted so v1 code runs; they change nothing here.

        Raises:
            InvalidArgument: no ``workspace_name``.
            NotFound: no such workspace, or it was created with other Azure coordinates.
        """
        del _disable_service_check, _workspace_id, sku, tags, _cloud  # Azure-only
        if workspace_name is None:
            raise InvalidArgument(
                "Workspace(subscription_id, resource_group, workspace_name) needs "
                "workspace_name. Create a workspace with Workspace.create(name) or open one "
                "with Workspace.from_config()."
            )
        found = Workspace.get(
            workspace_name,
            auth,
            subscription_id=subscription_id,
            resource_group=resource_group,
            location=_location,
        )
        self._resources = found._resources

    @classmethod
    def _open(cls, config: WorkspaceConfig) -> Workspace:
        """The SDK front over the workspace ``config`` describes (opened on first use),
        with its web services on this machine running (restarted if the machine was)."""
        from runyard.core.webservice.revive import revive_services

        ws = cls._wrap(WorkspaceResources(config))
        try:
            revive_services(ws)
        except RunyardError as exc:  # the workspace opens all the same
            print(f"Note: could not check the web services to restart: {exc}", file=sys.stderr)
        return ws

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
        auth: object = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        **azure_options: Any,
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
            auth: SDK v1's Azure credentials; accepted and not used.
            subscription_id, resource_group, location: SDK v1's Azure coordinates, recorded
                as labels (``ws.subscription_id``..., ``get_details()``, ``config.json``).
            azure_options: SDK v1's other ``create`` arguments (``sku``, ``tags``,
                ``create_resource_group``, ``show_output``...; see ``AZURE_CREATE_OPTIONS``),
                accepted so v1 code runs; they describe Azure resources and change nothing.

        Raises:
            AlreadyExists: the folder already holds a workspace and ``exist_ok`` is False.
            InvalidArgument: a bad name, a path that is a file, or an argument SDK v1's
                ``Workspace.create`` does not have either.
        """
        del auth  # no Azure login: an embedded workspace is a folder, a server one a URL
        _check_name(name)
        _check_azure_options(azure_options)
        cloud = _cloud_labels(subscription_id, resource_group, location)
        if not tracking_uri:
            folder = os.path.abspath(
                os.fspath(path) if path else os.path.join(runyard_home(), "workspaces", name)
            )
            return cls._create_embedded(name, folder, exist_ok, cloud)
        config = WorkspaceConfig(
            name,
            path=None if artifact_uri else (os.fspath(path) if path else None),
            tracking_uri=tracking_uri,
            artifact_uri=artifact_uri,
            storage_options=dict(storage_options or {}),
            **cloud,
        )
        ws = cls._open(config)
        ws.resources.store.list_experiments()  # creates the schema now, so errors show here
        ws._ensure_default_datastore()
        return ws

    @classmethod
    def _create_embedded(
        cls, name: str, folder: str, exist_ok: bool, cloud: dict[str, Any]
    ) -> Workspace:
        """Create (or, with ``exist_ok``, open) the embedded workspace ``name`` in ``folder``;
        ``cloud``: the SDK v1 labels its marker records.

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
                return cls._open(_marker_config(name, folder))
            ws = cls._open(WorkspaceConfig(name, path=folder, **cloud))
            try:
                ws.resources.store.list_experiments()  # creates the schema: errors show here
                ws._ensure_default_datastore()
            except BaseException:
                ws.close()
                raise
            # The marker last: a workspace is there once everything it needs is.
            tmp = os.path.join(folder, WORKSPACE_MARKER + ".partial")
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"workspace_name": name, **cloud}, fh)
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
            labels = _cloud_labels(*(getattr(config, k) for k in CLOUD_KEYS))
            # A v1 config.json names its own coordinates; the marker fills in the others.
            config = replace(config, **{**_read_marker_labels(marker), **labels})
        return cls._open(config)

    @classmethod
    def get(
        cls,
        name: str,
        auth: object = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        cloud: str = "AzureCloud",
        id: str | None = None,  # SDK v1's name
        *,
        path: str | os.PathLike[str] | None = None,
    ) -> Workspace:
        """Open an existing embedded workspace by name (from ``~/.runyard/workspaces``) or
        by folder (``path=``).

        Args:
            name: the workspace's name.
            auth, cloud, id: SDK v1's Azure arguments; accepted and not used.
            subscription_id, resource_group, location: when given, they must match what
                the workspace was created with (if it recorded them), as in SDK v1 where
                they pick the workspace.
            path: the workspace's folder.

        Raises:
            NotFound: no such workspace, or one recorded with other coordinates.
            InvalidArgument: a folder passed as the second argument (that is ``auth`` in
                SDK v1; pass ``path=``).
        """
        del cloud, id  # Azure-only
        if isinstance(auth, (str, os.PathLike)):
            raise InvalidArgument(
                f"Workspace.get's second argument is auth (as in SDK v1), got {auth!r}; pass "
                f"a folder as Workspace.get({name!r}, path=...)."
            )
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
        config = _marker_config(name, os.path.abspath(folder))
        given = _cloud_labels(subscription_id, resource_group, location)
        for key, value in given.items():
            recorded = getattr(config, key)
            if recorded is not None and recorded != value:
                raise NotFound(
                    f"Workspace {name!r} in {folder} was created with {key} {recorded!r}, "
                    f"not {value!r}. Pass {key}={recorded!r} or leave it out."
                )
        return cls._open(replace(config, **{**given, **_read_marker_labels(marker)}))

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
    def subscription_id(self) -> str:
        """SDK v1's Azure subscription: the label given at create or in ``config.json``,
        else ``""`` (Runyard runs on no subscription)."""
        return self._resources.config.subscription_id or ""

    @property
    def resource_group(self) -> str:
        """SDK v1's Azure resource group: the label given at create or in ``config.json``,
        else ``""``."""
        return self._resources.config.resource_group or ""

    @property
    def location(self) -> str:
        """SDK v1's Azure region: the label given at create or in ``config.json``, else
        ``""``."""
        return self._resources.config.location or ""

    @property
    def compute_targets(self) -> dict[str, ComputeTarget]:
        """Compute targets by name, the built-in ``'local'`` included."""
        from runyard.core.compute_target import ComputeTarget

        return {t.name: t for t in ComputeTarget.list(self)}

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
    def datasets(self) -> dict[str, FileDataset]:
        """The latest version of each registered dataset, by name."""
        from runyard.core.dataset import Dataset

        return dict(Dataset.get_all(self))

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
        """The workspace's name, where it keeps things, and the SDK v1 coordinates it
        recorded (``subscription_id``, ``resource_group``, ``location``; ``""`` if none)."""
        return {
            "name": self.name,
            "subscription_id": self.subscription_id,
            "resource_group": self.resource_group,
            "location": self.location,
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


def _read_marker_labels(marker: str) -> dict[str, Any]:
    """The SDK v1 coordinates a workspace folder's marker recorded at create."""
    try:
        with open(marker, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {}
    return _cloud_labels(*(data.get(key) for key in CLOUD_KEYS))


def _marker_config(name: str, folder: str) -> WorkspaceConfig:
    labels = _read_marker_labels(os.path.join(folder, WORKSPACE_MARKER))
    return WorkspaceConfig(name, path=folder, **labels)


def _cloud_labels(*values: object) -> dict[str, Any]:
    """The given SDK v1 coordinates (subscription id, resource group, location), by key.

    Raises:
        InvalidArgument: one is not a string.
    """
    labels = {}
    for key, value in zip(CLOUD_KEYS, values, strict=True):
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise InvalidArgument(f"{key} must be a string, got {type(value).__name__}.")
        labels[key] = value
    return labels


#: SDK v1 ``Workspace.create`` arguments that describe Azure resources. Runyard accepts
#: them so v1 code runs unchanged; there is nothing in Azure for them to configure.
AZURE_CREATE_OPTIONS = frozenset(
    {
        "create_resource_group",
        "sku",
        "tags",
        "friendly_name",
        "storage_account",
        "key_vault",
        "app_insights",
        "container_registry",
        "adb_workspace",
        "primary_user_assigned_identity",
        "cmk_keyvault",
        "resource_cmk_uri",
        "hbi_workspace",
        "default_cpu_compute_target",
        "default_gpu_compute_target",
        "private_endpoint_config",
        "private_endpoint_auto_approval",
        "show_output",
        "user_assigned_identity_for_cmk_encryption",
        "system_datastores_auth_mode",
        "v1_legacy_mode",
    }
)


def _check_azure_options(options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - AZURE_CREATE_OPTIONS)
    if unknown:
        raise InvalidArgument(
            f"Workspace.create() got unexpected argument(s) {', '.join(unknown)}: neither "
            "Runyard nor SDK v1 has them. Runyard's are name, path, exist_ok, tracking_uri, "
            "artifact_uri, storage_options, subscription_id, resource_group, location."
        )


def _redact(uri: str) -> str:
    """Hide a password in a database URL."""
    if "://" in uri and "@" in uri.split("://", 1)[1]:
        scheme, rest = uri.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else uri
    return uri
