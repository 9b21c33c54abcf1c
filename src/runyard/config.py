"""Workspace configuration: declared once here, read at the edges.

A ``config.json`` names the workspace and where it keeps things. Either an embedded folder::

    {"workspace_name": "demo", "path": "/home/me/.runyard/demo"}

or a team server (``runyard server start``), reached over HTTP with a token::

    {"workspace_name": "team", "server": "https://runyard.example.com"}

or a database and an artifact location::

    {"workspace_name": "team", "tracking_uri": "postgresql+psycopg://host/db",
     "artifact_uri": "s3://bucket/runyard", "storage_options": {...}}

SDK v1 keys (``subscription_id``, ``resource_group``, ``location``) are accepted and kept as
labels (``ws.subscription_id``...; nothing is looked up in Azure), so an existing
``config.json`` only needs ``path`` or ``tracking_uri`` added.

What a config may name, and which config files found by searching are trusted, is
decided in :mod:`runyard.config_trust`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runyard.config_trust import (
    check_artifact_uri,
    check_found_config_trusted,
    check_server_url,
    check_tracking_uri,
)
from runyard.errors import InvalidArgument, NotFound

CONFIG_FILE_NAMES = ("config.json",)
CONFIG_SUBFOLDERS = ("", ".runyard", ".azureml", "aml_config")
DB_FILE = "runyard.db"
ARTIFACTS_FOLDER = "artifacts"
#: The marker file of an embedded workspace folder, written by ``Workspace.create`` once
#: its database holds a schema (the same name as ``runyard.core.workspace.WORKSPACE_MARKER``).
WORKSPACE_MARKER = "workspace.json"
#: SDK v1's Azure coordinates of a workspace, kept as labels in configs and markers.
CLOUD_KEYS = ("subscription_id", "resource_group", "location")


@dataclass
class WorkspaceConfig:
    """Where one workspace keeps its run history and its files."""

    workspace_name: str
    path: str | None = None
    tracking_uri: str | None = None
    artifact_uri: str | None = None
    storage_options: dict[str, Any] = field(default_factory=dict)
    server: str | None = None
    # SDK v1's Azure coordinates: labels only, shown by ws.subscription_id and the like.
    subscription_id: str | None = None
    resource_group: str | None = None
    location: str | None = None

    def __post_init__(self) -> None:
        for key in (
            "workspace_name",
            "path",
            "tracking_uri",
            "artifact_uri",
            "server",
            *CLOUD_KEYS,
        ):
            value = getattr(self, key)
            if not (value is None or isinstance(value, str)) or (
                key == "workspace_name" and not value
            ):
                raise InvalidArgument(
                    f"'{key}' must be a non-empty string, got {type(value).__name__} {value!r}."
                )
        if not isinstance(self.storage_options, dict) or not all(
            isinstance(k, str) for k in self.storage_options
        ):
            raise InvalidArgument(
                "'storage_options' must be a JSON object of fsspec options, got "
                f"{type(self.storage_options).__name__} {self.storage_options!r}."
            )
        if self.tracking_uri:
            check_tracking_uri(self.tracking_uri)
        if self.artifact_uri:
            check_artifact_uri(self.artifact_uri)
        if self.server:
            check_server_url(self.server)
            if self.path or self.tracking_uri or self.artifact_uri:
                raise InvalidArgument(
                    f"Workspace {self.workspace_name!r} names a 'server' and also 'path', "
                    "'tracking_uri' or 'artifact_uri': a server workspace keeps everything "
                    "on its server; keep only 'server'."
                )
            return
        if not self.path and not self.tracking_uri:
            raise InvalidArgument(
                f"Workspace {self.workspace_name!r} config names neither 'path' (an embedded "
                "workspace folder) nor 'tracking_uri' (a database URL)."
            )
        if self.tracking_uri and not self.artifact_uri and not self.path:
            raise InvalidArgument(
                f"Workspace {self.workspace_name!r} has a 'tracking_uri' but no "
                "'artifact_uri': say where its files go (a folder or fsspec URL)."
            )

    @property
    def resolved_tracking_uri(self) -> str:
        if self.server:
            return self.server.rstrip("/")
        if self.tracking_uri:
            return self.tracking_uri
        assert self.path is not None
        return f"sqlite:///{os.path.join(os.path.abspath(self.path), DB_FILE)}"

    @property
    def resolved_artifact_uri(self) -> str:
        if self.server:
            return self.server.rstrip("/")
        if self.artifact_uri:
            return self.artifact_uri
        assert self.path is not None
        return os.path.join(os.path.abspath(self.path), ARTIFACTS_FOLDER)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {})}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "config") -> WorkspaceConfig:
        """The config a JSON object describes.

        Args:
            data: The object (``workspace_name`` or ``name``, ``path``, ``tracking_uri``,
                ``artifact_uri``, ``storage_options``, and SDK v1's ``subscription_id``,
                ``resource_group``, ``location``; other keys are ignored).
            source: Where it came from (a file name), for messages; a relative ``path`` in
                a ``.json`` file is relative to that file.

        Raises:
            InvalidArgument: a value has the wrong type or is not allowed; the message names
                the key and ``source``.
        """
        if not isinstance(data, dict):
            raise InvalidArgument(f"{source} must hold a JSON object.")
        name = data.get("workspace_name") or data.get("name")
        if not name:
            raise InvalidArgument(f"{source} has no 'workspace_name'.")
        path = data.get("path")
        try:
            if isinstance(path, str) and not os.path.isabs(path) and source.endswith(".json"):
                # A relative path in a config file is relative to the file, not to the cwd.
                path = os.path.join(os.path.dirname(os.path.abspath(source)), path)
            return cls(
                workspace_name=name,
                path=path,
                tracking_uri=data.get("tracking_uri"),
                artifact_uri=data.get("artifact_uri"),
                storage_options=data.get("storage_options") or {},
                server=data.get("server"),
                **{key: data.get(key) or None for key in CLOUD_KEYS},
            )
        except InvalidArgument as exc:
            raise InvalidArgument(f"{source}: {exc}") from exc

    @classmethod
    def load(cls, file: str | os.PathLike[str]) -> WorkspaceConfig:
        file = os.fspath(file)
        try:
            with open(file, encoding="utf-8") as fh:
                data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise InvalidArgument(f"{file} is not valid JSON: {exc}") from exc
        return cls.from_dict(data, source=file)


def find_config_file(path: str | os.PathLike[str] | None = None) -> str:
    """Find a config file: ``path`` itself (a file or folder) or, without it, the current
    folder and its parents, each with its ``.runyard/``, ``.azureml/`` and ``aml_config/``.

    A config found in a parent folder is checked by
    :func:`runyard.config_trust.check_found_config_trusted`.

    Raises:
        NotFound: nothing found; the message says what was searched and how to create a
            workspace.
        InvalidArgument: the config found in a parent folder could have been written by
            another user.
    """
    searched: list[str] = []
    if path is not None:
        path = os.fspath(path)
        if os.path.isfile(path):
            return path
        starts = [Path(path).resolve()]
        if not os.path.isdir(path):
            raise NotFound(
                f"Workspace config {path!r} does not exist. Create a workspace with "
                "'runyard workspace create NAME' or Workspace.create(NAME).write_config()."
            )
    else:
        cwd = Path.cwd().resolve()
        starts = [cwd, *cwd.parents]
    for folder in starts:
        for sub in CONFIG_SUBFOLDERS:
            for file_name in CONFIG_FILE_NAMES:
                candidate = folder / sub / file_name
                searched.append(str(candidate))
                if candidate.is_file():
                    if path is None and folder != starts[0]:
                        check_found_config_trusted(str(candidate))
                    return str(candidate)
    shown = "\n  ".join(searched[:12]) + ("\n  ..." if len(searched) > 12 else "")
    raise NotFound(
        "No workspace config.json found. Searched:\n  "
        f"{shown}\n"
        "Create one with 'runyard workspace create NAME' (writes .runyard/config.json here), "
        "or in Python: Workspace.create('NAME').write_config()."
    )


def load_workspace_config(path: str | os.PathLike[str] | None = None) -> WorkspaceConfig:
    """The config of the workspace ``path`` names: an embedded workspace's folder (the
    one holding ``workspace.json``), a ``config.json``, or a folder to search for one
    (:func:`find_config_file`; without ``path``, from the current folder up).

    Raises:
        NotFound: nothing there; InvalidArgument: a config that is not valid.
    """
    if path is not None:
        marker = os.path.join(os.fspath(path), WORKSPACE_MARKER)
        if os.path.isfile(marker):
            try:
                with open(marker, encoding="utf-8") as fh:
                    data = json.load(fh)
            except (OSError, json.JSONDecodeError) as exc:
                raise InvalidArgument(f"{marker} is not a workspace marker: {exc}") from exc
            if not isinstance(data, dict):
                raise InvalidArgument(f"{marker} is not a workspace marker.")
            return WorkspaceConfig.from_dict(
                {**data, "path": os.path.abspath(os.fspath(path))}, source=marker
            )
    return WorkspaceConfig.load(find_config_file(path))
