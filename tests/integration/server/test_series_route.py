"""POST /api/v1/workspaces/{w}/metrics/series over a real server process: chart lines come
back as columns, equal to the store's, with non-finite values by name, and bad bodies
are refused clearly."""

from __future__ import annotations

import math
from pathlib import Path

import httpx

from runyard.core.workspace import Workspace
from runyard.entities import MetricKind, MetricRecord, MetricSeries, RunStatus
from runyard.server.auth import Role, requires
from runyard.server.routes import series as series_routes
from runyard.tracking.sql import SqlTrackingStore, sqlite_url
from runyard.tracking.wire import from_wire
from server_process import start_server

VALUES = [0.5, math.nan, math.inf, -math.inf, -0.0, 0.25] + [float(i % 7) for i in range(60)]


def _columns(line: MetricSeries) -> tuple[list[int | None], list[str], list[float]]:
    return list(line.steps), [repr(v) for v in line.values], list(line.times)


def test_series_route_returns_each_runs_line_as_columns(tmp_path: Path) -> None:
    Workspace.create("team", path=tmp_path / "ws").close()
    with SqlTrackingStore(sqlite_url(tmp_path / "ws" / "runyard.db")) as store:
        store.create_experiment("exp")
        for run_id in ["r0", "r1", "empty"]:
            store.create_run("exp", run_id=run_id, status=RunStatus.RUNNING)
        for run_id, values in [("r0", VALUES), ("r1", [2.0, 1.0])]:
            store.log_metrics(
                [
                    MetricRecord(run_id, "loss", v, MetricKind.SCALAR, step, 100.0 + step)
                    for step, v in enumerate(values)
                ]
            )
        store.log_metrics([MetricRecord("r1", "loss", 3.0, MetricKind.SCALAR, None, 200.0)])
        expected = {
            max_points: store.read_series_many(["r1", "r0", "empty"], "loss", max_points=max_points)
            for max_points in (None, 30)
        }
    server = start_server(str(tmp_path / "ws"), log_dir=str(tmp_path))
    http = server.client()
    url = server.url + "/api/v1/workspaces/team/metrics/series"
    try:
        for max_points, lines in expected.items():
            body = {"run_ids": ["r1", "r0", "empty"], "name": "loss", "max_points": max_points}
            response = http.post(url, json=body)
            assert response.status_code == 200, response.text
            found = response.json()["series"]
            assert [item["run_id"] for item in found] == ["r1", "r0", "empty"]
            assert [_columns(from_wire(MetricSeries, item)) for item in found] == [
                _columns(line) for line in lines
            ]
        whole = http.post(url, json={"run_ids": ["r0", "r1"], "name": "loss"}).json()["series"]
        assert whole[0]["values"][:5] == [0.5, "NaN", "Infinity", "-Infinity", -0.0]
        assert whole[0]["steps"][:2] == [0, 1] and whole[0]["times"][:2] == [100.0, 101.0]
        assert whole[1] == {
            "run_id": "r1",
            "name": "loss",
            "steps": [0, 1, None],
            "values": [2.0, 1.0, 3.0],
            "times": [100.0, 101.0, 200.0],
        }

        def refused(body: object) -> httpx.Response:
            return http.post(url, json=body)

        for bad in [
            {"run_ids": "r0", "name": "loss"},
            {"run_ids": ["r0", 3], "name": "loss"},
            {"run_ids": ["r0"]},
            {"run_ids": ["r0"], "name": "loss", "max_points": 2},
            {"run_ids": ["r0"], "name": "loss", "max_points": "30"},
            {"run_ids": ["r0"], "name": ""},
            {"run_ids": [f"r{i}" for i in range(1001)], "name": "loss"},
            {"run_ids": ["r0"], "name": "loss", "after": 3},
        ]:
            response = refused(bad)
            assert response.status_code == 400, (bad, response.text)
            assert response.json()["error"]["code"] == "invalid_argument"
        missing = refused({"run_ids": ["r0", "nope"], "name": "loss"})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        assert "nope" in missing.json()["error"]["message"]
    finally:
        http.close()
        server.stop()


def test_series_route_needs_the_reader_role() -> None:
    (route,) = series_routes.router.routes
    needs = [
        dependency.call.role
        for dependency in route.dependant.dependencies  # type: ignore[attr-defined]
        if isinstance(dependency.call, requires)
    ]
    assert needs == [Role.READER]
