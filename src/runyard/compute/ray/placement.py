"""What a run reserves on a Ray cluster, and whether the cluster can ever give it.

As on an AmlCompute cluster, a run gets whole nodes: it reserves one node of the target's
``vm_size`` (its CPUs and GPUs; memory only when the run asks for it, as Ray counts less
memory than a machine has). ``use_gpu=True`` asks for at least one GPU.

- A **local head** offers what this machine has. When a node of ``vm_size`` is larger, the
  run reserves what the machine has instead; a GPU the machine lacks becomes a warning (the
  script runs on the CPU), never a run that waits forever.
- On a **simulated** cluster (Ray's autoscaling test cluster) and an **attached** one, a run
  that no node can hold, and that the nodes the target declares (``vm_size``, up to
  ``max_nodes``) could not hold either, fails at submit with what the cluster offers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runyard.compute.backend import ResourceRequest
from runyard.compute.sizes import NodeShape
from runyard.errors import InvalidArgument

if TYPE_CHECKING:
    from runyard.compute.ray.jobs import RayNode


@dataclass(frozen=True)
class Placement:
    """The Ray resources one run's executor reserves."""

    num_cpus: float
    num_gpus: float
    memory_bytes: int | None = None
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        gpus = f", {self.num_gpus:g} GPU" if self.num_gpus else ""
        memory = f", {self.memory_bytes / 2**30:.1f} GiB" if self.memory_bytes else ""
        return f"{self.num_cpus:g} CPU{gpus}{memory}"


def machine_shape(resources: dict[str, float]) -> NodeShape:
    """A node's shape from the resources Ray reports for it."""
    return NodeShape(
        name="this machine",
        cpus=int(resources.get("CPU", 0)),
        gpus=int(resources.get("GPU", 0)),
        memory_gb=round(resources.get("memory", 0.0) / 2**30, 1),
    )


def local_head_limits(size: NodeShape, machine: NodeShape) -> list[str]:
    """What a local head cannot give of ``size``, in words (empty when it fits)."""
    notes = []
    if size.cpus > machine.cpus:
        notes.append(f"{size.cpus} CPUs asked, this machine has {machine.cpus}")
    if size.gpus > machine.gpus:
        has = f"has {machine.gpus}" if machine.gpus else "has no GPU"
        notes.append(f"{size.gpus} GPU{'s' if size.gpus > 1 else ''} asked, this machine {has}")
    return notes


def local_node_share(size: NodeShape, machine: NodeShape, nodes: int) -> tuple[float, float]:
    """The CPUs and GiB of memory one of ``nodes`` nodes of ``size`` gets on a local head:
    the nodes share this machine fairly (a fraction of a CPU is fine for Ray), and no run
    gets more than its ``size``."""
    nodes = max(1, nodes)
    cpus = min(float(size.cpus), machine.cpus / nodes)
    memory = min(float(size.memory_gb), machine.memory_gb / nodes) if machine.memory_gb else 0.0
    return round(cpus, 3), round(memory, 3)


def place_on_local_head(
    request: ResourceRequest,
    size: NodeShape,
    machine: NodeShape,
    target: str,
    nodes: int = 1,
) -> Placement:
    """A run on a local head, which stands for ``nodes`` nodes of ``size`` sharing this
    machine: each run gets its node's share (:func:`local_node_share`), so up to ``nodes``
    runs go at once."""
    _check_request(request)
    warnings = []
    cpus, _memory = local_node_share(size, machine, nodes)
    wanted_gpus = max(size.gpus, request.gpus)
    gpus = float(min(wanted_gpus, machine.gpus))
    if request.gpus > machine.gpus:
        has = f"only {machine.gpus} GPU(s)" if machine.gpus else "no GPU"
        warnings.append(
            f"The run asks for {request.gpus} GPU(s) (use_gpu=True), but target {target!r} is "
            f"a local Ray head on a machine with {has}: the script runs on the CPU."
        )
    memory = _memory_bytes(request)
    if memory is not None and machine.memory_gb and memory > machine.memory_gb * 2**30:
        raise InvalidArgument(
            f"The run asks for {request.memory_gb:g} GiB of memory; the local Ray head of "
            f"target {target!r} offers {machine.memory_gb:g} GiB."
        )
    return Placement(num_cpus=cpus, num_gpus=gpus, memory_bytes=memory, warnings=warnings)


def place_on_cluster(
    request: ResourceRequest,
    size: NodeShape | None,
    nodes: list[RayNode],
    *,
    target: str,
    address: str,
    can_add_size_nodes: bool,
) -> Placement:
    """A run on a multi-node cluster: one ``size`` node (or just what the run asks for when
    the target declares no size), checked against what the cluster has or can add.

    Args:
        request: what the run asks for.
        size: the target's node size (None: reserve only what the run asks for).
        nodes: the cluster's nodes now.
        target: the target's name, for messages.
        address: the cluster's address, for messages.
        can_add_size_nodes: whether the autoscaler can add ``size`` nodes (the target is
            below ``max_nodes``), so a run that fits a ``size`` node may wait for one.

    Raises:
        InvalidArgument: no node has, and none the target can add would have, what the run
            needs; the message lists what the cluster offers.
    """
    _check_request(request)
    cpus = float(size.cpus) if size is not None else float(request.cpus)
    gpus = float(max(size.gpus if size is not None else 0, request.gpus))
    memory = _memory_bytes(request)
    placement = Placement(num_cpus=cpus, num_gpus=gpus, memory_bytes=memory)
    alive = [n for n in nodes if n.alive]
    if any(_fits(placement, n.resources) for n in alive):
        return placement
    if size is not None and can_add_size_nodes and _fits(placement, _size_resources(size)):
        return placement
    groups: dict[str, list[float]] = {}
    for n in alive:
        groups.setdefault(_offer(n.resources), []).append(n.resources.get("memory", 0.0))
    offered = (
        "; ".join(
            f"{len(mem)} node{'s' if len(mem) > 1 else ''} of {offer}, {max(mem) / 2**30:.1f} GiB"
            for offer, mem in sorted(groups.items())
        )
        or "no live nodes"
    )
    addable = (
        f" Its autoscaler can add {size.name} nodes ({size.describe()})."
        if size is not None and can_add_size_nodes
        else ""
    )
    raise InvalidArgument(
        f"No node of the Ray cluster of target {target!r} ({address}) can hold this run, which "
        f"reserves {placement.describe()}. The cluster offers: {offered}.{addable} Ask for "
        "less (use_gpu=False, a smaller vm_size) or use a target whose nodes are large enough."
    )


def _check_request(request: ResourceRequest) -> None:
    if not (request.cpus > 0 and math.isfinite(request.cpus)):
        raise InvalidArgument(f"A run must ask for a positive number of CPUs, got {request.cpus}.")
    if request.gpus < 0:
        raise InvalidArgument(f"A run cannot ask for {request.gpus} GPUs.")
    if request.memory_gb is not None and not request.memory_gb > 0:
        raise InvalidArgument(f"A run's memory must be positive, got {request.memory_gb} GiB.")


def _memory_bytes(request: ResourceRequest) -> int | None:
    return int(request.memory_gb * 2**30) if request.memory_gb else None


def _size_resources(size: NodeShape) -> dict[str, float]:
    return {"CPU": float(size.cpus), "GPU": float(size.gpus), "memory": size.memory_gb * 2**30}


def _fits(placement: Placement, resources: dict[str, float]) -> bool:
    if placement.num_cpus > resources.get("CPU", 0.0):
        return False
    if placement.num_gpus > resources.get("GPU", 0.0):
        return False
    return not (placement.memory_bytes and placement.memory_bytes > resources.get("memory", 0.0))


def _offer(resources: dict[str, float]) -> str:
    gpus = resources.get("GPU", 0.0)
    gpu = f"{gpus:g} GPU" if gpus else "no GPU"
    return f"{resources.get('CPU', 0.0):g} CPU, {gpu}"


def gang_bundle(placement: Placement, processes: int, per_node: int, *, local: bool) -> Placement:
    """What each process of a distributed run reserves: its share of a node (a local head,
    one node, shares itself among all the processes)."""
    share = processes if local else per_node
    warnings = list(placement.warnings)
    if local and processes > 1:
        warnings.append(
            f"The run's {processes} processes share this machine: a local Ray head is one node."
        )
    return Placement(
        num_cpus=placement.num_cpus / share,
        num_gpus=placement.num_gpus / share,
        memory_bytes=None if placement.memory_bytes is None else placement.memory_bytes // share,
        warnings=warnings,
    )


def check_gang_fits(
    bundle: Placement,
    processes: int,
    nodes: list[RayNode],
    size: NodeShape | None,
    addable_nodes: int,
    *,
    target: str,
) -> None:
    """Refuse a distributed run the cluster can never hold all at once.

    Raises:
        InvalidArgument: the live nodes, with the ``addable_nodes`` nodes of ``size`` the
            autoscaler may still add, hold fewer than ``processes`` bundles.
    """
    capacity = sum(_how_many(bundle, n.resources) for n in nodes if n.alive)
    if size is not None:
        capacity += addable_nodes * _how_many(bundle, _size_resources(size))
    if capacity < processes:
        raise InvalidArgument(
            f"The run starts {processes} processes of {bundle.describe()} each, but the Ray "
            f"cluster of target {target!r} can hold only {capacity} at once (with the nodes "
            "its autoscaler may add). Ask for fewer processes (node_count, worker_count) or "
            "raise max_nodes."
        )


def _how_many(bundle: Placement, resources: dict[str, float]) -> int:
    counts = []
    if bundle.num_cpus:
        counts.append(int(resources.get("CPU", 0.0) // bundle.num_cpus))
    if bundle.num_gpus:
        counts.append(int(resources.get("GPU", 0.0) // bundle.num_gpus))
    if bundle.memory_bytes:
        counts.append(int(resources.get("memory", 0.0) // bundle.memory_bytes))
    return min(counts) if counts else 0
