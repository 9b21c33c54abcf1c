"""A raw-socket HTTP/1.1 client for the serving benchmarks (``bench_serving.py``,
``serving_keras.py``, ``bench_serving_ray.py``): keep-alive, TCP_NODELAY, so that the
client's own cost stays small next to the server's.
"""

from __future__ import annotations

import multiprocessing
import socket
import time
from typing import Any


def request(path: str, body: bytes, key: str | None = None) -> bytes:
    """The bytes of ``POST path`` with a JSON ``body`` (and a bearer ``key``)."""
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{auth}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def one(sock: socket.socket, data: bytes, buffer: bytearray) -> int:
    """Send one request and read its response; its status. ``buffer`` keeps what was
    read past the response for the next one."""
    sock.sendall(data)
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        rest += chunk
    buffer[:] = rest[length:]
    return int(head.split(b" ", 2)[1])


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def latencies(port: int, data: bytes, count: int, warmup: int = 50) -> list[float]:
    """Seconds per request: ``count`` requests one after another on one connection,
    after ``warmup`` untimed ones."""
    samples = []
    with _connect(port) as sock:
        buffer = bytearray()
        for _ in range(warmup):
            assert one(sock, data, buffer) == 200
        for _ in range(count):
            start = time.perf_counter()
            status = one(sock, data, buffer)
            samples.append(time.perf_counter() - start)
            assert status == 200, status
    return samples


def _client(port: int, data: bytes, count: int, start_at: float, out: Any) -> None:
    with _connect(port) as sock:
        buffer = bytearray()
        one(sock, data, buffer)
        while time.time() < start_at:
            time.sleep(0.001)
        samples = []
        began = time.perf_counter()
        for _ in range(count):
            start = time.perf_counter()
            assert one(sock, data, buffer) == 200
            samples.append(time.perf_counter() - start)
        out.put((time.perf_counter() - began, samples))


def concurrent(port: int, data: bytes, clients: int, per_client: int) -> dict[str, float]:
    """Requests per second and per-request p50/p95 with ``clients`` client processes,
    each with its own keep-alive connection, all starting together."""
    queue: Any = multiprocessing.Queue()
    start_at = time.time() + 1.0
    procs = [
        multiprocessing.Process(target=_client, args=(port, data, per_client, start_at, queue))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    got = [queue.get(timeout=900) for _ in procs]
    for p in procs:
        p.join()
    samples = sorted(s for _, ss in got for s in ss)
    return {
        "rps": clients * per_client / max(t for t, _ in got),
        "p50_s": pct(samples, 0.5),
        "p95_s": pct(samples, 0.95),
    }


def pct(samples: list[float], q: float) -> float:
    """The ``q`` quantile of ``samples`` (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
