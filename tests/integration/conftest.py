"""Fixtures the integration tests share: the test interpreter as an environment, and fast
heartbeats for the Ray tests (whose liveness checks would otherwise take a minute)."""

from __future__ import annotations

import pytest

from runyard.core import Environment


@pytest.fixture
def here():
    """The interpreter running the tests, as it is: no build, so runs start fast."""
    env = Environment("current")
    env.python.user_managed_dependencies = True
    return env


@pytest.fixture
def ray_heartbeat(tmp_path, monkeypatch):
    """Per-test scratch and a heartbeat that declares a run's executor dead in 3 s."""
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    monkeypatch.setenv("RUNYARD_HEARTBEAT_S", "0.5")
    monkeypatch.setenv("RUNYARD_HEARTBEAT_TIMEOUT_S", "3")
