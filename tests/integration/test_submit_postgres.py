"""Runs on a PostgreSQL workspace (a scratch database per test): what a script logs reaches
the store whether its environment is built or not, a run whose values cannot be stored does
not end Completed, and the database password stays out of what a run shows."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from submitting import submit_script

from runyard.core import Environment, Experiment, Workspace
from runyard.core.conda_dependencies import CondaDependencies
from runyard.errors import RunFailed

pytestmark = pytest.mark.integration

ADMIN_URL = os.environ.get("RUNYARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
#: The server trusts local connections, so any password works; it must never be shown.
PASSWORD = "s3cret-pw-7f3a"


@pytest.fixture(autouse=True)
def _scratch(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    monkeypatch.setenv("RUNYARD_ENV_CACHE", str(tmp_path / "envs"))


@pytest.fixture
def pg_ws(tmp_path):
    """A workspace on a database of its own, dropped after the test."""
    psycopg = pytest.importorskip("psycopg")
    name = f"runyard_safety_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(ADMIN_URL.replace("+psycopg", ""), autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:5432/{name}"
    ws = Workspace.create("pg", tracking_uri=url, artifact_uri=str(tmp_path / "artifacts"))
    try:
        yield ws
    finally:
        ws.close()
        with psycopg.connect(ADMIN_URL.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


LOGS_THREE_LOSSES = """
    {prelude}
    from runyard.core import Run
    run = Run.get_context()
    for epoch in range(3):
        run.log("loss", 1.0 / (epoch + 1))
    run.log_list("acc", [0.5, 0.75])
    print("trained")
"""


def test_a_built_environment_on_a_postgresql_workspace_stores_its_metrics(pg_ws, tmp_path):
    env = Environment("with-six")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["six"])
    body = LOGS_THREE_LOSSES.format(prelude="import psycopg, six")
    run = submit_script(pg_ws, "local", tmp_path, body, env, experiment="built")
    details = run.wait_for_completion(timeout_seconds=300)
    assert details["status"] == "Completed"
    assert details["environment"]["cache_hit"] is False
    assert "psycopg" in details["environment"]["packages"]  # the workspace's driver
    assert run.get_metrics() == {"loss": [1.0, 0.5, 1 / 3], "acc": [0.5, 0.75]}
    assert not details.get("warnings")  # the script stored them itself


def test_values_a_script_cannot_store_are_stored_by_its_executor(pg_ws, here, tmp_path):
    # What a built environment without the driver did: every write of the script fails.
    body = LOGS_THREE_LOSSES.format(prelude="import sys; sys.modules['psycopg'] = None")
    run = submit_script(pg_ws, "local", tmp_path, body, here, experiment="spooled")
    details = run.wait_for_completion(timeout_seconds=120)
    assert details["status"] == "Completed"
    assert run.get_metrics() == {"loss": [1.0, 0.5, 1 / 3], "acc": [0.5, 0.75]}
    assert any("stored by the executor" in w for w in details["warnings"]), details["warnings"]
    driver_log = run._read_file("runyard-logs/driver.txt").decode()
    assert "could not write 4 metric values (MissingDependency" in driver_log


def test_values_that_cannot_be_stored_even_then_fail_the_run_with_metrics_lost(
    pg_ws, here, tmp_path
):
    body = """
        import os, sys
        sys.modules["psycopg"] = None
        from runyard.core import Run
        run = Run.get_context()
        run.log("loss", 0.25)
        run.flush()  # kept in the spool, whole
        with open(os.environ["RUNYARD_METRIC_SPOOL"], "a") as fh:
            fh.write('{"run_id": "torn')  # as a kill in the middle of a write leaves it
    """
    run = submit_script(pg_ws, "local", tmp_path, body, here, experiment="lost")
    with pytest.raises(RunFailed, match="metric values the script logged could not be stored"):
        run.wait_for_completion(timeout_seconds=120)
    details = run.get_details()
    assert details["status"] == "Failed"
    assert details["error"]["code"] == "MetricsLost"
    assert run.get_metrics() == {"loss": 0.25}  # what could be stored was
    spool = os.path.join(os.environ["RUNYARD_SCRATCH"], run.id, "metrics-spool.jsonl")
    assert spool in details["error"]["message"] and os.path.exists(spool)


def test_the_database_password_is_in_no_run_detail_or_log(pg_ws, here, tmp_path):
    body = """
        from runyard.core import Run
        run = Run.get_context()
        run.log("loss", 0.5)
        print("workspace", run.experiment.workspace)
    """
    run = submit_script(pg_ws, "local", tmp_path, body, here, experiment="secrets")
    details = run.wait_for_completion(timeout_seconds=120)
    assert details["status"] == "Completed"
    shown = json.dumps(run.get_details_with_logs(), default=str)
    shown += json.dumps(Experiment(pg_ws, "secrets").workspace.get_details(), default=str)
    for name in run.get_file_names():
        shown += run._read_file(name).decode("utf-8", errors="replace")
    assert "postgres:***@127.0.0.1" in shown  # the workspace is shown, redacted
    assert PASSWORD not in shown
