"""The life of a local Ray head Runyard owns: started again by the next submit when it is
gone (the machine restarted), stopped with everything it started by ``target.delete()``."""

from __future__ import annotations

import os
import signal
import time

import pytest

from runyard.compute.ray.settings import ClusterSettings
from runyard.core import Environment, Experiment, ScriptRunConfig
from runyard.core.compute import AmlCompute, ComputeTarget
from runyard.errors import BackendError
from runyard.node import processes

pytest.importorskip("ray", reason="needs Ray: pip install 'runyard[ray]'")
pytestmark = [pytest.mark.ray, pytest.mark.integration]


def _head(target):
    head = ClusterSettings.from_config(target.name, target._record.config).head
    assert head is not None
    return head


def test_gone_head_is_started_again_by_the_next_submit_and_delete_stops_it(
    ws, tmp_path, monkeypatch
):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    target = ComputeTarget.create(ws, "mine", AmlCompute.provisioning_configuration("cpu-1"))
    first = _head(target)
    try:
        os.killpg(first.pgid, signal.SIGKILL)  # as if the machine had restarted
        deadline = time.monotonic() + 30
        while processes.group_alive(first.pgid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ComputeTarget(ws, "mine").get_status().state == "Failed"
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "train.py").write_text("print('after the restart')\n")
        env = Environment("current")
        env.python.user_managed_dependencies = True
        config = ScriptRunConfig(
            str(tmp_path / "src"), "train.py", compute_target="mine", environment=env
        )
        run = Experiment(ws, "lifecycle").submit(config)
        assert run.wait_for_completion(timeout_seconds=180)["status"] == "Completed"
        target = ComputeTarget(ws, "mine")
        second = _head(target)
        assert second.pgid != first.pgid and processes.group_alive(second.pgid)
        assert target.get_status().state == "Succeeded"
    finally:
        ComputeTarget(ws, "mine").delete()
    last = _head(target)
    assert not processes.group_alive(last.pgid)
    assert not os.path.exists(last.folder)
    assert [t.name for t in ComputeTarget.list(ws)] == ["local"]
    with pytest.raises(BackendError):  # nothing answers where the head was
        from runyard.compute.ray.jobs import RayJobsClient

        RayJobsClient(last.address, timeout=2).version()


def test_head_that_fails_to_start_says_why_and_leaves_no_folder():
    import tempfile

    from runyard.compute.ray.head import start_local_head

    folder = os.path.join(tempfile.mkdtemp(prefix="rh", dir="/tmp"), "h")
    with pytest.raises(
        BackendError, match=r"(?s)'ray start --head' failed.*Its output: .*nonnegative"
    ):
        start_local_head(folder, num_cpus=-1)
    assert not os.path.exists(folder)
    os.rmdir(os.path.dirname(folder))


def test_an_idle_head_stops_itself_and_the_next_submit_starts_it_again(
    ws, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    config = AmlCompute.provisioning_configuration(
        "cpu-1", max_nodes=1, idle_seconds_before_scaledown=3
    )
    target = ComputeTarget.create(ws, "idle", config)
    target.wait_for_completion(show_output=True)
    assert "The Ray head stops itself after 3 s" in capsys.readouterr().out
    first = _head(target)
    try:
        deadline = time.monotonic() + 90
        while processes.group_alive(first.pgid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not processes.group_alive(first.pgid)
        status = ComputeTarget(ws, "idle").get_status()
        assert status.state == "Succeeded"
        assert "starts again on the next submit" in status.details["head"]
        from runyard.cli.compute import describe  # what `runyard compute show` says

        notes = describe(ComputeTarget(ws, "idle"))["notes"]
        assert any("stops itself after 3 s" in n for n in notes)
        assert any(n.startswith("Ray head: stopped after 3 s") for n in notes)
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "train.py").write_text("print('after the idle stop')\n")
        env = Environment("current")
        env.python.user_managed_dependencies = True
        config = ScriptRunConfig(
            str(tmp_path / "src"), "train.py", compute_target="idle", environment=env
        )
        run = Experiment(ws, "idle").submit(config)
        assert run.wait_for_completion(timeout_seconds=180)["status"] == "Completed"
        second = _head(ComputeTarget(ws, "idle"))
        assert second.pgid != first.pgid
    finally:
        ComputeTarget(ws, "idle").delete()
