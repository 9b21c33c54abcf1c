"""A cluster target's settings, read once from its stored config.

The config (JSON in the target's record) holds what ``provisioning_configuration`` was given
and, once provisioned, what Runyard started::

    {"vm_size": "STANDARD_NC6", "vm_priority": "dedicated", "min_nodes": 0, "max_nodes": 4,
     "idle_seconds_before_scaledown": 1800, "address": null, "simulated_nodes": false,
     "auth_token_path": null, "python": null,
     "head": {...HeadInfo...},                     # a head Runyard started
     "provisioning": {"node": {...}, "warnings": ["..."]}}
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from runyard.compute.ray.head import HeadInfo
from runyard.compute.sizes import NodeShape, lookup_vm_size
from runyard.errors import BackendError, InvalidArgument
from runyard.settings import Settings

LOCAL = "local"  # a head Runyard starts on this machine: one node, this machine
SIMULATED = "simulated"  # Ray's autoscaling test cluster on this machine
ATTACHED = "attached"  # an existing cluster at ``address``

#: Settings that executors on other machines get from the submitter (the rest are theirs).
_FORWARDED_REMOTE = ("RUNYARD_HEARTBEAT_S", "RUNYARD_HEARTBEAT_TIMEOUT_S")
#: The GCS address Runyard's drivers in a cluster connect to (else Ray's own RAY_ADDRESS).
RAY_ADDRESS_ENV = "RUNYARD_RAY_ADDRESS"


@dataclass
class ClusterSettings:
    """The parsed config of one cluster target."""

    name: str
    size: NodeShape
    vm_priority: str = "dedicated"
    min_nodes: int = 0
    max_nodes: int = 4
    idle_seconds: float = 1800.0
    address: str | None = None
    simulated_nodes: bool = False
    auth_token_path: str | None = None
    python: str | None = None
    head: HeadInfo | None = None
    node: NodeShape | None = None  # what one node of a local head really offers
    warnings: list[str] = field(default_factory=list)

    @property
    def mode(self) -> str:
        if self.address:
            return ATTACHED
        return SIMULATED if self.simulated_nodes else LOCAL

    @classmethod
    def from_config(cls, name: str, config: dict[str, Any]) -> ClusterSettings:
        head = config.get("head")
        provisioning = config.get("provisioning") or {}
        node = provisioning.get("node")
        return cls(
            name=name,
            size=lookup_vm_size(config.get("vm_size") or "cpu-2"),
            vm_priority=str(config.get("vm_priority") or "dedicated"),
            min_nodes=int(config.get("min_nodes") or 0),
            max_nodes=int(config.get("max_nodes") or 4),
            idle_seconds=float(config.get("idle_seconds_before_scaledown") or 0),
            address=config.get("address") or None,
            simulated_nodes=bool(config.get("simulated_nodes")),
            auth_token_path=config.get("auth_token_path") or None,
            python=config.get("python") or None,
            head=HeadInfo.from_dict(head) if isinstance(head, dict) else None,
            node=NodeShape(**node) if isinstance(node, dict) else None,
            warnings=list(provisioning.get("warnings") or []),
        )

    # -- connecting -------------------------------------------------------------------
    def job_api_address(self) -> str:
        """The job API URL of the cluster.

        Raises:
            BackendError: a head Runyard should have started is not recorded (the target
                was not provisioned).
        """
        if self.address:
            return self.address
        if self.head is None:
            raise BackendError(
                f"Compute target {self.name!r} has no Ray head recorded: it was not "
                "provisioned. Delete it and create it again with ComputeTarget.create()."
            )
        return self.head.address

    def token(self) -> str | None:
        """The cluster's token: the head's own, or for an attached cluster the one its
        ``auth_token_path`` names, else Ray's usual places (``RAY_AUTH_TOKEN``,
        ``RAY_AUTH_TOKEN_PATH``, ``~/.ray/auth_token``); None when there is none."""
        if self.head is not None and not self.address:
            return self.head.token()
        paths = [self.auth_token_path] if self.auth_token_path else []
        if not paths:
            if os.environ.get("RAY_AUTH_TOKEN"):
                return os.environ["RAY_AUTH_TOKEN"].strip()
            paths = [
                os.environ.get("RAY_AUTH_TOKEN_PATH") or "",
                os.path.join(os.path.expanduser("~"), ".ray", "auth_token"),
            ]
        for path in paths:
            if path and os.path.isfile(path):
                with open(path, encoding="utf-8") as fh:
                    return fh.read().strip() or None
        if self.auth_token_path:
            raise InvalidArgument(
                f"auth_token_path {self.auth_token_path!r} of target {self.name!r} does not exist."
            )
        return None

    def executor_python(self) -> str:
        """The interpreter that runs executors on the nodes: the head's for a head Runyard
        started (it has Runyard), else the ``python`` setting or ``python``."""
        if self.head is not None and not self.address:
            return self.head.python
        return self.python or "python"

    def forwarded_environment(self, settings: Settings, *, served: bool = False) -> dict[str, str]:
        """The submitter's settings that executors on the nodes need too: all of them on
        this machine, only the heartbeat on others (their folders are their own) and for a
        team server's runs (``served``: a node keeps its own folders wherever it runs); and,
        for a head Runyard started, its GCS address for the drivers Runyard runs in it."""
        here = not served and (self.mode != ATTACHED or address_is_this_machine(self.address or ""))
        env = settings.to_env()
        if not here:
            env = {name: value for name, value in env.items() if name in _FORWARDED_REMOTE}
        if self.head is not None and self.mode != ATTACHED:
            # Ray's "auto" address reads a file several clusters on one machine may share.
            env[RAY_ADDRESS_ENV] = self.head.gcs_address
        return env


def address_is_this_machine(address: str) -> bool:
    """Whether the job API ``address`` is on this machine (loopback or one of its IPs)."""
    host = urllib.parse.urlparse(address if "://" in address else f"http://{address}").hostname
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        if ipaddress.ip_address(host).is_loopback:
            return True
    except ValueError:
        pass
    try:
        addresses = {(info[0], str(info[4][0])) for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return any(_can_bind(family, ip) for family, ip in addresses)


def _can_bind(family: int, ip: str) -> bool:
    """Whether ``ip`` is an address of this machine: only those can be bound."""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((ip, 0))
        return True
    except OSError:
        return False


def check_server_reaches_nodes(
    access: dict[str, str], target: str, address: str, node_ips: list[str] | None = None
) -> None:
    """Refuse a cluster whose nodes could not reach the team server that hands them
    ``access`` (a run's variables: the server's URL in ``RUNYARD_WORKSPACE``).

    Raises:
        InvalidArgument: the server's URL is a loopback one and the cluster (its address,
            or one of ``node_ips``) is on another machine.
    """
    try:
        server = str(json.loads(access.get("RUNYARD_WORKSPACE", "{}")).get("server") or "")
    except ValueError:
        return
    host = urllib.parse.urlparse(server).hostname or ""
    loopback = host == "localhost"
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if not server or not loopback:
        return
    where = elsewhere(address, node_ips)
    if where:
        raise InvalidArgument(
            f"The Ray cluster of target {target!r} ({where}) is on other machines, but the "
            f"server gives its runs the URL {server}, which only this machine reaches. "
            "Start the server with --public-url set to the URL the nodes reach it at (and "
            "--host to an address they can connect to)."
        )


def elsewhere(address: str, node_ips: list[str] | None) -> str:
    """What of a cluster is on other machines: its address, else its far nodes ("nodes
    IP, IP"); empty when all of it runs here."""
    if not address_is_this_machine(address):
        return address
    far_nodes = sorted({ip for ip in (node_ips or []) if not address_is_this_machine(ip)})
    return f"nodes {', '.join(far_nodes)}" if far_nodes else ""


def workspace_is_machine_local(workspace_config: Any) -> bool:
    """Whether the workspace keeps its history or files where only this machine sees them
    (a SQLite database, a local artifact folder)."""
    tracking = str(workspace_config.resolved_tracking_uri)
    artifacts = str(workspace_config.resolved_artifact_uri)
    return tracking.startswith("sqlite") or "://" not in artifacts or artifacts.startswith("file:")


def check_workspace_reaches_nodes(
    workspace_config: Any, target: str, address: str, node_ips: list[str] | None = None
) -> None:
    """Refuse a cluster whose nodes could not reach an embedded workspace.

    Raises:
        InvalidArgument: the workspace lives on this machine and the cluster (its address,
            or one of ``node_ips``) is elsewhere.
    """
    if not workspace_is_machine_local(workspace_config):
        return
    where = elsewhere(address, node_ips)
    if where:
        raise InvalidArgument(
            f"Workspace {workspace_config.workspace_name!r} is embedded (its run history and "
            f"files are on this machine), so the Ray cluster of target {target!r} ({where}) "
            "cannot record runs in it. Multi-machine clusters need a server workspace: "
            "Workspace.create(name, tracking_uri='postgresql+psycopg://...', "
            "artifact_uri='s3://...') that every node reaches. On one machine, attach to a "
            "cluster whose nodes all run here, or use a target without an address."
        )
