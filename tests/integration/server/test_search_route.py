"""POST /api/v1/workspaces/{w}/runs/search over a real server process: the JSON filters
and orders reach the store, pages chain by token, and bad bodies are refused clearly."""

from __future__ import annotations

from pathlib import Path

from runyard.core.workspace import Workspace
from runyard.entities import MetricKind, MetricRecord, RunStatus
from runyard.entities.search import (
    MetricCompare,
    RunOrder,
    TagEquals,
    filter_from_json,
    filter_to_json,
    order_from_json,
    order_to_json,
)
from runyard.tracking.sql import SqlTrackingStore, sqlite_url
from server_process import start_server


def test_search_route_filters_orders_and_pages_runs(tmp_path: Path) -> None:
    Workspace.create("team", path=tmp_path / "ws").close()
    with SqlTrackingStore(sqlite_url(tmp_path / "ws" / "runyard.db")) as store:
        store.create_experiment("exp")
        for i, loss in enumerate([0.5, 0.1, 0.9, 0.3]):
            store.create_run(
                "exp", run_id=f"r{i}", status=RunStatus.RUNNING, tags={"odd": str(i % 2)}
            )
            store.log_metrics([MetricRecord(f"r{i}", "loss", loss, MetricKind.SCALAR, 0, 1.0)])
    server = start_server(str(tmp_path / "ws"), log_dir=str(tmp_path))
    url = server.url + "/api/v1/workspaces/team/runs/search"
    http = server.client()
    try:
        body = {
            "experiment": "exp",
            "filters": [{"type": "metric", "name": "loss", "op": "<", "value": 0.8}],
            "order_by": {"kind": "metric", "name": "loss"},
            "metrics": ["loss"],
            "max_results": 2,
        }
        first = http.post(url, json=body)
        assert first.status_code == 200, first.text
        page = first.json()
        assert [r["run_id"] for r in page["runs"]] == ["r1", "r3"]
        assert page["metrics"]["r1"]["loss"]["last"] == 0.1
        second = http.post(url, json={**body, "page_token": page["next_page_token"]}).json()
        assert [r["run_id"] for r in second["runs"]] == ["r0"]
        assert second["next_page_token"] is None
        tagged = http.post(
            url,
            json={"experiment": "exp", "filters": [{"type": "tag", "name": "odd", "value": "1"}]},
        ).json()
        assert [r["run_id"] for r in tagged["runs"]] == ["r3", "r1"]

        bad = http.post(url, json={"experiment": "exp", "filters": [{"type": "sql", "q": "1"}]})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_argument"
        bad_order = http.post(url, json={"experiment": "exp", "order_by": {"kind": "metric"}})
        assert bad_order.status_code == 400
        missing = http.post(url, json={"experiment": "nope"})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    finally:
        http.close()
        server.stop()


def test_filters_and_orders_survive_their_json_round_trip() -> None:
    for item in [TagEquals("a", "b"), MetricCompare("loss", ">=", float("inf"), "max")]:
        assert filter_from_json(filter_to_json(item)) == item
    order = RunOrder.metric("loss", "min", descending=True)
    assert order_from_json(order_to_json(order)) == order
