"""Shared helpers of the side-by-side benchmarks (standard library only).

Every ``bench_*.py`` uses these to create the other tool's virtual environment, time
things the same way on both sides, and write its results as JSON that ``run_all.py`` turns
into ``BENCHMARKS.md``. The module imports nothing outside the standard library, so the
scripts that run inside another tool's venv (``mlflow_side.py``) can import it too.

Result schema (``benchmarks/results/<name>.json``)::

    {"title": str, "machine": str, "date": str,
     "rows": [{"metric": str, "runyard": float, "other": float | None, "other_name": str,
               "unit": str, "ratio": float | None, "target": str, "met": bool | None}],
     "notes": str}

``ratio`` is always Runyard's advantage: above 1 means Runyard is better (faster, or more
values per second), whichever way the unit points.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENVS_DIR = BENCH_DIR / ".venvs"
WORK_DIR = BENCH_DIR / ".work"
RESULTS_DIR = BENCH_DIR / "results"

# Telemetry and update checks would try the network (unreachable here) or add work that
# is not what we measure; every tool's child process gets these.
QUIET_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "GIT_PYTHON_REFRESH": "quiet",
}


# -- virtual environments ------------------------------------------------------------
def ensure_venv(name: str, requirements: Sequence[str], *, python: str | None = None) -> Path:
    """Create ``benchmarks/.venvs/<name>`` with ``requirements`` installed; return its python.

    The venv is reused when its marker file lists the same requirements, so a second run
    costs nothing; a change of pins rebuilds it. Packages are installed with uv when it is
    available (it ships with Runyard) and byte-compiled, as ``pip install`` does by default,
    so import timings compare like with like.

    Args:
        name: the folder name under ``benchmarks/.venvs``.
        requirements: pip requirement strings, e.g. ``["mlflow==3.18.0"]``.
        python: the interpreter to base the venv on; default the one running this.

    Raises:
        RuntimeError: the venv could not be created or the install failed (with pip's or
            uv's output).
    """
    base_python = python or sys.executable
    folder = VENVS_DIR / name
    marker = folder / "runyard-bench-requirements.json"
    wanted = {"requirements": list(requirements), "python": platform.python_version()}
    venv_python = folder / "bin" / "python"
    if marker.exists() and venv_python.exists():
        try:
            if json.loads(marker.read_text()) == wanted:
                return venv_python
        except json.JSONDecodeError:
            pass
    if folder.exists():
        shutil.rmtree(folder)
    VENVS_DIR.mkdir(parents=True, exist_ok=True)
    uv = _find_uv(base_python)
    started = time.monotonic()
    print(f"[bench] creating venv {folder} with {' '.join(requirements)} ...", file=sys.stderr)
    if uv:
        _check_call([uv, "venv", "--quiet", "--python", base_python, str(folder)])
        _check_call(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--compile-bytecode",
                "--python",
                str(venv_python),
                *requirements,
            ]
        )
    else:
        _check_call([base_python, "-m", "venv", str(folder)])
        _check_call([str(venv_python), "-m", "pip", "install", "--quiet", *requirements])
    marker.write_text(json.dumps(wanted))
    print(f"[bench] venv ready in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return venv_python


def _find_uv(python: str) -> str | None:
    beside = Path(python).parent / "uv"
    if beside.exists():
        return str(beside)
    return shutil.which("uv")


def _check_call(argv: Sequence[str]) -> None:
    proc = subprocess.run(list(argv), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"command failed ({proc.returncode}): {' '.join(argv)}\n{proc.stdout}\n{proc.stderr}"
        )


def installed_version(python: Path | str, distribution: str) -> str:
    """The version of ``distribution`` installed for ``python``."""
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


# -- timing ------------------------------------------------------------------------------
@dataclass
class Summary:
    """Statistics of repeated samples (all in the samples' unit)."""

    median: float
    p95: float
    minimum: float
    maximum: float
    count: int
    samples: list[float] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(samples: Sequence[float]) -> Summary:
    """Median, p95 (nearest rank), min and max of ``samples``."""
    if not samples:
        raise ValueError("summarize() needs at least one sample")
    ordered = sorted(samples)
    rank = max(0, math.ceil(0.95 * len(ordered)) - 1)
    return Summary(
        median=statistics.median(ordered),
        p95=ordered[rank],
        minimum=ordered[0],
        maximum=ordered[-1],
        count=len(ordered),
        samples=list(samples),
    )


def time_repeated(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> Summary:
    """Seconds per call of ``fn`` over ``repeats`` calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e9)
    return summarize(samples)


@dataclass
class Command:
    """A command to time in fresh processes, with environment changes (None: unset)."""

    argv: list[str]
    env: dict[str, str | None] = field(default_factory=dict)


def fresh_process_times(
    commands: dict[str, Command], runs: int, *, warmup: int = 1
) -> dict[str, dict[str, Summary]]:
    """Run each command in ``runs`` fresh processes, interleaved (a, b, a, b, ...) so that
    a change in machine load hits every command alike.

    Returns, per command, ``wall`` (from spawn to exit, seconds) and, when the child prints
    numbers on its last stdout line, ``inner`` (the first: what the child timed itself,
    e.g. its imports, which leaves interpreter start-up out) and ``inner_cpu`` (the second,
    if any: the CPU time of the same, which machine load does not inflate).

    Raises:
        RuntimeError: a child exited non-zero (with its output).
    """
    walls: dict[str, list[float]] = {name: [] for name in commands}
    inner: dict[str, list[float]] = {name: [] for name in commands}
    inner_cpu: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(warmup + runs):
        for name, command in commands.items():
            env = {**os.environ, **QUIET_ENV}
            for key, value in command.env.items():
                if value is None:
                    env.pop(key, None)
                else:
                    env[key] = value
            start = time.perf_counter_ns()
            proc = subprocess.run(command.argv, capture_output=True, text=True, env=env)
            wall = (time.perf_counter_ns() - start) / 1e9
            if proc.returncode != 0:
                raise RuntimeError(
                    f"{name}: {' '.join(command.argv)} failed:\n{proc.stdout}\n{proc.stderr}"
                )
            if i < warmup:
                continue
            walls[name].append(wall)
            lines = proc.stdout.strip().splitlines()
            try:
                numbers = [float(x) for x in lines[-1].split()]
            except (IndexError, ValueError):
                numbers = []
            if numbers:
                inner[name].append(numbers[0])
            if len(numbers) > 1:
                inner_cpu[name].append(numbers[1])
    result: dict[str, dict[str, Summary]] = {}
    for name in commands:
        result[name] = {"wall": summarize(walls[name])}
        if inner[name]:
            result[name]["inner"] = summarize(inner[name])
        if inner_cpu[name]:
            result[name]["inner_cpu"] = summarize(inner_cpu[name])
    return result


def wait_for_quiet(max_load: float, max_wait_s: float) -> float:
    """Wait until the 1-minute load average is at most ``max_load`` (other work on the
    machine inflates wall-clock times), for at most ``max_wait_s``; return the load then."""
    deadline = time.monotonic() + max_wait_s
    load = os.getloadavg()[0]
    announced = False
    while load > max_load and time.monotonic() < deadline:
        if not announced:
            print(
                f"[bench] load average {load:.1f} > {max_load}: waiting up to "
                f"{max_wait_s:.0f} s for a quieter machine ...",
                file=sys.stderr,
            )
            announced = True
        time.sleep(5)
        load = os.getloadavg()[0]
    return load


def work_dir(prefix: str) -> str:
    """A fresh folder under ``benchmarks/.work`` (on the same disk as the repository, not
    a tmpfs, so fsync costs what it costs users)."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=WORK_DIR)


def run_json_child(
    argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 1800
) -> dict[str, Any]:
    """Run a child benchmark script that prints one JSON object as its last stdout line."""
    full_env = {**os.environ, **QUIET_ENV, **(env or {})}
    proc = subprocess.run(list(argv), capture_output=True, text=True, env=full_env, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n"
            f"{proc.stderr[-4000:]}"
        )
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if not lines:
        raise RuntimeError(f"{' '.join(argv)} printed nothing; stderr:\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# -- results -----------------------------------------------------------------------------
def machine_description() -> str:
    """CPU model, cores, memory, OS and Python, in one line."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kib = int(fh.readline().split()[1])
            memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def row(
    metric: str,
    runyard: float,
    other: float | None,
    other_name: str,
    unit: str,
    *,
    higher_is_better: bool = False,
    target: str = "",
    met: bool | None = None,
) -> dict[str, Any]:
    """One result row; ``ratio`` is Runyard's advantage (>1: Runyard is better)."""
    ratio: float | None = None
    if other is not None and runyard > 0 and other > 0:
        ratio = runyard / other if higher_is_better else other / runyard
    return {
        "metric": metric,
        "runyard": runyard,
        "other": other,
        "other_name": other_name,
        "unit": unit,
        "ratio": ratio,
        "target": target,
        "met": met,
    }


def write_result(
    name: str,
    title: str,
    rows: list[dict[str, Any]],
    notes: str = "",
    extra: dict[str, Any] | None = None,
    *,
    smoke: bool = False,
) -> Path:
    """Write ``benchmarks/results/<name>.json`` in the documented schema and return it.

    With ``smoke`` (a ``--quick`` run) the file goes to ``benchmarks/.work/`` instead, so
    that a smoke run never replaces real results.
    """
    folder = WORK_DIR if smoke else RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "title": title,
        "machine": machine_description(),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "rows": rows,
        "notes": notes,
    }
    if extra:
        payload["raw"] = extra
    path = folder / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def print_result(path: Path) -> None:
    """Print a result file written by :func:`write_result` as its table, and where it is."""
    print(markdown_table(json.loads(path.read_text(encoding="utf-8"))))
    print(f"wrote {path}")


def fmt(value: float | None) -> str:
    """A number with three significant digits (thousands separated), or an em dash."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def markdown_table(result: dict[str, Any]) -> str:
    """The rows of one result as a markdown table."""
    lines = [
        "| Metric | Runyard | Other | Unit | Runyard's advantage | Target | Met |",
        "| --- | ---: | ---: | --- | ---: | --- | :---: |",
    ]
    for r in result["rows"]:
        other = "—" if r.get("other") is None else f"{fmt(r['other'])} ({r['other_name']})"
        ratio = "—" if r.get("ratio") is None else f"{fmt(r['ratio'])}×"
        met = {True: "yes", False: "**no**", None: "—"}[r.get("met")]
        lines.append(
            f"| {r['metric']} | {fmt(r['runyard'])} | {other} | {r['unit']} | {ratio} | "
            f"{r.get('target') or '—'} | {met} |"
        )
    return "\n".join(lines)


def isolate_runyard(folder: Path) -> None:
    """Point this process's Runyard (and the executors it starts) at ``folder``: its own
    scratch and environment cache, and bytecode kept under it. PYTHONDONTWRITEBYTECODE
    would make every executor compile Runyard's modules again, which is not what an
    installed Runyard costs."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    os.environ["RUNYARD_SCRATCH"] = str(folder / "scratch")
    os.environ["RUNYARD_ENV_CACHE"] = str(folder / "envs")
