"""ClusterCompute (SDK v1: ``AmlCompute``): a cluster of nodes, backed by Ray.

::

    config = AmlCompute.provisioning_configuration(vm_size='STANDARD_NC6', max_nodes=4)
    target = ComputeTarget.create(ws, 'gpucluster', config)
    target.wait_for_completion(show_output=True)

Without ``address``, Runyard starts and owns a Ray head on this machine (it outlives this
process and stops with ``target.delete()``); with ``address``, the target attaches to an
existing Ray cluster. See docs/compute.md.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

from runyard.core.compute_target import ComputeProvisioningConfiguration, ComputeTarget
from runyard.errors import InvalidArgument

VM_PRIORITIES = ("dedicated", "lowpriority")
#: Bounds on a target's node counts and idle time: past them a value is a typo.
MAX_NODES = 10_000
MAX_IDLE_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class ScaleSettings:
    """SDK v1's ``target.scale_settings``."""

    minimum_node_count: int
    maximum_node_count: int
    node_idle_time_before_scale_down: int


class ClusterCompute(ComputeTarget):
    """A cluster target: runs go to Ray nodes of the ``vm_size`` shape, at most
    ``max_nodes`` of them, and wait (Queued) when every node is busy."""

    _kind = "cluster"
    _type_name = "AmlCompute"

    @staticmethod
    def provisioning_configuration(
        vm_size: str = "cpu-2",
        vm_priority: str = "dedicated",
        min_nodes: int = 0,
        max_nodes: int = 4,
        idle_seconds_before_scaledown: float = 1800,
        admin_username: str | None = None,
        admin_user_password: str | None = None,
        admin_user_ssh_key: str | None = None,
        vnet_resourcegroup_name: str | None = None,
        vnet_name: str | None = None,
        subnet_name: str | None = None,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        remote_login_port_public_access: str = "NotSpecified",
        identity_type: str | None = None,
        identity_id: list[str] | None = None,
        location: str | None = None,
        enable_node_public_ip: bool = True,
        *,
        address: str | None = None,
        simulated_nodes: bool = False,
        auth_token_path: str | None = None,
        python: str | None = None,
    ) -> ComputeProvisioningConfiguration:
        """Settings of a cluster target.

        The Azure-only settings (admin user, virtual network, identity, location, public
        IP) are accepted so SDK v1 code runs unchanged, and ignored.

        Args:
            vm_size: the node shape: an Azure size (``STANDARD_NC6``, ``Standard_D2_v3``)
                or a generic one (``cpu-4``, ``gpu-1``); see docs/compute.md.
            vm_priority: ``dedicated`` or ``lowpriority`` (recorded; Ray has no such thing).
            min_nodes: nodes kept up when idle (attached and simulated clusters).
            max_nodes: at most this many nodes; runs beyond them wait, Queued.
            idle_seconds_before_scaledown: how long a node idles before it is removed.
            tags: tags of the target.
            description: a description of the target.
            address: attach to the Ray cluster whose dashboard (job API) is at this URL,
                e.g. ``http://head:8265``; without it, a Ray head is started on this machine.
            simulated_nodes: start Ray's autoscaling test cluster on this machine instead
                of a single head: ``vm_size`` nodes added and removed by Ray's autoscaler,
                each a separate raylet sharing this machine (for trying scale-out).
            auth_token_path: the attached cluster's token file (default: Ray's own places,
                ``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH``, ``~/.ray/auth_token``).
            python: the interpreter with Runyard installed on an attached cluster's nodes
                (default ``python``).

        Raises:
            InvalidArgument: an unknown ``vm_size`` (the message lists the known ones), a
                bad priority, node counts that are not whole numbers with
                ``0 <= min_nodes <= max_nodes``, ``max_nodes < 1``, a negative idle time,
                a bad address, or ``address`` with ``simulated_nodes``.
        """
        from runyard.compute.addresses import normalise_address
        from runyard.compute.sizes import lookup_vm_size

        size = lookup_vm_size(vm_size)
        priority = str(vm_priority).lower() if isinstance(vm_priority, str) else vm_priority
        if priority not in VM_PRIORITIES:
            raise InvalidArgument(
                f"vm_priority must be one of {', '.join(VM_PRIORITIES)}, got {vm_priority!r}."
            )
        _check_count("min_nodes", min_nodes, minimum=0)
        _check_count("max_nodes", max_nodes, minimum=1)
        if min_nodes > max_nodes:
            raise InvalidArgument(
                f"min_nodes ({min_nodes}) is more than max_nodes ({max_nodes}); give "
                "min_nodes <= max_nodes."
            )
        if (
            not isinstance(idle_seconds_before_scaledown, numbers.Real)
            or isinstance(idle_seconds_before_scaledown, bool)
            or not math.isfinite(idle_seconds_before_scaledown)
            or idle_seconds_before_scaledown < 0
            or idle_seconds_before_scaledown > MAX_IDLE_SECONDS
        ):
            raise InvalidArgument(
                "idle_seconds_before_scaledown must be a number of seconds from 0 to "
                f"{MAX_IDLE_SECONDS} (30 days), got "
                f"{idle_seconds_before_scaledown!r}."
            )
        if address is not None:
            address = normalise_address(address)
            if simulated_nodes:
                raise InvalidArgument(
                    "simulated_nodes=True starts a cluster on this machine; it cannot be "
                    "combined with address (an existing cluster). Give one of them."
                )
        if tags is not None and not isinstance(tags, dict):
            raise InvalidArgument(f"tags must be a dict of name -> value, got {tags!r}.")
        config: dict[str, Any] = {
            "vm_size": size.name,
            "vm_priority": priority,
            "min_nodes": min_nodes,
            "max_nodes": max_nodes,
            "idle_seconds_before_scaledown": idle_seconds_before_scaledown,
            "address": address,
            "simulated_nodes": bool(simulated_nodes),
            "auth_token_path": auth_token_path,
            "python": python,
            "tags": {str(k): str(v) for k, v in (tags or {}).items()},
            "description": description,
        }
        return ComputeProvisioningConfiguration("cluster", config)

    # -- what it is -------------------------------------------------------------------
    @property
    def vm_size(self) -> str:
        return str(self._record.config.get("vm_size"))

    @property
    def vm_priority(self) -> str:
        return str(self._record.config.get("vm_priority", "dedicated"))

    @property
    def scale_settings(self) -> ScaleSettings:
        config = self._record.config
        return ScaleSettings(
            minimum_node_count=int(config.get("min_nodes") or 0),
            maximum_node_count=int(config.get("max_nodes") or 1),
            node_idle_time_before_scale_down=int(config.get("idle_seconds_before_scaledown") or 0),
        )

    @property
    def provisioning_configuration_warnings(self) -> list[str]:
        """What provisioning could not give as asked (a local head smaller than
        ``vm_size``, no GPU), in words."""
        return list((self._record.config.get("provisioning") or {}).get("warnings") or [])

    def list_nodes(self) -> list[dict[str, Any]]:
        """The cluster's live nodes: id, IP, whether it is the head, resources."""
        nodes: list[dict[str, Any]] = self.get_status().details.get("nodes") or []
        return nodes

    def wait_for_completion(
        self,
        show_output: bool = False,
        min_node_count: int | None = None,
        timeout_in_minutes: float = 25,
        is_delete_operation: bool = False,
    ) -> None:
        """Wait until the cluster is up (and has ``min_node_count`` nodes); with
        ``show_output``, say first what provisioning could not give as asked.

        Raises:
            InvalidArgument: ``min_node_count`` more than a local head (one node) or than
                ``max_nodes`` can ever have.
            BackendError: the cluster cannot be reached, or was not ready in time.
        """
        if show_output:
            for warning in self.provisioning_configuration_warnings:
                print(f"Warning: {warning}", flush=True)
            for note in (self._record.config.get("provisioning") or {}).get("notes") or []:
                print(f"Note: {note}", flush=True)
        if min_node_count is not None:
            config = self._record.config
            most = 1 if not (config.get("address") or config.get("simulated_nodes")) else None
            most = most or int(config.get("max_nodes") or 1)
            if min_node_count > most:
                raise InvalidArgument(
                    f"min_node_count={min_node_count}, but target {self.name!r} has at most "
                    f"{most} node{'s' if most > 1 else ''}."
                )
        super().wait_for_completion(
            show_output, min_node_count, timeout_in_minutes, is_delete_operation
        )


AmlCompute = ClusterCompute


def _check_count(name: str, value: Any, *, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidArgument(f"{name} must be a whole number >= {minimum}, got {value!r}.")
    if value > MAX_NODES:
        raise InvalidArgument(
            f"{name}={value} is beyond the {MAX_NODES} nodes Runyard accepts for one target "
            "(Ray clusters are proven to a few thousand nodes)."
        )
