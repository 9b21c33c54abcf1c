"""Shared fixtures: every test gets its own embedded workspace and a clean Runyard home."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Tests never touch the developer's ~/.runyard, run context or settings: every
    ``RUNYARD_*`` variable is cleared (the tests' own ``RUNYARD_TEST_*`` are kept)."""
    for name in list(os.environ):
        if name.startswith(("RUNYARD_", "AZUREML_")) and not name.startswith("RUNYARD_TEST_"):
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("runyard-home")
    monkeypatch.setenv("RUNYARD_HOME", str(home))


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
