"""HyperDrive for real: sweeps whose children are real submitted runs on local compute,
carried by a real controller process (``python -m runyard.sweep``)."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time

import pytest
from submitting import wait_for

from runyard.core import Experiment, Run, ScriptRunConfig
from runyard.core.compute_target import ComputeTarget, LocalCompute
from runyard.node.processes import process_alive
from runyard.train.hyperdrive import (
    BanditPolicy,
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveRun,
    PrimaryMetricGoal,
    choice,
)
from runyard.widgets import RunDetails

pytestmark = pytest.mark.integration

# Logs ``score`` = x * step for ``--steps`` steps, ``--pause`` seconds apart; fails when
# ``--x`` equals ``--crash-at``.
SCRIPT = """
import argparse, sys, time
from runyard.core import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float, required=True)
p.add_argument("--steps", type=int, default=2)
p.add_argument("--pause", type=float, default=0.0)
p.add_argument("--crash-at", type=float, default=None)
p.add_argument("--metric", default="score")
args = p.parse_args()
print("x is", args.x, flush=True)
if args.crash_at == args.x:
    sys.exit("crashing on purpose")
run = Run.get_context()
steps = args.steps if args.x < 50 else 40  # a good run reports for 4 s
for step in range(1, steps + 1):
    run.log(args.metric, args.x * step)
    run.flush()
    time.sleep(args.pause)
"""


@pytest.fixture(autouse=True)
def _fast(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    monkeypatch.setenv("RUNYARD_HEARTBEAT_S", "0.5")
    monkeypatch.setenv("RUNYARD_HEARTBEAT_TIMEOUT_S", "2")


@pytest.fixture
def exp(ws):
    return Experiment(ws, "tune")


@pytest.fixture
def sweep(exp, here, tmp_path):
    """``sweep(values, arguments=[...], **config)`` submits a grid over ``--x``."""

    def submit(values, arguments=(), target=None, **options):
        folder = tmp_path / f"src-{time.monotonic_ns()}"
        folder.mkdir()
        (folder / "train.py").write_text(textwrap.dedent(SCRIPT))
        src = ScriptRunConfig(
            str(folder),
            "train.py",
            arguments=list(arguments),
            compute_target=target,
            environment=here,
        )
        settings = {
            "primary_metric_name": "score",
            "primary_metric_goal": PrimaryMetricGoal.MAXIMIZE,
            "max_total_runs": len(values),
            "max_concurrent_runs": 2,
        }
        settings.update(options)
        hdc = HyperDriveConfig(
            run_config=src,
            hyperparameter_sampling=GridParameterSampling({"--x": choice(*values)}),
            **settings,
        )
        return exp.submit(hdc)

    return submit


def _child_ids(hdr):
    return sorted(c.id for c in hdr.get_children())


def test_a_sweep_runs_every_child_and_ranks_them_by_the_primary_metric(sweep, capsys):
    hdr = sweep([1, 3, 2], arguments=["--x", "0", "--steps", "2"])
    assert isinstance(hdr, HyperDriveRun) and hdr.type == "hyperdrive"
    details = hdr.wait_for_completion(show_output=True)
    printed = capsys.readouterr().out
    assert details["status"] == "Completed"
    assert _child_ids(hdr) == [f"{hdr.id}_{n}" for n in range(3)]
    assert f"Started {hdr.id}_0 with --x=1" in printed and "Best so far" in printed
    # v1's parent tags, and each child's values under its own id.
    tags = hdr.get_tags()
    assert json.loads(tags["primary_metric_config"]) == {"name": "score", "goal": "maximize"}
    assert hdr.get_hyperparameters() == {
        f"{hdr.id}_{n}": json.dumps({"--x": x}) for n, x in enumerate([1, 3, 2])
    }
    ranked = hdr.get_children_sorted_by_primary_metric()
    assert [r["best_primary_metric"] for r in ranked] == [6.0, 4.0, 2.0]
    assert hdr.get_children_sorted_by_primary_metric(top=1, reverse=True)[0]["run_id"] == (
        f"{hdr.id}_0"
    )
    best = hdr.get_best_run_by_primary_metric()
    assert best.id == f"{hdr.id}_1"
    # The sampled value replaced the script's own --x and was appended, v1's way.
    assert best.get_details()["runDefinition"]["arguments"] == ["--steps", "2", "--x", "3"]
    tuning_log = hdr._read_file("runyard-logs/hyperdrive.txt").decode()
    assert "WARNING" in tuning_log
    # Local children start from the sweep's warm launcher, their environment prepared once.
    assert "Children start from a warm launcher" in tuning_log
    assert "prepared by the launcher" in best._read_file("runyard-logs/executor.txt").decode()
    assert hdr.get_metrics()[best.id] == {"score": [3.0, 6.0]}
    rehydrated = HyperDriveRun(hdr.experiment, hdr.id)
    assert rehydrated.get_best_run_by_primary_metric() == best
    RunDetails(rehydrated).show()
    shown = capsys.readouterr().out
    assert "Completed" in shown and f"{hdr.id}_1" in shown and "6" in shown


def test_bandit_cancels_a_clearly_worse_child_and_says_why(sweep):
    hdr = sweep(
        [100, 1],
        arguments=["--steps", "200", "--pause", "0.1"],
        policy=BanditPolicy(evaluation_interval=1, slack_factor=0.1),
    )
    hdr.wait_for_completion(timeout_seconds=120)
    bad = Run.get(hdr.workspace, f"{hdr.id}_1")
    # Stopped early: it would have logged 200 values had it run to its end (one value
    # comes back as a number, several as a list).
    logged = bad.get_metrics()["score"]
    assert len(logged if isinstance(logged, list) else [logged]) < 200, hdr._read_file(
        "runyard-logs/hyperdrive.txt"
    ).decode()
    details = bad.get_details()
    assert details["status"] == "Canceled"
    reason = details["error"]["message"]
    assert "Bandit" in reason and "interval" in reason and "threshold" in reason
    assert details["cancelReason"] == reason
    assert Run.get(hdr.workspace, f"{hdr.id}_0").get_status() == "Completed"
    assert "Stopping" in hdr._read_file("runyard-logs/hyperdrive.txt").decode()


def test_a_crashing_child_fails_alone_and_counts_toward_the_budget(sweep):
    hdr = sweep([1, 2, 3], arguments=["--crash-at", "2"])
    assert hdr.wait_for_completion()["status"] == "Completed"
    statuses = {c.id: c.get_status() for c in hdr.get_children()}
    assert statuses == {
        f"{hdr.id}_0": "Completed",
        f"{hdr.id}_1": "Failed",
        f"{hdr.id}_2": "Completed",
    }
    assert hdr.get_best_run_by_primary_metric().id == f"{hdr.id}_2"
    assert hdr.get_best_run_by_primary_metric(include_failed=False).id == f"{hdr.id}_2"


def test_a_primary_metric_no_child_logs_completes_without_a_best_run(sweep):
    hdr = sweep([1, 2], arguments=["--metric", "other"])
    details = hdr.wait_for_completion()
    assert details["status"] == "Completed"
    assert hdr.get_best_run_by_primary_metric() is None
    assert any("No child logged the primary metric 'score'" in w for w in details["warnings"])
    ranked = hdr.get_children_sorted_by_primary_metric()
    assert [r["best_primary_metric"] for r in ranked] == [None, None]
    assert hdr.get_children_sorted_by_primary_metric(discard_no_metric=True) == []


def test_a_killed_controller_is_resumed_without_duplicates_or_lost_budget(sweep):
    hdr = sweep(list(range(1, 7)), arguments=["--steps", "3", "--pause", "0.3"])
    wait_for(lambda: len(hdr.get_children()) >= 2, 30, "the first children")
    pid = hdr.get_details()["executor"]["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not process_alive(pid), 10, "the controller gone")
    details = hdr.wait_for_completion(timeout_seconds=90)
    assert details["status"] == "Completed"
    assert details["executor"]["pid"] != pid  # a new controller finished it
    assert _child_ids(hdr) == [f"{hdr.id}_{n}" for n in range(6)]
    state = hdr.get_study_state()
    assert len(state.trials) == 6 and all(t.status.value == "Completed" for t in state.trials)
    assert "Resumed tuning" in hdr._read_file("runyard-logs/hyperdrive.txt").decode()


def test_cancel_stops_running_and_queued_children(sweep, ws):
    ComputeTarget.create(ws, "one", LocalCompute.provisioning_configuration(1))
    hdr = sweep(
        [1, 2, 3],
        arguments=["--steps", "300", "--pause", "0.1"],
        target="one",
        max_concurrent_runs=3,
    )
    wait_for(lambda: len(hdr.get_children()) == 3, 30, "three children")
    wait_for(
        lambda: any(c.get_status() == "Running" for c in hdr.get_children()), 30, "one running"
    )
    assert sorted(c.get_status() for c in hdr.get_children()) == ["Queued", "Queued", "Running"]
    started = time.monotonic()
    assert hdr.cancel() is True
    wait_for(lambda: all(c.get_status() == "Canceled" for c in hdr.get_children()), 20, "canceled")
    assert time.monotonic() - started < 15
    assert hdr.get_status() == "Canceled"


def test_cli_submits_a_spec_waits_and_shows_children_best_first(ws, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from runyard.cli.main import cli

    monkeypatch.chdir(tmp_path)
    ws.write_config()
    (tmp_path / "train.py").write_text(textwrap.dedent(SCRIPT))
    spec = {
        "experiment": "cli-tune",
        "script": "train.py",
        "arguments": ["--steps", 2],
        "sampling": "grid",
        "space": {"--x": {"choice": [2, 5]}},
        "primary_metric_name": "score",
        "primary_metric_goal": "maximize",
        "max_total_runs": 2,
        "max_concurrent_runs": 2,
    }
    (tmp_path / "sweep.json").write_text(json.dumps(spec))
    runner = CliRunner()
    submitted = runner.invoke(cli, ["tune", "submit", "sweep.json", "--wait", "--json"])
    assert submitted.exit_code == 0, submitted.output
    result = json.loads(submitted.stdout)
    assert result["status"] == "Completed" and result["bestRunId"] == f"{result['runId']}_1"
    assert "Best so far" in submitted.stderr
    shown = runner.invoke(cli, ["tune", "show", result["runId"], "--json"])
    data = json.loads(shown.stdout)
    assert [c["best_primary_metric"] for c in data["children"]] == [10.0, 4.0]
    table = runner.invoke(cli, ["tune", "show", result["runId"]])
    assert table.exit_code == 0 and f"{result['runId']}_0" in table.stdout
