import threading

import pytest

from runyard.entities.metric import MetricKind
from runyard.tracking.buffer import MetricBuffer
from waiting import wait_for


def test_flush_returns_after_everything_appended_is_written():
    written = []
    buffer = MetricBuffer(written.extend, interval=10)
    for i in range(1000):
        buffer.append(("r", "m", float(i), MetricKind.SCALAR, None, 0.0))
    buffer.flush()
    assert [r.value for r in written] == [float(i) for i in range(1000)]
    buffer.close()


def test_background_writer_writes_without_flush():
    written = []
    buffer = MetricBuffer(written.extend, interval=0.01)
    buffer.append(("r", "m", 1.0, MetricKind.SCALAR, None, 0.0))
    wait_for(lambda: written, timeout=5, what="the background writer", poll=0.01)
    assert len(written) == 1
    buffer.close()


def test_appends_from_many_threads_are_all_written_once():
    written = []
    buffer = MetricBuffer(written.extend, interval=0.001)

    def producer(k):
        for i in range(2000):
            buffer.append(("r", f"m{k}", float(i), MetricKind.SCALAR, None, 0.0))

    threads = [threading.Thread(target=producer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    buffer.close()
    assert len(written) == 8000
    for k in range(4):
        assert [r.value for r in written if r.name == f"m{k}"] == [float(i) for i in range(2000)]


def test_write_error_is_raised_by_flush_and_writer_survives():
    calls = []

    def write(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("database is down")

    buffer = MetricBuffer(write, interval=10, on_error=lambda exc: None)
    buffer.append(("r", "m", 1.0, MetricKind.SCALAR, None, 0.0))
    try:
        buffer.flush()
    except RuntimeError as exc:
        assert "database is down" in str(exc)
    else:
        raise AssertionError("flush should raise the write error")
    buffer.append(("r", "m", 2.0, MetricKind.SCALAR, None, 0.0))
    buffer.flush()
    assert calls == [1, 1]
    buffer.close()


def test_a_record_the_store_refuses_loses_only_itself_not_its_batch():
    written, errors = [], []

    def write(batch):
        if any(r.value == 13.0 for r in batch):
            raise ValueError("refused")
        written.extend(batch)

    buffer = MetricBuffer(write, interval=10, on_error=errors.append)
    for i in range(20):
        buffer.append(("r", "m", float(i), MetricKind.SCALAR, None, 0.0))
    with pytest.raises(ValueError, match="refused"):
        buffer.flush()
    assert [r.value for r in written] == [float(i) for i in range(20) if i != 13]
    assert len(errors) == 1
    buffer.close()


def test_a_store_that_is_down_is_not_retried_record_by_record():
    attempts = []

    def write(batch):
        attempts.append(len(batch))
        raise ConnectionError("database is down")

    buffer = MetricBuffer(write, interval=10, on_error=lambda exc: None)
    for i in range(1000):
        buffer.append(("r", "m", float(i), MetricKind.SCALAR, None, 0.0))
    with pytest.raises(ConnectionError):
        buffer.flush()
    assert attempts == [1000, 1, 1, 1, 1, 1]  # the batch, then five single records
    buffer.close()


def test_making_a_buffer_leaves_sigterm_alone_and_the_run_context_takes_it(ws):
    import signal

    from runyard.core import Experiment
    from runyard.tracking.buffer import MetricBuffer

    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        MetricBuffer(lambda batch: None).close()
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        Experiment(ws, "ctx").start_logging().complete()
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)
