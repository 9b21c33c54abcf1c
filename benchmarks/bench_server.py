"""Issue 11's request-path targets: Runyard's team server vs ``mlflow server``, both real
server processes on this machine, measured in the same run.

Run from the repository root with the project's venv::

    .venv/bin/python benchmarks/bench_server.py            # full run (a few minutes)
    .venv/bin/python benchmarks/bench_server.py --quick    # smoke run

For each worker count (``--workers``, default ``1,4``) it starts ``runyard server start``
(an embedded SQLite workspace) and ``mlflow server`` (SQLite backend store, local artifact
root), each with that many uvicorn workers, and measures from a client in another process:
a small keep-alive request (get a run; log a batch of 10 values) as p50/p99, a run's
create + complete, and ingest through the client each tool recommends (Runyard: the SDK's
``run.log`` and its metric buffer; MLflow: ``log_batch`` of 1,000). Also each server's time
to ready and its idle memory. Writes ``benchmarks/results/server.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (
    BENCH_DIR,
    QUIET_ENV,
    ensure_venv,
    markdown_table,
    row,
    run_json_child,
    summarize,
    wait_for_quiet,
    work_dir,
    write_result,
)

MLFLOW_REQUIREMENT = "mlflow==3.17.2"

FULL = {"small": 2000, "runs": 200, "ingest_values": 100_000, "ingest_repeats": 3}
QUICK = {"small": 200, "runs": 20, "ingest_values": 20_000, "ingest_repeats": 1}


# -- servers -----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A server process (in its own process group), its URL and its time to ready."""

    def __init__(self, argv: list[str], url: str, probe: str, log: Path) -> None:
        self.url = url
        start = time.perf_counter()
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **QUIET_ENV},
                start_new_session=True,
            )
        deadline = start + 120
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited:\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(url + probe, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() > deadline:
                self.stop()
                raise RuntimeError(f"{' '.join(argv)} was not ready in 120 s")
            time.sleep(0.02)
        self.ready_s = time.perf_counter() - start
        time.sleep(1.0)  # let workers settle before reading their memory
        self.rss_mb = tree_rss_mb(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total_kib, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


def start_runyard(scratch: Path, workers: int) -> tuple[Server, str, str]:
    """The server, its URL and its administrator's token (authentication is on, as on
    every Runyard server; the write rate limit is off, as it would refuse a benchmark's
    thousands of writes a second from one token)."""
    from runyard.core.workspace import Workspace
    from runyard.server.identity import open_identity_store

    Workspace.create("bench", path=scratch / "runyard-ws").close()
    identity = open_identity_store(str(scratch / "runyard-home"))
    try:
        token = identity.init_admin("bench").secret
    finally:
        identity.close()
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "runyard.cli",
        "-w",
        str(scratch / "runyard-ws"),
        "server",
        "start",
        "--port",
        str(port),
        "--home",
        str(scratch / "runyard-home"),
        "--workers",
        str(workers),
        "--write-rate",
        "0",
    ]
    url = f"http://127.0.0.1:{port}"
    return Server(argv, url, "/health/ready", scratch / "runyard-server.log"), url, token


def start_mlflow(mlflow_python: Path, scratch: Path, workers: int) -> tuple[Server, str]:
    port = free_port()
    argv = [
        str(mlflow_python),
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{scratch / 'mlflow.db'}",
        "--default-artifact-root",
        (scratch / "mlflow-artifacts").as_uri(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    url = f"http://127.0.0.1:{port}"
    return Server(argv, url, "/health", scratch / "mlflow-server.log"), url


# -- Runyard's client side ---------------------------------------------------------------
def percentiles(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {
        **summarize(samples).to_dict(),
        "p50": ordered[len(ordered) // 2],
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }


def timed(fn: Any, repeats: int, warmup: int) -> dict[str, Any]:
    for i in range(warmup):
        fn(-1 - i)
    samples = []
    for i in range(repeats):
        start = time.perf_counter_ns()
        fn(i)
        samples.append((time.perf_counter_ns() - start) / 1e9)
    return percentiles(samples)


def runyard_client(url: str, token: str, scratch: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """The measurements through RestTrackingStore and the SDK, in this process."""
    from runyard.core import Experiment, Workspace
    from runyard.entities import MetricRecord, RunStatus
    from runyard.tracking.rest import RestTrackingStore

    out: dict[str, Any] = {}
    store = RestTrackingStore(url, workspace="bench", token=token)
    try:
        store.create_experiment("small")
        store.create_run("small", run_id="target", status=RunStatus.RUNNING)
        out["get_run"] = timed(lambda i: store.get_run("target"), settings["small"], 100)
        now = time.time()

        def batch_of_10(i: int) -> None:
            store.log_metrics(
                [
                    MetricRecord("target", "m", float(j), step=i * 10 + j, logged_at=now)
                    for j in range(10)
                ]
            )

        out["log_batch_10"] = timed(batch_of_10, settings["small"], 100)
    finally:
        store.close()

    config = scratch / "client" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"workspace_name": "bench", "server": url}))
    os.environ["RUNYARD_TOKEN"] = token  # as a CI job gives it
    ws = Workspace.from_config(str(config))
    try:
        exp = Experiment(ws, "runs")

        def create_complete(i: int) -> None:
            exp.start_logging().complete()

        out["run_create_complete"] = timed(create_complete, settings["runs"], 5)

        n = settings["ingest_values"]
        totals, per_call = [], []
        exp = Experiment(ws, "ingest")
        for _ in range(settings["ingest_repeats"]):
            run = exp.start_logging()
            log = run.log
            start = time.perf_counter_ns()
            for k in range(n):
                log("loss", 0.5, step=k)
            looped = time.perf_counter_ns()
            run.flush()
            totals.append((time.perf_counter_ns() - start) / 1e9)
            per_call.append((looped - start) / 1e9 / n)
            run.complete()
            stored = len(ws.resources.store.get_metrics(run.id, "loss"))
            if stored != n:
                raise SystemExit(f"Runyard stored {stored} of {n} values")
        out["ingest_total"] = summarize(totals).to_dict()
        out["ingest_per_call"] = summarize(per_call).to_dict()
    finally:
        ws.close()
    return out


# -- results -----------------------------------------------------------------------------
def build_rows(results: dict[int, dict[str, Any]], s: dict[str, Any]) -> list[dict[str, Any]]:
    ms = 1e3
    rows = []
    for workers, r in results.items():
        ry, ml = r["runyard"], r["mlflow"]
        w = f"{workers} worker{'s' if workers > 1 else ''}"
        for key, what, other in [
            ("get_run", "Get a run", "`MlflowClient.get_run`"),
            ("log_batch_10", "Log a batch of 10 values", "`MlflowClient.log_batch` of 10"),
        ]:
            for stat, target in (("p50", 2), ("p99", 10)):
                value = ry[key][stat] * ms
                rows.append(
                    row(
                        f"{what}, keep-alive, {stat} ({w})",
                        value,
                        ml[key][stat] * ms,
                        other,
                        "ms",
                        target=f"≤ {target} ms",
                        met=value <= target,
                    )
                )
        n = s["ingest_values"]
        rate = n / ry["ingest_total"]["median"]
        rows.append(
            row(
                f"Ingest {n:,} values through `run.log` until flushed ({w})",
                rate,
                n / ml["ingest_total"]["median"],
                "`MlflowClient.log_batch` of 1,000",
                "values/s",
                higher_is_better=True,
                target="≥ 50,000 values/s",
                met=rate >= 50_000,
            )
        )
        per_call = ry["ingest_per_call"]["median"] * 1e6
        rows.append(
            row(
                f"`run.log` per call over REST ({w})",
                per_call,
                None,
                "",
                "µs",
                target="≤ 5 µs",
                met=per_call <= 5,
            )
        )
        create = ry["run_create_complete"]["median"] * ms
        rows.append(
            row(
                f"Create + complete a run, median ({w})",
                create,
                ml["run_create_complete"]["median"] * ms,
                "`mlflow.start_run()` + `end_run()`",
                "ms",
                target="≤ 5 ms",
                met=create <= 5,
            )
        )
        rows.append(
            row(
                f"Server start to ready ({w})",
                r["runyard_server"]["ready_s"],
                r["mlflow_server"]["ready_s"],
                "`mlflow server` to `/health`",
                "s",
                target="≤ 2 s",
                met=r["runyard_server"]["ready_s"] <= 2,
            )
        )
        rows.append(
            row(
                f"Idle server memory, all processes ({w})",
                r["runyard_server"]["rss_mb"],
                r["mlflow_server"]["rss_mb"],
                "`mlflow server`",
                "MB",
                target="≤ 300 MB",
                met=r["runyard_server"]["rss_mb"] <= 300,
            )
        )
    return rows


NOTES = """\
- Both servers are real processes started as their users start them, on 127.0.0.1, each
  with the same number of uvicorn workers: `runyard server start --workers N` over an
  embedded workspace (SQLite, WAL) and `mlflow server --workers N` ({mlflow}) with a SQLite
  backend store and a local artifact root. Each client runs in its own process (MLflow's in
  its venv) over one keep-alive connection pool. Runyard checks a bearer token on every
  request (as every Runyard server does; its write rate limit is off, `--write-rate 0`, or
  it would refuse this many writes a second from one token); MLflow runs without
  authentication, its default.
- Small requests: {small:,} timed calls after 100 untimed ones; p50 and p99 of the
  client-side time. Runyard: `RestTrackingStore.get_run` and `log_metrics` of 10 records
  (one `POST /metrics`); MLflow: `MlflowClient.get_run` and `log_batch` of 10 metrics.
- Create + complete: Runyard `Experiment.start_logging()` + `run.complete()` (create the
  run, start its heartbeat, set Completed); MLflow `mlflow.start_run()` + `mlflow.end_run()`.
  {runs} timed runs after 5 untimed ones.
- Ingest: Runyard `run.log("loss", v, step=k)` {ingest:,} times then `run.flush()` (the SDK's
  metric buffer sends batches in the background, one `POST /metrics` each); MLflow
  `MlflowClient.log_batch` of 1,000 metrics (its most per call), {ingest:,} values. Both
  counted back through the API afterwards. Median of {repeats}.
- Ready: from spawning the command to the first 200 of its health probe. Memory: resident
  memory of the server process and all its children (workers) just after ready.
- The machine is shared (2 cores); the 1-minute load average when measuring was {load}.
  Compare ratios within this run.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, a smoke run")
    parser.add_argument("--workers", default="1,4", help="worker counts to measure")
    parser.add_argument("--max-load", type=float, default=2.0)
    parser.add_argument("--max-wait", type=float, default=300.0)
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    mlflow_python = ensure_venv("mlflow", [MLFLOW_REQUIREMENT])
    results: dict[int, dict[str, Any]] = {}
    loads = []
    for workers in [int(w) for w in args.workers.split(",")]:
        scratch = Path(work_dir(f"server-{workers}-"))
        loads.append(wait_for_quiet(args.max_load, args.max_wait))
        runyard_server, runyard_url, token = start_runyard(scratch, workers)
        mlflow_server, mlflow_url = start_mlflow(mlflow_python, scratch, workers)
        try:
            ry = runyard_client(runyard_url, token, scratch, settings)
            ml = run_json_child(
                [
                    str(mlflow_python),
                    str(BENCH_DIR / "mlflow_server_side.py"),
                    mlflow_url,
                    json.dumps(settings),
                ]
            )
        finally:
            runyard_server.stop()
            mlflow_server.stop()
        results[workers] = {
            "runyard": ry,
            "mlflow": ml,
            "runyard_server": {"ready_s": runyard_server.ready_s, "rss_mb": runyard_server.rss_mb},
            "mlflow_server": {"ready_s": mlflow_server.ready_s, "rss_mb": mlflow_server.rss_mb},
        }
        shutil.rmtree(scratch, ignore_errors=True)
    mlflow_version = next(iter(results.values()))["mlflow"]["mlflow_version"]
    notes = NOTES.format(
        mlflow=f"MLflow {mlflow_version}",
        small=settings["small"],
        runs=settings["runs"],
        ingest=settings["ingest_values"],
        repeats=settings["ingest_repeats"],
        load=", ".join(f"{x:.1f}" for x in loads),
    )
    path = write_result(
        "server",
        "Team server (issue 11) — Runyard's REST API vs `mlflow server`",
        build_rows(results, settings),
        notes,
        extra={"settings": settings, "results": results, "load": loads},
        smoke=args.quick,
    )
    print(markdown_table(json.loads(path.read_text(encoding="utf-8"))))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
