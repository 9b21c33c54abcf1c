"""Fixtures of the unit tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def here(ws, tmp_path, monkeypatch):
    """The test's workspace, found from the current folder by its config.json (as the CLI
    finds it)."""
    monkeypatch.chdir(tmp_path)
    ws.write_config()
    return ws
