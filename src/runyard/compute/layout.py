"""How many processes one run starts, and what each is told of its place in the job.

Every process gets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE`` and
``NODE_RANK``; TensorFlow's get ``TF_CONFIG``, PyTorch's ``MASTER_ADDR``/``MASTER_PORT``,
MPI's Open MPI's ``OMPI_COMM_WORLD_*`` (the processes are started by Runyard, not by
``mpirun``). Rank 0 is the chief: it carries the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from runyard.entities.definition import DistributedSpec


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


def layout_of(distributed: DistributedSpec | None, node_count: int = 1) -> Layout:
    """The processes a run definition's distribution asks for (the estimator's
    ``node_count`` when it names none)."""
    if distributed is None:
        return Layout("none", node_count, 1, node_count)
    nodes = distributed.node_count or node_count
    if distributed.kind == "tensorflow":
        workers = distributed.worker_count or nodes
        servers = distributed.parameter_server_count or 0
        return Layout("tensorflow", workers + servers, 1, workers)
    if distributed.kind == "pytorch":
        processes = distributed.process_count or nodes
        return Layout("pytorch", processes, max(1, processes // nodes), processes)
    if distributed.kind == "mpi":
        per_node = distributed.process_count_per_node or 1
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
