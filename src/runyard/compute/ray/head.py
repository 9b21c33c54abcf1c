"""The local Ray head Runyard starts and owns for a cluster target without an address.

The head is ``ray start --head`` run as a subprocess in its own session, so that it outlives
the process that created the target, and is stopped by ``target.delete()`` (its process
group, by id: never ``ray stop``, which would stop every Ray on the machine). It is:

- bound to 127.0.0.1 only: Ray is told that this machine is not part of a multi-node
  cluster (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``), so the node's address is the loopback
  one and its gRPC servers listen there; the dashboard and job API listen on 127.0.0.1;
- on free ports, every one of them chosen here (Ray's defaults, 6379 and 8265, may be
  taken: Redis listens on 6379 on many machines);
- protected by a token (Ray's token authentication) kept in a file only the user reads;
- given its own folder for Ray's temporary files, so two heads never share a session.

What a head is (its ports, its process group, its folder) is recorded in the target's
config as :class:`HeadInfo`, so later processes attach to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from runyard.errors import BackendError, InvalidArgument
from runyard.node import processes
from runyard.settings import Settings

#: Ports of one head, each chosen free on 127.0.0.1.
_PORT_OPTIONS = (
    "port",
    "dashboard-port",
    "object-manager-port",
    "node-manager-port",
    "ray-client-server-port",
    "dashboard-agent-listen-port",
    "dashboard-agent-grpc-port",
    "runtime-env-agent-port",
    "metrics-export-port",
)
# Ports Ray takes from the environment rather than from ``ray start`` options.
_PORT_ENV = ("AUTOSCALER_METRIC_PORT", "DASHBOARD_METRIC_PORT")
# A run waits in Ray's queue as long as it must (Ray's default gives up after 15 minutes).
_QUEUE_WAIT_S = str(365 * 24 * 3600)
_UNIX_SOCKET_MAX = 107  # sun_path
# Ray puts its sockets at <temp dir>/session_<date>_<time>_<micros>_<pid>/sockets/plasma_store.
_RAY_SOCKET_SUFFIX = 66
RAY_DIR_ENV = "RUNYARD_RAY_DIR"
START_TIMEOUT_S = 180.0


@dataclass
class HeadInfo:
    """A running local head, as recorded in its target's config (``config["head"]``)."""

    folder: str
    host: str
    gcs_port: int
    dashboard_port: int
    pgid: int
    token_path: str
    python: str
    started_at: float
    ray_version: str = ""
    autoscaling: bool = False
    resources: dict[str, float] = field(default_factory=dict)

    @property
    def address(self) -> str:
        """The job API's URL."""
        return f"http://127.0.0.1:{self.dashboard_port}"

    @property
    def gcs_address(self) -> str:
        """What ``ray.init(address=...)`` or ``ray start --address`` take."""
        return f"127.0.0.1:{self.gcs_port}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeadInfo:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def token(self) -> str:
        """The head's token. Raises BackendError when its file is gone."""
        try:
            with open(self.token_path, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise BackendError(
                f"The token of the Ray head in {self.folder} cannot be read ({exc}); the head "
                "was removed from under Runyard. Delete the compute target and create it again."
            ) from exc

    def processes_alive(self) -> bool:
        """Whether the head's processes still run (only knowable on the head's machine)."""
        if self.host != processes.hostname():
            return True
        return processes.group_alive(self.pgid)


def ray_root(settings: Settings) -> str:
    """Where heads keep their folders: the ``ray_dir`` setting or ``~/.cache/runyard/ray``,
    or a folder under /tmp when that path is too long for Ray's Unix sockets."""
    root = settings.ray_dir or os.path.join(os.path.expanduser("~"), ".cache", "runyard", "ray")
    root = os.path.abspath(os.path.expanduser(root))
    if len(root) > 40:
        uid = os.getuid() if hasattr(os, "getuid") else 0
        root = os.path.join("/tmp", f"runyard-ray-{uid}")
    return root


def head_folder(settings: Settings, tracking_uri: str, target: str) -> str:
    """The folder of ``target``'s head: one per workspace and target name."""
    key = hashlib.sha256(f"{tracking_uri}\n{target}".encode()).hexdigest()[:12]
    return os.path.join(ray_root(settings), key)


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 now (all held open while choosing, so they
    differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _write_token(path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_hex(32))


def head_environment(folder: str, ports: dict[str, int], *, fake_cluster: bool) -> dict[str, str]:
    """The environment ``ray start`` runs in: token auth, loopback only, our ports."""
    env = {
        k: v
        for k, v in os.environ.items()
        # A user's RAY_ADDRESS (or a submitting run's Ray settings) must not redirect the head.
        if not k.startswith(("RAY_ADDRESS", "RAY_API_SERVER_ADDRESS", "RAY_AUTH_TOKEN"))
    }
    env.update(
        {
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN_PATH": os.path.join(folder, "token"),
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
            "RAY_JOB_START_TIMEOUT_SECONDS": _QUEUE_WAIT_S,
            "RAY_USAGE_STATS_ENABLED": "0",
            **{name: str(ports[name]) for name in _PORT_ENV},
        }
    )
    if fake_cluster:
        env["RAY_FAKE_CLUSTER"] = "1"
        env["AUTOSCALER_UPDATE_INTERVAL_S"] = "1"
    return env


def start_local_head(
    folder: str,
    *,
    num_cpus: int | None = None,
    num_gpus: int | None = None,
    autoscaling_config: dict[str, Any] | None = None,
    timeout: float = START_TIMEOUT_S,
) -> HeadInfo:
    """Start a Ray head on this machine, owned by the caller, and wait until its job API
    answers.

    Args:
        folder: the head's own folder (token, logs, Ray's temporary files).
        num_cpus: CPUs the head offers (None: what Ray detects; 0 for an autoscaling head,
            so that runs go to its worker nodes).
        num_gpus: GPUs the head offers (None: what Ray detects).
        autoscaling_config: a Ray autoscaler configuration (see
            :mod:`runyard.compute.ray.autoscaling`); its provider's ``gcs_address`` is
            filled in here.
        timeout: seconds to wait for the head.

    Raises:
        BackendError: Ray is not installed, or the head did not start (with the tail of
            its output).
    """
    from runyard.compute.ray.jobs import RayJobsClient

    os.makedirs(folder, mode=0o700, exist_ok=True)
    temp_dir = os.path.join(folder, "t")
    if len(temp_dir) + _RAY_SOCKET_SUFFIX > _UNIX_SOCKET_MAX:
        raise InvalidArgument(
            f"The Ray head folder {folder!r} is too long for Ray's Unix sockets; set "
            f"{RAY_DIR_ENV} to a short folder (e.g. /tmp/ray-heads)."
        )
    _write_token(os.path.join(folder, "token"))
    names = list(_PORT_OPTIONS) + list(_PORT_ENV)
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    command = [
        sys.executable,
        "-m",
        "ray.scripts.scripts",
        "start",
        "--head",
        "--node-ip-address=127.0.0.1",
        "--dashboard-host=127.0.0.1",
        "--include-dashboard=true",
        f"--temp-dir={temp_dir}",
        "--disable-usage-stats",
        *(f"--{name}={ports[name]}" for name in _PORT_OPTIONS),
    ]
    if num_cpus is not None:
        command.append(f"--num-cpus={num_cpus}")
    if num_gpus is not None:
        command.append(f"--num-gpus={num_gpus}")
    if autoscaling_config is not None:
        config = dict(autoscaling_config)
        config["provider"] = {
            **config.get("provider", {}),
            "gcs_address": f"127.0.0.1:{ports['port']}",
        }
        config_path = os.path.join(folder, "autoscaler.json")
        with open(config_path, "w", encoding="utf-8") as fh:
            json.dump(config, fh, indent=2)
        command.append(f"--autoscaling-config={config_path}")
    log_path = os.path.join(folder, "start.log")
    env = head_environment(folder, ports, fake_cluster=autoscaling_config is not None)
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: it outlives us; stopped by group id
                cwd=folder,
            )
    except OSError as exc:
        raise BackendError(f"Could not run 'ray start' ({exc}).") from exc
    deadline = time.monotonic() + timeout
    info = HeadInfo(
        folder=folder,
        host=processes.hostname(),
        gcs_port=ports["port"],
        dashboard_port=ports["dashboard-port"],
        pgid=proc.pid,
        token_path=os.path.join(folder, "token"),
        python=sys.executable,
        started_at=time.time(),
        autoscaling=autoscaling_config is not None,
    )
    try:
        returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise _failed(
            info, f"The Ray head did not start within {timeout:.0f} s. Its output: "
        ) from None
    if returncode != 0:
        raise _failed(
            info,
            f"'ray start --head' failed (exit code {returncode}). "
            f"{_missing_ray_hint(log_path)}Its output: ",
        )
    client = RayJobsClient(info.address, info.token(), timeout=5.0)
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            info.ray_version = client.version()
            head = next((n for n in client.nodes() if n.is_head and n.alive), None)
            if head is not None:
                info.resources = dict(head.resources)
                return info
        except BackendError as exc:  # the dashboard comes up after 'ray start' returns
            last_error = exc
        time.sleep(0.2)
    raise _failed(
        info,
        f"The Ray head started but its job API did not answer within {timeout:.0f} s "
        f"({last_error}). Its output: ",
    )


def _failed(info: HeadInfo, message: str) -> BackendError:
    """Stop what started of a head that failed, remove its folder, and say why (with the
    tail of its output, read first)."""
    error = BackendError(message + _tail(os.path.join(info.folder, "start.log")))
    stop_local_head(info)
    remove_head_folder(info)
    return error


def stop_local_head(info: HeadInfo, grace_seconds: float = 5.0) -> None:
    """Stop the head's processes (its process group: SIGTERM, then SIGKILL).

    A head that is gone already is fine.

    Raises:
        BackendError: the head runs on another machine than this one.
    """
    if info.host != processes.hostname():
        raise BackendError(
            f"The Ray head of this target runs on {info.host!r}, not on this machine "
            f"({processes.hostname()!r}); delete the target from there."
        )
    if info.pgid > 1:
        processes.kill_process_group(info.pgid, grace_seconds=grace_seconds)


def remove_head_folder(info: HeadInfo) -> None:
    """Remove the head's folder (its token and Ray's temporary files) and its lock."""
    import shutil

    with contextlib.suppress(OSError):
        shutil.rmtree(info.folder)
    with contextlib.suppress(OSError):
        os.remove(f"{info.folder.rstrip(os.sep)}.lock")


def _tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return "\n".join(fh.read().strip().splitlines()[-lines:])
    except OSError:
        return "(no output)"


def _missing_ray_hint(log_path: str) -> str:
    if "No module named" in _tail(log_path, 50):
        return "Ray is not installed in this environment: pip install 'runyard[ray]'. "
    return ""
