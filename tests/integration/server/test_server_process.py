"""The server as a real process: it starts, answers its probes and its OpenAPI document,
and stops gracefully."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx

from runyard.core.workspace import Workspace
from server_process import start_server


def test_server_serves_probes_and_openapi_then_stops_on_sigterm(tmp_path: Path) -> None:
    Workspace.create("team", path=tmp_path / "ws").close()
    server = start_server(
        str(tmp_path / "ws"), log_dir=str(tmp_path), extra_args=["--home", str(tmp_path / "home")]
    )
    try:
        ready = httpx.get(server.url + "/health/ready").json()
        assert ready["status"] == "ok" and ready["workspaces"] == ["team"]
        doc = httpx.get(server.url + "/api/v1/openapi.json").json()
        assert doc["info"]["title"] == "Runyard"
        missing = httpx.get(server.url + "/api/v1/no-such-route")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
    finally:
        code = server.stop(signal.SIGTERM)
    # uvicorn re-raises SIGTERM after its graceful shutdown, so the code says "by SIGTERM".
    assert code in (0, -signal.SIGTERM), server.log()
    assert "Application shutdown complete" in server.log()
    assert os.path.exists(tmp_path / "ws" / "runyard.db")


def test_server_creates_workspaces_in_its_home_and_serves_them(tmp_path: Path) -> None:
    Workspace.create("team", path=tmp_path / "ws").close()
    home = tmp_path / "home"
    server = start_server(
        str(tmp_path / "ws"), log_dir=str(tmp_path), extra_args=["--home", str(home)]
    )
    try:
        auth = server.headers
        created = httpx.post(
            server.url + "/api/v1/workspaces", json={"name": "vision"}, headers=auth
        )
        assert created.status_code == 201, created.text
        again = httpx.post(server.url + "/api/v1/workspaces", json={"name": "vision"}, headers=auth)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "already_exists"
        bad = httpx.post(
            server.url + "/api/v1/workspaces", json={"name": "../escape"}, headers=auth
        )
        assert bad.status_code == 400 and not (tmp_path / "escape").exists()
        names = [
            w["name"]
            for w in httpx.get(server.url + "/api/v1/workspaces", headers=auth).json()["workspaces"]
        ]
        assert names == ["team", "vision"]
        assert (home / "vision" / "workspace.json").is_file()
        unknown = httpx.get(server.url + "/api/v1/workspaces/nope", headers=auth)
        assert unknown.status_code == 404 and "team, vision" in unknown.json()["error"]["message"]
    finally:
        server.stop()
