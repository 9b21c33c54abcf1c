"""The workspace routes over a real server process: bodies are checked and size-limited,
store errors keep their status, every route declares the least role it needs, and a run's
own token writes only that run's tree."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi.routing import APIRoute
from team_server import Team, start_team

from runyard.server.auth import Role, requires
from runyard.server.identity import open_identity_store
from runyard.server.identity.records import RunScope
from runyard.server.routes import (
    catalogue,
    datasets,
    experiments,
    metrics,
    models,
    runs,
    services,
)

LIMIT_BYTES = 10485  # --max-body-mb 0.01


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Iterator[Team]:
    running = start_team(
        tmp_path_factory.mktemp("rest-api"), ["--max-body-mb", "0.01", "--write-rate", "0"]
    )
    try:
        yield running
    finally:
        running.server.stop()


class Served:
    """A fresh workspace on the module's server, and an administrator's client of it."""

    def __init__(self, team: Team) -> None:
        self.team = team
        self.url = team.server.url
        self.name = f"w-{uuid.uuid4().hex[:10]}"
        with team.server.client() as admin:
            admin.post("/api/v1/workspaces", json={"name": self.name}).raise_for_status()
        self.api = f"/api/v1/workspaces/{self.name}"
        self.http = httpx.Client(
            base_url=self.url + self.api, headers=team.server.headers, timeout=30
        )

    def run_token(self, run_id: str) -> dict[str, str]:
        """The Authorization header of a token scoped to ``run_id`` of this workspace."""
        store = open_identity_store(self.team.server.home)
        try:
            issued = store.create_token(
                "admin", f"run-{uuid.uuid4().hex[:6]}", run_scope=RunScope(self.name, run_id)
            )
        finally:
            store.close()
        return {"Authorization": f"Bearer {issued.secret}"}


@pytest.fixture
def served(team: Team) -> Iterator[Served]:
    result = Served(team)
    try:
        yield result
    finally:
        result.http.close()


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


def _run(
    http: httpx.Client, run_id: str, parent: str | None = None, headers: dict | None = None
) -> int:
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
    assert (status, code) == (413, "invalid_argument") and f"{LIMIT_BYTES} bytes" in message

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
            f"POST {served.api}/metrics HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {served.team.server.headers['Authorization']}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {10**9}\r\n\r\n".encode()
        )
        answer = b""
        while chunk := sock.recv(4096):  # the server closes the connection after it
            answer += chunk
    answer = answer.decode()
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
    unknown = httpx.get(
        served.url + "/api/v1/workspaces/nope/runs", headers=served.team.server.headers
    )
    assert _error(unknown)[:2] == (404, "not_found") and served.name in _error(unknown)[2]


def test_a_run_scoped_principal_writes_only_its_run_and_its_children(served):
    http = served.http
    http.post("/experiments", json={"name": "exp"})
    assert _run(http, "parent") == 201 and _run(http, "other") == 201
    scoped = served.run_token("parent")
    assert _run(http, "child", parent="parent", headers=scoped) == 201
    assert _error(
        http.post(
            "/runs",
            json={"experiment_name": "exp", "run_id": "top", "status": "Running"},
            headers=scoped,
        )
    )[:2] == (403, "forbidden")
    assert _run(http, "stray", parent="other", headers=scoped) == 403

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


def test_every_workspace_route_declares_the_least_role_it_needs(team):
    """The TrackingStore port's routes (the other capabilities' are checked with theirs;
    test_route_roles.py walks every route with every role over HTTP)."""
    roles = {}
    for module in (experiments, runs, metrics, models, datasets, catalogue, services):
        for route in module.router.routes:
            if not (isinstance(route, APIRoute) and route.path.startswith("/workspaces/{")):
                continue
            needed = [
                d.call.role for d in route.dependant.dependencies if isinstance(d.call, requires)
            ]
            assert len(needed) == 1, route.path
            for method in route.methods:
                roles[(method, route.path.split("{workspace}", 1)[1])] = needed[0]
    assert {k for k, role in roles.items() if k[0] == "GET"} == {
        k for k, role in roles.items() if role is Role.READER
    }
    owner = {k for k, role in roles.items() if role is Role.OWNER}
    assert owner == {
        ("DELETE", "/models/{name}/versions/{version}"),
        ("POST", "/model-versions/reap-pending"),
        ("POST", "/datastores"),
        ("POST", "/compute-targets"),
        ("DELETE", "/compute-targets/{name}"),
        ("POST", "/environments/{name}/versions"),
        ("DELETE", "/services/{name}"),
    }
    assert roles[("POST", "/metrics")] is Role.CONTRIBUTOR
    assert len(roles) == 43  # with GET /runs/{run_id}/status-history
    documented = httpx.get(team.server.url + "/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/workspaces/{workspace}/runs/{run_id}/status" in documented
