"""A cluster target attached to Ray's own multi-node test cluster (``ray.cluster_utils.Cluster``:
a head and separate raylets on this machine): runs spread over nodes, wait when every node
is busy, fail fast when no node can hold them, and fail (by heartbeat) when their node dies."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

import pytest
from submitting import FAST_LIVENESS, submit_script, wait_for

from runyard.compute.ray.backend import RayComputeBackend
from runyard.compute.ray.dispatcher import dispatcher_job_id
from runyard.compute.ray.jobs import RayJobsClient
from runyard.core import Experiment, Workspace, run_monitor
from runyard.core.compute import AmlCompute, ComputeTarget
from runyard.errors import InvalidArgument

pytest.importorskip("ray", reason="needs Ray: pip install 'runyard[ray]'")
pytestmark = [pytest.mark.ray, pytest.mark.integration, pytest.mark.usefixtures("ray_heartbeat")]

WORKERS = 2


@pytest.fixture(scope="module")
def ray_cluster():
    """A head without CPUs and two 2-CPU worker raylets, all on 127.0.0.1 and free ports, in
    a process of their own."""
    from ray_multinode import MultiNodeCluster

    temp_dir = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's sockets live there
    cluster = MultiNodeCluster(temp_dir, WORKERS, cpus=2)
    yield cluster
    cluster.shutdown()
    shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def attached(ray_cluster, tmp_path_factory):
    address = ray_cluster.address
    ws = Workspace.create("ray-attached", path=tmp_path_factory.mktemp("ray-attached") / "ws")
    ws.resources.settings = FAST_LIVENESS
    config = AmlCompute.provisioning_configuration(
        vm_size="cpu-2", max_nodes=WORKERS, address=address, python=sys.executable
    )
    target = ComputeTarget.create(ws, "shared", config)
    yield ws, target
    target.delete()
    ws.close()


def _submit(ws, target, tmp_path, body, env, **options):
    return submit_script(ws, target, tmp_path, body, env, experiment="attached", **options)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


def test_runs_spread_over_the_nodes_and_the_rest_wait_queued(attached, tmp_path, here):
    ws, target = attached
    runs = [_submit(ws, target, tmp_path, "import time; time.sleep(5)\n", here) for _ in range(3)]
    wait_for(
        lambda: sum(r.get_status() == "Running" for r in runs) == WORKERS,
        what="two runs running at once",
    )
    statuses = sorted(r.get_status() for r in runs)
    assert statuses.count("Queued") == 1, statuses
    running = [r for r in runs if r.get_status() == "Running"]
    nodes = {r.get_details()["placement"]["node"] for r in running}
    assert len(nodes) == WORKERS  # one run per node: each reserves a whole cpu-2 node
    status = target.get_status()
    assert (status.nodes_busy, status.queued_runs) == (WORKERS, 1)
    for run in runs:
        assert run.wait_for_completion()["status"] == "Completed"


def test_gpu_run_fails_at_submit_saying_what_the_cluster_offers(attached, tmp_path, here):
    ws, target = attached
    with pytest.raises(InvalidArgument, match=r"offers: .*2 nodes of 2 CPU, no GPU"):
        _submit(ws, target, tmp_path, "print('never')\n", here, use_gpu=True)
    failed = next(Experiment(ws, "attached").get_runs())
    assert failed.get_status() == "Failed"
    assert "no GPU" in failed.get_details()["error"]["message"]


def test_run_whose_node_dies_ends_failed_saying_why(attached, ray_cluster, tmp_path, here):
    ws, target = attached
    run = _submit(ws, target, tmp_path, "import time; time.sleep(300)\n", here)
    # Running is set just before the script starts; its pid is recorded right after.
    wait_for(lambda: "script" in run.get_details(), what="the script to start")
    node_id = run.get_details()["placement"]["node"]
    ray_cluster.remove_node(node_id)
    try:
        ended = run.wait_for_completion(raise_on_error=False, timeout_seconds=90)
        assert ended["status"] == "Failed"
        # Either the executor went with its Ray worker (its heartbeat stopped), or it saw
        # its worker orphaned (the raylet gone) and said the node was lost.
        message = ended["error"]["message"]
        assert "heart-beating" in message or "node running this run was lost" in message
        script = run.get_details()["script"]["pid"]
        wait_for(
            lambda: not os.path.exists(f"/proc/{script}/cmdline") or _zombie(script),
            timeout=20,
            what="the script to stop",
        )
    finally:
        ray_cluster.add_node()


def test_waiting_on_a_queued_run_replaces_a_dispatcher_that_died(
    attached, ray_cluster, tmp_path, here, monkeypatch
):
    ws, target = attached
    client = RayJobsClient(ray_cluster.address)
    dispatcher = dispatcher_job_id(ws.config.resolved_tracking_uri, target.name)
    client.stop(dispatcher)  # as if it had died with its node
    wait_for(lambda: client.job(dispatcher).is_terminal, what="the dispatcher to stop")
    with monkeypatch.context() as patched:  # a submit that does not start a new one
        patched.setattr(RayComputeBackend, "ensure_dispatcher", lambda self, ws_json: "")
        run = _submit(ws, target, tmp_path, "print('placed after all')\n", here)
    time.sleep(2.0)
    assert run.get_status() == "Queued"  # nobody places it...
    monkeypatch.setattr(run_monitor, "DISPATCH_CHECK_SECONDS", 1.0)
    details = run.wait_for_completion(timeout_seconds=120)  # ...until someone waits on it
    assert details["status"] == "Completed"
    assert client.job(dispatcher).status == "RUNNING"


def test_a_hyperdrive_sweep_runs_its_children_on_the_cluster(attached, tmp_path, here):
    from runyard.core import ScriptRunConfig
    from runyard.train.hyperdrive import GridParameterSampling, HyperDriveConfig, choice

    ws, target = attached
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "train.py").write_text(
        "import sys\nfrom runyard.core import Run\n"
        "Run.get_context().log('score', float(sys.argv[-1]))\n"
    )
    src = ScriptRunConfig(str(folder), "train.py", compute_target=target, environment=here)
    hdc = HyperDriveConfig(
        run_config=src,
        hyperparameter_sampling=GridParameterSampling({"--x": choice(1, 2)}),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=2,
        max_concurrent_runs=2,
    )
    hdr = Experiment(ws, "attached-tune").submit(hdc)
    assert hdr.wait_for_completion(timeout_seconds=120)["status"] == "Completed"
    best = hdr.get_best_run_by_primary_metric()
    assert best.id == f"{hdr.id}_1"
    assert "node" in best.get_details()["placement"]  # placed by the Ray backend
