"""The SDK against a real server: a workspace whose config.json names a ``server`` logs
runs over REST, and what it logged is in the server's workspace (read back through its
own database, not the API)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from runyard.core import Experiment, Run, Workspace
from runyard.entities import RunStatus
from runyard.errors import NotFound
from runyard.tracking.rest import RestTrackingStore
from runyard.tracking.sql import SqlTrackingStore, sqlite_url
from server_process import ServerProcess, start_server


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    Workspace.create("team", path=tmp_path / "team").close()
    started = start_server(
        str(tmp_path / "team"), log_dir=str(tmp_path), extra_args=["--home", str(tmp_path / "h")]
    )
    monkeypatch.setenv("RUNYARD_TOKEN", str(started.token))  # as a CI job would give it
    yield started
    started.stop()


def _client_config(tmp_path: Path, server: ServerProcess) -> Path:
    folder = tmp_path / "client" / ".runyard"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps({"workspace_name": "team", "server": server.url}), encoding="utf-8"
    )
    return tmp_path / "client"


def test_the_sdk_logs_runs_to_a_server_workspace(tmp_path: Path, server: ServerProcess) -> None:
    ws = Workspace.from_config(str(_client_config(tmp_path, server)))
    try:
        assert isinstance(ws.resources.store, RestTrackingStore)
        exp = Experiment(ws, "over-http")
        with exp.start_logging(tags={"team": "vision"}) as run:
            for epoch in range(200):
                run.log("loss", 1 / (epoch + 1), step=epoch)
            run.log("loss", math.nan)
            run.log_row("curve", x=1, y=0.5)
            run.tag("stage", "dev")
            run.add_properties({"source": "sdk"})
        assert [r.id for r in exp.get_runs()] == [run.id]
        assert run.get_status() == "Completed"
        metrics = run.get_metrics()
        assert metrics["loss"][:3] == [1.0, 0.5, 1 / 3] and math.isnan(metrics["loss"][-1])
        assert len(metrics["loss"]) == 201
        assert metrics["curve"] == {"x": [1.0], "y": [0.5]}  # as on an embedded workspace
        assert [r.id for r in exp.get_runs(tags={"stage": "dev"})] == [run.id]
        assert list(exp.get_runs(tags={"stage": "prod"})) == []
        assert [r.id for r in ws.get_runs()] == [run.id]
        assert Run(exp, run.id).get_details()["status"] == "Completed"
    finally:
        ws.close()

    # What the client logged is in the server's own database.
    direct = SqlTrackingStore(sqlite_url(str(tmp_path / "team" / "runyard.db")))
    try:
        record = direct.get_run(run.id)
        assert record.status is RunStatus.COMPLETED
        assert record.tags == {"team": "vision", "stage": "dev"}
        assert record.properties["source"] == "sdk"
        assert len(direct.get_metrics(run.id, "loss")) == 201
    finally:
        direct.close()


def test_a_failed_block_fails_the_run_on_the_server(tmp_path: Path, server: ServerProcess) -> None:
    ws = Workspace.from_config(str(_client_config(tmp_path, server)))
    try:
        exp = Experiment(ws, "failing")
        with pytest.raises(ValueError), exp.start_logging() as run:
            run.log("before", 1.0)
            raise ValueError("boom")
        assert run.get_status() == "Failed"
        assert run.get_metrics() == {"before": 1.0}
        with pytest.raises(NotFound, match="nope"):
            Run(exp, "nope").get_status()
    finally:
        ws.close()


def test_a_colleagues_silent_notebook_run_is_left_to_the_servers_judgement(
    tmp_path: Path, server: ServerProcess
) -> None:
    """Starting a run in an experiment sweeps its dead interactive runs on an embedded
    workspace; on a server workspace the server decides (with its interactive timeout), so
    a notebook whose network has been away for a minute is still Running."""
    import time

    ws = Workspace.from_config(str(_client_config(tmp_path, server)))
    try:
        exp = Experiment(ws, "shared")
        away = exp.start_logging()
        ws.resources.stop_heartbeat(away.id)  # as if its laptop went offline
        ws.resources.store.update_run(away.id, heartbeat_at=time.time() - 120)
    finally:
        ws.close()
    other = Workspace.from_config(str(tmp_path / "client"))  # another process's view
    try:
        with Experiment(other, "shared").start_logging() as run:
            run.log("x", 1)
        assert Run.get(other, away.id).get_status() == "Running"
    finally:
        other.close()
