"""Slow and stuck clients against a real server (``--client-timeout 1``): a head trickled a
byte at a time, connections that send nothing, a body that stops half-way. Each is answered
408 and closed, nothing half-received is written, and other clients are served meanwhile."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from server_process import ServerProcess, start_server

pytestmark = pytest.mark.integration

TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    from runyard.core import Workspace

    root: Path = tmp_path_factory.mktemp("slow")
    Workspace.create("slow", path=root / "ws").close()
    process = start_server(
        str(root / "ws"), log_dir=str(root), extra_args=["--client-timeout", str(TIMEOUT_S)]
    )
    yield process
    process.stop()


def _connect(server: ServerProcess) -> socket.socket:
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _served_quickly(server: ServerProcess) -> float:
    started = time.monotonic()
    assert httpx.get(server.url + "/health/live", timeout=5).status_code == 200
    return time.monotonic() - started


def test_a_head_trickled_a_byte_at_a_time_gets_408_and_others_are_served_meanwhile(
    server: ServerProcess,
) -> None:
    sock = _connect(server)
    head = b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    started = time.monotonic()
    sent = 0
    try:
        for byte in head:
            sock.sendall(bytes([byte]))
            sent += 1
            time.sleep(0.05)
            if sent == 5:
                assert _served_quickly(server) < 0.5
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed by the server mid-trickle: what is wanted
    answer = _read_all(sock)
    elapsed = time.monotonic() - started
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"did not arrive within 1 s" in answer
    assert sent < len(head) and elapsed < TIMEOUT_S + 2.0


def test_connections_that_send_nothing_are_closed_and_do_not_block_others(
    server: ServerProcess,
) -> None:
    idle = [_connect(server) for _ in range(100)]
    try:
        assert _served_quickly(server) < 0.5
        time.sleep(TIMEOUT_S + 0.5)
        closed = 0
        for sock in idle:
            sock.settimeout(2)
            if _read_all(sock).startswith(b"HTTP/1.1 408 "):
                closed += 1
        assert closed == len(idle)
    finally:
        for sock in idle:
            sock.close()


def _run_id(server: ServerProcess) -> str:
    import uuid

    run_id = f"e_{uuid.uuid4().hex[:12]}"
    body = {"experiment_name": "e", "run_id": run_id, "status": "Running"}
    with server.client() as client:
        client.post("/api/v1/workspaces/slow/experiments", json={"name": "e"}).raise_for_status()
        client.post("/api/v1/workspaces/slow/runs", json=body).raise_for_status()
    return run_id


def _batch(run_id: str, name: str, count: int) -> bytes:
    points = [[0, float(i), i, 1_700_000_000.0 + i] for i in range(count)]
    series = [{"run_id": run_id, "name": name, "kind": "scalar"}]
    return json.dumps({"series": series, "points": points}).encode()


def _stalled_request(server: ServerProcess, method: str, path: str, body: bytes) -> bytes:
    """Send the head and half of ``body`` (announcing all of it), then stop."""
    sock = _connect(server)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body[: len(body) // 2])
    answer = _read_all(sock)
    sock.close()
    return answer


def test_a_body_that_stops_half_way_gets_408_and_nothing_is_written(
    server: ServerProcess,
) -> None:
    run_id = _run_id(server)
    answer = _stalled_request(
        server, "POST", "/api/v1/workspaces/slow/metrics", _batch(run_id, "loss", 50)
    )
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"nothing was written" in answer
    with server.client() as client:
        metrics = client.get(f"/api/v1/workspaces/slow/runs/{run_id}/metrics").json()
    assert metrics["points"] == [], metrics


def test_an_upload_chunk_that_stalls_leaves_the_upload_where_it_was(
    server: ServerProcess,
) -> None:
    base = "/api/v1/workspaces/slow/artifacts"
    with server.client() as client:
        begun = client.post(f"{base}/stalled.bin/uploads").json()
        upload = begun["upload_id"]
        assert (
            client.put(f"{base}/stalled.bin?upload_id={upload}&offset=0", content=b"ab").status_code
            == 200
        )
    answer = _stalled_request(
        server, "PUT", f"{base}/stalled.bin?upload_id={upload}&offset=2", b"c" * 100_000
    )
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    with server.client() as client:
        state = client.get(f"{base}/stalled.bin?upload_id={upload}").json()
        assert state["offset"] == 2
        # ... and it resumes from there.
        resumed = client.put(f"{base}/stalled.bin?upload_id={upload}&offset=2", content=b"cd")
        assert resumed.status_code == 200


def test_a_slow_but_steady_body_is_accepted(server: ServerProcess) -> None:
    """The deadline is on each pause, not on the whole body: a body that takes longer than
    the timeout in all, but never pauses that long, goes through."""
    run_id = _run_id(server)
    batch = _batch(run_id, "acc", 40)
    sock = _connect(server)
    path = "/api/v1/workspaces/slow/metrics"
    sock.sendall(
        (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(batch)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
    )
    pieces = [batch[i : i + len(batch) // 4 + 1] for i in range(0, len(batch), len(batch) // 4 + 1)]
    started = time.monotonic()
    for piece in pieces:
        time.sleep(TIMEOUT_S * 0.5)
        sock.sendall(piece)
    answer = _read_all(sock)
    sock.close()
    assert time.monotonic() - started > TIMEOUT_S
    assert answer.split(b"\r\n", 1)[0].split()[1] == b"204", answer[:300]
    with server.client() as client:
        metrics = client.get(f"/api/v1/workspaces/slow/runs/{run_id}/metrics").json()
    assert len(metrics["points"]) == 40


def test_many_slow_clients_at_once_do_not_stop_the_server_serving(server: ServerProcess) -> None:
    stop = threading.Event()

    def trickle() -> None:
        sock = _connect(server)
        try:
            while not stop.is_set():
                sock.sendall(b"G")
                time.sleep(0.2)
        except OSError:
            pass
        finally:
            sock.close()

    threads = [threading.Thread(target=trickle, daemon=True) for _ in range(50)]
    for thread in threads:
        thread.start()
    try:
        times = [_served_quickly(server) for _ in range(20)]
        assert max(times) < 1.0
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
