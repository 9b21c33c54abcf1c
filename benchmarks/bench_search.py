"""Run search and chart reads at scale (issues 11 and 12) — Runyard vs MLflow.

The data set (``search_data.py``): one experiment of ``--runs`` runs (default 100,000) of
``--points`` scalar values each (default 500: 50 M in all), tags ``group`` (10 % of the
runs per value) and ``rare`` (1 %). It is built once per database by bulk SQL
(``search_build.py``; MLflow's by ``mlflow_search_side.py``) and reused by later runs.

Measured in-process on the store (the server's time without HTTP), warm, median of
``--repeats``:

- a page of 100 runs filtered by a tag and sorted by a metric (``search_runs``), with the
  summaries of three metrics; the same descending, with a 1 % tag, the next page, with a
  metric filter added, and newest first;
- the chart of those 100 runs' ``loss`` (400 points each) in one call, whole
  (``max_points=1000``) and in min/max/last buckets (``max_points=300``): as columns
  (``read_series_many``, the chart path; also with the JSON body the REST route sends) and
  as records (``read_metrics_many``).

MLflow's side does the same with ``MlflowClient.search_runs(filter_string="tags.group =
'g3'", order_by=["metrics.loss ASC"], max_results=100)`` and, for the chart, the store call
behind its UI's chart (``get_metric_history_bulk_interval``, 320 points per run) and
``get_metric_history`` per run, on SQLite (MLflow's PostgreSQL driver is not installed in
its venv). ``--mlflow-runs`` builds MLflow's database at a smaller size when the full one
would take too long; the rows say which size each number is for.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    WORK_DIR,
    ensure_venv,
    markdown_table,
    row,
    run_json_child,
    summarize,
    write_result,
)
from search_build import EXPERIMENT, postgres_store, sqlite_store
from search_data import Shape, loss_at

from runyard.entities.search import MetricCompare, RunOrder, TagEquals
from runyard.server.routes.series import series_body
from runyard.tracking.sql import SqlTrackingStore

MLFLOW_REQUIREMENT = "mlflow==3.17.2"  # the pin of bench_tracking.py: its venv is reused
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
PAGE_TARGET_MS, CHART_TARGET_MS = 150.0, 200.0


def measure_runyard(url: str, shape: Shape, repeats: int) -> dict[str, Any]:
    """Time the page and chart calls on the store at ``url`` and check what they return."""
    store = SqlTrackingStore(url)
    try:
        group = [TagEquals("group", "g3")]
        by_loss = RunOrder.metric("loss")

        def page(**search: Any) -> Any:
            return store.search_runs(
                EXPERIMENT, metrics=["loss", "accuracy", "lr"], max_results=100, **search
            )

        first = page(filters=group, order_by=by_loss)
        losses = [first.metrics[r.run_id]["loss"].last for r in first.runs]
        last_step = shape.steps("loss") - 1
        expected = sorted(loss_at(i, last_step) for i in range(3, shape.runs, 10))[:100]
        assert len(first.runs) == 100 and {r.tags["group"] for r in first.runs} == {"g3"}
        assert all(abs(a - b) < 1e-9 for a, b in zip(losses, expected, strict=True)), "order"
        run_ids = [r.run_id for r in first.runs]
        whole = store.read_metrics_many(run_ids, "loss", max_points=1000)
        assert [len(p.records) for p in whole.values()] == [shape.steps("loss")] * 100
        bucketed = store.read_metrics_many(run_ids, "loss", max_points=300)
        assert all(0 < len(p.records) <= 300 for p in bucketed.values())
        lines = store.read_series_many(run_ids, "loss", max_points=300)
        assert [line.run_id for line in lines] == run_ids
        for line in lines:  # the same values as the records, as columns
            records = bucketed[line.run_id].records
            assert list(line.steps) == [r.step for r in records]
            assert list(line.values) == [r.value for r in records]
        assert [len(line.values) for line in store.read_series_many(run_ids, "loss")] == [
            shape.steps("loss")
        ] * 100
        timed = {
            "page_tag_metric": lambda: page(filters=group, order_by=by_loss),
            "page_tag_metric_desc": lambda: page(
                filters=group, order_by=RunOrder.metric("loss", descending=True)
            ),
            "page_rare_tag": lambda: page(filters=[TagEquals("rare", "yes")], order_by=by_loss),
            "page_next": lambda: page(
                filters=group, order_by=by_loss, page_token=first.next_page_token
            ),
            "page_metric_filter": lambda: page(
                filters=[*group, MetricCompare("accuracy", ">", 0.5)], order_by=by_loss
            ),
            "page_newest": lambda: page(),
            "page_created_at_tag": lambda: page(
                filters=group, order_by=RunOrder.attribute("created_at", descending=True)
            ),
            "chart_1000": lambda: store.read_metrics_many(run_ids, "loss", max_points=1000),
            "chart_300": lambda: store.read_metrics_many(run_ids, "loss", max_points=300),
            "series_1000": lambda: store.read_series_many(run_ids, "loss", max_points=1000),
            "series_300": lambda: store.read_series_many(run_ids, "loss", max_points=300),
            # What the REST route does but HTTP: the read and its JSON text.
            "series_300_json": lambda: series_body(
                store.read_series_many(run_ids, "loss", max_points=300)
            ),
        }
        out: dict[str, Any] = {"page_losses": losses, "load_before": os.getloadavg()[0]}
        for name, call in timed.items():
            out[name], out[f"{name}_cpu"] = _timed(call, repeats)
            print(
                f"[bench_search] {name}: {out[name]['median'] * 1000:.1f} ms "
                f"(this process's CPU: {out[f'{name}_cpu']['median'] * 1000:.1f} ms)",
                flush=True,
            )
        out["load_after"] = os.getloadavg()[0]
        out["chart_points_bucketed"] = sum(len(p.records) for p in bucketed.values())
        out["series_300_json_bytes"] = len(series_body(lines))
        return out
    finally:
        store.close()


def _timed(call: Any, repeats: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Wall and this process's CPU seconds per call (SQLite works in this process, so its
    CPU time is what the call costs whatever else the machine runs)."""
    for _ in range(2):
        call()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
        call()
        wall.append((time.perf_counter_ns() - start) / 1e9)
        cpu.append((time.process_time_ns() - start_cpu) / 1e9)
    return summarize(wall).to_dict(), summarize(cpu).to_dict()


def measure_mlflow(shape: Shape, repeats: int) -> dict[str, Any]:
    python = ensure_venv("mlflow", [MLFLOW_REQUIREMENT])
    settings = {"runs": shape.runs, "points": shape.points, "repeats": repeats}
    argv = [
        str(python),
        str(Path(__file__).resolve().parent / "mlflow_search_side.py"),
        str(WORK_DIR / "search"),
        json.dumps(settings),
    ]
    return run_json_child(argv, timeout=7200)


def _ms(result: dict[str, Any], name: str) -> float:
    return float(result[name]["median"]) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=500, help="values per run")
    parser.add_argument("--mlflow-runs", type=int, help="MLflow's size (default: --runs)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--quick", action="store_true", help="2,000 runs, 3 repeats")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.repeats = 2000, 3
        args.mlflow_runs = args.mlflow_runs or 2000
    shape = Shape(args.runs, args.points)
    mlflow_shape = Shape(args.mlflow_runs or args.runs, args.points)
    folder = WORK_DIR / "search"
    raw: dict[str, Any] = {"shape": shape.to_dict(), "mlflow_shape": mlflow_shape.to_dict()}
    shapes = [shape] if mlflow_shape == shape or args.skip_mlflow else [mlflow_shape, shape]
    for size in shapes:
        for database in args.databases.split(","):
            start = time.perf_counter()
            if database == "sqlite":
                url, build = sqlite_store(folder, size)
            else:
                url, build = postgres_store(args.postgres_url, size)
            build["total_s"] = time.perf_counter() - start
            print(f"[bench_search] {database} {size.label} ready: {build}", flush=True)
            raw[f"runyard_{database}_{size.label}"] = {
                "build": build,
                **measure_runyard(url, size, args.repeats),
            }
    if not args.skip_mlflow:
        raw[f"mlflow_sqlite_{mlflow_shape.label}"] = measure_mlflow(mlflow_shape, args.repeats)
    rows = _rows(raw, args.databases.split(","), shape, mlflow_shape, args.skip_mlflow)
    notes = _notes(shape, mlflow_shape, raw)
    path = write_result(
        "search",
        "Run search and charts at scale (issues 11, 12) — Runyard vs MLflow",
        rows,
        notes,
        extra=raw,
        smoke=args.quick,
    )
    print(markdown_table(json.loads(path.read_text())))
    return 0


def _size(shape: Shape) -> str:
    return f"{shape.runs:,} runs, {shape.total_points / 1e6:g} M points"


def _rows(
    raw: dict[str, Any], databases: list[str], shape: Shape, mlflow_shape: Shape, skip: bool
) -> list[dict[str, Any]]:
    mlflow = None if skip else raw[f"mlflow_sqlite_{mlflow_shape.label}"]
    rows = []
    calls = [
        (
            "page_tag_metric",
            "page_tag_metric",
            "a page of 100 runs, tag filter, sorted by a metric",
        ),
        ("page_rare_tag", "page_rare_tag", "the same with a tag on 1 % of the runs"),
        ("page_next", "page_next", "the next page"),
        ("series_300", "chart_bulk_interval", "chart of the page's 100 runs (buckets of 300)"),
        ("series_1000", "chart_history", "chart of the page's 100 runs (whole, 400 points)"),
        ("series_300_json", "", "the same (buckets of 300) and its JSON body"),
        ("chart_300", "", "chart as records (read_metrics_many, buckets of 300)"),
        ("chart_1000", "", "chart as records (read_metrics_many, whole)"),
    ]
    other_names = {
        "page_tag_metric": "search_runs(filter tags.group, order_by metrics.loss ASC)",
        "page_rare_tag": "search_runs(filter tags.rare, order_by metrics.loss ASC)",
        "page_next": "search_runs(..., page_token)",
        "chart_bulk_interval": "get_metric_history_bulk_interval(100 runs, 320 points)",
        "chart_history": "get_metric_history × 100 runs",
    }
    for size in dict.fromkeys([mlflow_shape, shape]):
        for database in databases:
            key = f"runyard_{database}_{size.label}"
            if key not in raw:
                continue
            mine = raw[key]
            same = mlflow is not None and size == mlflow_shape
            for name, theirs, words in calls:
                target = ""
                met = None
                if size == shape and name in ("page_tag_metric", "series_300", "series_1000"):
                    limit = PAGE_TARGET_MS if name.startswith("page") else CHART_TARGET_MS
                    target = f"≤ {limit:g} ms"
                    met = _ms(mine, name) <= limit
                rows.append(
                    row(
                        f"{words} — {database}, {_size(size)}",
                        _ms(mine, name),
                        _ms(mlflow, theirs) if same and mlflow and theirs else None,
                        f"MLflow {other_names[theirs]}, SQLite" if same and theirs else "",
                        "ms",
                        target=target,
                        met=met,
                    )
                )
    return rows


def _context(raw: dict[str, Any], shape: Shape) -> str:
    """The load the run saw and Runyard's CPU time per call (load-independent on SQLite)."""
    loads = [
        value[key]
        for value in raw.values()
        if isinstance(value, dict)
        for key in ("load_before", "load_after")
        if key in value
    ]
    text = ""
    if loads:
        text += (
            f" The 1-minute load average was {min(loads):.0f}-{max(loads):.0f} on 2 cores "
            "during the run (other work on the machine), so wall times are inflated;"
        )
    mine = raw.get(f"runyard_sqlite_{shape.label}")
    if mine:
        cpu = {
            key: mine[f"{key}_cpu"]["median"] * 1000
            for key in (
                "page_tag_metric",
                "series_1000",
                "series_300",
                "series_300_json",
                "chart_1000",
                "chart_300",
            )
        }
        text += (
            " on SQLite, where the work is done in the benchmark's own process, Runyard's CPU "
            f"time per call at {_size(shape)} was {cpu['page_tag_metric']:.0f} ms for the "
            f"page, {cpu['series_1000']:.0f} / {cpu['series_300']:.0f} ms for the chart as "
            f"columns (whole / buckets of 300; {cpu['series_300_json']:.0f} ms with its JSON "
            f"body) and {cpu['chart_1000']:.0f} / {cpu['chart_300']:.0f} ms as records "
            "(`*_cpu` in raw)."
        )
    mine = raw.get(f"runyard_postgresql_{shape.label}")
    if mine:
        text += (
            " On PostgreSQL the benchmark's own CPU time for the chart as columns was "
            f"{mine['series_1000_cpu']['median'] * 1000:.0f} / "
            f"{mine['series_300_cpu']['median'] * 1000:.0f} ms (whole / buckets of 300); the "
            "rest of its wall time is the server's."
        )
    return text


def _notes(shape: Shape, mlflow_shape: Shape, raw: dict[str, Any] | None = None) -> str:
    context = _context(raw or {}, shape)
    smaller = ""
    if mlflow_shape != shape:
        smaller = (
            f" MLflow's database was built at {_size(mlflow_shape)} only (its bulk load, with its "
            "four b-trees on metrics, took about 7x as long per point as Runyard's here): rows "
            f"at {_size(shape)} have no MLflow counterpart."
        )
    data = (
        f"Data: one experiment, {_size(shape)} (MLflow: {_size(mlflow_shape)}), built by "
        "bulk SQL into each tool's own schema (Runyard: its migrations, then the values and "
        "migration 0005's summary backfill; MLflow: its migrations, then runs, tags, metrics "
        "and latest_metrics). Both sides are timed in-process on the store with a warm cache: "
        "the server's time without HTTP. A Runyard page returns the 100 runs with their "
        "tags, properties and the summaries (last, min, max, count) of three metrics; "
        "MLflow's search_runs returns the runs with their tags, params and latest metrics. "
        "The chart: Runyard's read_series_many (the chart path, also the REST route "
        "POST .../metrics/series) returns one line of columns (steps, values, times) per run, "
        "each bucket keeping its min/max/last; the rows 'as records' time read_metrics_many, "
        "the same values as one MetricRecord each; "
        "MLflow's get_metric_history_bulk_interval samples 320 evenly spaced points per run "
        "(its UI's chart call), get_metric_history reads every point."
    )
    return data + context + smaller


if __name__ == "__main__":
    sys.exit(main())
