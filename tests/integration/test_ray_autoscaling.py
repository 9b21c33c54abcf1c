"""Scale-out through Ray's own autoscaler: a simulated cluster target (Ray's autoscaling test
cluster, each node a raylet on this machine) grows while runs wait, never beyond
``max_nodes``, shrinks after ``idle_seconds_before_scaledown``, and stops with ``delete()``."""

from __future__ import annotations

import textwrap
import threading

import pytest
from submitting import wait_for

from runyard.compute.ray.jobs import RayJobsClient
from runyard.compute.ray.settings import ClusterSettings
from runyard.core import Environment, Experiment, ScriptRunConfig
from runyard.core.compute import AmlCompute, ComputeTarget
from runyard.node import processes

pytest.importorskip("ray", reason="needs Ray: pip install 'runyard[ray]'")
pytestmark = [pytest.mark.ray, pytest.mark.integration]

MAX_NODES = 2


def test_simulated_cluster_scales_out_to_max_nodes_then_in_and_delete_stops_it(
    ws, tmp_path, monkeypatch
):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    config = AmlCompute.provisioning_configuration(
        vm_size="cpu-1",
        min_nodes=0,
        max_nodes=MAX_NODES,
        idle_seconds_before_scaledown=5,
        simulated_nodes=True,
    )
    target = ComputeTarget.create(ws, "sim", config)
    settings = ClusterSettings.from_config(target.name, target._record.config)
    assert settings.head is not None
    try:
        client = RayJobsClient(settings.head.address, settings.head.token())
        assert _workers(client) == 0  # min_nodes=0: nothing runs until runs wait
        seen: list[int] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_sample, args=(client, seen, stop), daemon=True)
        sampler.start()
        env = Environment("current")
        env.python.user_managed_dependencies = True
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "train.py").write_text(textwrap.dedent("import time\ntime.sleep(4)\n"))
        runs = [
            Experiment(ws, "sim").submit(
                ScriptRunConfig(
                    str(tmp_path / "src"), "train.py", compute_target=target, environment=env
                )
            )
            for _ in range(MAX_NODES + 2)
        ]
        assert all(r.get_status() == "Queued" for r in runs)
        for run in runs:
            assert run.wait_for_completion(timeout_seconds=240)["status"] == "Completed"
        nodes_used = {r.get_details()["placement"]["node"] for r in runs}
        stop.set()
        sampler.join(timeout=10)
        assert max(seen) == MAX_NODES, seen  # grew to max_nodes, never beyond
        assert len(nodes_used) == MAX_NODES
        wait_for(lambda: _workers(client) == 0, 120, "idle nodes to go", poll=0.5)
    finally:
        target.delete()
    assert not processes.group_alive(settings.head.pgid)


def _workers(client: RayJobsClient) -> int:
    return sum(1 for n in client.nodes() if n.alive and not n.is_head)


def _sample(client: RayJobsClient, seen: list[int], stop: threading.Event) -> None:
    while not stop.wait(0.5):
        seen.append(_workers(client))
