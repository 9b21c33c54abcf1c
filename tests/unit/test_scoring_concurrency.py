"""run() calls at once (replica_max_concurrent_requests): a real scoring server on a
socket, one client connection per thread."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from runyard.serving.keys import KeyCheck, write_keys_file
from runyard.serving.server.http import HttpServer
from runyard.serving.server.scoring import ScoringApp, swagger_document


class Model:
    """Counts the run() calls under way; each waits a little so that calls can meet."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.threads: set[str] = set()

    def run(self, raw: str) -> Any:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
        try:
            time.sleep(0.05)
            x = json.loads(raw)["x"]
            if x < 0:
                raise ValueError(f"no {x}")
            return x * 2
        finally:
            with self._lock:
                self.running -= 1


@contextmanager
def serving(run: Callable[[Any], Any], tmp_path: Any, concurrency: int) -> Iterator[int]:
    keys = str(tmp_path / "keys.json")
    write_keys_file(keys, False, ("", ""))
    app = ScoringApp(run, KeyCheck(keys), swagger_document("svc", False), concurrency)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    server = HttpServer(app.respond, max_body_bytes=10_000)
    task = loop.create_task(server.serve(listener, ready.set))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield listener.getsockname()[1]
    finally:
        loop.call_soon_threadsafe(server.stop)
        deadline = time.monotonic() + 10
        while not task.done():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        listener.close()
        app.close()


def _score(port: int, xs: list[int]) -> list[tuple[int, Any]]:
    """POST each x on one keep-alive connection, pipelined; the answers in order."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        for x in xs:
            body = json.dumps({"x": x}).encode()
            head = b"POST /score HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body)
            sock.sendall(head + body)
        data, answers = b"", []
        while len(answers) < len(xs):
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                assert chunk, "the server closed the connection"
                data += chunk
            head, _, data = data.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            while len(data) < length:
                data += sock.recv(65536)
            answers.append((int(head.split(b" ")[1]), json.loads(data[:length])))
            data = data[length:]
        return answers


def test_by_default_run_calls_never_overlap(tmp_path):
    model = Model()
    with serving(model.run, tmp_path, concurrency=1) as port, ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda x: _score(port, [x]), range(12)))
    assert answers == [[(200, x * 2)] for x in range(12)]
    assert model.most == 1
    assert len(model.threads) == 1  # the event loop's own thread


def test_with_concurrency_calls_from_different_connections_overlap(tmp_path):
    model = Model()
    with serving(model.run, tmp_path, concurrency=4) as port, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda x: _score(port, [x]), range(16)))
    assert answers == [[(200, x * 2)] for x in range(16)]
    assert model.most == 4  # overlapping, and never more than asked for
    assert all(name.startswith("runyard-run") for name in model.threads)


def test_calls_that_must_meet_do_meet_with_concurrency(tmp_path):
    # Each call waits for the other one: served one at a time, both would fail.
    meet = threading.Barrier(2, timeout=10)

    def run(raw: str) -> int:
        meet.wait()
        return int(json.loads(raw)["x"])

    with serving(run, tmp_path, concurrency=2) as port, ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda x: _score(port, [x]), [1, 2]))
    assert answers == [[(200, 1)], [(200, 2)]]


def test_with_concurrency_one_connection_is_still_answered_in_order_and_errors_stay_its_own(
    tmp_path,
):
    model = Model()
    with serving(model.run, tmp_path, concurrency=4) as port:
        answers = _score(port, [3, -1, 5, 7])
    assert answers[0] == (200, 6)
    assert answers[1][0] == 500 and "ValueError: no -1" in answers[1][1]["error"]
    assert answers[2:] == [(200, 10), (200, 14)]
    assert model.most == 1  # pipelined requests on one connection wait for each other
