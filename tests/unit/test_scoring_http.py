"""The scoring server's HTTP layer on a real socket: keep-alive, limits, malformed input."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from runyard.serving.server.http import HttpServer
from runyard.serving.server.scoring import Response


def _echo(method, path, headers, body):
    return Response(200, b"text/plain", b"%s %s %d" % (method.encode(), path.encode(), len(body)))


@pytest.fixture
def served():
    """``(port, stop)`` of a server running on a thread of its own."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    server = HttpServer(_echo, max_body_bytes=1000)
    task = loop.create_task(server.serve(listener, ready.set))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield listener.getsockname()[1], lambda: loop.call_soon_threadsafe(server.stop)
    loop.call_soon_threadsafe(server.stop)
    deadline = time.monotonic() + 10
    while not task.done():
        assert time.monotonic() < deadline, "the server did not stop"
        time.sleep(0.01)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    listener.close()


@pytest.fixture
def port(served):
    return served[0]


def _exchange(port, data, size=65536):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(size):
            received += chunk
        return received


def test_pipelined_requests_on_one_connection_are_answered_in_order(port):
    data = (
        b"POST /score HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
        b"GET / HTTP/1.1\r\n\r\n"
        b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nConnection: close\r\n\r\nz"
    )
    answer = _exchange(port, data)
    assert answer.count(b"HTTP/1.1 200 OK") == 3
    assert answer.index(b"POST /score 3") < answer.index(b"GET / 0") < answer.index(b"POST /x 1")
    assert answer.endswith(b"Connection: close\r\n\r\nPOST /x 1")


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /score HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", b"413"),
        (b"POST /score HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", b"411"),
        (b"POST /score HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400"),
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 70000, b"431"),
    ],
)
def test_bad_requests_get_their_status_and_the_connection_closes(port, request_bytes, status):
    answer = _exchange(port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:80]
    assert b"Connection: close" in answer


def test_http_1_0_closes_unless_asked_to_keep_alive(port):
    assert _exchange(port, b"GET / HTTP/1.0\r\n\r\n").endswith(b"GET / 0")


def test_stopping_closes_idle_connections_and_answers_one_just_accepted(served):
    port, stop = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as idle:
        idle.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert idle.recv(1000).startswith(b"HTTP/1.1 200")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as fresh:
            time.sleep(0.2)  # accepted by the server, its request not sent yet
            stop()
            assert idle.recv(1000) == b""  # closed: it was idle
            fresh.sendall(b"GET / HTTP/1.1\r\n\r\n")
            answer = fresh.recv(1000)
            assert answer.startswith(b"HTTP/1.1 200") and b"Connection: close" in answer
