"""The web UI's read routes over a real server: the runs table sorted, filtered and paged
on the server, downsampled series that keep every peak and refine on zoom, the log tail,
run files, and the UI's own files served in front of the API. Bad input is refused with a
clear error."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import httpx
import pytest

from runyard.artifacts.layout import DRIVER_LOG, run_file_key
from runyard.core.workspace import Workspace
from runyard.entities import MetricKind, MetricRecord, RunStatus
from server_process import ServerProcess, start_server

UI = "/api/v1/workspaces/lab/ui"
SPIKE_AT = 7_777


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Workspace]]:
    root = tmp_path_factory.mktemp("ui-lab")
    ws = Workspace.create("lab", path=root / "ws")
    store = ws._resources.store
    store.create_experiment("grid")
    now = time.time()
    for i in range(30):
        run_id = f"grid_{i:02d}"
        store.create_run(
            "grid",
            run_id=run_id,
            status=RunStatus.RUNNING,
            tags={"parity": "even" if i % 2 == 0 else "odd"},
            details={"runDefinition": {"arguments": ["--lr", str(10.0 ** -(i % 4)), "--fast"]}},
        )
        # loss falls to i/100 then rises by one step at the end: last != min for every run
        values = [1.0 - step * (1.0 - i / 100) / 9 for step in range(10)] + [i / 100 + 0.5]
        store.log_metrics(
            [
                MetricRecord(run_id, "loss", v, MetricKind.SCALAR, s, now + s)
                for s, v in enumerate(values)
            ]
        )
        if i % 3:
            store.set_run_status(run_id, RunStatus.COMPLETED)
    store.create_run("grid", run_id="long", status=RunStatus.RUNNING)
    store.log_metrics(
        [
            MetricRecord(
                "long",
                "wave",
                1000.0 if s == SPIKE_AT else math.sin(s / 500),
                MetricKind.SCALAR,
                s,
                now + s / 1000,
            )
            for s in range(20_000)
        ]
    )
    server = start_server(str(root / "ws"), log_dir=str(root))
    try:
        yield server, ws
    finally:
        server.stop()
        ws.close()


def _query(server: ServerProcess, **body: object) -> httpx.Response:
    with server.client() as client:
        return client.post(f"{UI}/runs/query", json={"experiment": "grid", **body})


def test_runs_table_sorts_by_metric_aggregates_and_pages_with_a_total(lab) -> None:
    server, _ = lab
    by_min = _query(
        server, sort="metric:loss:min", descending=False, limit=5, columns=["metric:loss:min"]
    ).json()
    assert by_min["total"] == 31
    assert [r["run_id"] for r in by_min["rows"]] == [
        "grid_00",
        "grid_01",
        "grid_02",
        "grid_03",
        "grid_04",
    ]
    assert by_min["rows"][1]["metrics"]["metric:loss:min"] == pytest.approx(0.01)
    by_last = _query(server, sort="metric:loss:last", descending=True, offset=2, limit=2).json()
    assert [r["run_id"] for r in by_last["rows"]] == ["grid_27", "grid_26"]
    # A run without the metric sorts last whichever the direction.
    last = _query(server, sort="metric:loss:last", descending=False, offset=30, limit=5).json()
    assert [r["run_id"] for r in last["rows"]] == ["long"]
    # Pages that straddle the runs with the value and those without join up exactly.
    for descending in (True, False):
        whole = _query(server, sort="metric:loss:last", descending=descending, limit=100)
        ids = [r["run_id"] for r in whole.json()["rows"]]
        paged = [
            r["run_id"]
            for offset in range(0, 35, 7)
            for r in _query(
                server, sort="metric:loss:last", descending=descending, offset=offset, limit=7
            ).json()["rows"]
        ]
        assert paged == ids and len(ids) == 31 and ids[-1] == "long"


def test_runs_table_filters_on_metric_tag_status_text_and_parameter(lab) -> None:
    server, _ = lab
    body = _query(
        server,
        filters=[
            {"column": "metric:loss:min", "op": "<", "value": 0.1},
            {"column": "tag:parity", "op": "=", "value": "odd"},
        ],
        statuses=["Completed"],
        sort="attr:number",
        descending=False,
    ).json()
    # min loss < 0.1: runs 0-9; odd: 1,3,5,7,9; Completed: i % 3 != 0 -> 1, 5, 7
    assert [r["run_id"] for r in body["rows"]] == ["grid_01", "grid_05", "grid_07"]
    assert body["rows"][0]["params"] == {"lr": "0.1", "fast": "true"}
    by_param = _query(
        server,
        filters=[{"column": "param:lr", "op": "=", "value": "0.001"}],
        sort="param:lr",
        text="grid_2",
    ).json()
    assert {r["run_id"] for r in by_param["rows"]} == {"grid_23", "grid_27"}
    names = _query(server, with_names=True, limit=1).json()
    assert names["metric_names"] == ["loss", "wave"]
    assert names["tag_names"] == ["parity"] and names["param_names"] == ["fast", "lr"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"sort": "metric"}, "is not KIND:NAME"),
        ({"sort": "attr:colour"}, "Unknown run attribute 'colour'"),
        (
            {"filters": [{"column": "metric:loss", "op": "~", "value": 1}]},
            "Unknown filter operator",
        ),
        ({"filters": [{"column": "metric:loss", "op": "<", "value": "low"}]}, "needs a number"),
        ({"limit": 5000}, "limit"),
        ({"experiment": "nope"}, "Experiment 'nope' not found"),
    ],
)
def test_runs_table_refuses_bad_queries_with_a_clear_error(lab, body, message) -> None:
    server, _ = lab
    answer = _query(server, **body)
    assert answer.status_code in (400, 404)
    assert message in answer.json()["error"]["message"]


def _series(server: ServerProcess, **body: object) -> list[dict]:
    with server.client() as client:
        answer = client.post(f"{UI}/series", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["series"]


def test_long_series_are_downsampled_keeping_every_peak_and_refined_on_zoom(lab) -> None:
    server, _ = lab
    (whole,) = _series(server, runs=["long"], names=["wave"], max_points=300)
    assert whole["downsampled"] and whole["total"] == 20_000 and len(whole["x"]) <= 300
    assert max(whole["y"]) == 1000.0  # the one spike survives
    assert min(whole["y"]) == pytest.approx(-1.0, abs=1e-4)
    assert whole["x"][-1] == 19_999 and whole["y"][-1] == pytest.approx(math.sin(19_999 / 500))
    assert whole["x"] == sorted(whole["x"])
    (zoom,) = _series(
        server, runs=["long"], names=["wave"], x_min=7_700, x_max=7_900, max_points=300
    )
    assert not zoom["downsampled"] and zoom["x"] == list(range(7_700, 7_901))
    assert zoom["y"][SPIKE_AT - 7_700] == 1000.0
    (timed,) = _series(server, runs=["long"], names=["wave"], x="time", max_points=30)
    assert timed["x"][0] > 1e9 and len(timed["x"]) <= 30


def test_series_of_several_runs_come_back_in_the_order_asked(lab) -> None:
    server, _ = lab
    found = _series(server, runs=["grid_05", "grid_02"], names=["loss"])
    assert [s["run_id"] for s in found] == ["grid_05", "grid_02"]
    assert found[1]["x"] == list(range(11)) and found[1]["y"][-1] == pytest.approx(0.52)
    with server.client() as client:
        bad = client.post(f"{UI}/series", json={"runs": ["long"], "x": "epoch"})
    assert bad.status_code == 400 and "x must be 'step' or 'time'" in bad.text


def test_log_tail_reads_only_what_was_appended_and_files_refuse_escapes(lab) -> None:
    server, ws = lab
    artifacts = ws._resources.artifacts
    key = run_file_key("grid_00", DRIVER_LOG)
    artifacts.append_bytes(b"first line\n", key)
    with server.client() as client:
        first = client.get(f"{UI}/runs/grid_00/tail", params={"name": DRIVER_LOG}).json()
        assert first["text"] == "first line\n" and first["ended"] is False
        artifacts.append_bytes(b"second line\n", key)
        more = client.get(
            f"{UI}/runs/grid_00/tail", params={"name": DRIVER_LOG, "offset": first["offset"]}
        ).json()
        assert more["text"] == "second line\n"
        files = client.get(f"{UI}/runs/grid_00/files").json()
        assert files["logs"] == [DRIVER_LOG]
        ranged = client.get(f"{UI}/runs/grid_00/files/{DRIVER_LOG}", headers={"Range": "bytes=0-4"})
        assert ranged.status_code == 206 and ranged.text == "first"
        escape = client.get(f"{UI}/runs/grid_00/tail", params={"name": "../../../runyard.db"})
        assert escape.status_code == 400
        missing = client.get(f"{UI}/runs/nope/files")
        assert missing.status_code == 404


def test_ui_pages_are_served_without_a_token_and_the_api_still_needs_one(lab) -> None:
    server, _ = lab
    for path in ("/", "/w/lab", "/w/lab/experiments/grid?sort=attr:number"):
        page = httpx.get(server.url + path)
        assert page.status_code in (200, 503)
        assert "text/html" in page.headers["content-type"]
    index = httpx.get(server.url + "/w/lab")
    if index.status_code == 200:  # built: its assets are cached for good
        asset = index.text.split('src="')[1].split('"')[0]
        answer = httpx.get(server.url + asset)
        assert answer.status_code == 200 and "immutable" in answer.headers["cache-control"]
        assert "frame-ancestors 'none'" in index.headers["content-security-policy"]
    assert httpx.get(server.url + "/assets/../../runyard.db").status_code == 404
    refused = httpx.get(server.url + f"{UI}/experiments")
    assert refused.status_code == 401
    unknown = httpx.get(server.url + "/api/v1/no-such-route", headers=server.headers)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
