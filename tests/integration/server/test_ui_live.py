"""The web UI's live streams over a real server: a run's stream sends an event within 2 s
of a value being logged, a log growing or its status changing, and ends when the run ends;
an experiment's stream sends one when a run is created or ends; streams need a token and
end when it is revoked; and a server with streams open stops at once on SIGTERM."""

from __future__ import annotations

import json
import queue
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from runyard.artifacts.layout import DRIVER_LOG, run_file_key
from runyard.core.workspace import Workspace
from runyard.entities import MetricKind, MetricRecord, RunStatus
from server_process import ServerProcess, start_server

UI = "/api/v1/workspaces/lab/ui"
WITHIN_S = 2.0  # the bound: on the page within 2 s of being logged


@dataclass
class Event:
    name: str
    data: dict[str, object]
    at: float


class EventReader:
    """Reads a ``text/event-stream`` in a thread; ``next(name)`` waits for an event."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.events: queue.Queue[Event | None] = queue.Queue()
        self.status_code: int | None = None
        self.opened = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()
        assert self.opened.wait(15), "the stream did not open"

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with httpx.stream("GET", url, headers=headers, timeout=60) as response:
                self.status_code = response.status_code
                self.opened.set()
                name, data = "message", ""
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        name = line[len("event: ") :]
                    elif line.startswith("data: "):
                        data = line[len("data: ") :]
                    elif not line and data:
                        self.events.put(Event(name, json.loads(data), time.monotonic()))
                        name, data = "message", ""
        except httpx.HTTPError:
            pass
        finally:
            self.opened.set()
            self.events.put(None)  # the stream ended

    def next(self, name: str, timeout: float = 10.0) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {name!r} event in {timeout} s"
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            assert event is not None, f"the stream ended before a {name!r} event"
            if event.name == name:
                return event

    def ended(self, timeout: float = 10.0) -> bool:
        """Whether the stream ends within ``timeout`` (events before the end are skipped)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()


@pytest.fixture
def lab(tmp_path) -> Iterator[tuple[ServerProcess, Workspace]]:
    ws = Workspace.create("lab", path=tmp_path / "ws")
    ws._resources.store.create_experiment("live")
    server = start_server(str(tmp_path / "ws"), log_dir=str(tmp_path))
    try:
        yield server, ws
    finally:
        server.stop()
        ws.close()


def test_a_run_stream_sends_each_change_within_two_seconds_and_ends_with_the_run(lab) -> None:
    server, ws = lab
    store, artifacts = ws._resources.store, ws._resources.artifacts
    store.create_run("live", run_id="r1", status=RunStatus.QUEUED)
    stream = EventReader(f"{server.url}{UI}/runs/r1/events", server.headers)
    assert stream.status_code == 200
    first = stream.next("run")
    assert first.data == {"status": "Queued", "ended": False}
    assert stream.next("metrics").data == {"seq": 0}
    assert stream.next("logs").data == {"sizes": {}}

    store.set_run_status("r1", RunStatus.RUNNING)
    changed = time.monotonic()
    assert stream.next("run").data["status"] == "Running"
    assert time.monotonic() - changed < WITHIN_S

    store.update_run("r1", heartbeat_at=time.time())  # nothing a page shows: no event
    time.sleep(1.0)
    store.log_metrics([MetricRecord("r1", "loss", 0.5, MetricKind.SCALAR, 0, time.time())])
    logged = time.monotonic()
    after_heartbeat = stream.events.get(timeout=10)
    assert after_heartbeat is not None and after_heartbeat.name == "metrics"
    seq = after_heartbeat.data["seq"]
    assert isinstance(seq, int) and seq > 0
    assert time.monotonic() - logged < WITHIN_S + 0.5

    artifacts.put_bytes(b"epoch 1\n", run_file_key("r1", DRIVER_LOG))
    written = time.monotonic()
    assert stream.next("logs").data == {"sizes": {DRIVER_LOG: 8}}
    assert time.monotonic() - written < WITHIN_S

    store.set_run_status("r1", RunStatus.COMPLETED)
    assert stream.next("run").data == {"status": "Completed", "ended": True}
    stream.next("end")
    assert stream.ended()


def test_an_experiment_stream_names_the_runs_that_were_created_or_changed_status(lab) -> None:
    server, ws = lab
    store = ws._resources.store
    stream = EventReader(f"{server.url}{UI}/experiments/live/events", server.headers)
    assert stream.next("runs").data == {"run_count": 0, "changed": []}
    store.create_run("live", run_id="a", status=RunStatus.RUNNING)
    created = time.monotonic()
    assert stream.next("runs").data == {"run_count": 1, "changed": ["a"]}
    assert time.monotonic() - created < WITHIN_S
    store.set_run_status("a", RunStatus.FAILED, error={"message": "boom"})
    assert stream.next("runs").data == {"run_count": 1, "changed": ["a"]}


def test_streams_need_a_token_refuse_unknown_names_and_end_when_the_token_is_revoked(lab):
    server, ws = lab
    ws._resources.store.create_run("live", run_id="r1", status=RunStatus.RUNNING)
    assert httpx.get(f"{server.url}{UI}/runs/r1/events").status_code == 401
    with server.client() as client:
        assert client.get(f"{UI}/runs/ghost/events").status_code == 404
        assert client.get(f"{UI}/experiments/ghost/events").status_code == 404
        made = client.post("/api/v1/tokens", json={"name": "tab", "expires_days": 1}).json()
    stream = EventReader(
        f"{server.url}{UI}/runs/r1/events", {"Authorization": f"Bearer {made['token']}"}
    )
    stream.next("run")
    with server.client() as client:
        assert client.delete(f"/api/v1/tokens/{made['id']}").status_code in (200, 204)
    assert stream.next("error", timeout=15).data["code"] in ("unauthenticated", "unauthorized")
    assert stream.ended()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_server_with_open_streams_stops_at_once_on_sigterm(tmp_path, workers: int) -> None:
    ws = Workspace.create("lab", path=tmp_path / "ws")
    ws._resources.store.create_experiment("live")
    ws._resources.store.create_run("live", run_id="r1", status=RunStatus.RUNNING)
    ws.close()
    args = ["--workers", str(workers)] if workers > 1 else []
    server = start_server(str(tmp_path / "ws"), log_dir=str(tmp_path), extra_args=args)
    try:
        streams = [
            EventReader(f"{server.url}{UI}/runs/r1/events", server.headers),
            EventReader(f"{server.url}{UI}/experiments/live/events", server.headers),
        ]
        for stream, first in zip(streams, ("run", "runs"), strict=True):
            stream.next(first)
        asked = time.monotonic()
        code = server.stop(signal.SIGTERM, timeout_s=20)
        took = time.monotonic() - asked
        assert code in (0, -signal.SIGTERM), server.log()
        assert took < 5, f"the server took {took:.1f} s to stop with streams open"
        assert all(stream.ended(5) for stream in streams)
    finally:
        server.stop()
