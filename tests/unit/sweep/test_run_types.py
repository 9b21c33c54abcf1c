"""A HyperDrive run read back through the core SDK is a HyperDriveRun (v1 rehydrates runs
by run type), wherever it is read: Run.get, an experiment's or a workspace's run list, a
child's parent. Other runs stay plain, and reading them never imports runyard.train."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from runyard.core import Experiment, Run
from runyard.core.run_types import run_class
from runyard.entities.run import RunStatus
from runyard.train.hyperdrive import HyperDriveRun


def _records(ws):
    store = ws.resources.store
    Experiment(ws, "tune")
    store.create_run(
        "tune",
        run_id="hd_1",
        status=RunStatus.RUNNING,
        run_type="hyperdrive",
        tags={"hd_1_0": json.dumps({"--lr": 0.5})},
    )
    store.create_run(
        "tune",
        run_id="hd_1_0",
        status=RunStatus.RUNNING,
        run_type="submitted",
        parent_run_id="hd_1",
    )
    store.create_run("tune", run_id="plain", status=RunStatus.RUNNING, run_type="submitted")


def test_run_get_of_a_hyperdrive_run_is_a_hyperdrive_run(ws):
    _records(ws)
    run = Run.get(ws, "hd_1")
    assert type(run) is HyperDriveRun
    assert run.get_hyperparameters() == {"hd_1_0": json.dumps({"--lr": 0.5})}
    assert type(Run.get(ws, "plain")) is Run


def test_run_lists_and_a_childs_parent_give_hyperdrive_runs(ws):
    _records(ws)
    exp = Experiment(ws, "tune")
    by_id = {run.id: type(run) for run in exp.get_runs()}
    assert by_id == {"hd_1": HyperDriveRun, "plain": Run}
    assert {run.id: type(run) for run in ws.get_runs()}["hd_1"] is HyperDriveRun
    assert type(exp.get_runs(type="hyperdrive").__next__()) is HyperDriveRun
    child = Run.get(ws, "hd_1_0")
    assert type(child) is Run and type(child.parent) is HyperDriveRun


def test_an_unknown_run_type_is_read_as_a_plain_run():
    assert run_class("no-such-type", Run) is Run
    assert run_class("submitted", Run) is Run


def test_reading_a_plain_run_does_not_import_the_train_package(ws, tmp_path):
    _records(ws)
    code = textwrap.dedent(
        f"""
        import sys
        from runyard.core import Workspace, Run
        ws = Workspace.get("test-ws", path={str(tmp_path / "ws")!r})
        assert type(Run.get(ws, "plain")) is Run
        print(sorted(m for m in sys.modules if m.startswith("runyard.train")))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
