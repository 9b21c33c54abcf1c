"""A cluster target on a local Ray head Runyard starts and owns: a real ``ray start --head``,
real Ray jobs, real executors. One head serves the whole module (Ray starts slowly)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from submitting import FAST_LIVENESS, submit_script, wait_for

from runyard.compute.ray.jobs import RayJobsClient
from runyard.compute.ray.settings import ClusterSettings
from runyard.core import Experiment, Run, ScriptRunConfig, Workspace
from runyard.core.compute import AmlCompute, ComputeTarget
from runyard.errors import Unauthorized

pytest.importorskip("ray", reason="needs Ray: pip install 'runyard[ray]'")
pytestmark = [pytest.mark.ray, pytest.mark.integration, pytest.mark.usefixtures("ray_heartbeat")]

TARGET = "gpucluster"


@pytest.fixture(scope="module")
def cluster_ws(tmp_path_factory):
    """A workspace whose target was created by another process, which has exited since:
    the head outlives it. STANDARD_NC6 is larger than this machine and max_nodes=1, so one
    run holds it (test_local_head_shares_the_machine_among_max_nodes covers max_nodes>1)."""
    folder = tmp_path_factory.mktemp("ray-local") / "ws"
    ws = Workspace.create("ray-local", path=folder)
    ws.resources.settings = FAST_LIVENESS
    code = textwrap.dedent(
        f"""
        from runyard.core import Workspace
        from runyard.core.compute import AmlCompute, ComputeTarget
        ws = Workspace.get("ray-local", path={str(folder)!r})
        config = AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6", max_nodes=1)
        ComputeTarget.create(ws, {TARGET!r}, config).wait_for_completion(show_output=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    target = ComputeTarget(ws, TARGET)
    yield ws, target, done.stdout
    target.delete()
    ws.close()


def _submit(ws, target, tmp_path, body, env, **options):
    return submit_script(ws, target, tmp_path, body, env, experiment="ray", **options)


def test_head_started_by_an_exited_process_serves_later_ones(cluster_ws):
    _ws, target, output = cluster_ws
    status = target.get_status()
    assert status.state == "Succeeded"
    assert status.nodes_idle + status.nodes_busy == 1
    assert "this machine has no GPU" in output.lower() or "has no gpu" in output.lower()
    assert target.address.startswith("http://127.0.0.1:")


def test_head_listens_on_loopback_only_and_wants_its_token(cluster_ws):
    _ws, target, _ = cluster_ws
    head = ClusterSettings.from_config(target.name, target._record.config).head
    assert head is not None
    for port in (head.gcs_port, head.dashboard_port):
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        outside = _outside_address()
        if outside:
            with pytest.raises(OSError), socket.create_connection((outside, port), timeout=2):
                pass
    assert head.gcs_port != 6379 and head.dashboard_port != 8265
    with pytest.raises(Unauthorized, match="token"):
        RayJobsClient(head.address, None).jobs()


def test_gpu_run_on_a_machine_without_gpu_runs_on_cpu_and_says_so_first(cluster_ws, tmp_path, here):
    ws, target, _ = cluster_ws
    run = _submit(
        ws,
        target,
        tmp_path,
        """
        import os
        from runyard.core import Run
        run = Run.get_context()
        run.log("accuracy", 0.5)
        os.makedirs("outputs", exist_ok=True)
        open("outputs/model.txt", "w").write("m")
        print("trained on the cpu")
        """,
        here,
        use_gpu=True,
    )
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Completed", details.get("error")
    log = run._read_file("runyard-logs/driver.txt").decode()
    assert log.splitlines()[0].startswith("WARNING: use_gpu=True")
    assert "trained on the cpu" in log
    assert any("runs on the CPU" in w for w in run.get_details()["warnings"])
    assert run.get_metrics()["accuracy"] == 0.5
    assert "outputs/model.txt" in run.get_file_names()
    reserved = run.get_details()["rayDispatch"]
    assert (reserved["cpus"], reserved["gpus"], reserved["memoryBytes"]) == (2.0, 0.0, None)
    assert "no GPU" in reserved["warnings"][0]


def test_run_beyond_what_the_machine_holds_waits_queued_then_runs(cluster_ws, tmp_path, here):
    ws, target, _ = cluster_ws
    first = _submit(ws, target, tmp_path, "import time; time.sleep(6)\n", here)
    wait_for(lambda: first.get_status() == "Running", what="the first run to run")
    second = _submit(ws, target, tmp_path, "print('second')\n", here)
    time.sleep(2)
    assert second.get_status() == "Queued"
    assert "rayDispatch" in second.get_details()  # handed to Ray, waiting for the node
    assert "executor" not in second.get_details()
    assert target.get_status().queued_runs >= 1
    assert first.wait_for_completion()["status"] == "Completed"
    assert second.wait_for_completion()["status"] == "Completed"
    assert Run.get(ws, second.id)._refresh().started_at >= first._refresh().ended_at - 0.5


def test_cancel_stops_a_running_run_and_a_queued_one_never_starts(cluster_ws, tmp_path, here):
    ws, target, _ = cluster_ws
    running = _submit(ws, target, tmp_path, "import time; time.sleep(120)\n", here)
    # Running is set just before the script starts; its pid is recorded right after.
    wait_for(lambda: "script" in running.get_details(), what="the script to start")
    queued = _submit(ws, target, tmp_path, "print('never')\n", here)
    time.sleep(1)
    queued.cancel()
    assert queued.wait_for_completion(raise_on_error=False)["status"] == "Canceled"
    assert "executor" not in queued.get_details()
    script_pid = running.get_details()["script"]["pid"]
    running.cancel()
    assert running.wait_for_completion(raise_on_error=False)["status"] == "Canceled"
    wait_for(lambda: not _alive(script_pid), timeout=20, what="the script to stop")


def test_killed_executor_ends_the_run_failed_by_its_heartbeat(cluster_ws, tmp_path, here):
    ws, target, _ = cluster_ws
    run = _submit(ws, target, tmp_path, "import time; time.sleep(120)\n", here)
    wait_for(lambda: "script" in run.get_details(), what="the script to start")
    details = run.get_details()
    os.kill(details["executor"]["pid"], signal.SIGKILL)
    ended = run.wait_for_completion(raise_on_error=False, timeout_seconds=60)
    assert ended["status"] == "Failed"
    assert "heart-beating" in ended["error"]["message"]
    wait_for(lambda: not _alive(details["script"]["pid"]), timeout=20, what="the script to stop")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"


def _outside_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
            address = str(sock.getsockname()[0])
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_distributed_run_starts_one_process_per_worker_with_its_rank(cluster_ws, tmp_path, here):
    from runyard.core.distributed import TensorflowConfiguration
    from runyard.train.estimator import Estimator

    ws, target, _ = cluster_ws
    folder = tmp_path / "dist"
    folder.mkdir()
    (folder / "train.py").write_text(
        textwrap.dedent(
            """
            import json, os
            rank = os.environ["RANK"]
            config = json.loads(os.environ["TF_CONFIG"])
            print("rank", rank, "of", os.environ["WORLD_SIZE"], "local", os.environ["LOCAL_RANK"])
            print("task", config["task"]["type"], config["task"]["index"])
            print("cluster", len(config["cluster"]["worker"]))
            os.makedirs("outputs", exist_ok=True)
            open(f"outputs/from_rank_{rank}.txt", "w").write(rank)
            """
        )
    )
    estimator = Estimator(
        str(folder),
        entry_script="train.py",
        compute_target=target,
        environment_definition=here,
        node_count=2,
        distributed_training=TensorflowConfiguration(worker_count=2),
    )
    run = Experiment(ws, "ray").submit(estimator)
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=120)
    assert details["status"] == "Completed", details.get("error")
    # The run's status follows the chief; the gang records every process's exit code once
    # all have ended (and the workers' logs are complete).
    wait_for(
        lambda: "exitCode" in run.get_details()["distributed"]["processes"][-1],
        timeout=30,
        what="the exit codes",
    )
    chief = run._read_file("runyard-logs/driver.txt").decode()
    worker = run._read_file("runyard-logs/worker_1.txt").decode()
    assert "rank 0 of 2 local 0" in chief and "task worker 0" in chief
    assert "rank 1 of 2 local 1" in worker and "task worker 1" in worker
    assert "cluster 2" in worker
    outputs = [f for f in run.get_file_names() if f.startswith("outputs/")]
    assert outputs == ["outputs/from_rank_0.txt"]  # only the chief's outputs are uploaded
    processes = run.get_details()["distributed"]["processes"]
    assert [p["exitCode"] for p in processes] == [0, 0]


def test_failing_worker_fails_the_distributed_run_and_stops_the_chief(cluster_ws, tmp_path, here):
    from runyard.core.distributed import PyTorchConfiguration

    ws, target, _ = cluster_ws
    folder = tmp_path / "dist-fail"
    folder.mkdir()
    (folder / "train.py").write_text(
        "import os, sys, time\nif os.environ['RANK'] == '1':\n    sys.exit(3)\ntime.sleep(120)\n"
    )
    config = ScriptRunConfig(
        str(folder),
        "train.py",
        compute_target=target,
        environment=here,
        distributed_job_config=PyTorchConfiguration(process_count=2, node_count=2),
    )
    run = Experiment(ws, "ray").submit(config)
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=90)
    assert details["status"] == "Failed"
    assert "Process 1 of the distributed run" in details["error"]["message"]
    assert "exited with code 3" in details["error"]["message"]


def test_local_head_shares_the_machine_among_max_nodes(tmp_path, here):
    """The notebook's max_nodes=4 on one machine: up to four runs at once, each with its
    share of the CPUs, said at provisioning."""
    ws = Workspace.create("ray-shared", path=tmp_path / "ws")
    ws.resources.settings = FAST_LIVENESS
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6", max_nodes=4)
    target = ComputeTarget.create(ws, "shared4", config)
    try:
        assert any("up to 4 runs at once" in w for w in target.provisioning_configuration_warnings)
        runs = [
            _submit(ws, target, tmp_path, "import time; time.sleep(6)\n", here) for _ in range(4)
        ]
        wait_for(
            lambda: sum(r.get_status() == "Running" for r in runs) == 4,
            timeout=120,
            what="four runs running at once",
        )
        assert {r.get_details()["rayDispatch"]["cpus"] for r in runs} == {0.5}
        for run in runs:
            assert run.wait_for_completion()["status"] == "Completed"
    finally:
        target.delete()
        ws.close()
