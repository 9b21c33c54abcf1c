"""``RayServeBackend``: web services as Ray Serve applications on a workspace's Ray cluster.

Each service is one Serve application, named as the service, routed under ``/<name>``, on
the cluster's Serve proxy (``127.0.0.1``, a port chosen when Serve is first started on the
cluster and kept). The backend talks to the cluster's dashboard over HTTP (Ray Serve's
REST API: ``GET``/``PUT /api/serve/applications/``), so the deploying process never
imports Ray; Serve's config is declarative, so a deploy or a delete sends every
application of the cluster, with that one added, replaced or left out.

The service's files (``score.py``, models, keys) are in a folder on this machine that the
replicas read: the cluster's nodes must be this machine (a local head).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from runyard.entities.service import (
    FAILED,
    HEALTHY,
    TRANSITIONING,
    UNHEALTHY,
    ServiceDefinition,
)
from runyard.errors import BackendError, InvalidState
from runyard.serving import layout
from runyard.serving.backend import ServiceStatus, ServingBackend
from runyard.serving.keys import write_keys_file
from runyard.serving.local.backend import ship
from runyard.serving.ray.scaling import ReplicaSettings

if TYPE_CHECKING:
    from runyard.resources import WorkspaceResources

API = "/api/serve/applications/"
IMPORT_PATH = "runyard.serving.ray.replica:build"
_STATES = {
    "RUNNING": HEALTHY,
    "DEPLOYING": TRANSITIONING,
    "NOT_STARTED": TRANSITIONING,
    "DEPLOY_FAILED": FAILED,
    "UNHEALTHY": UNHEALTHY,
    "DELETING": UNHEALTHY,
}


class RayServeBackend(ServingBackend):
    """Serves a workspace's AKS-type services on a Ray cluster.

    Args:
        resources: the workspace (models' files, where service folders go).
        dashboard: the cluster's dashboard URL (``http://127.0.0.1:8265``).
        token: the cluster's token (None: it has none).
    """

    def __init__(self, resources: WorkspaceResources, dashboard: str, token: str | None) -> None:
        self._resources = resources
        self._dashboard = dashboard.rstrip("/")
        self._token = token
        self._root = os.path.join(
            resources.settings.scratch_dir, ".services", resources.name, ".ray"
        )

    def folder(self, name: str) -> str:
        return os.path.join(self._root, name)

    # -- the REST API -------------------------------------------------------------------
    def _call(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self._dashboard + API,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
        )
        request.add_header("Content-Type", "application/json")
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode() or "{}"
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise BackendError(
                f"Ray Serve at {self._dashboard} refused {method} ({exc.code}): {detail}"
            ) from exc
        except OSError as exc:
            raise BackendError(
                f"Cannot reach the Ray cluster's dashboard at {self._dashboard}: {exc}. Is the "
                "compute target's head running?"
            ) from exc
        data = json.loads(text)
        return data if isinstance(data, dict) else {}

    def _instance(self) -> dict[str, Any]:
        return self._call("GET")

    def _apply(self, apps: list[dict[str, Any]], port: int) -> None:
        self._call(
            "PUT",
            {
                "proxy_location": "HeadOnly",
                "http_options": {"host": "127.0.0.1", "port": port},
                "applications": apps,
            },
        )

    @staticmethod
    def _configs(instance: dict[str, Any], leave_out: str) -> list[dict[str, Any]]:
        """The configs of the applications deployed now, but ``leave_out``."""
        apps = instance.get("applications") or {}
        return [
            app["deployed_app_config"]
            for name, app in apps.items()
            if name != leave_out and isinstance(app, dict) and app.get("deployed_app_config")
        ]

    @staticmethod
    def _port(instance: dict[str, Any]) -> int:
        """Serve's HTTP port: the one it has, or a free one for a first start."""
        options = instance.get("http_options") or {}
        if instance.get("applications") and isinstance(options.get("port"), int):
            return int(options["port"])
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])

    # -- the port -----------------------------------------------------------------------
    def deploy(
        self, definition: ServiceDefinition, *, auth_enabled: bool, keys: tuple[str, str]
    ) -> ServiceStatus:
        """One replica (:meth:`deploy_replicas` says how many)."""
        return self.deploy_replicas(
            definition, ReplicaSettings(num_replicas=1), auth_enabled=auth_enabled, keys=keys
        )

    def deploy_replicas(
        self,
        definition: ServiceDefinition,
        replicas: ReplicaSettings,
        *,
        auth_enabled: bool,
        keys: tuple[str, str],
    ) -> ServiceStatus:
        """Ship the service's files and deploy it as a Serve application with
        ``replicas``; returns at once (Transitioning)."""
        folder = self.folder(definition.name)
        instance = self._instance()
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, mode=0o700)
        ship(self._resources, definition, folder)
        write_keys_file(layout.keys_file(folder), auth_enabled, keys)
        layout.write_json(layout.definition_file(folder), definition.to_dict())
        with open(layout.log_file(folder), "a", encoding="utf-8") as log:
            log.write(f"Service {definition.name}: deploying on Ray Serve ({replicas}).\n")
        port = self._port(instance)
        app = {
            "name": definition.name,
            "route_prefix": f"/{definition.name}",
            "import_path": IMPORT_PATH,
            "args": {"folder": folder},
            "deployments": [{"name": "scoring", **replicas.serve_options()}],
        }
        self._apply([*self._configs(instance, definition.name), app], port)
        return ServiceStatus(TRANSITIONING, self._uri(port, definition.name), "deploying")

    @staticmethod
    def _uri(port: int, name: str) -> str:
        return f"http://127.0.0.1:{port}/{name}/score"

    def status(self, name: str) -> ServiceStatus:
        try:
            instance = self._instance()
        except BackendError as exc:
            return ServiceStatus(UNHEALTHY, None, exc.message)
        app = (instance.get("applications") or {}).get(name)
        if not isinstance(app, dict):
            return ServiceStatus(UNHEALTHY, None, "not deployed on the Ray cluster")
        port = (instance.get("http_options") or {}).get("port")
        uri = self._uri(port, name) if isinstance(port, int) else None
        state = _STATES.get(str(app.get("status")), UNHEALTHY)
        return ServiceStatus(state, uri, str(app.get("message") or ""))

    def replicas(self, name: str) -> int:
        """How many replicas of the service are running now."""
        app = (self._instance().get("applications") or {}).get(name) or {}
        found = (app.get("deployments") or {}).get("scoring") or {}
        return sum(1 for r in found.get("replicas") or () if r.get("state") == "RUNNING")

    def failure(self, name: str) -> dict[str, object] | None:
        status = self.status(name)
        return {"message": status.detail} if status.state == FAILED else None

    def set_keys(self, name: str, *, auth_enabled: bool, keys: tuple[str, str]) -> None:
        folder = self.folder(name)
        if not os.path.isdir(folder):
            raise InvalidState(f"Web service {name!r} has no files on this machine.")
        write_keys_file(layout.keys_file(folder), auth_enabled, keys)

    def logs(self, name: str, num_lines: int = 5000) -> str:
        try:
            with open(layout.log_file(self.folder(name)), encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-num_lines:]) if num_lines > 0 else ""

    def log_since(self, name: str, offset: int) -> tuple[str, int]:
        path = layout.log_file(self.folder(name))
        try:
            with open(path, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                if offset < 0:
                    return "", size
                offset = 0 if size < offset else offset
                fh.seek(offset)
                data = fh.read(size - offset)
        except OSError:
            return "", max(offset, 0)
        end = data.rfind(b"\n") + 1
        return data[:end].decode("utf-8", errors="replace"), offset + end

    def restart(self, name: str) -> ServiceStatus:
        raise InvalidState("Redeploy a Ray Serve service with update(...) to restart it.")

    def delete(self, name: str) -> None:
        instance = self._instance()
        if name in (instance.get("applications") or {}):
            self._apply(self._configs(instance, name), self._port(instance))
        shutil.rmtree(self.folder(name), ignore_errors=True)
