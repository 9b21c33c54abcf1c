"""Issue 12: the web UI at scale, in real Chromium (Debian's /usr/bin/chromium) against a
real ``runyard server`` process.

Measures, each the median of ``--repeat`` fresh page loads (from navigation to the moment
the data is drawn on the page):

(a) the runs page of an experiment with ``--runs`` runs (100,000): first meaningful paint
    (the first rows of the table shown with their metric columns);
(b) sorting that table by a metric column, and filtering it by one: click to redraw;
(c) a chart of one run's metric with 1,000,000 points (downsampled on the server);
(d) 100 runs' histories (1,000 steps each) in one chart, on the compare page;
(e) compare 20 runs x 5 metrics x 10,000 steps: every chart drawn.

Side by side, MLflow's own UI (``mlflow server`` of benchmarks/.venvs/mlflow, MLflow
3.17.2) serves the same runs (``mlflow_ui_side.py`` builds its SQLite database: names,
statuses, tags, params and metric values equal to Runyard's) to the same Chromium: (a) its
runs page until the newest run's row is shown (MLflow shows no metric columns until a user
picks them), and (b) sorted by ``loss`` (the view's sort set in the page's address, as its
sort menu does) until the run with the highest loss is the first row. Ratios are
MLflow's time over Runyard's.

    python benchmarks/bench_ui.py [--runs N] [--repeat N] [--quick] [--skip-mlflow]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from common import WORK_DIR, ensure_venv, installed_version, print_result, row, write_result

CHROMIUM = "/usr/bin/chromium"
MLFLOW_REQUIREMENT = "mlflow==3.17.2"  # the pin of bench_search.py: its venv is reused
FIRST_LOSS = ".vrow[data-run] [data-column='metric:loss:last']"
FIRST_RUN = "document.querySelector('.vrow[data-run]')?.dataset.run"
TOTAL = "document.querySelector('.count').dataset.total"


def make_data(folder: Path, runs: int, million: int) -> None:
    """The benchmark workspace (made once per size, then reused)."""
    from runyard.core.workspace import Workspace
    from runyard.entities import MetricKind, MetricRecord, RunStatus

    done = folder / ".complete"
    if done.exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    ws = Workspace.create("bench", path=folder)
    store = ws._resources.store
    now = time.time()
    store.create_experiment("big")
    batch: list[MetricRecord] = []
    for i in range(runs):
        run_id = f"big_{i:06d}"
        store.create_run(
            "big",
            run_id=run_id,
            status=RunStatus.COMPLETED if i % 7 else RunStatus.FAILED,
            tags={"group": f"g{i % 10}"},
            details={"runDefinition": {"arguments": ["--lr", str(0.001 * (1 + i % 50))]}},
        )
        batch += [
            MetricRecord(run_id, "loss", math.sin(i) + 2.0, MetricKind.SCALAR, 0, now),
            MetricRecord(run_id, "accuracy", (i * 7919 % 1000) / 1000, MetricKind.SCALAR, 0, now),
        ]
        if len(batch) >= 20_000:
            store.log_metrics(batch)
            batch = []
    store.log_metrics(batch)
    store.create_experiment("charts")
    store.create_run("charts", run_id="million", status=RunStatus.COMPLETED)
    for start in range(0, million, 100_000):
        store.log_metrics(
            [
                MetricRecord(
                    "million",
                    "wave",
                    math.sin(s / 5000) + (3.0 if s % 99_991 == 0 else 0.0),
                    MetricKind.SCALAR,
                    s,
                    now + s / 100,
                )
                for s in range(start, min(million, start + 100_000))
            ]
        )
    for r in range(100):
        store.create_run("charts", run_id=f"hist_{r:03d}", status=RunStatus.COMPLETED)
        store.log_metrics(
            [
                MetricRecord(
                    f"hist_{r:03d}", "loss", 1 / (s + 1) + r / 100, MetricKind.SCALAR, s, now
                )
                for s in range(1000)
            ]
        )
    for r in range(20):
        run_id = f"cmp_{r:02d}"
        store.create_run("charts", run_id=run_id, status=RunStatus.COMPLETED)
        for m in range(5):
            store.log_metrics(
                [
                    MetricRecord(
                        run_id, f"m{m}", math.cos(s / (100 + m)) + r, MetricKind.SCALAR, s, now
                    )
                    for s in range(10_000)
                ]
            )
    ws.close()
    done.write_text("ok")


def first_page_kb() -> float:
    """The gzip size of the built assets ``index.html`` names (all a first page loads)."""
    import gzip
    import re

    from runyard.server.ui.assets import DIST_DIR

    index = (DIST_DIR / "index.html").read_text()
    names = re.findall(r'/assets/([^"]+)"', index)
    return sum(len(gzip.compress((DIST_DIR / "assets" / n).read_bytes())) for n in names) / 1024


def timed_load(page: Any, url: str, ready: Any) -> float:
    """Seconds from navigating to ``url`` until ``ready(page)`` returns (data drawn)."""
    page.goto("about:blank")
    start = time.perf_counter()
    page.goto(url)
    ready(page)
    return time.perf_counter() - start


def poll(page: Any, expression: str, timeout_s: float = 120.0) -> None:
    """Wait for a JavaScript expression (polled with evaluate: the UI's CSP refuses eval)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(expression)
        time.sleep(0.005)


def charts_drawn(page: Any, count: int) -> None:
    poll(page, f"document.querySelectorAll('.chart-box[data-drawn]').length >= {count}")


def measure_mlflow(browser: Any, runs: int, repeat: int) -> dict[str, list[float]]:
    """MLflow's runs page and its sort by a metric, on the same runs, in the same browser."""
    python = ensure_venv("mlflow", [MLFLOW_REQUIREMENT])
    database = WORK_DIR / "ui-mlflow" / f"mlflow-{runs}.db"
    database.parent.mkdir(parents=True, exist_ok=True)
    side = str(Path(__file__).resolve().parent / "mlflow_ui_side.py")
    built = subprocess.run(
        [str(python), side, str(database), str(runs)], capture_output=True, text=True
    )
    if built.returncode:
        raise RuntimeError(f"mlflow_ui_side.py failed:\n{built.stderr}")
    experiment = built.stdout.strip().splitlines()[-1]
    from server_process import free_port

    port = free_port()
    log = open(database.parent / "mlflow-server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [
            str(python),
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{database}",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    samples: dict[str, list[float]] = {}
    try:
        import httpx

        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not start; see {log.name}")
            time.sleep(0.2)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        newest = f"big_{runs - 1:06d}"
        top_loss = f"big_{max(range(runs), key=lambda i: math.sin(i)):06d}"

        def view(order: str, ascending: bool) -> str:
            query = urllib.parse.urlencode(
                {"searchFilter": "", "orderByKey": order, "orderByAsc": str(ascending).lower()}
            )
            return f"{url}/#/experiments/{experiment}/runs?{query}"

        def first_row_is(name: str) -> str:
            return (
                "[...document.querySelectorAll('.ag-row[row-index=\"0\"]')]"
                f".some((r) => r.textContent.includes({name!r}))"
            )

        for _ in range(repeat):
            samples.setdefault("runs_page", []).append(
                timed_load(
                    page,
                    view("attributes.start_time", False),
                    lambda p: poll(p, first_row_is(newest), 600),
                )
            )
            start = time.perf_counter()
            page.evaluate(f"location.hash = {view('metrics.`loss`', False).split('#', 1)[1]!r}")
            poll(page, first_row_is(top_loss), 600)
            samples.setdefault("sort_by_metric", []).append(time.perf_counter() - start)
            print({f"mlflow_{k}": round(v[-1], 3) for k, v in samples.items()}, flush=True)
        context.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    print(f"MLflow {installed_version(python, 'mlflow')} measured", flush=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mlflow-repeat", type=int, default=3)
    parser.add_argument("--skip-mlflow", action="store_true", help="Runyard's side only")
    parser.add_argument(
        "--quick", action="store_true", help="10,000 runs, 100,000 points, 2 repeats"
    )
    args = parser.parse_args()
    if args.quick:
        args.runs, args.points, args.repeat, args.mlflow_repeat = 10_000, 100_000, 2, 1
    from playwright.sync_api import sync_playwright

    from server_process import start_server

    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load}", flush=True)
    folder = WORK_DIR / f"ui-{args.runs}-{args.points}"
    t0 = time.perf_counter()
    make_data(folder / "ws", args.runs, args.points)
    print(f"data ready in {time.perf_counter() - t0:.0f} s", flush=True)
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    server = start_server(str(folder / "ws"), log_dir=str(logs), ready_timeout_s=300)
    samples: dict[str, list[float]] = {}
    theirs: dict[str, list[float]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.add_init_script(f"localStorage.setItem('runyard.token', {server.token!r})")
            page = context.new_page()
            runs_url = (
                server.url + "/w/bench/experiments/big?cols=metric:loss:last,metric:accuracy:last"
            )

            def first_rows(p: Any) -> None:
                poll(
                    p,
                    f"document.querySelector({FIRST_LOSS!r})?.textContent.length > 0",
                )

            for _ in range(args.repeat):
                samples.setdefault("runs_page", []).append(timed_load(page, runs_url, first_rows))
                first = page.evaluate("document.querySelector('.vrow[data-run]').dataset.run")
                start = time.perf_counter()
                page.click("button.sort[data-column='metric:loss:last']")
                poll(
                    page,
                    f"{FIRST_RUN} !== {first!r} && {TOTAL} !== ''",
                )
                samples.setdefault("sort_by_metric", []).append(time.perf_counter() - start)
                before = page.evaluate(TOTAL)
                page.select_option("[aria-label='Filter column']", "metric:accuracy:last")
                page.select_option("[aria-label='Filter operator']", ">")
                page.fill("[aria-label='Filter value']", "0.9")
                start = time.perf_counter()
                page.click("text=Add filter")
                poll(page, f"{TOTAL} !== {before!r} && {TOTAL} !== ''")
                samples.setdefault("filter_by_metric", []).append(time.perf_counter() - start)
                samples.setdefault("chart_million", []).append(
                    timed_load(
                        page,
                        server.url + "/w/bench/runs/million?tab=metrics",
                        lambda p: charts_drawn(p, 1),
                    )
                )
                hundred = ",".join(f"hist_{r:03d}" for r in range(100))
                samples.setdefault("chart_100_runs", []).append(
                    timed_load(
                        page,
                        server.url + f"/w/bench/compare?runs={hundred}",
                        lambda p: charts_drawn(p, 1),
                    )
                )
                twenty = ",".join(f"cmp_{r:02d}" for r in range(20))
                samples.setdefault("compare_20x5", []).append(
                    timed_load(
                        page,
                        server.url + f"/w/bench/compare?runs={twenty}",
                        lambda p: charts_drawn(p, 5),
                    )
                )
                print({k: round(v[-1], 3) for k, v in samples.items()}, flush=True)
            if not args.skip_mlflow:
                theirs = measure_mlflow(browser, args.runs, args.mlflow_repeat)
            browser.close()
    finally:
        server.stop()
    median = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    targets = {
        "runs_page": (f"runs page, {args.runs:,} runs: first meaningful paint", 1000),
        "sort_by_metric": ("runs table sorted by a metric column: redraw", 300),
        "filter_by_metric": ("runs table filtered by a metric: redraw", 300),
        "chart_million": (f"chart of one metric with {args.points:,} points", 500),
        "chart_100_runs": ("100 runs' histories (1,000 steps) in one chart", 1000),
        "compare_20x5": ("compare 20 runs x 5 metrics x 10,000 steps", 1000),
    }
    their_median = {k: statistics.median(v) * 1000 for k, v in theirs.items()}
    rows = [
        row(
            label,
            median[key],
            their_median.get(key),
            "MLflow UI" if key in their_median else "MLflow UI (no such page driven)",
            "ms",
            target=f"<= {limit} ms",
            met=median[key] <= limit,
        )
        for key, (label, limit) in targets.items()
    ]
    rows.append(
        row(
            "JS and CSS the first page loads (gzip)",
            first_page_kb(),
            None,
            "MLflow UI (not measured)",
            "KB",
            target="<= 300 KB",
            met=first_page_kb() <= 300,
        )
    )
    path = write_result(
        "ui",
        "Web UI in Chromium (issue 12)",
        rows,
        notes=(
            "Median of fresh page loads in headless Chromium on this machine, server and "
            "browser on the same 2 cores; from navigation until the data is drawn (a chart: "
            "until it holds the values). MLflow: its own UI (mlflow server, "
            f"{MLFLOW_REQUIREMENT}) on the same runs in the same Chromium, median of "
            f"{args.mlflow_repeat}; its runs page until the newest run's row shows (without "
            "metric columns, which it hides by default), its sort by loss until the top run "
            "is the first row. Load average at the start: "
            f"{load}." + (" MLflow not run (--skip-mlflow)." if not theirs else "")
        ),
        extra={**samples, **{f"mlflow_{k}": v for k, v in theirs.items()}},
        smoke=args.quick,
    )
    print_result(path)


if __name__ == "__main__":
    os.environ.setdefault("RUNYARD_HOME", str(WORK_DIR / "ui-home"))
    main()
