"""Datastore transfers and data reference resolution, side by side with plain tools.

(a) Upload to a local datastore (``ds.upload``, progress off) vs ``shutil.copytree``:
    the real MNIST files (4 files, ~11 MB compressed) and 1,000 small files of 4 KB.
(b) Upload of 200 files of 16 KB to S3 (moto's real S3 server on a free local port):
    ``ds.upload`` vs s3fs's own recursive ``put``, both against the same server.
(c) Resolving a data reference on a node: local ``as_mount`` (in place), remote
    ``as_mount`` on a cache miss (listing + download of 200 files) and on a cache hit
    (listing only).

Each figure is the median of ``--repeat`` runs. Prints a markdown table and writes
``benchmarks/results/datastore.json``.

    python benchmarks/bench_datastore.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_result, row, work_dir, write_result

from runyard.core import Datastore, Workspace
from runyard.core.data_reference import resolve_data_reference

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def _median(fn: Callable[[int], Any], repeat: int) -> float:
    samples = []
    for i in range(repeat):
        start = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _small_files(folder: Path, count: int, size: int) -> Path:
    for i in range(count):
        sub = folder / f"d{i % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.bin").write_bytes(os.urandom(size))
    return folder


def _local(ws: Workspace, root: Path, repeat: int) -> list[dict[str, Any]]:
    ds = ws.get_default_datastore()
    rows = []
    sources = {"MNIST (4 files, 11 MB)": MNIST} if MNIST.is_dir() else {}
    sources["1,000 files of 4 KB"] = _small_files(root / "small", 1000, 4096)
    for label, src in sources.items():
        ours = _median(
            lambda i, s=src: ds.upload(s, f"up{i}-{s.name}", show_progress=False), repeat
        )
        theirs = _median(lambda i, s=src: shutil.copytree(s, root / f"copy{i}-{s.name}"), repeat)
        rows.append(
            row(f"Upload {label} to a local datastore", ours, theirs, "shutil.copytree", "s")
        )
    return rows


def _s3(ws: Workspace, root: Path, repeat: int) -> list[dict[str, Any]]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"
        ds = Datastore.register_s3(
            ws, "bench", "bench", endpoint_url=url, key="k", secret="s", create_if_not_exists=True
        )
        src = _small_files(root / "s3src", 200, 16384)
        import s3fs

        plain = s3fs.S3FileSystem(endpoint_url=url, key="k", secret="s")
        ours = _median(lambda i: ds.upload(src, f"ours{i}", show_progress=False), repeat)
        theirs = _median(lambda i: plain.put(str(src), f"bench/theirs{i}", recursive=True), repeat)
        cache = tempfile.mkdtemp(dir=root)
        miss = _median(
            lambda i: resolve_data_reference(ws, ds.path(f"ours{i}").to_dict(), cache), repeat
        )
        hit = _median(
            lambda i: resolve_data_reference(ws, ds.path("ours0").to_dict(), cache), repeat
        )
        return [
            row("Upload 200 files of 16 KB to S3 (moto)", ours, theirs, "s3fs put(recursive)", "s"),
            row("Resolve a remote as_mount, cache miss (200 files)", miss, None, "", "s"),
            row("Resolve a remote as_mount, cache hit (listing only)", hit, None, "", "s"),
        ]
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    root = Path(work_dir("datastore-"))
    try:
        ws = Workspace.create("bench", path=root / "ws")
        rows = _local(ws, root, args.repeat)
        ws.get_default_datastore().upload(
            MNIST if MNIST.is_dir() else root / "small", "m", show_progress=False
        )
        local = _median(
            lambda i: resolve_data_reference(
                ws, ws.get_default_datastore().path("m").to_dict(), str(root / "c")
            ),
            args.repeat,
        )
        rows.append(row("Resolve a local as_mount (in place)", local, None, "", "s"))
        rows.extend(_s3(ws, root, args.repeat))
        ws.close()
        path = write_result(
            "datastore",
            "Datastores: uploads and data reference resolution",
            rows,
            notes=f"median of {args.repeat}; S3 is moto's server in-process on 127.0.0.1.",
        )

        print_result(path)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
