"""The live widget on a real HyperDrive sweep: real child processes on local compute,
a real controller, and the widget's thread following it from this process."""

from __future__ import annotations

import textwrap
import time

import pytest

from runyard.core import Experiment, ScriptRunConfig
from runyard.train.hyperdrive import (
    GridParameterSampling,
    HyperDriveConfig,
    PrimaryMetricGoal,
    choice,
)
from runyard.widgets import RunDetails

pytestmark = pytest.mark.integration

# Logs ``score`` = x * step, 4 steps, 0.3 s apart.
SCRIPT = """
import argparse, time
from runyard.core import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float, required=True)
p.add_argument("--batch", default="small")
args = p.parse_args()
run = Run.get_context()
for step in range(1, 5):
    run.log("score", args.x * step)
    run.flush()
    print("step", step, flush=True)
    time.sleep(0.3)
"""


@pytest.fixture(autouse=True)
def _fast(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    monkeypatch.setenv("RUNYARD_HEARTBEAT_S", "0.5")


def test_the_widget_follows_a_sweep_child_by_child_to_its_end(ws, here, tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(SCRIPT))
    hdc = HyperDriveConfig(
        run_config=ScriptRunConfig(str(folder), "train.py", environment=here),
        hyperparameter_sampling=GridParameterSampling(
            {"--x": choice(1, 3, 2), "--batch": choice("small")}
        ),
        primary_metric_name="score",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=3,
        max_concurrent_runs=2,
    )
    hdr = Experiment(ws, "tune").submit(hdc)
    widget = RunDetails(hdr).live_widget(refresh_seconds=0.2)
    try:
        seen: list[tuple[int, int]] = []  # (children, children ended) at each change
        deadline = time.monotonic() + 120
        while not widget.done and time.monotonic() < deadline:
            children = widget.tuning.get("children", [])
            ended = sum(c["status"] == "Completed" for c in children)
            if not seen or seen[-1] != (len(children), ended):
                seen.append((len(children), ended))
            time.sleep(0.05)
        assert widget.done, f"the sweep did not end in time: {widget.header}"
        assert widget.header["status"] == "Completed" and not widget.following
        # It was seen part-way: some children before all had ended.
        assert any(ended < 3 for _, ended in seen[:-1]), seen

        tuning = widget.tuning
        table = [(c["run_id"], c["status"], c["primary_metric"]) for c in tuning["children"]]
        assert table == [
            (f"{hdr.id}_1", "Completed", 12.0),
            (f"{hdr.id}_2", "Completed", 8.0),
            (f"{hdr.id}_0", "Completed", 4.0),
        ]
        assert tuning["children"][0]["hyperparameters"] == {"--x": 3, "--batch": "small"}
        parallel = tuning["parallel"]
        axes = [(a["name"], a["kind"]) for a in parallel["axes"]]
        assert axes == [("--x", "number"), ("--batch", "category"), ("score", "number")]
        assert parallel["best_run_id"] == f"{hdr.id}_1" and len(parallel["lines"]) == 3
        assert tuning["child_series"][f"{hdr.id}_1"]["y"] == [3.0, 6.0, 9.0, 12.0]
        assert widget.log["name"] == "runyard-logs/hyperdrive.txt" and widget.log["text"]
    finally:
        widget.close()
