"""Submitting runs (issue 3): the Keras example through Runyard vs the same script by hand.

The full example run (``examples/keras-mnist/keras_mnist.py`` on the real MNIST files, its
default arguments: 20 epochs) as a Runyard run (the ``TensorFlow`` estimator with
matplotlib, on the local target of an embedded workspace in a fresh folder under
``benchmarks/.work``) vs the same script started by hand with the same interpreter
(``<environment's python> keras_mnist.py --data-folder ...``, with the environment's
``PATH``/``VIRTUAL_ENV``, in a fresh folder, output to a file). The environment is built (or
found) once before timing, so every run takes it from the cache; it is kept in
``benchmarks/.work/keras-envs`` for the next time (``--env-cache``).

Each side runs a copy of the script with one line added at the top and a few at the bottom
(identical on both sides) that write the script's own first-line and last-line times and
its CPU time to the file ``$RUNYARD_BENCH_SPAN`` names, which separates Runyard's fixed
cost (before the first line, after the last) from the script's own time.

Runs alternate, by hand then Runyard, ``--rounds`` times (after one untimed 1-epoch warm-up
of each, which compiles and caches the bytecode and fills the page cache); before each
run the benchmark waits (up to ``--max-wait`` s) for the 1-minute load average to fall to
``--max-load``, and records the load averages and the machine's CPU use during the run.

    .venv/bin/python benchmarks/bench_keras_overhead.py [--rounds N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO_ROOT, WORK_DIR, print_result, row, summarize, work_dir, write_result

EXAMPLE = REPO_ROOT / "examples" / "keras-mnist"
SPAN_ENV = "RUNYARD_BENCH_SPAN"
MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

# Added to the copy of keras_mnist.py that both sides run: the first line, before any
# import, and after the last line of the script.
FIRST_LINE = "import time as _bench_time; _BENCH_FIRST = _bench_time.time()  # benchmark\n"
LAST_LINES = """
# -- benchmark: the script's last line has run -----------------------------------------
_BENCH_LAST = _bench_time.time()
import json as _bench_json, resource as _bench_resource  # noqa: E401,E402
_bench_cpu = _bench_resource.getrusage(_bench_resource.RUSAGE_SELF)
with open(os.environ["RUNYARD_BENCH_SPAN"], "w") as _bench_file:
    _bench_json.dump({"first": _BENCH_FIRST, "last": _BENCH_LAST,
                      "cpu": _bench_cpu.ru_utime + _bench_cpu.ru_stime}, _bench_file)
"""


def _training_seconds(output: str) -> float:
    """What the script prints as "Training took N s" (its ``model.fit`` time)."""
    for line in output.splitlines():
        if line.startswith("Training took "):
            return float(line.split()[2])
    raise RuntimeError("the script's output lacks its 'Training took N s' line")


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


class EnvironmentChanged(RuntimeError):
    """A run did not use the environment prepared for the round (its hash changed)."""


class ProcessCpu:
    """Samples a process's CPU time (user + system) from ``/proc`` in a thread until
    stopped or the process ends; ``seconds`` is the last reading (the executor is not our
    child, so its rusage is not ours to collect)."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid, self.interval, self.seconds = pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        while not self._stop.is_set():
            try:
                with open(f"/proc/{self.pid}/stat", encoding="ascii") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                return  # ended
            self.seconds = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            self._stop.wait(self.interval)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.seconds


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _wait_quiet(max_load: float, max_wait: float) -> float:
    """Wait for the 1-minute load average to fall to ``max_load``; return seconds waited."""
    started = time.monotonic()
    announced = False
    while os.getloadavg()[0] > max_load and time.monotonic() - started < max_wait:
        if not announced:
            print(
                f"[bench] load {os.getloadavg()[0]:.2f} > {max_load}: waiting up to "
                f"{max_wait:.0f} s",
                file=sys.stderr,
            )
            announced = True
        time.sleep(5)
    return time.monotonic() - started


class Bench:
    """The two ways to run the example, each returning one sample (a dict)."""

    def __init__(self, folder: Path, data_folder: Path, script_args: list[str]) -> None:
        from runyard.core import Experiment, Workspace

        self.folder = folder
        self.src = folder / "src"
        self.src.mkdir()
        original = (EXAMPLE / "keras_mnist.py").read_text(encoding="utf-8")
        instrumented = FIRST_LINE + original.rstrip("\n") + "\n" + LAST_LINES
        (self.src / "keras_mnist.py").write_text(instrumented, encoding="utf-8")
        shutil.copy2(EXAMPLE / "utils.py", self.src / "utils.py")
        self.data_folder = data_folder
        self.script_args = script_args
        self.count = 0
        self.ws = Workspace.create("bench-keras", path=str(folder / "ws"))
        self.exp = Experiment(self.ws, "keras-mnist")
        params: dict[str, Any] = {"--data-folder": str(data_folder)}
        params.update(zip(script_args[::2], script_args[1::2], strict=True))
        self.params = params
        self.builds: list[dict[str, Any]] = []
        self.ensure_environment()

    def ensure_environment(self) -> None:
        """Build the run's environment, or find it in the cache, as the executor will.

        Called before every round: the environment's hash covers Runyard's installed
        dependencies, which other engineers may change in the shared checkout while the
        benchmark runs (a new hash: a new environment, which this then builds untimed).
        """
        from runyard.environments import UvEnvironmentBuilder

        spec = self._estimator(self.params).environment.to_spec()
        started = time.perf_counter()
        self.built = UvEnvironmentBuilder().build(spec)  # a new builder reads Runyard anew
        if not self.builds or self.builds[-1]["spec_hash"] != self.built.spec_hash:
            self.builds.append(
                {
                    "seconds": time.perf_counter() - started,
                    "cache_hit": self.built.cache_hit,
                    "spec_hash": self.built.spec_hash,
                    "python": self.built.python,
                    "packages": {
                        k: v
                        for k, v in self.built.packages.items()
                        if k in ("tensorflow", "keras", "matplotlib", "numpy")
                    },
                }
            )
            print(f"[bench] environment: {self.builds[-1]}", file=sys.stderr)

    def _estimator(self, params: dict[str, Any]) -> Any:
        from runyard.train.dnn import TensorFlow

        return TensorFlow(
            source_directory=str(self.src),
            entry_script="keras_mnist.py",
            script_params=params,
            compute_target="local",
            pip_packages=["matplotlib"],
        )

    def _span_file(self, side: str) -> Path:
        self.count += 1
        path = self.folder / "spans" / f"{self.count:02d}-{side}.json"
        path.parent.mkdir(exist_ok=True)
        os.environ[SPAN_ENV] = str(path)  # both sides' script inherit it
        return path

    def by_hand(self, extra_args: list[str] | None = None) -> dict[str, Any]:
        span_file = self._span_file("hand")
        cwd = self.folder / f"hand-{self.count:02d}"
        cwd.mkdir()
        argv = [self.built.python, str(self.src / "keras_mnist.py")]
        argv += ["--data-folder", str(self.data_folder), *(extra_args or self.script_args)]
        env = self.built.process_env(os.environ)
        with (cwd / "output.txt").open("w") as out:
            t0 = time.time()
            start = time.perf_counter()
            proc = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
            wall = time.perf_counter() - start
            t_end = t0 + wall
        output = (cwd / "output.txt").read_text(errors="replace")
        if proc.returncode != 0:
            raise RuntimeError(f"by hand: exit status {proc.returncode}:\n{output[-3000:]}")
        if not (cwd / "outputs" / "model" / "model.keras").is_file():
            raise RuntimeError(f"by hand: no outputs/model/model.keras in {cwd}")
        span = json.loads(span_file.read_text())
        accuracy = [ln for ln in output.splitlines() if ln.startswith("Test accuracy:")]
        return {
            "wall": wall,
            "first_line": span["first"] - t0,
            "span": span["last"] - span["first"],
            "after_last_line": t_end - span["last"],
            "training": _training_seconds(output),
            "script_cpu": span["cpu"],
            "runyard_cpu": 0.0,
            "test_accuracy": float(accuracy[-1].split(":")[1]) if accuracy else None,
        }

    def runyard(self, extra_args: list[str] | None = None) -> dict[str, Any]:
        span_file = self._span_file("runyard")
        params = dict(self.params)
        if extra_args:
            params.update(zip(extra_args[::2], extra_args[1::2], strict=True))
        est = self._estimator(params)
        caller_cpu = _own_cpu()
        t0 = time.time()
        run = self.exp.submit(est)
        submit_call = time.time() - t0
        executor = ProcessCpu(run._refresh().details["executor"]["pid"])
        details = run.wait_for_completion(raise_on_error=False)
        returned = time.time()
        executor_cpu = executor.stop()
        caller_cpu = _own_cpu() - caller_cpu
        if details["status"] != "Completed":
            raise RuntimeError(f"run {run.id} ended {details['status']}: {details.get('error')}")
        env = details.get("environment") or {}
        if not env.get("cache_hit") or env.get("python") != self.built.python:
            raise EnvironmentChanged(
                f"run {run.id} used {env.get('python')} (cache hit: {env.get('cache_hit')}), "
                f"not the prepared {self.built.python}"
            )
        ended_at = run._refresh().ended_at
        assert ended_at is not None
        if "outputs/model/model.keras" not in run.get_file_names():
            raise RuntimeError(f"run {run.id} has no outputs/model/model.keras")
        logs = "\n".join(run.get_details_with_logs()["logFiles"].values())
        metrics = run.get_metrics()
        accuracy = metrics.get("Accuracy")  # one value per epoch; a single one unwrapped
        epochs_logged = len(accuracy) if isinstance(accuracy, list) else int(accuracy is not None)
        span = json.loads(span_file.read_text())
        return {
            "wall": returned - t0,
            "wall_recorded_end": ended_at - t0,
            "submit_call": submit_call,
            "first_line": span["first"] - t0,
            "span": span["last"] - span["first"],
            "after_last_line": returned - span["last"],
            "training": _training_seconds(logs),
            "script_cpu": span["cpu"],
            "runyard_cpu": executor_cpu + caller_cpu,
            "executor_cpu": executor_cpu,
            "caller_cpu": caller_cpu,
            "epochs_logged": epochs_logged,
            "test_accuracy": metrics.get("Final test accuracy"),
            "run_id": run.id,
        }


def _timed(fn: Any, max_load: float, max_wait: float) -> dict[str, Any]:
    """One sample of ``fn`` after waiting for a quiet machine, with the load around it."""
    waited = _wait_quiet(max_load, max_wait)
    load_before = os.getloadavg()
    busy0, total0 = _cpu_jiffies()
    sample: dict[str, Any] = fn()
    busy1, total1 = _cpu_jiffies()
    ticks = os.sysconf("SC_CLK_TCK")
    busy_cpu = (busy1 - busy0) / ticks
    sample.update(
        waited_for_quiet=waited,
        load_before=load_before,
        load_after=os.getloadavg(),
        machine_busy_share=(busy1 - busy0) / max(total1 - total0, 1),
        # CPU seconds the machine spent on other users' work: everything but the script
        # and, on the Runyard side, its executor and the waiting caller.
        other_cpu=busy_cpu - sample["script_cpu"] - sample["runyard_cpu"],
    )
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="by hand + Runyard pairs")
    parser.add_argument(
        "--epochs", type=int, help="passed to the script (default: none, its default 20)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 round of 2 epochs; results to .work/"
    )
    parser.add_argument(
        "--data-folder",
        type=Path,
        default=REPO_ROOT.parent / "shared" / "data" / "mnist",
        help="the four MNIST .gz files (default ../shared/data/mnist)",
    )
    parser.add_argument("--env-cache", type=Path, default=WORK_DIR / "keras-envs")
    parser.add_argument("--max-load", type=float, default=1.0)
    parser.add_argument("--max-wait", type=float, default=300.0)
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.max_wait = 1, 30.0
        args.epochs = args.epochs or 2
    missing = [f for f in MNIST_FILES if not (args.data_folder / f).is_file()]
    if missing:
        raise SystemExit(
            f"{args.data_folder} lacks {', '.join(missing)}: pass --data-folder with the four "
            "original MNIST .gz files."
        )
    script_args = ["--epochs", str(args.epochs)] if args.epochs else []

    folder = Path(work_dir("keras-overhead-"))
    # As bench_submit.py: bytecode cached, as in an installed package, outside the tree.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    os.environ["RUNYARD_SCRATCH"] = str(folder / "scratch")
    os.environ["RUNYARD_ENV_CACHE"] = str(args.env_cache.resolve())
    samples: dict[str, list[dict[str, Any]]] = {"by_hand": [], "runyard": []}
    progress = WORK_DIR / "keras_overhead.progress.json"
    redone: list[str] = []
    try:
        bench = Bench(folder, args.data_folder.resolve(), script_args)
        warm = ["--epochs", "1"]
        warmup = {"by_hand": bench.by_hand(warm), "runyard": bench.runyard(warm)}
        i = 0
        while i < args.rounds:
            bench.ensure_environment()
            try:
                pair = _round(bench, i, args)
            except EnvironmentChanged as exc:
                if len(redone) >= 3:
                    raise
                redone.append(str(exc))
                print(f"[bench] {exc}: round {i + 1} again", file=sys.stderr)
                continue
            for side, sample in pair.items():
                samples[side].append(sample)
            progress.write_text(json.dumps({"warmup": warmup, "samples": samples}, indent=1))
            i += 1
        bench.ws.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    _report(args, bench.builds, warmup, samples, redone)


def _round(bench: Bench, i: int, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """By hand, then through Runyard, each after waiting for a quiet machine."""
    pair = {}
    for side, fn in (("by_hand", bench.by_hand), ("runyard", bench.runyard)):
        sample = _timed(fn, args.max_load, args.max_wait)
        pair[side] = sample
        print(
            f"[bench] round {i + 1}/{args.rounds} {side}: {sample['wall']:.1f} s wall, "
            f"script {sample['span']:.1f} s, load {sample['load_before'][0]:.2f} -> "
            f"{sample['load_after'][0]:.2f}, other work {sample['other_cpu']:.0f} CPU-s",
            file=sys.stderr,
        )
    return pair


def _report(
    args: argparse.Namespace,
    builds: list[dict[str, Any]],
    warmup: dict[str, Any],
    samples: dict[str, list[dict[str, Any]]],
    redone: list[str],
) -> None:
    hand, ry = samples["by_hand"], samples["runyard"]
    epochs = args.epochs or 20

    def med(side: list[dict[str, Any]], key: str) -> float:
        return summarize([s[key] for s in side]).median

    bad = [s for s in ry if s["epochs_logged"] != epochs]
    if bad:
        raise SystemExit(f"runs logged {[s['epochs_logged'] for s in bad]} epochs, not {epochs}")
    wall_h, wall_r = med(hand, "wall"), med(ry, "wall")
    overhead = (wall_r - wall_h) / wall_h * 100
    paired = [(r["wall"] - h["wall"]) / h["wall"] * 100 for h, r in zip(hand, ry, strict=True)]
    outside_h = med([{"x": s["wall"] - s["span"]} for s in hand], "x")
    outside_r = med([{"x": s["wall"] - s["span"]} for s in ry], "x")
    by_hand_name = "the same script by hand, same interpreter"
    rows = [
        row(
            f"{epochs}-epoch Keras example: submit → Completed vs by hand (spawn → exit), wall",
            wall_r,
            wall_h,
            by_hand_name,
            "s",
        ),
        row(
            "… Runyard's overhead in wall time (difference of the medians)",
            overhead,
            None,
            "",
            "%",
            target="≤ 3 %",
            met=overhead <= 3.0,
        ),
        row(
            "The script's own time, first line → last line",
            med(ry, "span"),
            med(hand, "span"),
            by_hand_name,
            "s",
        ),
        row(
            '… of which `model.fit` (the script\'s own "Training took" line)',
            med(ry, "training"),
            med(hand, "training"),
            by_hand_name,
            "s",
        ),
        row(
            "Outside the script: before its first line + after its last",
            outside_r,
            outside_h,
            "interpreter start + exit, by hand",
            "s",
        ),
        row(
            "… of which submit → first line",
            med(ry, "first_line"),
            med(hand, "first_line"),
            "spawn → first line, by hand",
            "s",
        ),
        row(
            "… of which last line → Completed (outputs uploaded, status seen by the caller)",
            med(ry, "after_last_line"),
            med(hand, "after_last_line"),
            "last line → process exit, by hand",
            "s",
        ),
        row(
            "The script's CPU time (user + system), which machine load does not inflate much",
            med(ry, "script_cpu"),
            med(hand, "script_cpu"),
            by_hand_name,
            "s",
        ),
        row(
            "Runyard's own CPU time during the run (executor + the caller waiting)",
            med(ry, "runyard_cpu"),
            None,
            "",
            "s",
        ),
        row(
            "Other work on the machine during the run (CPU time not ours)",
            med(ry, "other_cpu"),
            med(hand, "other_cpu"),
            "during the runs by hand",
            "s",
        ),
    ]
    loads = "; ".join(
        f"{side} {n + 1}: {s['load_before'][0]:.2f}/{s['load_before'][1]:.2f}/"
        f"{s['load_before'][2]:.2f} → {s['load_after'][0]:.2f}, machine "
        f"{s['machine_busy_share']:.0%} busy, {s['other_cpu']:.0f} CPU-s of other work"
        for n, (h, r) in enumerate(zip(hand, ry, strict=True))
        for side, s in (("hand", h), ("Runyard", r))
    )
    notes = (
        f"{len(hand)} runs each, alternating by hand → Runyard (one untimed 1-epoch warm-up of "
        "each first); medians. Both sides run the same copy of `keras_mnist.py` "
        f"({'default arguments' if not args.epochs else f'--epochs {args.epochs}'}, "
        "`--data-folder` the real MNIST files) with the same interpreter: Runyard's run uses "
        "the `TensorFlow` estimator (+ matplotlib) on the local target of an embedded "
        "workspace, its environment a cache hit (checked in each run's details), the caller in "
        "`run.wait_for_completion()`; by hand it is that environment's `python` started from "
        "a fresh folder with its output to a file. Runyard's wall time is from just before "
        "`Experiment.submit()` to `wait_for_completion()` returning; by hand from spawn to exit. "
        "The copy has one line added first and a few last (the same on both sides) that record "
        "when the script's first and last lines ran and its CPU time. "
        f"Overhead per pair (Runyard vs the by-hand run just before it): "
        f"{', '.join(f'{p:+.1f} %' for p in paired)}. "
        f"Before each run the benchmark waited up to {args.max_wait:.0f} s for the 1-minute load "
        f"average to fall to {args.max_load}. Load averages (1/5/15 min) before each run → "
        f"1-minute after it: {loads}. 2 shared cores: TensorFlow uses both, so any other work on "
        "the machine during a run lengthens it, which is why runs alternate and the script's own "
        "time and CPU time are shown beside the wall time."
    )
    if redone:
        notes += (
            f" {len(redone)} round(s) were run again because Runyard's environment hash changed "
            "during the benchmark (another engineer changed Runyard's dependencies in the shared "
            "checkout), so the run did not use the environment the by-hand side used."
        )
    extra = {
        "epochs": epochs,
        "rounds": args.rounds,
        "environments": builds,
        "rounds_redone": redone,
        "warmup": warmup,
        "samples": samples,
        "paired_overhead_pct": paired,
    }
    result = write_result(
        "keras_overhead",
        "The Keras example through Runyard vs by hand (issue 3)",
        rows,
        notes=notes,
        extra=extra,
        smoke=args.quick,
    )
    print_result(result)


if __name__ == "__main__":
    main()
