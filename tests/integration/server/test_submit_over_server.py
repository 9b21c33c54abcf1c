"""Submitting through a team server: a client of a server workspace submits a script, the
SERVER's local target runs the executor, and the executor and the script reach the
workspace only through the API, with a token scoped to their run."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import httpx
import pytest

from runyard.core import Experiment, ScriptRunConfig, Workspace
from runyard.core.compute import AmlCompute, ComputeTarget
from runyard.core.compute_target import LocalCompute
from runyard.entities import RunStatus
from runyard.errors import InvalidArgument
from runyard.server.auth import Role
from runyard.server.identity import RunScope, open_identity_store
from runyard.train.hyperdrive import (
    GridParameterSampling,
    HyperDriveConfig,
    PrimaryMetricGoal,
    choice,
)
from server_process import ServerProcess, start_server
from waiting import wait_for

pytestmark = pytest.mark.integration

#: What the script does: logs, writes ./outputs, shows what reached it, and tries to write
#: another run with its token (the argument names that run).
SCRIPT = """
    import json, os, sys
    from runyard.core import Run
    from runyard.errors import Forbidden
    from runyard.rest_client import ApiClient

    run = Run.get_context()
    for step in range(5):
        run.log("loss", 1.0 / (step + 1))
    os.makedirs("outputs", exist_ok=True)
    with open("outputs/model.txt", "w") as fh:
        fh.write("weights")
    config = json.loads(os.environ["RUNYARD_WORKSPACE"])
    print("WORKSPACE_KEYS", sorted(config))
    print("TOKEN_SET", bool(os.environ.get("RUNYARD_TOKEN")))
    client = ApiClient(config["server"], token=os.environ["RUNYARD_TOKEN"])
    try:
        client.request("PUT", "/workspaces/team/runs/" + sys.argv[1] + "/tags",
                       json={"tags": {"hijacked": "yes"}})
        print("OTHER_RUN_WRITE allowed")
    except Forbidden:
        print("OTHER_RUN_WRITE forbidden")
"""


@pytest.fixture
def server(tmp_path: Path):
    Workspace.create("team", path=tmp_path / "team").close()
    started = start_server(
        str(tmp_path / "team"),
        log_dir=str(tmp_path),
        extra_args=["--home", str(tmp_path / "home")],
        env={
            "RUNYARD_SCRATCH": str(tmp_path / "scratch"),
            "RUNYARD_HEARTBEAT_S": "0.5",
            "RUNYARD_HEARTBEAT_TIMEOUT_S": "3",
        },
    )
    yield started
    started.stop()


@pytest.fixture
def client_ws(tmp_path: Path, server: ServerProcess, monkeypatch):
    """A client workspace (config.json naming the server) holding a contributor's token."""
    store = open_identity_store(server.home)
    try:
        store.create_user("colin")
        store.set_member("team", "colin", Role.CONTRIBUTOR)
        token = store.create_token("colin", "laptop").secret
        store.create_user("rita")
        store.set_member("team", "rita", Role.READER)
    finally:
        store.close()
    monkeypatch.setenv("RUNYARD_TOKEN", token)
    folder = tmp_path / "client" / ".runyard"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps({"workspace_name": "team", "server": server.url}), encoding="utf-8"
    )
    ws = Workspace.from_config(str(tmp_path / "client"))
    yield ws
    ws.close()


def _source(tmp_path: Path, body: str) -> str:
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    (folder / "train.py").write_text(textwrap.dedent(body))
    return str(folder)


def test_a_client_submits_and_the_server_runs_it_through_the_api_only(
    client_ws, server: ServerProcess, here, tmp_path: Path
) -> None:
    exp = Experiment(client_ws, "remote")
    with exp.start_logging() as other:
        other.log("untouched", 1.0)
    config = ScriptRunConfig(
        _source(tmp_path, SCRIPT), "train.py", arguments=[other.id], environment=here
    )
    run = exp.submit(config)
    details = run.wait_for_completion(timeout_seconds=120)
    driver = run._read_file("runyard-logs/driver.txt").decode()
    assert details["status"] == "Completed", driver + server.log()
    assert run.get_metrics()["loss"] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert "outputs/model.txt" in run.get_file_names()
    run.download_file("outputs/model.txt", str(tmp_path / "model.txt"))
    assert (tmp_path / "model.txt").read_text() == "weights"
    # The script got the server's address and a token, never the server's own config.
    assert "WORKSPACE_KEYS ['server', 'workspace_name']" in driver
    assert "TOKEN_SET True" in driver
    assert str(tmp_path / "team") not in driver
    # Its token is scoped to its run: another run of the same user is out of reach.
    assert "OTHER_RUN_WRITE forbidden" in driver, driver
    assert "hijacked" not in client_ws.resources.store.get_run(other.id).tags
    # The executor was the server's (its scratch folder), not this process's.
    assert (tmp_path / "scratch").is_dir()


def test_the_run_token_is_revoked_once_the_run_has_ended(
    client_ws, server: ServerProcess, here, tmp_path: Path
) -> None:
    exp = Experiment(client_ws, "revoked")
    run = exp.submit(
        ScriptRunConfig(_source(tmp_path, "print('hi')\n"), "train.py", environment=here)
    )
    assert run.wait_for_completion(timeout_seconds=120)["status"] == "Completed"

    def revoked() -> bool:
        store = open_identity_store(server.home)
        try:
            tokens = [t for t in store.list_tokens("colin") if t.run_scope is not None]
        finally:
            store.close()
        return bool(tokens) and all(t.revoked_at is not None for t in tokens)

    wait_for(revoked, timeout=30, what="the run's token revoked")


def _user_token(server: ServerProcess, user: str) -> str:
    store = open_identity_store(server.home)
    try:
        return store.create_token(user, "test").secret
    finally:
        store.close()


def _run_token(server: ServerProcess, user: str, run_id: str) -> str:
    store = open_identity_store(server.home)
    try:
        return store.create_token(user, "run", run_scope=RunScope("team", run_id)).secret
    finally:
        store.close()


def test_launch_refuses_runs_that_are_not_queued_or_out_of_the_token_scope(
    client_ws, server: ServerProcess, tmp_path: Path
) -> None:
    store = client_ws.resources.store
    exp = Experiment(client_ws, "refused")
    with exp.start_logging() as done:
        pass
    queued = store.create_run("refused", run_id="refused_q1", status=RunStatus.QUEUED)
    definition = {"script": "train.py", "target": "local"}
    base = f"{server.url}/api/v1/workspaces/team/runs"
    user = {"Authorization": f"Bearer {client_ws.resources.settings.token}"}
    not_queued = httpx.post(f"{base}/{done.id}/launch", json=definition, headers=user)
    assert not_queued.status_code == 409, not_queued.text
    reader = {"Authorization": f"Bearer {_user_token(server, 'rita')}"}
    by_reader = httpx.post(f"{base}/{queued.run_id}/launch", json=definition, headers=reader)
    assert by_reader.status_code == 403, by_reader.text
    own = {"Authorization": f"Bearer {_run_token(server, 'colin', queued.run_id)}"}
    itself = httpx.post(f"{base}/{queued.run_id}/launch", json=definition, headers=own)
    assert itself.status_code == 403, itself.text
    other = {"Authorization": f"Bearer {_run_token(server, 'colin', done.id)}"}
    outside = httpx.post(f"{base}/{queued.run_id}/launch", json=definition, headers=other)
    assert outside.status_code == 403, outside.text
    wrong_target = httpx.post(
        f"{base}/{queued.run_id}/launch", json={**definition, "target": "gpu"}, headers=user
    )
    assert wrong_target.status_code == 400, wrong_target.text
    assert store.get_run(queued.run_id).status is RunStatus.QUEUED  # nothing was started


def test_a_dead_executor_is_marked_failed_by_the_server_without_a_client(
    client_ws, server: ServerProcess, tmp_path: Path
) -> None:
    store = client_ws.resources.store
    Experiment(client_ws, "orphans")
    record = store.create_run(
        "orphans", run_id="orphans_1", status=RunStatus.RUNNING, run_type="submitted"
    )
    store.update_run(record.run_id, heartbeat_at=1.0)  # silent for decades: its executor is gone

    def failed() -> bool:
        return store.get_run(record.run_id).status is RunStatus.FAILED

    wait_for(failed, timeout=30, what="the server's sweeper to mark the run Failed")


def test_cancel_over_the_server_stops_the_running_script(
    client_ws, server: ServerProcess, here, tmp_path: Path
) -> None:
    body = """
        import time
        print("started", flush=True)
        time.sleep(120)
    """
    exp = Experiment(client_ws, "canceled")
    run = exp.submit(ScriptRunConfig(_source(tmp_path, body), "train.py", environment=here))
    wait_for(lambda: run.get_status() == "Running", timeout=60, what="the run to start")
    run.cancel()
    details = run.wait_for_completion(timeout_seconds=60, raise_on_error=False)
    assert details["status"] == "Canceled"


def test_the_servers_backend_cancels_a_run_whose_executor_is_gone(
    client_ws, server: ServerProcess
) -> None:
    store = client_ws.resources.store
    Experiment(client_ws, "gone")
    record = store.create_run(
        "gone", run_id="gone_1", status=RunStatus.RUNNING, run_type="submitted", target="local"
    )
    token = client_ws.resources.settings.token
    answer = httpx.post(
        f"{server.url}/api/v1/workspaces/team/runs/{record.run_id}/cancel",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 204, answer.text
    # No executor of this run on the server's machine: its backend marks the run itself.
    assert store.get_run(record.run_id).status is RunStatus.CANCELED


def test_targets_through_the_server_local_status_and_cluster_creation_refused(
    client_ws, server: ServerProcess, tmp_path: Path, monkeypatch
) -> None:
    status = ComputeTarget(client_ws, "local").get_status()
    assert status.state == "Succeeded"
    assert "max_concurrent_runs" in status.details  # the server's local backend answered
    monkeypatch.setenv("RUNYARD_TOKEN", str(server.token))  # an administrator may create targets
    admin_ws = Workspace.from_config(str(tmp_path / "client"))
    try:
        config = AmlCompute.provisioning_configuration(vm_size="cpu-2", max_nodes=1)
        with pytest.raises(InvalidArgument, match="may create only local targets"):
            ComputeTarget.create(admin_ws, "cluster", config)
        assert [t.name for t in ComputeTarget.list(admin_ws)] == ["local"]  # nothing half-made
        few = ComputeTarget.create(
            admin_ws, "few", LocalCompute.provisioning_configuration(max_concurrent_runs=1)
        )
        assert few.get_status().details["max_concurrent_runs"] == 1
    finally:
        admin_ws.close()


def test_a_hyperdrive_sweep_runs_its_controller_and_trials_on_the_server(
    client_ws, server: ServerProcess, here, tmp_path: Path
) -> None:
    body = """
        import argparse
        from runyard.core import Run
        p = argparse.ArgumentParser()
        p.add_argument("--x", type=float, required=True)
        Run.get_context().log("score", p.parse_args().x)
    """
    src = ScriptRunConfig(_source(tmp_path, body), "train.py", environment=here)
    hdc = HyperDriveConfig(
        run_config=src,
        hyperparameter_sampling=GridParameterSampling({"--x": choice(1, 3)}),
        primary_metric_name="score",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=2,
        max_concurrent_runs=2,
    )
    hdr = Experiment(client_ws, "tune").submit(hdc)
    details = hdr.wait_for_completion(timeout_seconds=180)
    assert details["status"] == "Completed", hdr._read_file("runyard-logs/hyperdrive.txt")
    assert sorted(c.id for c in hdr.get_children()) == [f"{hdr.id}_0", f"{hdr.id}_1"]
    assert hdr.get_best_run_by_primary_metric().id == f"{hdr.id}_1"
    # The controller's token reached only its own trials: one token per run, all scoped.
    store = open_identity_store(server.home)
    try:
        scopes = {t.run_scope.run_id for t in store.list_tokens("colin") if t.run_scope}
    finally:
        store.close()
    assert scopes == {hdr.id, f"{hdr.id}_0", f"{hdr.id}_1"}


def test_a_sweep_through_the_server_resumes_children_from_their_checkpoints(
    client_ws, server: ServerProcess, here, tmp_path: Path
) -> None:
    """The server's artifacts reach the controller and the executors through the API only:
    the checkpoints are copied there, and the executor downloads them for the script."""
    body = """
        import argparse, os
        from runyard.core import Run
        p = argparse.ArgumentParser()
        p.add_argument("--x", type=float, required=True)
        p.add_argument("--resume-from", default=None)
        args = p.parse_args()
        start = 0
        if args.resume_from:
            with open(os.path.join(args.resume_from, "ckpt.txt")) as f:
                start = int(f.read())
        Run.get_context().log("score", args.x * (start + 1))
        os.makedirs("outputs", exist_ok=True)
        with open("outputs/ckpt.txt", "w") as f:
            f.write(str(start + 1))
    """
    src = ScriptRunConfig(_source(tmp_path, body), "train.py", environment=here)

    def sweep(values, **options):
        hdc = HyperDriveConfig(
            run_config=src,
            hyperparameter_sampling=GridParameterSampling({"--x": choice(*values)}),
            primary_metric_name="score",
            primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
            max_total_runs=len(values),
            max_concurrent_runs=2,
            **options,
        )
        hdr = Experiment(client_ws, "tune").submit(hdc)
        details = hdr.wait_for_completion(timeout_seconds=180)
        assert details["status"] == "Completed", (
            hdr._read_file("runyard-logs/hyperdrive.txt").decode() + server.log()
        )
        return hdr

    first = sweep([2])
    (earlier,) = first.get_children()
    second = sweep([2], resume_child_runs=[earlier])
    (resumed,) = second.get_children()
    assert resumed.get_metrics()["score"] == 4.0  # continued from checkpoint 1: step 2
    assert "resume-from/ckpt.txt" in resumed.get_file_names()
    assert resumed.get_details()["script"]["command"][3] == "--resume-from"
