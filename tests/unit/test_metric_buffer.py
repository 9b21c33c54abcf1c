import threading
import time

from runyard.entities.metric import MetricKind
from runyard.tracking.buffer import MetricBuffer


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
    deadline = time.time() + 5
    while not written and time.time() < deadline:
        time.sleep(0.01)
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
