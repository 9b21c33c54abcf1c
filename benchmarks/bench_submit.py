"""Submitting runs (issue 3): how fast a submitted script starts, and what a run costs
compared with running the script by hand.

(a) Submit -> first line of the script running, environment cached: from just before
    ``Experiment.submit(ScriptRunConfig(...))`` to the script's first statement (it writes
    ``time.time()`` to a file), median over ``--repeat`` runs. Two environments: a uv-built
    one taken from the cache (the usual case), and the submitting interpreter as it is
    (``user_managed_dependencies=True``).
(b) The same with ``ray job submit --working-dir`` against an already running local Ray
    head (Ray from the project's venv; started here on free ports, stopped at the end), the
    command's start to the script's first statement. Skipped with ``--no-ray``.
(c) A fixed amount of CPU work (~``--work-seconds`` by hand) through Runyard (submit ->
    Completed, the run's recorded end time) vs the same script run by hand (spawn -> exit),
    interleaved.

    .venv/bin/python benchmarks/bench_submit.py [--repeat N] [--work-seconds S] [--no-ray]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    isolate_runyard,
    print_result,
    row,
    summarize,
    wait_for_quiet,
    work_dir,
    write_result,
)

SCRIPT = """\
import sys, time
with open(sys.argv[1], "w") as f:
    f.write(repr(time.time()))
n = int(sys.argv[2]) if len(sys.argv) > 2 else 0
x = 0
for i in range(n):
    x += i * i
print("done", x)
"""


def _wait_file(path: Path, timeout: float = 120) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            text = path.read_text()
            if text:
                return float(text)
        except (FileNotFoundError, ValueError):
            pass
        time.sleep(0.002)
    raise RuntimeError(f"the script never wrote {path}")


def _calibrate(folder: Path, seconds: float) -> int:
    """Loop iterations that take about ``seconds`` by hand."""
    n = 2_000_000
    while True:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, str(folder / "first.py"), os.devnull, str(n)],
            check=True,
            capture_output=True,
        )
        took = time.perf_counter() - start
        if took > 0.5:
            return int(n * seconds / took)
        n *= 4


def _runyard_latency(exp, src: Path, env, stamps: Path, repeat: int) -> dict[str, list[float]]:
    from runyard.core import ScriptRunConfig

    first, submit, total, cpu = [], [], [], []
    for i in range(repeat + 1):  # the first one warms up (snapshot stored, env cached)
        stamp = stamps / f"{env.name}-{i}"
        config = ScriptRunConfig(str(src), "first.py", arguments=[str(stamp)], environment=env)
        t0 = time.time()
        run = exp.submit(config)
        t_submit = time.time() - t0
        started = _wait_file(stamp)
        details = run.wait_for_completion()
        if details["status"] != "Completed":
            raise RuntimeError(f"run {run.id} ended {details['status']}: {details.get('error')}")
        if i == 0:
            continue
        submit.append(t_submit)
        first.append(started - t0)
        total.append(run._refresh().ended_at - t0)
        cpu.append(details["script"]["executorCpuSeconds"])
    return {"first_line": first, "submit_call": submit, "completed": total, "executor_cpu": cpu}


def _overhead(exp, src: Path, env, stamps: Path, n: int, repeat: int) -> dict[str, list[float]]:
    from runyard.core import ScriptRunConfig

    by_hand, through = [], []
    for i in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, str(src / "first.py"), os.devnull, str(n)],
            check=True,
            capture_output=True,
        )
        by_hand.append(time.perf_counter() - start)
        config = ScriptRunConfig(
            str(src), "first.py", arguments=[str(stamps / f"work-{i}"), n], environment=env
        )
        t0 = time.time()
        run = exp.submit(config)
        run.wait_for_completion()
        through.append(run._refresh().ended_at - t0)
    return {"by_hand": by_hand, "runyard": through}


# -- Ray ---------------------------------------------------------------------------------
_RAY_PORTS = (
    "port",
    "dashboard-port",
    "object-manager-port",
    "node-manager-port",
    "ray-client-server-port",
    "dashboard-agent-listen-port",
    "dashboard-agent-grpc-port",
    "runtime-env-agent-port",
    "metrics-export-port",
)


def _free_ports(count: int) -> list[int]:
    import socket

    held, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        held.append(s)
        ports.append(s.getsockname()[1])
    for s in held:
        s.close()
    return ports


def _ray_latency(src: Path, stamps: Path, repeat: int) -> dict[str, list[float]]:
    ray_cli = Path(sys.executable).parent / "ray"
    if not ray_cli.exists():
        raise RuntimeError("the ray command is not installed (pip install 'ray[default]')")
    ports = dict(zip(_RAY_PORTS, _free_ports(len(_RAY_PORTS)), strict=True))
    temp = Path(os.path.realpath("/tmp")) / f"rb{os.getpid()}"
    temp.mkdir(exist_ok=True)
    min_worker, max_worker = _free_ports(1)[0], 0
    max_worker = min_worker + 200
    argv = [
        str(ray_cli),
        "start",
        "--head",
        "--block",
        "--num-cpus",
        "2",
        "--include-dashboard",
        "true",
        "--dashboard-host",
        "127.0.0.1",
        "--node-ip-address",
        "127.0.0.1",
        f"--temp-dir={temp}",
        f"--min-worker-port={min_worker}",
        f"--max-worker-port={max_worker}",
        *(f"--{k}={v}" for k, v in ports.items()),
    ]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    head = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    address = f"http://127.0.0.1:{ports['dashboard-port']}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{address}/api/version", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or head.poll() is not None:
                    raise RuntimeError("the Ray head did not start") from None
                time.sleep(0.5)
        first = []
        for i in range(repeat + 1):
            stamp = stamps / f"ray-{i}"
            t0 = time.time()
            subprocess.run(
                [
                    str(ray_cli),
                    "job",
                    "submit",
                    "--address",
                    address,
                    "--no-wait",
                    "--working-dir",
                    str(src),
                    "--",
                    "python",
                    "first.py",
                    str(stamp),
                ],
                check=True,
                capture_output=True,
                env=env,
            )
            started = _wait_file(stamp)
            if i:
                first.append(started - t0)
        return {"first_line": first}
    finally:
        try:
            os.killpg(head.pid, signal.SIGTERM)
            head.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with __import__("contextlib").suppress(ProcessLookupError):
                os.killpg(head.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--work-seconds", type=float, default=5.0)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--quick", action="store_true", help="3 repeats, 1 s of work")
    parser.add_argument("--max-load", type=float, default=2.0)
    parser.add_argument("--max-wait", type=float, default=120.0)
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.work_seconds = 3, 1.0

    folder = Path(work_dir("submit-"))
    # Installed packages come with their bytecode; a checkout run with
    isolate_runyard(folder)
    from runyard.core import Environment, Experiment, Workspace

    src = folder / "src"
    src.mkdir()
    (src / "first.py").write_text(SCRIPT)
    stamps = folder / "stamps"
    stamps.mkdir()
    raw: dict[str, object] = {}
    try:
        ws = Workspace.create("bench-submit", path=str(folder / "ws"))
        exp = Experiment(ws, "bench")
        built = Environment("runyard-only")  # uv-built: Runyard and its dependencies only
        here = Environment("this-interpreter")
        here.python.user_managed_dependencies = True
        _runyard_latency(exp, src, built, stamps, 0)  # builds the environment once
        load = wait_for_quiet(args.max_load, args.max_wait)
        raw["load_before"] = load
        raw["uv_env"] = _runyard_latency(exp, src, built, stamps, args.repeat)
        raw["user_managed"] = _runyard_latency(exp, src, here, stamps, args.repeat)
        if not args.no_ray:
            try:
                raw["ray"] = _ray_latency(src, stamps, args.repeat)
            except (RuntimeError, subprocess.CalledProcessError) as exc:
                raw["ray_error"] = str(exc)[-2000:]
        iterations = _calibrate(src, args.work_seconds)
        raw["work_iterations"] = iterations
        raw["overhead"] = _overhead(exp, src, built, stamps, iterations, max(3, args.repeat // 2))
        raw["load_after"] = os.getloadavg()[0]
        ws.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    med = lambda xs: summarize(xs).median  # noqa: E731
    uv, here_t = raw["uv_env"], raw["user_managed"]
    ray_first = med(raw["ray"]["first_line"]) if "ray" in raw else None  # type: ignore[index]
    hand, through = med(raw["overhead"]["by_hand"]), med(raw["overhead"]["runyard"])  # type: ignore[index]
    overhead_pct = (through - hand) / hand * 100
    rows = [
        row(
            "Submit → first line of the script, uv environment from cache",
            med(uv["first_line"]),
            ray_first,
            "ray job submit --working-dir (head running)",  # type: ignore[index]
            "s",
            target="≤ 1 s",
            met=med(uv["first_line"]) <= 1.0,
        ),  # type: ignore[index]
        row(
            "Submit → first line, the submitting interpreter (user-managed)",
            med(here_t["first_line"]),
            ray_first,
            "ray job submit --working-dir",  # type: ignore[index]
            "s",
        ),
        row(
            "`Experiment.submit()` call (returns with the run Queued)",
            med(uv["submit_call"]),
            None,
            "",
            "s",
        ),  # type: ignore[index]
        row("Submit → Completed, empty script", med(uv["completed"]), None, "", "s"),  # type: ignore[index]
        row(
            "Executor CPU time until the script starts (interpreter, imports, phases)",
            med(uv["executor_cpu"]),
            None,
            "",
            "s",
        ),  # type: ignore[index]
        row(
            f"~{args.work_seconds:.0f} s of CPU work: through Runyard vs by hand (wall)",
            through,
            hand,
            "python script.py",
            "s",
        ),
        row(
            "… overhead of the run",
            overhead_pct,
            None,
            "",
            "%",
            target="≤ 3 % (20-epoch run)",
            met=None,
        ),
    ]
    notes = (
        f"Medians over {args.repeat} runs each (one warm-up run first), on an embedded SQLite "
        "workspace, local compute, Python bytecode cached as in an installed package. "
        "*First line* is the script's first statement writing "
        "`time.time()` to a file, minus the time just before `submit()` (or before the `ray job "
        "submit` command). The Runyard side is the Python SDK call; the Ray side is Ray's "
        "command line against a head already running (Ray's cluster start-up not counted), "
        "with `--working-dir` uploading the same one-file source as Runyard's snapshot. "
        "The overhead row is a CPU-bound loop (not the Keras example) measured "
        f"interleaved; the issue's ≤ 3 % target is for the 20-epoch Keras run, whose fixed "
        "Runyard cost (≈ the 'Submit → Completed' row) is spread over minutes. "
        f"Load average {raw['load_before']:.1f} before, {raw['load_after']:.1f} after "
        "(2 shared cores)."
    )
    if "ray_error" in raw:
        notes += f" Ray side not measured: {str(raw['ray_error'])[:300]}"
    result = write_result(
        "submit", "Submitting runs (issue 3) — Runyard vs Ray jobs", rows, notes=notes, extra=raw
    )
    print_result(result)


if __name__ == "__main__":
    main()
