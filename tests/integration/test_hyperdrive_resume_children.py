"""v1's ``resume_child_runs`` for real: a child of an earlier sweep runs again as a child of
a new one, with the same values and ``--resume-from`` its checkpoints (what it left in
``./outputs``); the rest of the budget explores new values; bad resumes are refused at
submission, saying why. The same with the workspace's artifacts in an object store (a real
S3 API server, moto's): the checkpoints reach the script as a downloaded folder, and
``resume_from`` feeds the new sweep as it does with a local folder."""

from __future__ import annotations

import json
import os
import socket
import textwrap

import pytest

from runyard.core import Experiment, ScriptRunConfig, Workspace
from runyard.train.hyperdrive import (
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveConfigException,
    HyperDriveRun,
    choice,
)

pytestmark = pytest.mark.integration

# Two steps per run, continuing from the step count its checkpoint holds.
SCRIPT = """
import argparse, os
from runyard.core import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float, required=True)
p.add_argument("--resume-from", default=None)
args = p.parse_args()
run = Run.get_context()
start = 0
if args.resume_from:
    with open(os.path.join(args.resume_from, "ckpt.txt")) as f:
        start = int(f.read())
for step in range(start + 1, start + 3):
    run.log("score", args.x * step)
os.makedirs("outputs", exist_ok=True)
with open("outputs/ckpt.txt", "w") as f:
    f.write(str(start + 2))
"""


@pytest.fixture(autouse=True)
def _fast(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))


@pytest.fixture(scope="module")
def s3_endpoint():
    """A real S3 API server (moto's) in a thread of this process."""
    pytest.importorskip("s3fs", reason="S3 artifacts need s3fs: pip install 'runyard[s3]'")
    moto_server = pytest.importorskip(
        "moto.server", reason="the S3 test server needs moto[server] (in runyard's dev extra)"
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_ws(tmp_path, s3_endpoint, request):
    """A workspace whose artifacts are in an S3 bucket: nothing of them on the local disk."""
    import s3fs

    options = {"key": "testing-key", "secret": "testing-secret"}
    options["client_kwargs"] = {"endpoint_url": s3_endpoint}
    bucket = "resume-" + request.node.name.replace("_", "-")[:30].lower().strip("-")
    s3fs.S3FileSystem(**options).mkdir(bucket)
    workspace = Workspace.create(
        "s3-ws",
        tracking_uri=f"sqlite:///{tmp_path / 'runs.db'}",
        artifact_uri=f"s3://{bucket}/runyard",
        storage_options=options,
    )
    assert workspace.resources.artifacts.local_path("") is None
    yield workspace
    workspace.close()


@pytest.fixture(params=["local", "s3"])
def any_ws(request):
    """The workspace of a test, its artifacts in a local folder or in an object store."""
    return request.getfixturevalue("ws" if request.param == "local" else "s3_ws")


@pytest.fixture
def sweep(any_ws, here, tmp_path):
    ws = any_ws
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(SCRIPT))

    def make(values, space="--x", **options):
        config = HyperDriveConfig(
            run_config=ScriptRunConfig(str(folder), "train.py", environment=here),
            hyperparameter_sampling=GridParameterSampling({space: choice(*values)}),
            primary_metric_name="score",
            primary_metric_goal="maximize",
            max_total_runs=options.pop("max_total_runs", len(values)),
            max_concurrent_runs=2,
            **options,
        )
        return Experiment(ws, "resume").submit(config)

    return make


def test_a_resumed_child_reruns_its_values_from_its_checkpoint(sweep, any_ws):
    first = sweep([1, 2])
    assert first.wait_for_completion(timeout_seconds=90)["status"] == "Completed"
    earlier = first.get_best_run_by_primary_metric()  # --x 2: scores 2, 4; checkpoint 2
    assert earlier.get_metrics()["score"] == [2.0, 4.0]

    second = sweep([5], max_total_runs=2, resume_child_runs=[earlier])
    assert second.wait_for_completion(timeout_seconds=90)["status"] == "Completed"
    resumed, fresh = (c for c in sorted(second.get_children(), key=lambda c: c.id))
    # The same values, continued from the checkpoint: steps 3 and 4.
    assert json.loads(second.get_hyperparameters()[resumed.id]) == {"--x": 2}
    assert resumed.get_metrics()["score"] == [6.0, 8.0]
    # The definition names the folder; the executor made it a path where the script ran.
    arguments = resumed.get_details()["runDefinition"]["arguments"]
    assert arguments == ["--x", "2", "--resume-from", "$RUNYARD_RESUME_FROM"]
    command = resumed.get_details()["script"]["command"]
    assert command[1:4] == ["--x", "2", "--resume-from"]
    local = any_ws.resources.artifacts.local_path("")
    if local is not None:  # the store's own folder, no copy
        assert command[4] == os.path.join(local, "runs", resumed.id, "files", "resume-from")
    else:  # downloaded into the run's scratch folder
        assert command[4].endswith(os.path.join(resumed.id, "resume-from"))
    assert "resume-from/ckpt.txt" in resumed.get_file_names()  # kept with the new child
    # The rest of the budget explored the space: a new value, from scratch.
    assert json.loads(second.get_hyperparameters()[fresh.id]) == {"--x": 5}
    assert fresh.get_metrics()["score"] == [5.0, 10.0]
    assert "--resume-from" not in fresh.get_details()["runDefinition"]["arguments"]
    assert second.get_properties()["resume_child_runs"] == earlier.id
    log = second._read_file("runyard-logs/hyperdrive.txt").decode()
    assert f"{resumed.id} resumes {earlier.id}" in log
    # The earlier child's own outputs are untouched.
    assert earlier.get_file_names().count("outputs/ckpt.txt") == 1


def test_resume_from_an_earlier_sweep_feeds_the_new_one(sweep):
    first = sweep([1, 3])
    assert first.wait_for_completion(timeout_seconds=90)["status"] == "Completed"
    second = sweep([2], resume_from=[first])
    assert second.wait_for_completion(timeout_seconds=90)["status"] == "Completed"
    # The earlier sweep's best (--x 3: 3, 6) beats the new sweep's own (--x 2: 2, 4).
    best = second.get_best_run_by_primary_metric()
    assert best.id.startswith(first.id + "_")
    assert best.get_metrics()["score"] == [3.0, 6.0]
    assert isinstance(HyperDriveRun(second.experiment, second.id), HyperDriveRun)


def test_resuming_a_run_that_is_not_a_hyperdrive_child_is_refused(any_ws, sweep, here, tmp_path):
    ws = any_ws
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "train.py").write_text("print('hi')\n")
    src = ScriptRunConfig(str(tmp_path / "plain"), "train.py", environment=here)
    plain = Experiment(ws, "resume").submit(src)
    plain.wait_for_completion()
    with pytest.raises(HyperDriveConfigException, match="not a child of a HyperDrive run"):
        sweep([1], resume_child_runs=[plain.id])


def test_resuming_a_child_tuned_over_other_parameters_is_refused(sweep):
    first = sweep([1])
    first.wait_for_completion(timeout_seconds=60)
    (child,) = first.get_children()
    with pytest.raises(HyperDriveConfigException, match=r"tuned over \['--x'\]"):
        sweep([1], space="--y", resume_child_runs=[child])
