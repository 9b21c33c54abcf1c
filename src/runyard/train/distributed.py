"""Distributed training configurations, as in SDK v1 (``azureml.core.runconfig``):
``TensorflowConfiguration``, ``PyTorchConfiguration``, ``MpiConfiguration``.

One run, several processes: on a cluster target each process gets a node of its own (Ray
places them), and each finds its place in the job through the variables its framework
reads (see :func:`process_environment`):

- TensorFlow: ``TF_CONFIG`` (``{"cluster": {"worker": [...], "ps": [...]}, "task": {...}}``);
- PyTorch: ``MASTER_ADDR``, ``MASTER_PORT``, ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``...;
- MPI: the same ranks, and Open MPI's ``OMPI_COMM_WORLD_RANK``/``_SIZE``/``_LOCAL_RANK``
  (the processes are started by Runyard, not by ``mpirun``).

Every process gets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE`` and
``NODE_RANK``. Rank 0 is the chief: it carries the run, its log is ``driver.txt`` and its
``./outputs`` are uploaded; rank N logs to ``runyard-logs/worker_N.txt``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from runyard.errors import InvalidArgument


def _count(name: str, value: Any, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidArgument(f"{name} must be a whole number >= {minimum}, got {value!r}.")
    return value


class TensorflowConfiguration:
    """TensorFlow's distribution: ``worker_count`` workers (and parameter servers).

    Args:
        worker_count: worker processes, one per node; worker 0 is the chief.
        parameter_server_count: parameter-server processes, one per node.

    Raises:
        InvalidArgument: a count that is not a whole number (workers >= 1, servers >= 0).
    """

    def __init__(self, worker_count: int = 1, parameter_server_count: int = 0) -> None:
        self.worker_count = _count("worker_count", worker_count, 1)
        self.parameter_server_count = _count("parameter_server_count", parameter_server_count, 0)

    @property
    def node_count(self) -> int:
        """Nodes the run needs: one per process."""
        return self.worker_count + self.parameter_server_count

    def _to_dict(self) -> dict[str, Any]:
        return {
            "kind": "tensorflow",
            "worker_count": self.worker_count,
            "parameter_server_count": self.parameter_server_count,
        }

    def __repr__(self) -> str:
        return (
            f"TensorflowConfiguration(worker_count={self.worker_count}, "
            f"parameter_server_count={self.parameter_server_count})"
        )


class PyTorchConfiguration:
    """PyTorch's distribution (``torch.distributed``): ``process_count`` processes over
    ``node_count`` nodes.

    Args:
        communication_backend: ``Nccl`` or ``Gloo`` (recorded; the script picks its backend).
        process_count: processes in all (default: one per node).
        node_count: nodes.

    Raises:
        InvalidArgument: counts that are not whole numbers >= 1, or fewer processes than
            nodes.
    """

    def __init__(
        self,
        communication_backend: str = "Nccl",
        process_count: int | None = None,
        node_count: int = 1,
    ) -> None:
        self.communication_backend = communication_backend
        self.node_count = _count("node_count", node_count, 1)
        self.process_count = (
            self.node_count if process_count is None else _count("process_count", process_count, 1)
        )
        if self.process_count < self.node_count:
            raise InvalidArgument(
                f"process_count ({self.process_count}) is less than node_count "
                f"({self.node_count}); give at least one process per node."
            )

    def _to_dict(self) -> dict[str, Any]:
        return {
            "kind": "pytorch",
            "process_count": self.process_count,
            "node_count": self.node_count,
            "communication_backend": self.communication_backend,
        }

    def __repr__(self) -> str:
        return (
            f"PyTorchConfiguration(process_count={self.process_count}, "
            f"node_count={self.node_count})"
        )


class MpiConfiguration:
    """MPI-style distribution: ``process_count_per_node`` processes on each of
    ``node_count`` nodes.

    Raises:
        InvalidArgument: counts that are not whole numbers >= 1.
    """

    def __init__(self, process_count_per_node: int = 1, node_count: int = 1) -> None:
        self.process_count_per_node = _count("process_count_per_node", process_count_per_node, 1)
        self.node_count = _count("node_count", node_count, 1)

    def _to_dict(self) -> dict[str, Any]:
        return {
            "kind": "mpi",
            "process_count_per_node": self.process_count_per_node,
            "node_count": self.node_count,
        }

    def __repr__(self) -> str:
        return (
            f"MpiConfiguration(process_count_per_node={self.process_count_per_node}, "
            f"node_count={self.node_count})"
        )


@dataclass(frozen=True)
class Layout:
    """How many processes a run starts, and of which kind."""

    kind: str  # tensorflow | pytorch | mpi | none
    processes: int
    per_node: int
    workers: int  # TensorFlow: worker tasks (the rest are parameter servers)

    @property
    def nodes(self) -> int:
        return -(-self.processes // self.per_node)


def describe_distribution(config: Any, node_count: int = 1) -> dict[str, Any] | None:
    """A distribution (a configuration above, SDK v1's ``Mpi()``/``ParameterServer()``, a
    name, or None) as the JSON a run definition keeps; None for a single process.

    Raises:
        InvalidArgument: something that is not a distribution.
    """
    if config is None:
        return None if node_count <= 1 else {"kind": "none", "node_count": node_count}
    to_dict = getattr(config, "_to_dict", None)
    if callable(to_dict):
        described: dict[str, Any] = dict(to_dict())
    elif isinstance(config, str):
        described = {"kind": config.lower()}
    else:
        name = type(config).__name__.lower()
        if not any(k in name for k in ("mpi", "parameterserver", "tensorflow", "pytorch")):
            raise InvalidArgument(
                f"distributed_training must be a TensorflowConfiguration, PyTorchConfiguration "
                f"or MpiConfiguration, got {type(config).__name__}."
            )
        described = {"kind": name}
        for key in ("worker_count", "parameter_server_count", "process_count_per_node"):
            value = getattr(config, key, None)
            if isinstance(value, int):
                described[key] = value
    described.setdefault("node_count", node_count)
    return described


def layout_of(distributed: dict[str, Any] | None, node_count: int = 1) -> Layout:
    """The processes a run definition's ``distributed`` entry asks for (the estimator's
    ``node_count`` when it names none)."""
    if not distributed:
        return Layout("none", node_count, 1, node_count)
    kind = str(distributed.get("kind") or "none").lower()
    nodes = int(distributed.get("node_count") or distributed.get("nodeCount") or node_count)
    if "tensorflow" in kind or "parameterserver" in kind:
        workers = int(distributed.get("worker_count") or nodes)
        servers = int(distributed.get("parameter_server_count") or 0)
        return Layout("tensorflow", workers + servers, 1, workers)
    if "pytorch" in kind:
        processes = int(distributed.get("process_count") or nodes)
        return Layout("pytorch", processes, max(1, processes // nodes), processes)
    if "mpi" in kind:
        per_node = int(distributed.get("process_count_per_node") or 1)
        return Layout("mpi", per_node * nodes, per_node, per_node * nodes)
    return Layout("none", nodes, 1, nodes)


def process_environment(
    layout: Layout, rank: int, endpoints: list[tuple[str, int]], node_ids: list[str]
) -> dict[str, str]:
    """The variables process ``rank`` of the run starts with.

    Args:
        layout: the run's processes.
        rank: this process's rank (0: the chief).
        endpoints: ``(host, port)`` of every process, by rank (a free port on its node).
        node_ids: the node of every process, by rank.
    """
    world = len(endpoints)
    on_my_node = [r for r in range(world) if node_ids[r] == node_ids[rank]]
    nodes_in_order = list(dict.fromkeys(node_ids))
    host, port = endpoints[0]
    env = {
        "RANK": str(rank),
        "WORLD_SIZE": str(world),
        "LOCAL_RANK": str(on_my_node.index(rank)),
        "LOCAL_WORLD_SIZE": str(len(on_my_node)),
        "NODE_RANK": str(nodes_in_order.index(node_ids[rank])),
        "GROUP_RANK": str(nodes_in_order.index(node_ids[rank])),
        "MASTER_ADDR": host,
        "MASTER_PORT": str(port),
        "RUNYARD_DISTRIBUTED_KIND": layout.kind,
    }
    if layout.kind == "tensorflow":
        addresses = [f"{h}:{p}" for h, p in endpoints]
        cluster: dict[str, list[str]] = {"worker": addresses[: layout.workers]}
        if layout.processes > layout.workers:
            cluster["ps"] = addresses[layout.workers :]
        task = (
            {"type": "worker", "index": rank}
            if rank < layout.workers
            else {"type": "ps", "index": rank - layout.workers}
        )
        env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": task})
    if layout.kind == "mpi":
        env["OMPI_COMM_WORLD_RANK"] = env["RANK"]
        env["OMPI_COMM_WORLD_SIZE"] = env["WORLD_SIZE"]
        env["OMPI_COMM_WORLD_LOCAL_RANK"] = env["LOCAL_RANK"]
        env["OMPI_COMM_WORLD_LOCAL_SIZE"] = env["LOCAL_WORLD_SIZE"]
    return env
