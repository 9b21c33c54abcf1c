"""Log streaming pieces of the executor: batched appends, pipes, the ./logs mirror, and the
spool that keeps what a dead executor had not written."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from runyard.artifacts.store import FsspecArtifactStore
from runyard.node.streaming import (
    FolderMirror,
    LogSink,
    OutputPump,
    PipePump,
    recover_from_spool,
)


@pytest.fixture
def store(tmp_path):
    return FsspecArtifactStore(str(tmp_path / "artifacts"))


def test_sink_appends_in_order_and_close_writes_the_rest(store):
    sink = LogSink(store, "run/driver.txt", flush_seconds=60).start()
    sink.write(b"one\n")
    sink.flush()
    sink.line("two")
    assert store.read_bytes("run/driver.txt") == b"one\n"  # not flushed yet
    sink.close()
    assert store.read_bytes("run/driver.txt") == b"one\ntwo\n"


def test_pipe_pump_copies_everything_and_keeps_the_tail(store):
    sink = LogSink(store, "out.txt", flush_seconds=60).start()
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfor i in range(2000): print(i, file=sys.stderr)"],
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    pump = PipePump(proc.stderr, sink, keep_tail=True).start()
    proc.wait()
    pump.join(10)
    sink.close()
    lines = store.read_bytes("out.txt").decode().split()
    assert lines == [str(i) for i in range(2000)]
    assert pump.tail_text(max_lines=3) == "1997\n1998\n1999"


def test_output_pump_keeps_a_line_printed_before_a_traceback_before_it(store):
    script = "print('hello')\nraise ValueError('boom')"
    for attempt in range(5):  # two pumps, one a pipe, got this order wrong now and then
        sink = LogSink(store, f"out{attempt}.txt", flush_seconds=60).start()
        proc = subprocess.Popen(
            [sys.executable, "-u", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stderr is not None
        pump = OutputPump(proc.stdout, proc.stderr, sink).start()
        proc.wait()
        pump.join(10)
        sink.close()
        text = store.read_bytes(f"out{attempt}.txt").decode()
        assert text.startswith("hello\nTraceback"), text
        assert pump.tail_text().endswith("ValueError: boom")
        assert "hello" not in pump.tail_text()  # the tail is stderr's alone


def test_mirror_uploads_new_and_changed_files_only(store, tmp_path):
    logs = tmp_path / "logs"
    mirror = FolderMirror(store, str(logs), "run/logs")
    assert mirror.sync() == 0  # no folder yet
    logs.mkdir()
    (logs / "a.txt").write_text("1")
    (logs / "sub").mkdir()
    (logs / "sub" / "b.txt").write_text("2")
    assert mirror.sync() == 2
    assert mirror.sync() == 0
    (logs / "a.txt").write_text("11")
    assert mirror.sync() == 1
    assert store.read_bytes("run/logs/a.txt") == b"11"
    assert store.read_bytes("run/logs/sub/b.txt") == b"2"


def test_spool_recovers_what_was_never_flushed(store, tmp_path):
    spool = str(tmp_path / "driver.spool")
    sink = LogSink(store, "run/driver.txt", flush_seconds=60, spool=spool).start()
    sink.write(b"flushed\n")
    sink.flush()
    sink.write(b"lost with the executor\n")  # buffered only: as if the process died now
    assert os.path.getsize(spool) == len(b"flushed\nlost with the executor\n")
    assert recover_from_spool(store, "run/driver.txt", spool) == len(b"lost with the executor\n")
    assert store.read_bytes("run/driver.txt") == b"flushed\nlost with the executor\n"
    assert recover_from_spool(store, "run/driver.txt", spool) == 0
    sink.close()
