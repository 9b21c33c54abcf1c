"""Issue 11's load target: 200 concurrent runs logging 10 values a second each for 5 minutes
against one team server on this machine, with no errors and nothing lost.

Run from the repository root with the project's venv::

    .venv/bin/python benchmarks/bench_server_load.py            # 200 runs, 5 minutes
    .venv/bin/python benchmarks/bench_server_load.py --quick    # 40 runs, 20 s (smoke)

It starts ``runyard server start`` (an embedded SQLite workspace, ``--workers`` worker
processes, authentication on) and creates the runs. Client processes (``--clients``), each
an asyncio loop with one keep-alive connection per run, then send each run's values as one
``POST /metrics`` batch every ``--period`` seconds (10 values at the default 1 s: what the
SDK's buffer sends when it flushes once a second), on a fixed schedule with each run's
phase spread over the period, and a heartbeat (``PATCH /runs/{id}``) every
``RUNYARD_HEARTBEAT_S`` as the SDK does. Every answer other than 204 (200 for a heartbeat),
every connection error, and a run that cannot be completed at the end, is an error. At
the end the runs are completed and their values counted back through the API:
values acknowledged (204) must equal values stored. Reports p50/p99/max write latency
(from send to answer, and from the scheduled send time, which also counts time the client
fell behind) and the 1-minute load average. Writes
``benchmarks/results/server_load.json``.

No other tool is run alongside: ``bench_server.py`` compares single requests with
``mlflow server``; this one checks the server holds a sustained load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_server import start_runyard
from common import markdown_table, row, wait_for_quiet, work_dir, write_result

FULL = {"runs": 200, "values_per_s": 10, "duration_s": 300.0}
QUICK = {"runs": 40, "values_per_s": 10, "duration_s": 20.0}
WORKSPACE = "bench"
METRIC = "loss"


# -- one client process ------------------------------------------------------------------
class Connection:
    """One keep-alive HTTP/1.1 connection, written by hand so that the load generator
    costs the shared CPUs as little as possible (it runs on the server's machine)."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\n{self.head}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        data = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def one_run(
    conn: Connection,
    run_id: str,
    start_at: float,
    settings: dict[str, Any],
    out: dict[str, Any],
) -> None:
    """Send ``run_id``'s batches on schedule until the duration ends."""
    period = settings["period_s"]
    per_batch = max(1, round(settings["values_per_s"] * period))
    batches = int(settings["duration_s"] / period)
    path = f"/api/v1/workspaces/{WORKSPACE}/metrics"
    run_path = f"/api/v1/workspaces/{WORKSPACE}/runs/{run_id}"
    series = [{"run_id": run_id, "name": METRIC, "kind": "scalar"}]
    # A live run heartbeats, as the SDK's does, or the server's sweeper fails it.
    beat_every = max(1, round(settings["heartbeat_s"] / period))
    loop = asyncio.get_running_loop()
    acked = 0
    for k in range(batches):
        scheduled = start_at + k * period
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.time()
        if k % beat_every == 0:
            try:
                status, data = await conn.request(
                    "PATCH", run_path, json.dumps({"heartbeat_at": now}).encode()
                )
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                status, data = 0, f"{type(exc).__name__}: {exc}".encode()
            if status != 200:
                out["errors"].append(f"{run_id} heartbeat {k}: {status} {data[:300]!r}")
        points = [
            [0, 1.0 / (1 + k * per_batch + j), k * per_batch + j, now] for j in range(per_batch)
        ]
        body = json.dumps({"series": series, "points": points}).encode()
        sent = loop.time()
        try:
            status, data = await conn.request("POST", path, body)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            conn.close()
            out["errors"].append(f"{run_id} batch {k}: {type(exc).__name__}: {exc}")
            continue
        done = loop.time()
        if status != 204:
            out["errors"].append(f"{run_id} batch {k}: HTTP {status} {data[:300]!r}")
            continue
        acked += per_batch
        out["latency"].append(done - sent)
        out["behind"].append(done - scheduled)
    out["acked"][run_id] = acked


async def client_main(
    url: str, token: str, run_ids: list[str], settings: dict[str, Any], result_path: str
) -> None:
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    out: dict[str, Any] = {"latency": [], "behind": [], "errors": [], "acked": {}}
    loop = asyncio.get_running_loop()
    # Every client starts at the same wall-clock second; runs spread over one period.
    start_at = loop.time() + max(0.0, settings["start_at"] - time.time())
    conns = [Connection(host, int(port), token) for _ in run_ids]
    spread = settings["period_s"] / max(1, settings["total_runs"])
    await asyncio.gather(
        *(
            one_run(conn, run_id, start_at + settings["offsets"][run_id] * spread, settings, out)
            for conn, run_id in zip(conns, run_ids, strict=True)
        )
    )
    for conn in conns:
        conn.close()
    # A file, not stdout: every sample of a 5-minute run is far more than a pipe holds.
    Path(result_path).write_text(json.dumps(out), encoding="utf-8")


# -- the benchmark -----------------------------------------------------------------------
def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def run_load(args: argparse.Namespace, settings: dict[str, Any]) -> dict[str, Any]:
    """Start the server, run the clients, count back; the raw results."""
    import subprocess

    from runyard.entities import RunStatus
    from runyard.errors import RunyardError
    from runyard.settings import Settings
    from runyard.tracking.rest import RestTrackingStore

    scratch = Path(work_dir("server-load-"))
    load_before = wait_for_quiet(args.max_load, args.max_wait)
    server, url, token = start_runyard(scratch, args.workers)
    try:
        store = RestTrackingStore(url, workspace=WORKSPACE, token=token)
        try:
            store.create_experiment("load")
            run_ids = [f"load_{i:04d}" for i in range(settings["runs"])]
            for run_id in run_ids:
                store.create_run("load", run_id=run_id, status=RunStatus.RUNNING)
            shares = [run_ids[i :: args.clients] for i in range(args.clients)]
            child = {
                **settings,
                "period_s": args.period,
                "total_runs": len(run_ids),
                "offsets": {run_id: i for i, run_id in enumerate(run_ids)},
                "start_at": time.time() + 2.0,
                "heartbeat_s": Settings.from_env().heartbeat_s,
            }
            started = time.perf_counter()
            shares = [share for share in shares if share]
            result_paths = [scratch / f"client-{i}.json" for i in range(len(shares))]
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--client",
                        url,
                        token,
                        json.dumps(share),
                        json.dumps(child),
                        str(path),
                    ]
                )
                for share, path in zip(shares, result_paths, strict=True)
            ]
            loads = []
            while any(p.poll() is None for p in procs):
                time.sleep(min(5.0, settings["duration_s"] / 4))
                loads.append(os.getloadavg()[0])
            outputs = []
            for proc, path in zip(procs, result_paths, strict=True):
                if proc.wait() != 0:
                    raise SystemExit(f"a client process failed ({proc.returncode})")
                outputs.append(json.loads(path.read_text(encoding="utf-8")))
            elapsed = time.perf_counter() - started
            completed = []
            for run_id in run_ids:
                try:
                    store.set_run_status(run_id, RunStatus.COMPLETED)
                except RunyardError as exc:
                    completed.append(f"{run_id} complete: {exc}")
            acked = {k: v for out in outputs for k, v in out["acked"].items()}
            stored = {run_id: len(store.get_metrics(run_id, METRIC)) for run_id in run_ids}
        finally:
            store.close()
    finally:
        server.stop()
        rss_mb = server.rss_mb
    shutil.rmtree(scratch, ignore_errors=True)
    latency = sorted(x for out in outputs for x in out["latency"])
    behind = sorted(x for out in outputs for x in out["behind"])
    errors = [e for out in outputs for e in out["errors"]] + completed
    lost = {r: acked.get(r, 0) - stored[r] for r in run_ids if acked.get(r, 0) != stored[r]}
    return {
        "elapsed_s": elapsed,
        "requests": len(latency),
        "errors": len(errors),
        "first_errors": errors[:20],
        "values_acked": sum(acked.values()),
        "values_stored": sum(stored.values()),
        "runs_differing": lost,
        "latency": {
            "p50": percentile(latency, 0.5),
            "p99": percentile(latency, 0.99),
            "max": latency[-1] if latency else math.nan,
        },
        "from_schedule": {
            "p50": percentile(behind, 0.5),
            "p99": percentile(behind, 0.99),
            "max": behind[-1] if behind else math.nan,
        },
        "heartbeat_s": child["heartbeat_s"],
        "load_before": load_before,
        "load_during": loads,
        "server_rss_mb_at_ready": rss_mb,
    }


NOTES = """\
- One `runyard server start --workers {workers}` over an embedded workspace (SQLite, WAL),
  authentication on (one administrator token for every run; the write rate limit is off,
  `--write-rate 0`, as it limits per token), on 127.0.0.1 of this machine.
- {runs} runs created through the API, then {clients} client processes (asyncio, one
  keep-alive connection per run) send each run's values as one `POST /metrics` of
  {per_batch} values every {period:g} s for {duration:g} s (phases spread over the period),
  {rate:,.0f} values/s in all, and a heartbeat every {heartbeat:g} s as the SDK's runs do.
  Then every run is completed and its values counted back with
  `GET /runs/{{run_id}}/metrics`.
- Write latency: from sending a request to its answer; "behind schedule" is from when it was
  due to be sent (it adds any time the client fell behind, so a server that cannot keep up
  shows there even when single requests look fast).
- The load generator runs on the same shared 2-core machine as the server. 1-minute load
  average before: {load_before:.1f}; during: {load_during}.
"""


def describe_loads(loads: list[float]) -> str:
    """The load averages sampled during the run, in a few words."""
    if not loads:
        return "not sampled"
    ordered = sorted(loads)
    return (
        f"{ordered[0]:.1f}-{ordered[-1]:.1f} (median {ordered[len(ordered) // 2]:.1f}, "
        f"{len(loads)} samples)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="40 runs for 20 s (smoke run)")
    parser.add_argument("--runs", type=int, help="concurrent runs (default 200)")
    parser.add_argument("--duration", type=float, help="seconds of load (default 300)")
    parser.add_argument("--period", type=float, default=1.0, help="seconds between batches")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--clients", type=int, default=2, help="load generator processes")
    parser.add_argument("--max-load", type=float, default=2.0)
    parser.add_argument("--max-wait", type=float, default=120.0)
    parser.add_argument("--client", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        url, token, run_ids, child, result_path = args.client
        asyncio.run(client_main(url, token, json.loads(run_ids), json.loads(child), result_path))
        return
    settings = dict(QUICK if args.quick else FULL)
    if args.runs:
        settings["runs"] = args.runs
    if args.duration:
        settings["duration_s"] = args.duration
    result = run_load(args, settings)
    per_batch = max(1, round(settings["values_per_s"] * args.period))
    ms = 1e3
    runs, seconds = settings["runs"], settings["duration_s"]
    span = f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
    what = f"{runs} runs × {settings['values_per_s']} values/s, {span}"
    rows = [
        row(
            f"Errors ({what})",
            result["errors"],
            None,
            "",
            "requests",
            target="0",
            met=result["errors"] == 0,
        ),
        row(
            f"Values acknowledged but not stored ({what})",
            result["values_acked"] - result["values_stored"],
            None,
            "",
            "values",
            target="0",
            met=result["values_acked"] == result["values_stored"] and not result["runs_differing"],
        ),
        row(f"Write latency p50 ({what})", result["latency"]["p50"] * ms, None, "", "ms"),
        row(
            f"Write latency p99 ({what})",
            result["latency"]["p99"] * ms,
            None,
            "",
            "ms",
            target="reported",
        ),
        row(
            f"Write latency p99 behind schedule ({what})",
            result["from_schedule"]["p99"] * ms,
            None,
            "",
            "ms",
        ),
    ]
    notes = NOTES.format(
        workers=args.workers,
        runs=runs,
        clients=args.clients,
        per_batch=per_batch,
        period=args.period,
        duration=settings["duration_s"],
        rate=runs * settings["values_per_s"],
        heartbeat=result["heartbeat_s"],
        load_before=result["load_before"],
        load_during=describe_loads(result["load_during"]),
    )
    path = write_result(
        "server_load",
        "Team server (issue 11) — 200 concurrent runs logging for 5 minutes",
        rows,
        notes,
        extra={
            "settings": {
                **settings,
                "period_s": args.period,
                "workers": args.workers,
                "clients": args.clients,
            },
            "result": result,
        },
        smoke=args.quick,
    )
    print(markdown_table(json.loads(path.read_text(encoding="utf-8"))))
    print(f"wrote {path}")
    if result["errors"] or result["values_acked"] != result["values_stored"]:
        raise SystemExit("the load was not held: errors or values lost (see the json)")


if __name__ == "__main__":
    main()
