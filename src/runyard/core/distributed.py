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

from typing import Any

from runyard.entities.definition import DistributedSpec
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


def describe_distribution(config: Any, node_count: int = 1) -> DistributedSpec | None:
    """A distribution (a configuration above, SDK v1's ``Mpi()``/``ParameterServer()``, a
    name, or None) as the run definition keeps it; None for a single process.

    Raises:
        InvalidArgument: something that is not a distribution.
    """
    if config is None:
        return None if node_count <= 1 else DistributedSpec("none", node_count)
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
    kind = str(described.get("kind") or "none").lower()
    for name, words in _KIND_WORDS.items():
        if any(w in kind for w in words):
            described["kind"] = name
            break
    else:
        described["kind"] = "none"
    return DistributedSpec.from_dict(described)


_KIND_WORDS = {
    "tensorflow": ("tensorflow", "parameterserver"),
    "pytorch": ("pytorch",),
    "mpi": ("mpi",),
}
