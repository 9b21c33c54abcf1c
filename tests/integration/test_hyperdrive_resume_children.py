"""v1's ``resume_child_runs`` for real: a child of an earlier sweep runs again as a child of
a new one, with the same values and ``--resume-from`` its checkpoints (what it left in
``./outputs``); the rest of the budget explores new values; bad resumes are refused at
submission, saying why."""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from runyard.core import Experiment, ScriptRunConfig
from runyard.train.hyperdrive import (
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveConfigException,
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


@pytest.fixture
def sweep(ws, here, tmp_path):
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


def test_a_resumed_child_reruns_its_values_from_its_checkpoint(sweep):
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
    arguments = resumed.get_details()["runDefinition"]["arguments"]
    assert arguments[:2] == ["--x", "2"] and arguments[2] == "--resume-from"
    assert os.path.isfile(os.path.join(arguments[3], "ckpt.txt"))
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


def test_resuming_a_run_that_is_not_a_hyperdrive_child_is_refused(ws, sweep, here, tmp_path):
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
