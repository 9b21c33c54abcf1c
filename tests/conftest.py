"""Shared fixtures: every test gets its own embedded workspace and a clean Runyard home."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Tests never touch the developer's ~/.runyard or run context."""
    home = tmp_path_factory.mktemp("runyard-home")
    monkeypatch.setenv("RUNYARD_HOME", str(home))
    monkeypatch.delenv("RUNYARD_RUN_ID", raising=False)
    monkeypatch.delenv("RUNYARD_WORKSPACE", raising=False)


@pytest.fixture
def ws(tmp_path):
    from runyard.core import Workspace

    workspace = Workspace.create("test-ws", path=tmp_path / "ws")
    yield workspace
    workspace.close()


def pytest_collection_modifyitems(config, items):
    """Everything under tests/integration is `integration`, marked or not, so
    `-m "not integration"` is always the quick suite."""
    for item in items:
        if "/tests/integration/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)
