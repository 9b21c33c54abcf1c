"""``RayServeBackend``: web services as Ray Serve applications on a workspace's Ray cluster.

Each service is one Serve application, named as the service, routed under ``/<name>``, on
the cluster's Serve proxy (on its head: ``127.0.0.1`` when the cluster is this machine,
else the head's address; a port chosen when Serve is first started there, and kept). The
backend talks to the cluster's dashboard over HTTP (Ray Serve's REST API:
``GET``/``PUT /api/serve/applications/``), so the deploying process never imports Ray;
Serve's config is declarative, so a deploy or a delete sends every application of the
cluster, with that one added, replaced or left out.

The service's files (``score.py``, the models' files) are gathered in a folder on this
machine. When every node of the cluster runs on this machine (a local head, Ray's
multi-node test cluster), replicas read that folder in place (``shared``). Otherwise the
folder is zipped and uploaded to the cluster's package store (the dashboard's
``PUT /api/packages/gcs/...``, as Ray's job client does), and the application names it as
its ``working_dir``: Ray downloads and unpacks it on whichever node a replica is placed.
A shipped service's key digests then travel as Serve's ``user_config`` (changed without
restarting replicas) and its output is read from Ray's logs of its replicas
(``GET /api/v0/logs/file?actor_id=...``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from typing import TYPE_CHECKING, Any, BinaryIO

from runyard.entities.service import (
    FAILED,
    HEALTHY,
    TRANSITIONING,
    UNHEALTHY,
    ServiceDefinition,
)
from runyard.errors import BackendError, InvalidArgument, InvalidState
from runyard.serving import layout
from runyard.serving.backend import ServiceStatus, ServingBackend
from runyard.serving.keys import key_digests, write_keys_file
from runyard.serving.local.backend import ship
from runyard.serving.ray.scaling import ReplicaSettings

if TYPE_CHECKING:
    from runyard.resources import WorkspaceResources

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_RAY_MARKER = re.compile(r"^:(job_id|actor_name|task_name):")
API = "/api/serve/applications/"
PACKAGES = "/api/packages/gcs/"
#: The largest package Ray's store takes (its gRPC message limit, 512 MiB by default).
PACKAGE_LIMIT_BYTES = 512 * 2**20
#: Seconds ``set_keys`` waits for the replicas of a shipped service to take new keys.
KEYS_APPLIED_S = 60.0
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
        shared: whether the cluster's nodes read this machine's folders (they run here):
            replicas then read a service's folder in place; else it is shipped through
            the cluster's package store. Only deploys use it: a deployed service is
            handled as it was deployed.
    """

    def __init__(
        self,
        resources: WorkspaceResources,
        dashboard: str,
        token: str | None,
        shared: bool = True,
    ) -> None:
        self._resources = resources
        self._dashboard = dashboard.rstrip("/")
        self._token = token
        self._shared = shared
        self._root = os.path.join(
            resources.settings.scratch_dir, ".services", resources.name, ".ray"
        )

    def folder(self, name: str) -> str:
        return os.path.join(self._root, name)

    # -- the REST API -------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        data: bytes | BinaryIO | None = None,
        content_type: str = "",
        length: int | None = None,
    ) -> bytes:
        request = urllib.request.Request(self._dashboard + path, data=data, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if length is not None:  # a streamed body
            request.add_header("Content-Length", str(length))
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            what = "Ray Serve" if path == API else "The Ray cluster's dashboard"
            raise BackendError(
                f"{what} at {self._dashboard} refused {method} {path.split('?')[0]} "
                f"({exc.code}): {detail}"
            ) from exc
        except OSError as exc:
            raise BackendError(
                f"Cannot reach the Ray cluster's dashboard at {self._dashboard}: {exc}. Is the "
                "compute target's head running?"
            ) from exc

    def _call(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        text = self._request(method, API, data, "application/json").decode() or "{}"
        found = json.loads(text)
        return found if isinstance(found, dict) else {}

    def _upload(self, folder: str) -> str:
        """Zip ``folder``'s service files into the cluster's package store; their URI.

        The name is the content's hash (as Ray names packages), so an unchanged service
        is not stored twice. The archive is streamed, not held in memory.

        Raises:
            InvalidArgument: the archive is larger than Ray's package store takes.
        """
        archive = os.path.join(os.path.dirname(folder), f".{os.path.basename(folder)}.zip")
        try:
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
                for top in (layout.definition_file(folder), layout.source_dir(folder)):
                    _add(zf, top, folder)
                _add(zf, layout.models_dir(folder), folder)
            size = os.path.getsize(archive)
            if size > PACKAGE_LIMIT_BYTES:
                raise InvalidArgument(
                    f"The service's files come to {size / 2**20:.0f} MiB zipped, more than "
                    f"Ray's package store takes ({PACKAGE_LIMIT_BYTES // 2**20} MiB) to ship "
                    "them to the cluster's nodes. Leave large files out of the source "
                    "directory, or deploy on a cluster whose nodes run on this machine "
                    "(they read the files in place)."
                )
            sha1 = hashlib.sha1()
            with open(archive, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    sha1.update(chunk)
            name = f"_ray_pkg_{sha1.hexdigest()}.zip"
            with open(archive, "rb") as fh:
                self._request("PUT", PACKAGES + name, fh, "application/zip", size)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(archive)
        return f"gcs://{name}"

    def _instance(self) -> dict[str, Any]:
        return self._call("GET")

    def _apply(self, apps: list[dict[str, Any]], port: int, host: str) -> None:
        self._call(
            "PUT",
            {
                "proxy_location": "HeadOnly",
                "http_options": {"host": host, "port": port},
                "applications": apps,
            },
        )

    def _host(self, instance: dict[str, Any]) -> str:
        """The address Serve's proxy listens on: the one it has; for a first start
        127.0.0.1 when the cluster is this machine, else the head's address as the
        dashboard is reached (this machine must reach the proxy too)."""
        options = instance.get("http_options") or {}
        if instance.get("applications") and isinstance(options.get("host"), str):
            return str(options["host"])
        head = urllib.parse.urlsplit(self._dashboard).hostname or "127.0.0.1"
        return "127.0.0.1" if self._shared or head in _LOOPBACK else head

    def _uri_host(self, instance: dict[str, Any]) -> str:
        host = str((instance.get("http_options") or {}).get("host") or "127.0.0.1")
        if host in ("0.0.0.0", "::"):  # listening everywhere: reach it as the dashboard
            return urllib.parse.urlsplit(self._dashboard).hostname or "127.0.0.1"
        return host

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
        """Gather the service's files (shipping them to the cluster unless its nodes share
        this machine's folders) and deploy it as a Serve application with ``replicas``;
        returns at once (Transitioning)."""
        folder = self.folder(definition.name)
        instance = self._instance()
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, mode=0o700)
        ship(self._resources, definition, folder)
        layout.write_json(layout.definition_file(folder), definition.to_dict())
        deployment: dict[str, Any] = {"name": "scoring", **replicas.serve_options()}
        app: dict[str, Any] = {
            "name": definition.name,
            "route_prefix": f"/{definition.name}",
            "import_path": IMPORT_PATH,
        }
        if self._shared:
            write_keys_file(layout.keys_file(folder), auth_enabled, keys)
            app["args"] = {"folder": folder, "auth_enabled": auth_enabled}
            how = "its files read in place"
        else:
            package = self._upload(folder)
            app["args"] = {"auth_enabled": auth_enabled}
            app["runtime_env"] = {"working_dir": package}
            deployment["user_config"] = {"keys": key_digests(auth_enabled, keys)}
            how = f"its files shipped as {package}"
        app["deployments"] = [deployment]
        with open(layout.log_file(folder), "a", encoding="utf-8") as log:
            log.write(f"Service {definition.name}: deploying on Ray Serve ({replicas}), {how}.\n")
        port, host = self._port(instance), self._host(instance)
        self._apply([*self._configs(instance, definition.name), app], port, host)
        uri = self._uri({"http_options": {"host": host}}, port, definition.name)
        return ServiceStatus(TRANSITIONING, uri, "deploying")

    def _uri(self, instance: dict[str, Any], port: int, name: str) -> str:
        host = self._uri_host(instance)
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/{name}/score"

    def status(self, name: str) -> ServiceStatus:
        try:
            instance = self._instance()
        except BackendError as exc:
            return ServiceStatus(UNHEALTHY, None, exc.message)
        app = (instance.get("applications") or {}).get(name)
        if not isinstance(app, dict):
            return ServiceStatus(UNHEALTHY, None, "not deployed on the Ray cluster")
        port = (instance.get("http_options") or {}).get("port")
        uri = self._uri(instance, port, name) if isinstance(port, int) else None
        state = _STATES.get(str(app.get("status")), UNHEALTHY)
        detail = str(app.get("message") or "")
        if state == FAILED:
            detail = "\n".join([detail, *_deployment_messages(app)]).strip()
        return ServiceStatus(state, uri, detail)

    def replica_details(self, name: str) -> list[dict[str, Any]]:
        """Serve's record of each running replica (``node_id``, ``actor_id``, ``pid``...)."""
        app = (self._instance().get("applications") or {}).get(name) or {}
        found = (app.get("deployments") or {}).get("scoring") or {}
        return [r for r in found.get("replicas") or () if r.get("state") == "RUNNING"]

    def replicas(self, name: str) -> int:
        """How many replicas of the service are running now."""
        return len(self.replica_details(name))

    @staticmethod
    def _shipped(app: dict[str, Any]) -> bool:
        """Whether a deployed application's files were shipped (no shared folder)."""
        config = app.get("deployed_app_config") or {}
        return "folder" not in (config.get("args") or {})

    def failure(self, name: str) -> dict[str, object] | None:
        """Why the deploy failed: the replica's error (the last line of its traceback,
        as Serve reports it) and the traceback's end."""
        status = self.status(name)
        if status.state != FAILED:
            return None
        lines = [line for line in status.detail.splitlines() if line.strip()]
        head = lines[0] if lines else "deploy failed"
        last = lines[-1] if len(lines) > 1 else ""
        return {"message": f"{head} {last}".strip(), "log_tail": "\n".join(lines[-30:])}

    def set_keys(self, name: str, *, auth_enabled: bool, keys: tuple[str, str]) -> None:
        """Shared folder: rewrite its keys file (read on the next request). Shipped: send
        the new digests as the deployment's ``user_config`` and wait until Serve reports
        the application running with it (replicas reconfigured, not restarted).

        Raises:
            InvalidState: the service is not on the cluster (nor its folder here).
            BackendError: the replicas did not take the keys within ``KEYS_APPLIED_S``.
        """
        instance = self._instance()
        app = (instance.get("applications") or {}).get(name)
        if isinstance(app, dict) and self._shipped(app):
            self._send_keys(instance, app, key_digests(auth_enabled, keys))
            return
        folder = self.folder(name)
        if not os.path.isdir(folder):
            raise InvalidState(f"Web service {name!r} has no files on this machine.")
        write_keys_file(layout.keys_file(folder), auth_enabled, keys)

    def _send_keys(
        self, instance: dict[str, Any], app: dict[str, Any], digests: dict[str, object]
    ) -> None:
        config = json.loads(json.dumps(app["deployed_app_config"]))
        name = str(config["name"])
        for deployment in config.get("deployments") or ():
            deployment["user_config"] = {"keys": digests}
        self._apply(
            [*self._configs(instance, name), config], self._port(instance), self._host(instance)
        )
        deadline = time.monotonic() + KEYS_APPLIED_S
        while True:
            now = (self._instance().get("applications") or {}).get(name) or {}
            deployments = (now.get("deployments") or {}).values()
            if now.get("status") == "RUNNING" and all(
                d.get("status") == "HEALTHY" for d in deployments
            ):
                applied = (now.get("deployed_app_config") or {}).get("deployments") or [{}]
                if applied[0].get("user_config") == {"keys": digests}:
                    return
            if time.monotonic() > deadline:
                raise BackendError(
                    f"The replicas of {name!r} did not take the new keys within "
                    f"{KEYS_APPLIED_S:g} s (Serve reports {now.get('status')}): see "
                    "get_logs(), and set the key again."
                )
            time.sleep(0.1)

    def logs(self, name: str, num_lines: int = 5000) -> str:
        """The deploy's own lines, then (shipped) each running replica's output as Ray
        logged it on its node; a failed deploy's error as Serve reports it."""
        try:
            with open(layout.log_file(self.folder(name)), encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            lines = []
        try:
            app = (self._instance().get("applications") or {}).get(name)
        except BackendError:
            app = None
        if isinstance(app, dict) and self._shipped(app):
            for replica in self.replica_details(name):
                lines.extend(self._replica_log(replica, num_lines))
            if app.get("status") == "DEPLOY_FAILED":  # the replicas are gone: Serve's report
                lines.extend(str(app.get("message") or "").splitlines())
                for message in _deployment_messages(app):
                    lines.extend(message.splitlines())
        return "\n".join(lines[-num_lines:]) if num_lines > 0 else ""

    def _replica_log(self, replica: dict[str, Any], num_lines: int) -> list[str]:
        """A replica's stdout and stderr, as Ray keeps them on its node."""
        lines = [f"--- replica {replica.get('replica_id')} on node {replica.get('node_id')}"]
        for suffix in ("out", "err"):
            query = urllib.parse.urlencode(
                {"actor_id": replica.get("actor_id"), "suffix": suffix, "lines": num_lines}
            )
            try:
                text = self._request("GET", f"/api/v0/logs/file?{query}").decode(
                    "utf-8", errors="replace"
                )
            except BackendError as exc:
                text = f"(its {suffix} log could not be read: {exc.message})"
            # Ray marks which actor wrote what (":actor_name:..."): not the service's output.
            lines.extend(line for line in text.splitlines() if not _RAY_MARKER.match(line))
        return lines

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
            self._apply(self._configs(instance, name), self._port(instance), self._host(instance))
        shutil.rmtree(self.folder(name), ignore_errors=True)


def _deployment_messages(app: dict[str, Any]) -> list[str]:
    """Serve's messages on the application's deployments (a failed replica's traceback)."""
    deployments = (app.get("deployments") or {}).values()
    return [str(d["message"]) for d in deployments if isinstance(d, dict) and d.get("message")]


def _add(zf: zipfile.ZipFile, path: str, root: str) -> None:
    """Add file or folder ``path`` to ``zf`` under its path relative to ``root``."""
    if os.path.isfile(path):
        zf.write(path, os.path.relpath(path, root))
        return
    for parent, _dirs, files in os.walk(path):
        for file in sorted(files):
            full = os.path.join(parent, file)
            zf.write(full, os.path.relpath(full, root))
