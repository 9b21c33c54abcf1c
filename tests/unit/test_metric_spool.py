"""The metric spool: values a submitted run's script could not store are kept on disk and
stored by its executor later, never silently lost."""

from __future__ import annotations

import math

import pytest

from runyard.entities.metric import MetricKind, MetricRecord
from runyard.tracking import spool
from runyard.tracking.buffer import MetricBuffer

RECORDS = [
    MetricRecord("r", "loss", 0.5, MetricKind.SCALAR, 1, 10.0),
    MetricRecord("r", "loss", math.nan, MetricKind.SCALAR, 2, 11.0),
    MetricRecord("r", "acc", [0.1, math.inf], MetricKind.LIST, None, 12.0),
    MetricRecord("r", "t", {"a": [1, 2], "b": ["x", "y"]}, MetricKind.TABLE, None, 13.0),
]


def _same(a: list[MetricRecord], b: list[MetricRecord]) -> bool:
    return repr(a) == repr(b)  # NaN != NaN; their reprs are equal


def test_spooled_values_are_stored_as_they_were_logged_and_the_spool_goes(tmp_path):
    path = str(tmp_path / "spool.jsonl")
    assert spool.append(path, RECORDS[:2]) == 2
    assert spool.append(path, RECORDS[2:]) == 2
    stored: list[MetricRecord] = []
    result = spool.replay(path, stored.extend)
    assert (result.stored, result.lost) == (4, 0)
    assert _same(stored, RECORDS)
    assert not (tmp_path / "spool.jsonl").exists()


def test_no_spool_is_nothing_to_store(tmp_path):
    assert spool.replay(str(tmp_path / "none.jsonl"), lambda batch: None) == spool.SpoolReplay()


def test_values_the_store_still_refuses_and_torn_lines_are_counted_lost_and_kept(tmp_path):
    path = tmp_path / "spool.jsonl"
    spool.append(str(path), RECORDS)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"run_id": "r", "name": "lo')  # the script was killed mid-write

    def write(batch):
        if any(r.name == "acc" for r in batch):
            raise ValueError("acc refused")
        stored.extend(batch)

    stored: list[MetricRecord] = []
    result = spool.replay(str(path), write)
    assert (result.stored, result.lost) == (3, 2)
    assert result.error == "1 lines of the spool could not be read"
    assert [r.name for r in stored] == ["loss", "loss", "t"]
    assert path.exists()  # kept for the user: something in it was not stored


def test_a_buffer_with_a_spool_keeps_what_the_store_cannot_take(tmp_path, capsys):
    def write(batch):
        raise ImportError("no module named 'psycopg'")  # a built env without the driver

    path = str(tmp_path / "spool.jsonl")
    buffer = MetricBuffer(write, interval=10, spool=path)
    for i in range(3):
        buffer.append(("r", "loss", float(i), MetricKind.SCALAR, i, 1.0))
    buffer.flush()  # does not raise: the values are kept
    buffer.close()
    stored: list[MetricRecord] = []
    assert spool.replay(path, stored.extend).stored == 3
    assert [r.value for r in stored] == [0.0, 1.0, 2.0]
    err = capsys.readouterr().err
    assert "could not write 3 metric values (ImportError" in err and path in err


def test_a_buffer_without_a_spool_still_reports_the_loss():
    def write(batch):
        raise ConnectionError("database is down")

    buffer = MetricBuffer(write, interval=10)
    buffer.append(("r", "loss", 1.0, MetricKind.SCALAR, None, 1.0))
    with pytest.raises(ConnectionError):
        buffer.flush()
    buffer.close()
