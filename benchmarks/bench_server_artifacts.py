"""Issue 11, files through the team server: upload and download throughput of one large
file (200 MB by default) through ``runyard server`` vs ``mlflow server``'s artifact proxy,
with a direct local copy (and Runyard's embedded store) as the floor.

Per repeat, alternating so that machine load hits every side alike:

- **Runyard over HTTP**: ``RestArtifactStore.put_file`` (a resumable upload in 8 MB chunks,
  committed whole) and ``get_file`` (one streamed GET, written to a temporary and renamed)
  against ``runyard server start`` (1 worker, an embedded workspace on this disk).
- **MLflow over HTTP**: ``MlflowClient.log_artifact`` and
  ``mlflow.artifacts.download_artifacts`` against ``mlflow server --serve-artifacts``
  (1 worker, SQLite, ``--artifacts-destination`` on this disk), in MLflow's own venv; the
  run's artifact URI is ``mlflow-artifacts:/``, so the bytes go through the server.
- **Direct**: ``shutil.copyfile`` into and out of a folder on the same disk, and Runyard's
  embedded store (``FsspecArtifactStore`` on a folder) doing the same ``put_file``/``get_file``.

Every transfer is checked: the sha256 of the file the server stored and of every
downloaded copy equal the source's. Each server's peak resident memory (VmHWM over its
process tree) is read at the end: both stream, so neither should hold the file.

    .venv/bin/python benchmarks/bench_server_artifacts.py [--size-mb 200] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    QUIET_ENV,
    ensure_venv,
    installed_version,
    print_result,
    row,
    run_json_child,
    summarize,
    wait_for_quiet,
    work_dir,
    write_result,
)

MLFLOW_REQUIREMENT = "mlflow==3.17.2"
HERE = Path(__file__).resolve().parent
MB = 1024 * 1024


class Server:
    """A server process started for the benchmark, ready when ``ready_path`` answers."""

    def __init__(self, argv: list[str], url: str, ready_path: str, log: Path) -> None:
        import httpx

        self.url = url
        self._log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **QUIET_ENV},
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{argv[:4]} exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(url + ready_path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{argv[:4]} was not ready in 120 s:\n{log.read_text()[-3000:]}")

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) of the server's processes (the master
        and its workers), in MB."""
        import psutil

        peak = 0
        root = psutil.Process(self.process.pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                with open(f"/proc/{proc.pid}/status", encoding="utf-8") as fh:
                    for line in fh:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]))
            except OSError:
                continue
        return peak / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for piece in iter(lambda: fh.read(8 * MB), b""):
            digest.update(piece)
    return digest.hexdigest()


def make_file(path: Path, size: int) -> str:
    """A file of ``size`` random bytes (incompressible); its sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        left = size
        while left:
            piece = os.urandom(min(8 * MB, left))
            fh.write(piece)
            digest.update(piece)
            left -= len(piece)
    return digest.hexdigest()


def start_runyard(scratch: Path) -> Server:
    from runyard.core.workspace import Workspace

    Workspace.create("bench", path=scratch / "runyard-ws").close()
    port = free_port()
    argv = [sys.executable, "-m", "runyard.cli", "-w", str(scratch / "runyard-ws")]
    argv += ["server", "start", "--port", str(port), "--home", str(scratch / "runyard-home")]
    return Server(argv, f"http://127.0.0.1:{port}", "/health/ready", scratch / "runyard.log")


def start_mlflow(python: Path, scratch: Path) -> Server:
    port = free_port()
    argv = [str(python), "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--backend-store-uri", f"sqlite:///{scratch / 'mlflow.db'}"]
    argv += ["--serve-artifacts", "--artifacts-destination", str(scratch / "mlflow-artifacts")]
    argv += ["--workers", "1"]
    return Server(argv, f"http://127.0.0.1:{port}", "/health", scratch / "mlflow.log")


def timed(fn: Any, *args: Any) -> float:
    """Seconds ``fn(*args)`` took."""
    start = time.perf_counter_ns()
    fn(*args)
    return (time.perf_counter_ns() - start) / 1e9


def make_notes(
    size_mb: int, repeats: int, samples: dict[str, list[float]], load: float, load_after: float
) -> str:
    """What each side did, and the slowest transfer of each server side (medians hide it)."""
    slowest = ", ".join(
        f"{key.replace('_', ' ')} {max(samples[key]):.1f} s"
        for key in ("runyard_up", "runyard_down", "mlflow_up", "mlflow_down")
    )
    return (
        f"One {size_mb} MB file of random bytes, {repeats} repeats per side, alternating "
        "(Runyard, MLflow, direct copy, embedded store); medians. Both servers run one "
        "worker on 127.0.0.1 and keep files on the same disk as the source. Runyard: "
        "`RestArtifactStore.put_file` (begin, 8 MB chunks at confirmed offsets, commit = "
        "rename in place) and `get_file` (one streamed GET into a temporary, renamed). "
        "MLflow: `MlflowClient.log_artifact` and `mlflow.artifacts.download_artifacts` on a "
        "run whose artifact URI is `mlflow-artifacts:/`, so its bytes also go through its "
        "server; MLflow's child process pays its import before the timed calls. Every "
        "stored and downloaded copy is checked by sha256. The copy rows are the floor: "
        f"what the disk does with no HTTP. Slowest single transfer: {slowest} (the first "
        "large transfer of each server was the slow one). Load average before/after: "
        f"{load:.1f}/{load_after:.1f} on {os.cpu_count()} cores: the machine was shared "
        "with other work, so compare ratios, not absolute rates."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20 MB, one repeat (smoke run)")
    parser.add_argument("--max-load", type=float, default=2.0)
    parser.add_argument("--max-wait", type=float, default=300.0)
    args = parser.parse_args(argv)
    size_mb, repeats = (20, 1) if args.quick else (args.size_mb, args.repeats)
    size = size_mb * MB

    from runyard.artifacts.rest import RestArtifactStore
    from runyard.artifacts.store import FsspecArtifactStore

    mlflow_python = ensure_venv("mlflow", [MLFLOW_REQUIREMENT])
    scratch = Path(work_dir("server-artifacts-"))
    source = scratch / "model.bin"
    expected = make_file(source, size)
    downloads = scratch / "downloads"
    downloads.mkdir()
    load = wait_for_quiet(args.max_load, args.max_wait)
    runyard_server = start_runyard(scratch)
    mlflow_server = start_mlflow(mlflow_python, scratch)
    samples: dict[str, list[float]] = {
        key: []
        for key in (
            "runyard_up",
            "runyard_down",
            "mlflow_up",
            "mlflow_down",
            "copy_up",
            "copy_down",
            "embedded_up",
            "embedded_down",
        )
    }
    embedded = FsspecArtifactStore(str(scratch / "embedded"))
    rest = RestArtifactStore(runyard_server.url, "bench")
    stored = scratch / "runyard-ws" / "artifacts"
    mlflow_version = ""
    try:
        rest.put_bytes(b"warm", "warm.txt")  # the first connection and route
        rest.read_bytes("warm.txt")
        for i in range(repeats):
            name = f"bench/{i}/model.bin"
            samples["runyard_up"].append(timed(rest.put_file, str(source), name))
            assert sha256(stored / name) == expected, "Runyard stored another file"
            got = downloads / f"runyard-{i}.bin"
            samples["runyard_down"].append(timed(rest.get_file, name, str(got)))
            assert sha256(got) == expected, "Runyard downloaded another file"
            got.unlink()
            rest.delete(f"bench/{i}")

            child = run_json_child(
                [
                    str(mlflow_python),
                    str(HERE / "mlflow_artifacts_side.py"),
                    mlflow_server.url,
                    str(source),
                    str(downloads),
                    str(i),
                ]
            )
            assert child["downloaded_sha256"] == expected, "MLflow downloaded another file"
            samples["mlflow_up"].append(child["upload_s"])
            samples["mlflow_down"].append(child["download_s"])
            mlflow_version = child["mlflow_version"]
            shutil.rmtree(scratch / "mlflow-artifacts", ignore_errors=True)

            copied = scratch / "copies" / f"{i}.bin"
            copied.parent.mkdir(exist_ok=True)
            samples["copy_up"].append(timed(shutil.copyfile, source, copied))
            back = downloads / f"copy-{i}.bin"
            samples["copy_down"].append(timed(shutil.copyfile, copied, back))
            assert sha256(back) == expected
            copied.unlink()
            back.unlink()

            samples["embedded_up"].append(timed(embedded.put_file, str(source), name))
            back = downloads / f"embedded-{i}.bin"
            samples["embedded_down"].append(timed(embedded.get_file, name, str(back)))
            assert sha256(back) == expected
            back.unlink()
            embedded.delete(name)
        runyard_rss = runyard_server.peak_rss_mb()
        mlflow_rss = mlflow_server.peak_rss_mb()
    finally:
        rest.close()
        runyard_server.stop()
        mlflow_server.stop()
    load_after = os.getloadavg()[0]

    def rate(key: str) -> float:
        return size_mb / summarize(samples[key]).median

    mlflow_name = f"MLflow {mlflow_version or installed_version(mlflow_python, 'mlflow')}"
    rows = [
        row(
            f"Upload {size_mb} MB through the server",
            rate("runyard_up"),
            rate("mlflow_up"),
            f"{mlflow_name} `log_artifact` via `mlflow server --serve-artifacts`",
            "MB/s",
            higher_is_better=True,
        ),
        row(
            f"Download {size_mb} MB through the server",
            rate("runyard_down"),
            rate("mlflow_down"),
            f"{mlflow_name} `download_artifacts` via the proxy",
            "MB/s",
            higher_is_better=True,
        ),
        row(
            f"Upload {size_mb} MB: server vs a direct local copy",
            rate("runyard_up"),
            rate("copy_up"),
            "`shutil.copyfile` on the same disk",
            "MB/s",
            higher_is_better=True,
        ),
        row(
            f"Download {size_mb} MB: server vs a direct local copy",
            rate("runyard_down"),
            rate("copy_down"),
            "`shutil.copyfile` on the same disk",
            "MB/s",
            higher_is_better=True,
        ),
        row(
            f"Upload {size_mb} MB: embedded store (no server) vs a direct local copy",
            rate("embedded_up"),
            rate("copy_up"),
            "`shutil.copyfile` on the same disk",
            "MB/s",
            higher_is_better=True,
        ),
        row(
            "Server peak resident memory after the transfers",
            runyard_rss,
            mlflow_rss,
            f"{mlflow_name} server (all its processes)",
            "MB",
        ),
    ]
    notes = make_notes(size_mb, repeats, samples, load, load_after)
    raw = {"size_mb": size_mb, "repeats": repeats, "seconds": samples}
    path = write_result(
        "server_artifacts",
        "Team server: files (issue 11) — Runyard vs MLflow's artifact proxy",
        rows,
        notes,
        raw,
        smoke=args.quick,
    )
    print_result(path)
    shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps({k: [round(x, 3) for x in v] for k, v in samples.items()}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
