"""The server's access log over a real process: one JSON line per request, saying who,
what, how it went and how long it took; never a token, never a secret query value."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from server_process import start_server


def _lines(log: str) -> list[dict[str, object]]:
    found = []
    for line in log.splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def test_each_request_is_one_json_line_with_user_status_and_time_and_no_secret(
    tmp_path: Path,
) -> None:
    from runyard.core import Workspace

    Workspace.create("team", path=tmp_path / "ws").close()
    server = start_server(str(tmp_path / "ws"), log_dir=str(tmp_path))
    try:
        with server.client() as client:
            assert client.get("/api/v1/me").status_code == 200
            assert client.get("/api/v1/workspaces/team/experiments/none").status_code == 404
            shown = client.get("/api/v1/workspaces", params={"token": "hunter2", "page": "2"})
            assert shown.status_code == 200
        bogus = httpx.get(
            server.url + "/api/v1/me", headers={"Authorization": "Bearer ry_not_a_real_one"}
        )
        assert bogus.status_code == 401
        odd = httpx.get(server.url + "/api/v1/x%0a%7b%22status%22%3a200%7d")
        assert odd.status_code in (401, 404)
    finally:
        server.stop()
    log = server.log()
    lines = _lines(log)
    by_path = {(entry["method"], entry["path"], entry["status"]): entry for entry in lines}
    me = by_path[("GET", "/api/v1/me", 200)]
    assert me["user"] == "admin" and isinstance(me["token_id"], str)
    assert isinstance(me["ms"], float) and me["bytes"] > 0 and me["client"]
    assert ("GET", "/api/v1/workspaces/team/experiments/none", 404) in by_path
    listed = by_path[("GET", "/api/v1/workspaces", 200)]
    assert listed["query"] == "token=%2A%2A%2A&page=2"
    refused = by_path[("GET", "/api/v1/me", 401)]
    assert "user" not in refused
    # A path with a newline in it stays one line: it cannot forge another entry.
    assert not any(entry.get("path") == "/api/v1/x" for entry in lines)
    assert "hunter2" not in log and "ry_not_a_real_one" not in log
    assert server.token is not None and server.token not in log
    # uvicorn's own access log (which prints whole queries) is off.
    assert '"GET /api/v1/me HTTP/1.1"' not in log


def test_the_access_log_can_be_turned_off(tmp_path: Path) -> None:
    from runyard.core import Workspace

    Workspace.create("team", path=tmp_path / "ws").close()
    server = start_server(
        str(tmp_path / "ws"), log_dir=str(tmp_path), extra_args=["--no-access-log"]
    )
    try:
        with server.client() as client:
            assert client.get("/api/v1/me").status_code == 200
    finally:
        server.stop()
    assert _lines(server.log()) == []
