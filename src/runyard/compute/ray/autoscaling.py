"""A target's node bounds as Ray autoscaler configuration.

``min_nodes``, ``max_nodes`` and ``idle_seconds_before_scaledown`` become one worker node
type of the ``vm_size`` shape with ``min_workers``/``max_workers``, the cluster's
``max_workers`` and ``idle_timeout_minutes``: Ray's own autoscaler adds nodes while runs
wait and removes idle ones, never more than ``max_nodes``.

On one machine the provider is Ray's ``fake_multinode`` provider (its autoscaling test
cluster): each node is a separate raylet on this machine with the resources of its type.
"""

from __future__ import annotations

from typing import Any

from runyard.compute.sizes import NodeShape

HEAD_NODE_TYPE = "ray.head.default"
SIMULATED_OBJECT_STORE_BYTES = 200 * 2**20


def worker_node_type(size: NodeShape) -> str:
    """The autoscaler's name of the worker node type of ``size``."""
    return f"runyard.{size.name}".lower().replace("_", "-")


def autoscaler_config(
    cluster_name: str,
    size: NodeShape,
    *,
    min_nodes: int,
    max_nodes: int,
    idle_seconds: float,
    provider: dict[str, Any],
    extra_worker_resources: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The Ray autoscaler configuration of a target.

    Args:
        cluster_name: the Ray cluster's name.
        size: the worker nodes' shape.
        min_nodes: nodes kept up even when idle.
        max_nodes: nodes never exceeded.
        idle_seconds: how long a node may idle before it is removed.
        provider: the node provider section (``{"type": "fake_multinode", ...}``).
        extra_worker_resources: more resources of each worker node (Ray sets a node's
            ``memory`` from the machine it runs on, so the size's memory is not declared).
    """
    worker_resources: dict[str, float] = {"CPU": size.cpus}
    if size.gpus:
        worker_resources["GPU"] = size.gpus
    worker_resources.update(extra_worker_resources or {})
    return {
        "cluster_name": cluster_name,
        "max_workers": max_nodes,
        "upscaling_speed": float(max(1, max_nodes)),
        "idle_timeout_minutes": idle_seconds / 60.0,
        "provider": {
            "disable_node_updaters": True,
            "disable_launch_config_check": True,
            "use_node_id_as_ip": True,
            **provider,
        },
        "auth": {},
        "available_node_types": {
            HEAD_NODE_TYPE: {"resources": {"CPU": 0}, "node_config": {}, "max_workers": 0},
            worker_node_type(size): {
                "resources": worker_resources,
                "node_config": {},
                "min_workers": min_nodes,
                "max_workers": max_nodes,
            },
        },
        "head_node_type": HEAD_NODE_TYPE,
        "docker": {},
        "initialization_commands": [],
        "setup_commands": [],
        "head_setup_commands": [],
        "worker_setup_commands": [],
        "head_start_ray_commands": [],
        "worker_start_ray_commands": [],
        "file_mounts": {},
        "cluster_synced_files": [],
        "file_mounts_sync_continuously": False,
        "rsync_exclude": [],
        "rsync_filter": [],
    }


def fake_multinode_config(
    cluster_name: str, size: NodeShape, *, min_nodes: int, max_nodes: int, idle_seconds: float
) -> dict[str, Any]:
    """The configuration of a simulated cluster (Ray's autoscaling test cluster)."""
    return autoscaler_config(
        cluster_name,
        size,
        min_nodes=min_nodes,
        max_nodes=max_nodes,
        idle_seconds=idle_seconds,
        provider={"type": "fake_multinode"},
        # Simulated nodes share this machine: a small object store each keeps them light.
        extra_worker_resources={"object_store_memory": SIMULATED_OBJECT_STORE_BYTES},
    )
