"""The web UI's chart reads (``runyard.server.ui.series.read_series``) on SQLite and
PostgreSQL: a long series is cut into min/max buckets that keep every peak whichever way
it is read (buckets of logging order where x only goes forward, of x itself where it goes
back), and a short series logged among others comes back whole."""

from __future__ import annotations

import math

import pytest

from runyard.entities import MetricKind, MetricRecord, RunStatus
from runyard.server.ui.database import database_of
from runyard.server.ui.series import read_series
from runyard.tracking.sql import SqlTrackingStore


def _log(
    store: SqlTrackingStore, run_id: str, name: str, steps: list[int], values: list[float]
) -> None:
    store.log_metrics(
        [
            MetricRecord(run_id, name, v, MetricKind.SCALAR, s, 1e9 + i)
            for i, (s, v) in enumerate(zip(steps, values, strict=True))
        ]
    )


def test_long_series_keep_every_peak_in_logging_order_and_when_x_goes_back(
    store_url: str,
) -> None:
    with SqlTrackingStore(store_url) as store:
        store.create_experiment("exp")
        store.create_run("exp", run_id="r", status=RunStatus.RUNNING)
        wave = [math.sin(s / 300) for s in range(12_000)]
        wave[4_321], wave[9_000] = 50.0, math.nan
        _log(store, "r", "forward", list(range(12_000)), wave)
        # Steps 0..5999 logged twice (a resumed run): x goes back halfway.
        again = [float(s % 6_000 == 777) * -40.0 for s in range(12_000)]
        _log(store, "r", "resumed", [s % 6_000 for s in range(12_000)], again)
        db = database_of(store)
        forward, resumed = read_series(db, ["r"], ["forward", "resumed"], max_points=300)
    assert (forward.name, resumed.name) == ("forward", "resumed")
    assert forward.downsampled and forward.total == 12_000 and len(forward.x) <= 301
    assert max(y for y in forward.y if y is not None) == 50.0
    assert min(y for y in forward.y if y is not None) == pytest.approx(-1.0, abs=1e-3)
    assert forward.x == sorted(forward.x) and forward.x[-1] == 11_999
    assert forward.y[-1] == pytest.approx(wave[-1])
    assert resumed.downsampled and resumed.total == 12_000
    assert resumed.x == sorted(resumed.x) and min(y for y in resumed.y if y is not None) == -40.0
    assert resumed.x[0] == 0 and resumed.x[-1] == 5_999


def test_short_series_logged_among_others_and_nothing_new_come_back_whole(
    store_url: str,
) -> None:
    with SqlTrackingStore(store_url) as store:
        store.create_experiment("exp")
        store.create_run("exp", run_id="r", status=RunStatus.RUNNING)
        records = []
        for s in range(700):  # loss and acc interleaved: each one's sequence range is 1,400
            records += [
                MetricRecord("r", "acc", s / 700, MetricKind.SCALAR, s, 1e9 + s),
                MetricRecord("r", "loss", 1 / (s + 1), MetricKind.SCALAR, s, 1e9 + s),
            ]
        store.log_metrics(records)
        db = database_of(store)
        acc, loss = read_series(db, ["r"], max_points=1000)
        (newest,) = read_series(db, ["r"], ["loss"], after_seq=loss.last_seq)
    assert not acc.downsampled and acc.x == list(range(700)) and acc.total == 700
    assert loss.y == [1 / (s + 1) for s in range(700)]
    assert newest.x == [] and newest.last_seq == loss.last_seq
