"""The web UI's live streams: how soon a change reaches an open page's event stream, and how
soon a server with streams open stops.

(a) Logged → event: a run of a server workspace logs a value over REST (the SDK, as a
    notebook or node does) at a random moment; the time until the run's event stream
    (``GET .../ui/runs/ID/events``, read as the page reads it) delivers the ``metrics``
    event. Median and worst over ``--repeat`` values. The issue's target: ≤ 2 s. The page
    then reads the new values (one ``/ui/series`` call), which the browser test
    (tests/integration/ui/test_live_page.py) times end to end under the same bound.
(b) Status changed → runs table event: the same for an experiment's stream when a run ends.
(c) SIGTERM → exited, with ``--streams`` streams open (a graceful shutdown must not wait
    on them).

A real ``runyard server`` process on this machine (SQLite). No other tool is run side by
side: MLflow's UI has no push updates to measure the same way, so the rows have no
comparison. Prints a markdown table and writes ``benchmarks/results/ui_live.json``.

    python benchmarks/bench_ui_live.py [--repeat N] [--streams N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from common import print_result, row, wait_for_quiet, write_result


class Stream:
    """An event stream read in a thread; ``wait(name)`` answers when an event arrived."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        import httpx

        self.events: queue.Queue[tuple[str, float]] = queue.Queue()
        self._client = httpx.Client(timeout=60)
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()

    def _read(self, url: str, headers: dict[str, str]) -> None:
        name = ""
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        self.events.put((name, time.perf_counter()))
        except Exception:  # closed by the server or by us
            pass
        self.events.put(("closed", time.perf_counter()))

    def wait(self, name: str, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while True:
            got, at = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if got == name:
                return at
            if got == "closed":
                raise RuntimeError(f"the stream closed before a {name!r} event")

    def drain(self) -> None:
        while not self.events.empty():
            self.events.get_nowait()

    def closed(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="small sizes, results not kept")
    args = parser.parse_args()
    repeat, streams = (5, 4) if args.quick else (args.repeat, args.streams)
    load = wait_for_quiet(max_load=1.5, max_wait_s=120)

    from runyard.core import Experiment, Workspace
    from server_process import start_server

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        Workspace.create("team", path=root / "team").close()
        server = start_server(str(root / "team"), log_dir=tmp)
        os.environ["RUNYARD_TOKEN"] = str(server.token)
        client = root / "client" / ".runyard"
        client.mkdir(parents=True)
        (client / "config.json").write_text(
            json.dumps({"workspace_name": "team", "server": server.url}), encoding="utf-8"
        )
        ui = f"{server.url}/api/v1/workspaces/team/ui"
        ws = Workspace.from_config(str(root / "client"))
        try:
            exp = Experiment(ws, "live")
            run = exp.start_logging()
            stream = Stream(f"{ui}/runs/{run.id}/events", server.headers)
            stream.wait("logs")  # the first state is in
            metric_delays = []
            for i in range(repeat):
                time.sleep(rng.uniform(0.0, 0.5))  # a random phase against the stream's looks
                stream.drain()
                run.log("value", float(i))
                run.flush()
                logged = time.perf_counter()
                metric_delays.append(stream.wait("metrics") - logged)
            run.complete()

            table = Stream(f"{ui}/experiments/live/events", server.headers)
            table.wait("runs")
            status_delays = []
            for _ in range(max(3, repeat // 5)):
                other = exp.start_logging()
                table.wait("runs")  # created
                time.sleep(rng.uniform(0.0, 0.5))
                table.drain()
                other.complete()
                ended = time.perf_counter()
                status_delays.append(table.wait("runs") - ended)

            open_streams = [Stream(f"{ui}/experiments/live/events", server.headers)]
            open_streams += [
                Stream(f"{ui}/runs/{other.id}/events", server.headers) for _ in range(streams - 1)
            ]
            for s in open_streams:
                s.wait("runs" if s is open_streams[0] else "run")
            asked = time.perf_counter()
            code = server.stop(signal.SIGTERM, timeout_s=60)
            stopped = time.perf_counter() - asked
            assert code in (0, -signal.SIGTERM), server.log()
            assert all(s.closed(5) for s in open_streams)
        finally:
            ws.close()
            server.stop()

    rows = [
        row(
            "logged (SDK over REST) → run stream event, median",
            statistics.median(metric_delays),
            None,
            "",
            "s",
            target="≤ 2 s",
            met=statistics.median(metric_delays) <= 2.0,
        ),
        row(
            "logged (SDK over REST) → run stream event, worst",
            max(metric_delays),
            None,
            "",
            "s",
            target="≤ 2 s",
            met=max(metric_delays) <= 2.0,
        ),
        row(
            "run ended → runs table stream event, worst",
            max(status_delays),
            None,
            "",
            "s",
            target="≤ 2 s",
            met=max(status_delays) <= 2.0,
        ),
        row(f"SIGTERM → server exited, {streams} streams open", stopped, None, "", "s"),
    ]
    notes = (
        f"Over {repeat} values logged at random moments (a stream looks every 0.4 s) and "
        f"{len(status_delays)} runs ended. MLflow's UI has no push updates (not measured). "
        f"Load average when measuring began: {load:.1f}."
    )
    raw = {"metric_delays_s": metric_delays, "status_delays_s": status_delays, "stop_s": stopped}
    path = write_result(
        "ui_live", "Web UI live updates (event streams)", rows, notes, extra=raw, smoke=args.quick
    )
    print_result(path)


if __name__ == "__main__":
    main()
