"""Ray's multi-node test cluster (``ray.cluster_utils.Cluster``) in a process of its own.

Tests drive it through :class:`MultiNodeCluster`; the cluster process reads one command a
line on stdin (``add``, ``remove NODE_ID``, ``quit``) and answers one JSON line. Keeping
Ray out of the test process keeps its threads, files and warnings out of pytest.

    python ray_multinode.py TEMP_DIR WORKERS CPUS_PER_WORKER [NODE_DIRS]

With ``NODE_DIRS``, worker node k keeps Runyard's folders (scratch, environment cache,
home) in ``NODE_DIRS/node-k``, given to its raylet (and so to every process it starts) as
``RUNYARD_SCRATCH``, ``RUNYARD_ENV_CACHE`` and ``RUNYARD_HOME``: nodes that share no
folder, as on separate machines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


def node_folder(node_dirs: str, index: int) -> str:
    """The folder of the ``index``-th worker node added (from 0)."""
    return os.path.join(node_dirs, f"node-{index}")


def _serve(temp_dir: str, workers: int, cpus: int, node_dirs: str | None) -> None:
    from ray.cluster_utils import Cluster

    from runyard.compute.ray.head import free_ports

    gcs, dashboard, client, agent, autoscaler_metrics, dashboard_metrics = free_ports(6)
    os.environ["AUTOSCALER_METRIC_PORT"] = str(autoscaler_metrics)
    os.environ["DASHBOARD_METRIC_PORT"] = str(dashboard_metrics)
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    # Every process of the cluster takes 127.0.0.1 as this machine's address (Ray would
    # otherwise turn "127.0.0.1" into the machine's network address, where the
    # loopback-only servers do not listen).
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    # The test cluster writes its address under Ray's default temporary folder
    # (/tmp/ray), which a fresh machine lacks; keep that file in this cluster's folder.
    os.environ["RAY_TMPDIR"] = temp_dir
    os.makedirs(os.path.join(temp_dir, "ray"), exist_ok=True)
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 0,
            "gcs_server_port": gcs,
            "include_dashboard": True,
            "dashboard_host": "127.0.0.1",
            "dashboard_port": dashboard,
            # Ray's default (52365) may be taken; without its agent the head answers every
            # job submission "No available agent".
            "dashboard_agent_listen_port": agent,
            "ray_client_server_port": client,
            "node_ip_address": "127.0.0.1",
            "temp_dir": temp_dir,
        },
    )

    # Drivers started in the cluster (Runyard's dispatcher) find it through this file in
    # the nodes' temporary folder; Ray's test cluster writes it elsewhere (/tmp/ray).
    import ray

    ray._private.utils.write_ray_address(cluster.gcs_address, temp_dir)

    added = [0]

    def add() -> str:
        options: dict[str, Any] = {}
        if node_dirs is not None:
            folder = node_folder(node_dirs, added[0])
            options["env_vars"] = {
                "RUNYARD_SCRATCH": os.path.join(folder, "scratch"),
                "RUNYARD_ENV_CACHE": os.path.join(folder, "envs"),
                "RUNYARD_HOME": os.path.join(folder, "home"),
            }
        added[0] += 1
        node = cluster.add_node(
            num_cpus=cpus, node_ip_address="127.0.0.1", temp_dir=temp_dir, **options
        )
        return str(node.node_id)

    nodes = [add() for _ in range(workers)]
    _answer({"address": f"http://127.0.0.1:{dashboard}", "nodes": nodes})
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "add":
            _answer({"node": add()})
        elif command == "remove":
            node = next(n for n in cluster.worker_nodes if n.node_id == arg)
            cluster.remove_node(node, allow_graceful=False)
            _answer({"removed": arg})
        else:
            break
    cluster.shutdown()
    _answer({"stopped": True})


def _answer(data: dict[str, Any]) -> None:
    print(json.dumps(data), flush=True)


class MultiNodeCluster:
    """A handle on the cluster process.

    Args:
        temp_dir: Ray's temporary folder (keep it short: Ray's sockets live under it).
        workers: worker raylets to start.
        cpus: CPUs of each worker (the head has none, so runs go to workers).
        node_dirs: where each worker node keeps its own folders (see the module
            docstring); None: the nodes use the folders of this process's environment.
    """

    def __init__(
        self, temp_dir: str, workers: int, cpus: int, node_dirs: str | None = None
    ) -> None:
        extra = [node_dirs] if node_dirs is not None else []
        self._proc = subprocess.Popen(
            [sys.executable, __file__, temp_dir, str(workers), str(cpus), *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        first = self._read()
        self.address: str = first["address"]
        self.nodes: list[str] = list(first["nodes"])

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"The Ray test cluster exited (code {self._proc.wait()}).")
        data: dict[str, Any] = json.loads(line)
        return data

    def _send(self, command: str) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        return self._read()

    def add_node(self) -> str:
        node = str(self._send("add")["node"])
        self.nodes.append(node)
        return node

    def remove_node(self, node_id: str) -> None:
        self._send(f"remove {node_id}")
        self.nodes.remove(node_id)

    def shutdown(self) -> None:
        try:
            self._send("quit")
        finally:
            self._proc.wait(timeout=60)
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()


if __name__ == "__main__":
    _serve(
        sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None
    )
