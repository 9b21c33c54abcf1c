"""``LocalServingBackend``: web services served from this machine, on 127.0.0.1.

Each service has a folder under ``<scratch>/.services/<workspace>/<name>`` (see
``runyard.serving.layout``). ``deploy`` binds the port itself (so a port in use fails at
once and the scoring URI is known before anything starts), copies the service's files,
and starts a detached supervisor that inherits the socket. A pid is signalled only when
this node's own ``node.json`` names it and its start time matches, as for runs
(``runyard.node.local_record``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import posixpath
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from runyard.entities.service import (
    FAILED,
    HEALTHY,
    TRANSITIONING,
    UNHEALTHY,
    ServiceDefinition,
)
from runyard.errors import BackendError, InvalidArgument, InvalidState
from runyard.node import processes
from runyard.serving import layout
from runyard.serving.backend import ServiceStatus, ServingBackend
from runyard.serving.keys import write_keys_file
from runyard.serving.local.ports import HOST, bind

if TYPE_CHECKING:
    from runyard.resources import WorkspaceResources

#: Files never shipped with a service's source folder.
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".ipynb_checkpoints")
_SPAWN = 'exec "$@" </dev/null >>"$RUNYARD_SERVICE_LOG" 2>&1 &\necho $!'


def scoring_uri(port: int) -> str:
    return f"http://{HOST}:{port}/score"


class LocalServingBackend(ServingBackend):
    """Serves a workspace's services on this machine.

    Args:
        resources: the workspace (its artifact store holds the models' files; its
            settings say where the scratch folder and the environment cache are).
    """

    def __init__(self, resources: WorkspaceResources) -> None:
        self._resources = resources
        self._root = os.path.join(resources.settings.scratch_dir, ".services", resources.name)

    def folder(self, name: str) -> str:
        """The service's folder on this machine."""
        return os.path.join(self._root, name)

    # -- deploying ----------------------------------------------------------------------
    def deploy(
        self, definition: ServiceDefinition, *, auth_enabled: bool, keys: tuple[str, str]
    ) -> ServiceStatus:
        with self._locked(definition.name):
            return self._deploy(definition, auth_enabled=auth_enabled, keys=keys)

    def _deploy(
        self, definition: ServiceDefinition, *, auth_enabled: bool, keys: tuple[str, str]
    ) -> ServiceStatus:
        folder = self.folder(definition.name)
        before = layout.read_json(layout.status_file(folder)) or {}
        self._stop(folder)
        # The port this service had is freed by processes that were just stopped: give
        # the system a moment to release it before calling it taken.
        again = definition.port != 0 and before.get("port") == definition.port
        sock = bind(definition.port, wait_s=5.0 if again else 0.0)
        try:
            port = sock.getsockname()[1]
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder, mode=0o700)
            self._ship(definition, folder)
            write_keys_file(layout.keys_file(folder), auth_enabled, keys)
            layout.write_json(
                layout.definition_file(folder),
                {**definition.to_dict(), "runyard_extras": list(self._resources.required_extras)},
            )
            self._start(folder, sock, port)
        finally:
            sock.close()  # the supervisor holds its own copy
        return ServiceStatus(TRANSITIONING, scoring_uri(port), "starting")

    def _ship(self, definition: ServiceDefinition, folder: str) -> None:
        ship(self._resources, definition, folder)

    def _start(self, folder: str, sock: socket.socket, port: int) -> None:
        env = dict(os.environ)
        env.update(self._resources.settings.to_env())
        env["RUNYARD_SERVICE_LISTEN_FD"] = str(sock.fileno())
        env["RUNYARD_SERVICE_PORT"] = str(port)
        env["RUNYARD_SERVICE_LOG"] = layout.log_file(folder)
        env["PYTHONUNBUFFERED"] = "1"
        command = [sys.executable, "-m", "runyard.serving.local.supervisor", folder]
        try:
            # Through sh, as a run's executor: the supervisor is not this process's child,
            # so it outlives it and never lingers as its zombie; it then leads a session of
            # its own (see supervisor.main), so stopping the service stops its group.
            done = subprocess.run(
                ["/bin/sh", "-c", _SPAWN, "sh", *command],
                env=env,
                cwd=folder,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                pass_fds=(sock.fileno(),),
                start_new_session=True,
                check=False,
                timeout=30,
            )
            pid = int(done.stdout.strip().splitlines()[-1])
        except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
            raise BackendError(f"Could not start the service's supervisor: {exc}") from exc
        layout.write_json(
            layout.node_file(folder),
            {"supervisor_pid": pid, "supervisor_start": processes.process_start_time(pid)},
        )

    # -- looking ------------------------------------------------------------------------
    def _supervisor(self, folder: str) -> int | None:
        """The supervisor's pid if this node's record names one that still runs."""
        record = layout.read_json(layout.node_file(folder)) or {}
        pid, start = record.get("supervisor_pid"), record.get("supervisor_start")
        if not isinstance(pid, int) or isinstance(pid, bool):
            return None
        if processes.process_alive(pid, start if isinstance(start, int) else None):
            return pid
        return None

    def status(self, name: str) -> ServiceStatus:
        folder = self.folder(name)
        status = layout.read_json(layout.status_file(folder))
        node = layout.read_json(layout.node_file(folder))
        if node is None:
            return ServiceStatus(UNHEALTHY, None, f"not running on this machine ({folder})")
        status = status or {"phase": "building"}
        port = status.get("port")
        uri = scoring_uri(port) if isinstance(port, int) and port else None
        restarts = status.get("restarts")
        restarts = restarts if isinstance(restarts, int) else 0
        phase = status.get("phase")
        error = status.get("error")
        detail = str(error.get("message", "")) if isinstance(error, dict) else ""
        if phase == "failed":
            return ServiceStatus(FAILED, uri, detail, restarts)
        if self._supervisor(folder) is None:
            return ServiceStatus(
                UNHEALTHY,
                uri,
                "its supervisor process is gone; update or redeploy the service to restart it",
                restarts,
            )
        if phase in ("building", "starting"):
            return ServiceStatus(TRANSITIONING, uri, str(phase), restarts)
        if phase == "healthy":
            worker = status.get("worker_pid")
            if isinstance(worker, int) and processes.process_alive(worker):
                return ServiceStatus(HEALTHY, uri, "", restarts)
        return ServiceStatus(UNHEALTHY, uri, "the scoring server is restarting", restarts)

    def failure(self, name: str) -> dict[str, object] | None:
        """Why the service failed (``message``, ``log_tail``), or None."""
        status = layout.read_json(layout.status_file(self.folder(name))) or {}
        error = status.get("error")
        return error if isinstance(error, dict) else None

    def logs(self, name: str, num_lines: int = 5000) -> str:
        path = layout.log_file(self.folder(name))
        try:
            with open(path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                block, data = 64 * 1024, b""
                while size > 0 and data.count(b"\n") <= num_lines:
                    step = min(block, size)
                    size -= step
                    fh.seek(size)
                    data = fh.read(step) + data
        except OSError:
            return ""
        lines = data.decode("utf-8", errors="replace").splitlines()
        return "\n".join(lines[-num_lines:]) if num_lines > 0 else ""

    def log_since(self, name: str, offset: int) -> tuple[str, int]:
        path = layout.log_file(self.folder(name))
        try:
            with open(path, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                if offset < 0:
                    return "", size
                if size < offset:  # a redeploy started the log afresh
                    offset = 0
                fh.seek(offset)
                data = fh.read(size - offset)
        except OSError:
            return "", max(offset, 0)
        end = data.rfind(b"\n") + 1  # a line still being written waits for its end
        return data[:end].decode("utf-8", errors="replace"), offset + end

    # -- changing -----------------------------------------------------------------------
    def set_keys(self, name: str, *, auth_enabled: bool, keys: tuple[str, str]) -> None:
        folder = self.folder(name)
        if not os.path.isdir(folder):
            raise InvalidState(f"Web service {name!r} has no files on this machine.")
        write_keys_file(layout.keys_file(folder), auth_enabled, keys)

    def restart(self, name: str, source_directory: str | None = None) -> ServiceStatus:
        """Restart the scoring server; with ``source_directory``, ship its files again
        first (``reload``: an edited score.py, no rebuild)."""
        folder = self.folder(name)
        pid = self._supervisor(folder)
        if pid is None:
            raise InvalidState(
                f"Web service {name!r} is not running on this machine; update or redeploy it."
            )
        if source_directory is not None:
            target = layout.source_dir(folder)
            staged = target + ".new"
            shutil.rmtree(staged, ignore_errors=True)
            definition = layout.read_json(layout.definition_file(folder)) or {}
            files = definition.get("files")
            _copy_source(source_directory, files if isinstance(files, list) else [], staged)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staged, target)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGHUP)
        return self.status(name)

    def delete(self, name: str) -> None:
        folder = self.folder(name)
        with self._locked(name):
            self._stop(folder)
            shutil.rmtree(folder, ignore_errors=True)

    # -- coming back after a restart of the machine -------------------------------------
    def stranded(self) -> list[str]:
        """The services of this machine whose supervisor is gone (the machine restarted,
        or their processes were killed) and which had not failed: those to revive.
        Reads only files, so it is cheap to ask whenever the workspace is opened."""
        try:
            names = sorted(n for n in os.listdir(self._root) if not n.startswith("."))
        except OSError:
            return []
        return [name for name in names if self._stranded(name)]

    def _stranded(self, name: str) -> bool:
        folder = self.folder(name)
        status = layout.read_json(layout.status_file(folder)) or {}
        return (
            os.path.exists(layout.definition_file(folder))
            and layout.read_json(layout.node_file(folder)) is not None
            and status.get("phase") != "failed"
            and self._supervisor(folder) is None
        )

    def revive(self, name: str) -> ServiceStatus | None:
        """Start a stranded service again from its folder as it is (files, keys, port),
        with a new supervisor; None when it is not stranded any more (someone else
        revived, redeployed or deleted it meanwhile).

        Raises:
            InvalidState: its port is taken by another program now.
        """
        folder = self.folder(name)
        with self._locked(name, wait=False) as held:
            if not held or not self._stranded(name):
                return None
            status = layout.read_json(layout.status_file(folder)) or {}
            port = status.get("port")
            if not isinstance(port, int) or isinstance(port, bool) or port <= 0:
                return None
            self._stop(folder)  # what is left of its process group, holding the port
            sock = bind(port, wait_s=5.0)
            try:
                layout.write_json(layout.status_file(folder), {"phase": "building", "port": port})
                with open(layout.log_file(folder), "a", encoding="utf-8") as log:
                    log.write("Its processes were gone (the machine restarted?): restarting.\n")
                self._start(folder, sock, port)
            finally:
                sock.close()
        return ServiceStatus(TRANSITIONING, scoring_uri(port), "restarting")

    @contextlib.contextmanager
    def _locked(self, name: str, wait: bool = True) -> Iterator[bool]:
        """Hold the service's lock (deploy, delete and revive take turns); yields whether
        it is held (always, with ``wait``)."""
        locks = os.path.join(self._root, ".locks")
        os.makedirs(locks, mode=0o700, exist_ok=True)
        with open(os.path.join(locks, name), "a+b") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True

    def _stop(self, folder: str) -> None:
        pid = self._supervisor(folder)
        if pid is not None:
            # The supervisor leads its own session: its group is the whole service.
            processes.kill_process_group(pid)
            if processes.process_alive(pid):  # stopped before it made its own group
                processes.stop_processes([pid])
            return
        record = layout.read_json(layout.node_file(folder)) or {}
        gone = record.get("supervisor_pid")
        # The supervisor is gone but its group may not be (a server it started, orphaned
        # or still exiting after a kill, holding the port). Linux never reuses a pid while
        # a group of that id exists, so with no process of that pid the group can only be
        # this service's.
        if (
            isinstance(gone, int)
            and not isinstance(gone, bool)
            and gone > 0
            and not processes.process_alive(gone)
            and processes.group_alive(gone)
        ):
            processes.kill_process_group(gone)


def _copy_source(source: str, files: tuple[str, ...] | list[str], target: str) -> None:
    """Copy ``source`` (only ``files`` of it, when given) to ``target``."""
    if not files:
        shutil.copytree(source, target, ignore=_IGNORED)
        return
    for rel in files:
        destination = os.path.join(target, *rel.split("/"))
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        shutil.copy2(os.path.join(source, *rel.split("/")), destination)


def ship(resources: WorkspaceResources, definition: ServiceDefinition, folder: str) -> None:
    """Copy the service's source files and its models' files into ``folder``.

    Raises:
        InvalidArgument: the source directory is missing.
        InvalidState: a model has no files.
    """
    source = definition.source_directory
    if not os.path.isdir(source):
        raise InvalidArgument(f"The source directory {source!r} does not exist.")
    _copy_source(source, definition.files, layout.source_dir(folder))
    artifacts = resources.artifacts
    for model in definition.models:
        names = artifacts.list(model.artifact_path)
        if not names:
            raise InvalidState(f"Model {model.id} has no files at {model.artifact_path}.")
        root = posixpath.normpath(model.artifact_path)
        base = root.rsplit("/", 1)[-1]
        target = os.path.join(layout.models_dir(folder), model.name, str(model.version), base)
        for n in names:
            rel = "" if n == root else posixpath.relpath(n, root)
            artifacts.get_file(n, os.path.join(target, *rel.split("/")) if rel else target)
