"""The workspace routes over HTTP: bodies are checked and size-limited, every route
declares its role, and a run's own token writes only that run's tree.

The app runs in a real uvicorn server on a free port, in this process, so that a test can
set the server's settings (a small body limit) and stand in for authentication (a
run-scoped principal) — the token engineer's tests cover how principals are found.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import Request
from fastapi.routing import APIRoute

from runyard.config import load_workspace_config
from runyard.core.workspace import Workspace
from runyard.server import ServerSettings, create_app
from runyard.server.auth import Principal, Role, requires
from runyard.server.identity import open_identity_store
from runyard.server.routes import routers
from server_process import free_port

API = "/api/v1/workspaces/team"


class Served:
    def __init__(self, url: str, app, token: str) -> None:
        self.url = url
        self.app = app
        self.headers = {"Authorization": f"Bearer {token}"}
        self.http = httpx.Client(base_url=url + API, headers=self.headers, timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    Workspace.create("team", path=tmp_path / "team").close()
    settings = ServerSettings(
        workspace=load_workspace_config(str(tmp_path / "team")),
        home=str(tmp_path / "home"),
        max_body_mb=0.01,  # 10,485 bytes
    )
    identity = open_identity_store(settings.home)
    try:
        token = identity.init_admin("admin").secret
    finally:
        identity.close()
    app = create_app(settings)
    base = app.state.authenticate

    async def authenticate(request: Request) -> Principal:
        scope = request.headers.get("x-test-run-scope")
        if scope:
            return Principal(f"run:{scope}", Role.CONTRIBUTOR, run_scope=scope)
        return await base(request)

    app.state.authenticate = authenticate
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    result = Served(f"http://127.0.0.1:{port}", app, token)
    try:
        yield result
    finally:
        result.http.close()
        server.should_exit = True
        thread.join(30)


def _error(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def _batch(*values: tuple[str, float]) -> dict:
    """A metric batch (the wire form of tracking.metric_wire): one value per (run, value)."""
    runs = sorted({run_id for run_id, _ in values})
    return {
        "series": [{"run_id": run_id, "name": "m", "kind": "scalar"} for run_id in runs],
        "points": [[runs.index(run_id), value, None, 1.0] for run_id, value in values],
    }


def _run(http: httpx.Client, run_id: str, parent: str | None = None, **headers: str) -> int:
    body = {"experiment_name": "exp", "run_id": run_id, "status": "Running"}
    if parent:
        body["parent_run_id"] = parent
    return http.post("/runs", json=body, headers=headers).status_code


def test_a_body_over_the_limit_is_refused_with_413_before_anything_is_written(served):
    served.http.post("/experiments", json={"name": "exp"})
    assert _run(served.http, "r") == 201
    batch = _batch(*(("r", float(i)) for i in range(1000)))
    declared = served.http.post("/metrics", json=batch)
    status, code, message = _error(declared)
    assert (status, code) == (413, "invalid_argument") and "10485 bytes" in message

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"series": [{"run_id": "r", "name": "m", "kind": "scalar"}], "points": ['
        for _ in range(1000):
            yield b"[0, 1.0, null, 1.0],"
        yield b"[0, 1.0, null, 1.0]]}"

    chunked = served.http.post(
        "/metrics", content=chunks(), headers={"content-type": "application/json"}
    )
    assert _error(chunked)[:2] == (413, "invalid_argument")
    assert served.http.get("/runs/r/metrics").json()["points"] == []
    small = served.http.post("/metrics", json=_batch(*(("r", float(i)) for i in range(10))))
    assert small.status_code == 204


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body(served):
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {API}/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {10**9}\r\n\r\n".encode()
        )
        answer = sock.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413") and '"invalid_argument"' in answer


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("POST", "/experiments", b"not json", "not JSON"),
        ("POST", "/experiments", b"[1, 2]", "must be a JSON object"),
        ("POST", "/experiments", b"{}", "no 'name'"),
        ("POST", "/experiments", b'{"name": 5}', "Field 'name'"),
        ("POST", "/runs", b'{"experiment_name": "e", "run_id": "r", "status": "Done"}', "status"),
        ("POST", "/metrics", b'{"series": {"a": 1}}', "needs a list 'series'"),
        ("GET", "/runs?status=Done", None, "The statuses are"),
        ("GET", "/runs?max_results=0", None, "max_results"),
        ("GET", "/runs/r/metrics?after_seq=x", None, "after_seq"),
        ("GET", "/models?tags=%7Bbad", None, "'tags' is not JSON"),
    ],
)
def test_a_bad_request_is_refused_with_400_naming_the_problem(served, method, path, body, message):
    served.http.post("/experiments", json={"name": "exp"})
    _run(served.http, "r")
    response = served.http.request(method, path, content=body)
    status, code, text = _error(response)
    assert (status, code) == (400, "invalid_argument")
    assert message in text


def test_errors_of_the_store_keep_their_status_code_and_message(served):
    missing = served.http.get("/experiments/nope")
    assert _error(missing)[:2] == (404, "not_found") and "'nope'" in _error(missing)[2]
    served.http.post("/experiments", json={"name": "exp"})
    assert _run(served.http, "r") == 201
    assert _run(served.http, "r") == 409
    moved = served.http.post("/runs/r/status", json={"status": "Queued"})
    status, code, message = _error(moved)
    assert (status, code) == (409, "invalid_state") and "Running" in message
    unknown = httpx.get(served.url + "/api/v1/workspaces/nope/runs", headers=served.headers)
    assert _error(unknown)[:2] == (404, "not_found") and "team" in _error(unknown)[2]


def test_a_run_scoped_principal_writes_only_its_run_and_its_children(served):
    http = served.http
    http.post("/experiments", json={"name": "exp"})
    assert _run(http, "parent") == 201 and _run(http, "other") == 201
    scoped = {"x-test-run-scope": "parent"}
    assert _run(http, "child", parent="parent", **scoped) == 201
    assert _error(
        http.post(
            "/runs",
            json={"experiment_name": "exp", "run_id": "top", "status": "Running"},
            headers=scoped,
        )
    )[:2] == (403, "forbidden")
    assert _run(http, "stray", parent="other", **scoped) == 403

    own = http.post("/metrics", json=_batch(("parent", 1.0), ("child", 1.0)), headers=scoped)
    assert own.status_code == 204
    mixed = http.post("/metrics", json=_batch(("child", 2.0), ("other", 1.0)), headers=scoped)
    assert _error(mixed)[:2] == (403, "forbidden") and "'other'" in _error(mixed)[2]
    assert http.get("/runs/other/metrics").json()["points"] == []
    assert len(http.get("/runs/child/metrics").json()["points"]) == 1  # the batch was refused
    writes = [
        ("PATCH", "/runs/other", {"display_name": "x"}),
        ("POST", "/runs/other/status", {"status": "Completed"}),
        ("PUT", "/runs/other/tags", {"tags": {"a": "1"}}),
        ("POST", "/runs/other/properties", {"properties": {"a": "1"}}),
    ]
    for method, path, body in writes:
        assert http.request(method, path, json=body, headers=scoped).status_code == 403, path
        ok = http.request(method, path.replace("other", "child"), json=body, headers=scoped)
        assert ok.status_code in (200, 204), (path, ok.text)
    assert http.delete("/runs/other/tags", params={"name": "a"}, headers=scoped).status_code == 403
    assert http.get("/runs/other", headers=scoped).status_code == 200  # reading is open
    assert http.get("/runs/other").json()["tags"] == {}


def test_every_workspace_route_declares_the_least_role_it_needs(served):
    roles = {}
    for router in routers():
        for route in router.routes:
            if not (isinstance(route, APIRoute) and route.path.startswith("/workspaces/{")):
                continue
            needed = [
                d.call.role for d in route.dependant.dependencies if isinstance(d.call, requires)
            ]
            assert len(needed) == 1, route.path
            for method in route.methods:
                roles[(method, route.path.split("{workspace}", 1)[1])] = needed[0]
    # Reads are for readers: every GET, a file's HEAD, a search and chart series, and the
    # web UI's queries (POSTs for their bodies).
    reads = {k for k in roles if k[0] == "GET"} | {
        ("HEAD", "/artifacts/{path:path}"),
        ("POST", "/runs/search"),
        ("POST", "/metrics/series"),
        ("POST", "/ui/series"),
        ("POST", "/ui/runs/query"),
        ("POST", "/ui/runs/rows"),
    }
    assert reads == {k for k, role in roles.items() if role is Role.READER}
    owner = {k for k, role in roles.items() if role is Role.OWNER}
    assert owner == {
        ("DELETE", "/models/{name}/versions/{version}"),
        ("POST", "/model-versions/reap-pending"),
        ("POST", "/datastores"),
        ("POST", "/compute-targets"),
        ("DELETE", "/compute-targets/{name}"),
        ("POST", "/environments/{name}/versions"),
        ("DELETE", "/services/{name}"),
        ("DELETE", "/artifacts/{path:path}"),
        ("PUT", "/members/{user}"),
        ("DELETE", "/members/{user}"),
    }
    assert roles[("POST", "/metrics")] is Role.CONTRIBUTOR
    assert len(roles) >= 40
    documented = httpx.get(served.url + "/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/workspaces/{workspace}/runs/{run_id}/status" in documented
