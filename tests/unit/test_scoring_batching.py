"""Request batching (@batch on run): a real scoring server on a socket, clients in threads."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from runyard.serving import batch
from runyard.serving.keys import KeyCheck, write_keys_file
from runyard.serving.server.http import HttpServer
from runyard.serving.server.scoring import ScoringApp, swagger_document


class Model:
    """Records each call's batch; scores ``x * 2``; slow enough that requests pile up."""

    def __init__(self):
        self.calls: list[int] = []

    def run(self, bodies):
        self.calls.append(len(bodies))
        time.sleep(0.02)
        out = []
        for raw in bodies:
            x = json.loads(raw)["x"]  # a body that is not JSON fails the whole batch
            if x == "wrong-length":
                return out
            if x == "fails-alone":
                raise RuntimeError("this one always fails")
            out.append(ValueError(f"no {x}") if x < 0 else x * 2)
        return out


@pytest.fixture
def model():
    return Model()


@pytest.fixture
def port(model, tmp_path):
    keys = str(tmp_path / "keys.json")
    write_keys_file(keys, False, ("", ""))
    run = batch(max_batch_size=8, batch_wait_timeout_s=0.01)(model.run)
    app = ScoringApp(run, KeyCheck(keys), swagger_document("svc", False))
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
    yield listener.getsockname()[1]
    loop.call_soon_threadsafe(server.stop)
    deadline = time.monotonic() + 10
    while not task.done():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()
    listener.close()


def _request(body: bytes) -> bytes:
    return b"POST /score HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def _read_answers(sock: socket.socket, count: int) -> list[tuple[int, object]]:
    data, answers = b"", []
    while len(answers) < count:
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


def _score(port: int, body: object) -> tuple[int, object]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_request(raw))
        return _read_answers(sock, 1)[0]


def test_concurrent_requests_share_calls_and_each_gets_its_own_answer(port, model):
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda x: _score(port, {"x": x}), range(48)))
    assert answers == [(200, x * 2) for x in range(48)]
    assert sum(model.calls) == 48
    assert max(model.calls) <= 8 and len(model.calls) < 48  # batched, never over the size


def test_a_lone_request_waits_at_most_the_timeout(port, model):
    started = time.perf_counter()
    assert _score(port, {"x": 5}) == (200, 10)
    assert time.perf_counter() - started < 2  # not held for a batch that never fills
    assert model.calls == [1]


def test_pipelined_requests_on_one_connection_are_answered_in_order(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"".join(_request(json.dumps({"x": x}).encode()) for x in range(20)))
        assert _read_answers(sock, 20) == [(200, x * 2) for x in range(20)]


def test_one_bad_request_fails_alone_and_the_rest_of_its_batch_is_answered(port):
    bodies = [{"x": 1}, b"{not json", {"x": -3}, {"x": "fails-alone"}, {"x": 4}]
    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(lambda b: _score(port, b), bodies))
    assert answers[0] == (200, 2) and answers[4] == (200, 8)
    assert answers[1][0] == 400 and "not valid JSON" in answers[1][1]["error"]
    assert answers[2] == (500, {"error": "run() raised ValueError: no -3"})
    assert answers[3][0] == 500 and "this one always fails" in answers[3][1]["error"]


def test_a_run_that_returns_the_wrong_number_of_results_is_a_500(port):
    status, body = _score(port, {"x": "wrong-length"})
    assert status == 500 and "one result per request" in body["error"]


def test_batch_works_bare_and_checks_its_settings():
    @batch
    def run(bodies):
        return bodies

    assert run(["a"]) == ["a"]  # called directly, it is the plain function
    from runyard.serving.batching import policy_of

    assert policy_of(run).max_batch_size == 32
    assert policy_of(lambda raw: raw) is None
    for bad in ({"max_batch_size": 0}, {"max_batch_size": 2.5}, {"batch_wait_timeout_s": -1}):
        with pytest.raises(ValueError, match=r"max_batch_size|batch_wait_timeout_s"):
            batch(**bad)
