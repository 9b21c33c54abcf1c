"""The multi-node proof: a team server runs the seed walkthrough's flow on Ray's multi-node
test cluster, and the nodes reach the workspace only over HTTP with their runs' tokens.

The cluster (a head without CPUs and two 2-CPU worker raylets on this machine) is attached
to the server's workspace as a compute target; each worker node keeps its folders
(scratch, environment cache, home) in a folder of its own, and no node is told where the
server's workspace lives. A client of the server (a config naming only the server's URL)
uploads the real MNIST files to the default datastore through the API, submits two short
training scripts (scikit-learn on MNIST, one per node), waits, reads their metrics,
registers a model and downloads it. Each script records the environment it and every
Runyard process above it ran with; the test asserts that none held the database, the
storage folders or any of the server's settings, only the server's URL and a token scoped
to its own run.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from runyard.core import Experiment, ScriptRunConfig, Workspace
from runyard.core.compute import AmlCompute, ComputeTarget
from runyard.server.auth import Role
from runyard.server.identity import open_identity_store
from server_process import ServerProcess, start_server
from waiting import wait_for

pytest.importorskip("ray", reason="needs Ray: pip install 'runyard[ray]'")
pytest.importorskip("sklearn", reason="the training script needs scikit-learn")
pytestmark = [pytest.mark.integration, pytest.mark.ray]

REPO = Path(__file__).resolve().parents[3]
MNIST = Path(os.environ.get("MNIST_DIR", REPO.parent / "shared" / "data" / "mnist"))
WORKERS = 2

#: The training script: reads MNIST from the mounted datastore path, fits a linear model
#: a few passes (logging each), writes ./outputs, and records the environment of itself
#: and of each process above it up to the Ray worker that started the run.
TRAIN = '''
    import argparse, gzip, json, os
    import numpy as np
    from sklearn.linear_model import SGDClassifier
    from runyard.core import Run

    parser = argparse.ArgumentParser()
    parser.add_argument("--data-folder", required=True)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    def idx(name, images):
        with gzip.open(os.path.join(args.data_folder, name)) as fh:
            data = np.frombuffer(fh.read(), np.uint8, offset=16 if images else 8)
        return data.reshape(-1, 784).astype(np.float32) / 255.0 if images else data

    x_train = idx("train-images-idx3-ubyte.gz", True)[:20000]
    y_train = idx("train-labels-idx1-ubyte.gz", False)[:20000]
    x_test = idx("t10k-images-idx3-ubyte.gz", True)
    y_test = idx("t10k-labels-idx1-ubyte.gz", False)

    run = Run.get_context()
    model = SGDClassifier(loss="log_loss", alpha=1e-4, random_state=0)
    for epoch in range(args.epochs):
        model.partial_fit(x_train, y_train, classes=np.arange(10))
        run.log("Accuracy", float(model.score(x_test, y_test)))
    run.log("Final test accuracy", float(model.score(x_test, y_test)))

    def ancestry():
        """This process and each one above it, up to the Ray worker that runs the job."""
        pid, seen = os.getpid(), []
        while pid > 1:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    cmd = fh.read().replace(b"\\0", b" ").decode(errors="replace").strip()
                with open(f"/proc/{pid}/environ", "rb") as fh:
                    env = dict(
                        item.decode(errors="replace").partition("=")[::2]
                        for item in fh.read().split(b"\\0") if item
                    )
                with open(f"/proc/{pid}/stat") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                break
            if "default_worker" in cmd or "raylet" in cmd:
                break  # Ray's own process, not Runyard's
            seen.append({"pid": pid, "cmd": cmd, "env": env})
            pid = parent
        return seen

    os.makedirs("outputs/model", exist_ok=True)
    np.savez("outputs/model/model.npz", coef=model.coef_, intercept=model.intercept_)
    with open("outputs/seen.json", "w") as fh:
        json.dump({"cwd": os.getcwd(), "data": args.data_folder, "processes": ancestry()}, fh)
'''


@pytest.fixture(scope="module")
def cluster_dirs():
    """Short folders (Ray's sockets live under the temporary one) for the cluster."""
    root = tempfile.mkdtemp(prefix="rmn", dir="/tmp")
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def ray_cluster(cluster_dirs):
    from ray_multinode import MultiNodeCluster

    nodes = os.path.join(cluster_dirs, "n")
    cluster = MultiNodeCluster(os.path.join(cluster_dirs, "ray"), WORKERS, cpus=2, node_dirs=nodes)
    yield cluster
    cluster.shutdown()


@pytest.fixture
def server(tmp_path: Path):
    Workspace.create("team", path=tmp_path / "team").close()
    started = start_server(
        str(tmp_path / "team"),
        log_dir=str(tmp_path),
        extra_args=["--home", str(tmp_path / "home")],
        env={
            "RUNYARD_SCRATCH": str(tmp_path / "server-scratch"),
            "RUNYARD_HEARTBEAT_S": "0.5",
            "RUNYARD_HEARTBEAT_TIMEOUT_S": "5",
        },
        # The runs get this URL (another name of this machine): --public-url reaches them.
        public_host="localhost",
    )
    yield started
    started.stop()


def _client(tmp_path: Path, server: ServerProcess, name: str, token: str, monkeypatch) -> Workspace:
    """A client workspace of the server (its config names only the server) acting with
    ``token``."""
    folder = tmp_path / name / ".runyard"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps({"workspace_name": "team", "server": server.url}), encoding="utf-8"
    )
    monkeypatch.setenv("RUNYARD_TOKEN", token)
    return Workspace.from_config(str(tmp_path / name))


def test_the_seed_flow_runs_on_ray_nodes_that_reach_the_server_only_over_http(
    ray_cluster, cluster_dirs, server: ServerProcess, here, tmp_path: Path, monkeypatch
) -> None:
    if not (MNIST / "train-images-idx3-ubyte.gz").exists():
        pytest.fail(f"The MNIST files are missing from {MNIST}; set MNIST_DIR.")
    identity = open_identity_store(server.home)
    try:
        identity.create_user("colin")
        identity.set_member("team", "colin", Role.CONTRIBUTOR)
        colin_token = identity.create_token("colin", "laptop").secret
    finally:
        identity.close()

    # The server's administrator attaches the running cluster, through the API.
    admin = _client(tmp_path, server, "admin", str(server.token), monkeypatch)
    try:
        config = AmlCompute.provisioning_configuration(
            vm_size="cpu-2", max_nodes=WORKERS, address=ray_cluster.address, python=sys.executable
        )
        ComputeTarget.create(admin, "nodes", config)
    finally:
        admin.close()

    ws = _client(tmp_path, server, "colin", colin_token, monkeypatch)
    try:
        ds = ws.get_default_datastore()
        ds.upload(src_dir=str(MNIST), target_path="mnist", overwrite=True, show_progress=False)
        source = tmp_path / "src"
        source.mkdir()
        (source / "train.py").write_text(textwrap.dedent(TRAIN))
        target = ComputeTarget(ws, "nodes")
        exp = Experiment(ws, "mnist-nodes")
        runs = [
            exp.submit(
                ScriptRunConfig(
                    str(source),
                    "train.py",
                    arguments=["--data-folder", ds.path("mnist").as_mount(), "--epochs", 2],
                    compute_target=target,
                    environment=here,
                )
            )
            for _ in range(WORKERS)
        ]
        nodes = set()
        for run in runs:
            details = run.wait_for_completion(timeout_seconds=300)
            driver = run._read_file("runyard-logs/driver.txt").decode(errors="replace")
            assert details["status"] == "Completed", driver + server.log()[-5000:]
            metrics = run.get_metrics()
            assert len(metrics["Accuracy"]) == 2
            assert metrics["Final test accuracy"] > 0.85
            seen_path = tmp_path / f"seen-{run.id}.json"
            run.download_file("outputs/seen.json", str(seen_path))
            seen = json.loads(seen_path.read_text())
            node = run.get_details()["placement"]["node"]
            nodes.add(node)
            _assert_reached_only_over_http(seen, run.id, server, tmp_path, cluster_dirs)

        # Each run had a node of its own (a 2-CPU run fills a 2-CPU node).
        assert len(nodes) == WORKERS and nodes <= set(ray_cluster.nodes)

        # The walkthrough's end: register the model and download it, all through the API.
        model = runs[0].register_model(model_name="sgd-mnist", model_path="outputs/model")
        assert (model.name, model.version) == ("sgd-mnist", 1)
        downloaded = Path(model.download(str(tmp_path / "downloaded")))
        assert (downloaded / "model.npz").stat().st_size > 7840

        # The runs' metrics and files came in as HTTP requests to the server, with the
        # runs' own tokens (the access log names the token's user and id).
        requests = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
        seen_requests = {(r["method"], r["path"], r["status"]) for r in requests}
        assert ("POST", "/api/v1/workspaces/team/metrics", 204) in seen_requests
        for run in runs:
            prefix = f"/api/v1/workspaces/team/artifacts/runs/{run.id}/files/outputs/"
            assert any(m == "PUT" and p.startswith(prefix) for m, p, _ in seen_requests)
        data = "/api/v1/workspaces/team/datastores/workspaceblobstore/files/mnist/"
        assert any(m == "GET" and p.startswith(data) for m, p, _ in seen_requests)
        # The server's own scratch folder was never used: no executor ran on its machine
        # through its local target.
        assert not (tmp_path / "server-scratch").exists() or not any(
            (tmp_path / "server-scratch").iterdir()
        )
    finally:
        ws.close()


def _assert_reached_only_over_http(
    seen: dict, run_id: str, server: ServerProcess, tmp_path: Path, cluster_dirs: str
) -> None:
    processes = seen["processes"]
    commands = " | ".join(p["cmd"] for p in processes)
    # The script, and above it the executor Ray started on the node.
    assert "train.py" in processes[0]["cmd"], commands
    assert any("runyard.compute.ray.entry" in p["cmd"] for p in processes), commands
    server_folders = [str(tmp_path / "team"), str(tmp_path / "home"), server.home]
    for process in processes:
        env = process["env"]
        config = json.loads(env["RUNYARD_WORKSPACE"])
        public_url = server.url.replace("127.0.0.1", "localhost")
        assert config == {"workspace_name": "team", "server": public_url}, process["cmd"]
        assert env.get("RUNYARD_TOKEN"), process["cmd"]
        assert env["RUNYARD_TOKEN"] not in (server.token, os.environ["RUNYARD_TOKEN"])
        for name, value in env.items():
            if name.startswith("RUNYARD_TEST_"):
                # The test suite's own settings (scripts/test exports the PostgreSQL URL
                # of the store tests): the test cluster's nodes inherit them from the
                # pytest process that started them, not from the server.
                continue
            for folder in server_folders:
                assert folder not in value, f"{process['cmd']}: {name} names {folder}"
            assert "sqlite" not in value.lower() and "postgres" not in value.lower(), name
    # The node's folders: its own, not the server's; the data came as a cached copy.
    assert seen["cwd"].startswith(os.path.join(cluster_dirs, "n", "node-")), seen["cwd"]
    assert seen["data"].startswith(os.path.join(cluster_dirs, "n", "node-")), seen["data"]
    # The script's token is its run's: another run is out of its reach (see
    # test_submit_over_server for the write refused); here, its scope names this run.
    token = processes[0]["env"]["RUNYARD_TOKEN"]
    identity = open_identity_store(server.home)
    try:
        scopes = [t.run_scope for t in identity.list_tokens("colin") if t.run_scope]
    finally:
        identity.close()
    assert token and any(s.run_id == run_id for s in scopes)


def test_a_run_ray_cannot_start_fails_saying_so_with_no_client_watching(
    ray_cluster, server: ServerProcess, here, tmp_path: Path, monkeypatch
) -> None:
    ws = _client(tmp_path, server, "admin", str(server.token), monkeypatch)
    try:
        config = AmlCompute.provisioning_configuration(
            vm_size="cpu-2", max_nodes=WORKERS, address=ray_cluster.address, python="/no/python"
        )
        ComputeTarget.create(ws, "broken", config)
        source = tmp_path / "src"
        source.mkdir()
        (source / "train.py").write_text("print('never runs')\n")
        run = Experiment(ws, "broken").submit(
            ScriptRunConfig(str(source), "train.py", compute_target="broken", environment=here)
        )
        # Read the run's record alone (no target status call that would reconcile it): the
        # server's sweeper ends it.
        with server.client() as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                record = client.get(f"/api/v1/workspaces/team/runs/{run.id}").json()
                if record["status"] not in ("Queued", "NotStarted"):
                    break
                time.sleep(0.5)
        assert record["status"] == "Failed", record
        message = record["error"]["message"]
        assert "Ray ended the run's job" in message and "before its executor started" in message
        assert "/no/python: not found" in message  # what Ray said, for the owner to fix
    finally:
        ws.close()


def test_a_run_canceled_over_the_server_stops_on_its_node(
    ray_cluster, server: ServerProcess, here, tmp_path: Path, monkeypatch
) -> None:
    ws = _client(tmp_path, server, "admin", str(server.token), monkeypatch)
    try:
        config = AmlCompute.provisioning_configuration(
            vm_size="cpu-2", max_nodes=WORKERS, address=ray_cluster.address, python=sys.executable
        )
        ComputeTarget.create(ws, "nodes", config)
        source = tmp_path / "src"
        source.mkdir()
        (source / "train.py").write_text(
            "import time\nprint('started', flush=True)\ntime.sleep(300)\n"
        )
        run = Experiment(ws, "canceled").submit(
            ScriptRunConfig(str(source), "train.py", compute_target="nodes", environment=here)
        )
        wait_for(lambda: run.get_status() == "Running", timeout=120, what="the run to start")
        started = time.monotonic()
        run.cancel()
        details = run.wait_for_completion(timeout_seconds=90, raise_on_error=False)
        assert details["status"] == "Canceled"
        assert time.monotonic() - started < 60  # stopped, not left to sleep its 300 s
    finally:
        ws.close()


def test_a_distributed_run_spans_two_nodes_through_the_server(
    ray_cluster, server: ServerProcess, here, tmp_path: Path, monkeypatch
) -> None:
    from runyard.core.distributed import PyTorchConfiguration

    ws = _client(tmp_path, server, "admin", str(server.token), monkeypatch)
    try:
        config = AmlCompute.provisioning_configuration(
            vm_size="cpu-2", max_nodes=WORKERS, address=ray_cluster.address, python=sys.executable
        )
        ComputeTarget.create(ws, "nodes", config)
        source = tmp_path / "src"
        source.mkdir()
        (source / "train.py").write_text(
            textwrap.dedent(
                """
                import json, os
                from runyard.core import Run
                rank = os.environ["RANK"]
                print("rank", rank, "server", json.loads(os.environ["RUNYARD_WORKSPACE"]))
                if rank == "0":
                    Run.get_context().log("world", float(os.environ["WORLD_SIZE"]))
                """
            )
        )
        run = Experiment(ws, "dist").submit(
            ScriptRunConfig(
                str(source),
                "train.py",
                compute_target="nodes",
                environment=here,
                distributed_job_config=PyTorchConfiguration(process_count=2, node_count=2),
            )
        )
        details = run.wait_for_completion(timeout_seconds=180, raise_on_error=False)
        assert details["status"] == "Completed", details.get("error")
        assert run.get_metrics()["world"] == 2.0
        wait_for(
            lambda: "exitCode" in run.get_details()["distributed"]["processes"][-1],
            timeout=30,
            what="the exit codes",
        )
        processes = run.get_details()["distributed"]["processes"]
        assert [p["exitCode"] for p in processes] == [0, 0]
        assert len({p["node"] for p in processes}) == 2  # one process per node
        worker = run._read_file("runyard-logs/worker_1.txt").decode()
        assert "rank 1" in worker and "'server'" in worker and str(tmp_path) not in worker
    finally:
        ws.close()
