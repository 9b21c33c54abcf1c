"""The metric outbox: batches a server cannot take now wait on disk, whole, in logging
order, and are sent with their ids once it answers; a buffer's flush says what is left.

The server here is a small in-process fake with an on/off switch (the real server's
behaviour is tested over HTTP in tests/integration/server/test_faults.py)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from runyard.entities import MetricRecord
from runyard.errors import NotFound
from runyard.rest_client import ServerUnreachable
from runyard.tracking.buffer import MetricBuffer
from runyard.tracking.outbox import MetricOutbox, outbox_folder


class FlakyServer:
    """Stores batches by id, like the server; raises ServerUnreachable while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.stored: dict[str, list[MetricRecord]] = {}
        self.order: list[str] = []
        self.lock = threading.Lock()

    def send(self, batch: list[MetricRecord], batch_id: str) -> None:
        with self.lock:
            if self.down:
                raise ServerUnreachable("Runyard server http://srv did not answer")
            if batch_id not in self.stored:
                self.stored[batch_id] = list(batch)
                self.order.append(batch_id)

    def steps(self) -> list[int | None]:
        return [m.step for batch_id in self.order for m in self.stored[batch_id]]


def _batch(start: int, count: int = 3) -> list[MetricRecord]:
    return [
        MetricRecord("r", "x", float(i), step=i, logged_at=1.0) for i in range(start, start + count)
    ]


def _files(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.endswith(".batch.json"))


def test_batches_go_straight_to_a_server_that_answers(tmp_path: Path) -> None:
    server = FlakyServer()
    outbox = MetricOutbox(server.send, str(tmp_path / "ob"), target="server x")
    outbox.write(_batch(0))
    assert server.steps() == [0, 1, 2]
    assert not (tmp_path / "ob").exists()  # nothing written to disk on the happy path


def test_batches_wait_on_disk_in_order_and_are_sent_once_when_the_server_is_back(
    tmp_path: Path,
) -> None:
    server = FlakyServer()
    folder = tmp_path / "ob"
    outbox = MetricOutbox(server.send, str(folder), target="server x")
    server.down = True
    for start in (0, 3, 6):
        outbox.write(_batch(start))
    assert len(_files(folder)) == 3
    assert not outbox.wait(0.2)
    state = outbox.state()
    assert (state.batches, state.values) == (3, 9) and "ServerUnreachable" in str(state.last_error)
    server.down = False
    outbox.write(_batch(9))  # queues behind the waiting ones: logging order holds
    assert outbox.wait(30)
    assert server.steps() == list(range(12))
    assert _files(folder) == [] and not [n for n in os.listdir(folder) if n.endswith(".tmp")]
    outbox.close()


def test_an_error_a_retry_cannot_fix_is_raised_to_the_buffer(tmp_path: Path) -> None:
    def refuse(batch: list[MetricRecord], batch_id: str) -> None:
        raise NotFound("Run 'r' not found.")

    outbox = MetricOutbox(refuse, str(tmp_path / "ob"), target="server x")
    with pytest.raises(NotFound):
        outbox.write(_batch(0))
    assert not (tmp_path / "ob").exists()


def test_the_next_process_sends_what_an_earlier_one_left(tmp_path: Path) -> None:
    server = FlakyServer()
    folder = tmp_path / "ob"
    server.down = True
    first = MetricOutbox(server.send, str(folder), target="server x")
    first.write(_batch(0))
    first.write(_batch(3))
    first.close()  # the process ends with the server away
    (folder / ".123-1-abc.batch.json.tmp").write_bytes(b'{"batch_id": "ab')  # cut mid-write
    server.down = False
    later = MetricOutbox(server.send, str(folder), target="server x")
    assert later.state().values == 6  # counted from the files
    assert later.wait(30)
    assert server.steps() == list(range(6))
    later.close()


def test_a_batch_the_server_refuses_later_is_set_aside_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FlakyServer()
    folder = tmp_path / "ob"
    server.down = True
    first = MetricOutbox(server.send, str(folder), target="server x")
    first.write(_batch(0))
    first.close()
    (folder / _files(folder)[0]).write_text("not json", encoding="utf-8")
    server.down = False
    outbox = MetricOutbox(server.send, str(folder), target="server x")
    assert outbox.wait(30)
    assert len(os.listdir(folder / "rejected")) == 1
    assert "server x refused a batch" in capsys.readouterr().err and server.order == []
    outbox.close()


def test_a_flush_that_cannot_reach_the_server_says_how_much_waits_and_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FlakyServer()
    server.down = True
    folder = outbox_folder(str(tmp_path), "http://srv:8765", "team")
    outbox = MetricOutbox(server.send, folder, target="server http://srv:8765 (workspace 'team')")
    buffer = MetricBuffer(lambda batch: None, outbox=outbox, flush_timeout_s=0.3)
    for i in range(5):
        buffer.append(("r", "x", float(i), MetricRecord("r", "x", 0.0).kind, i, 1.0))
    buffer.flush()  # does not raise: the values are safe on disk
    err = capsys.readouterr().err
    assert "5 metric values" in err and "are not on server http://srv:8765" in err
    assert folder in err and "ServerUnreachable" in err
    server.down = False
    assert outbox.wait(30)
    buffer.close()
    assert server.steps() == [0, 1, 2, 3, 4]
    assert _files(Path(folder)) == []
