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


#: The largest request body of the session's server, in MB: small, so tests of the limit
#: and of chunked transfers move little data.
SESSION_SERVER_MAX_BODY_MB = 1


@pytest.fixture(scope="session")
def session_server(tmp_path_factory):
    """ONE real ``runyard server`` process for the whole session (a free port, its own
    home; ``--max-body-mb 1``); tests take a fresh workspace on it with
    ``served_workspace``. Started with a clean environment (no developer ``RUNYARD_*``)."""
    from runyard.core import Workspace
    from server_process import start_server

    root = tmp_path_factory.mktemp("session-server")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(("RUNYARD_", "AZUREML_")) and not name.startswith("RUNYARD_TEST_"):
                mp.delenv(name)
        mp.setenv("RUNYARD_HOME", str(root / "runyard-home"))
        Workspace.create("session", path=root / "ws").close()
        server = start_server(
            str(root / "ws"),
            log_dir=str(root),
            extra_args=[
                "--home",
                str(root / "home"),
                "--max-body-mb",
                str(SESSION_SERVER_MAX_BODY_MB),
                "--write-rate",
                "0",
            ],
        )
    server.home = str(root / "home")
    yield server
    server.stop()


@pytest.fixture
def served_workspace(session_server):
    """A fresh, empty workspace on the session's server: ``(server, name)``; its files
    live in ``<server.home>/<name>/artifacts``."""
    import uuid

    import httpx

    name = f"t{uuid.uuid4().hex[:12]}"
    response = httpx.post(
        f"{session_server.url}/api/v1/workspaces",
        json={"name": name},
        headers=session_server.headers,
    )
    assert response.status_code == 201, response.text
    return session_server, name
