"""Metric series for charts: every scalar series of some runs, each cut to at most
``max_points`` values that keep its peaks, optionally over an x range (a zoom).

A series of at most ``max_points`` values in the range comes back whole. A longer one is
cut into ``B = max_points // 3`` buckets over its x range (steps, or times; logging order
for a series logged without steps) and each bucket keeps its lowest and highest value and
the series' last value: the min/max envelope a chart of that width draws, from one grouped
scan of the series in the database (never every row sent). The two kept values of a
bucket sit at its first and last x, in the order that continues the line from the bucket
before (the higher first where it falls), so peaks keep their values exactly and their x
to within a bucket's width.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from runyard.errors import InvalidArgument
from runyard.tracking.sql.database import Database
from runyard.tracking.sql.tables import metric_series, metrics, runs

XAxis = Literal["step", "time"]
#: The most series one read returns (20 runs x 5 metrics fits with room).
MAX_SERIES = 200


@dataclass
class SeriesPoints:
    """One run's scalar series: x and y (None for NaN) of the kept values.

    ``total`` is how many values the range holds; ``downsampled`` whether fewer came back;
    ``last_seq`` the newest value's sequence number (to read only what is new next time).
    """

    run_id: str
    name: str
    x: list[float] = field(default_factory=list)
    y: list[float | None] = field(default_factory=list)
    total: int = 0
    downsampled: bool = False
    last_seq: int = 0


def read_series(
    db: Database,
    run_ids: Sequence[str],
    names: Sequence[str] = (),
    *,
    x_axis: XAxis = "step",
    x_min: float | None = None,
    x_max: float | None = None,
    max_points: int = 1000,
    after_seq: int = 0,
) -> list[SeriesPoints]:
    """The scalar series called ``names`` (all when empty) of ``run_ids``.

    ``after_seq`` > 0 returns only values logged after it, whole (a live chart's update).

    Raises:
        InvalidArgument: ``max_points`` below 3, more than :data:`MAX_SERIES` series,
            an unknown x axis.
    """
    if max_points < 3:
        raise InvalidArgument(f"max_points must be at least 3, got {max_points}.")
    if x_axis not in ("step", "time"):
        raise InvalidArgument(f"x must be 'step' or 'time', got {x_axis!r}.")
    with db.read() as conn:
        query = (
            sa.select(metric_series.c.id, metric_series.c.name, runs.c.run_id)
            .join(runs, runs.c.id == metric_series.c.run_key)
            .where(runs.c.run_id.in_(list(run_ids)), metric_series.c.kind == "scalar")
            .order_by(runs.c.run_id, metric_series.c.name)
        )
        if names:
            query = query.where(metric_series.c.name.in_(list(names)))
        found = list(conn.execute(query).all())
        if len(found) > MAX_SERIES:
            raise InvalidArgument(
                f"{len(found)} series asked for; a chart reads at most {MAX_SERIES} at once."
            )
        order = {run_id: i for i, run_id in enumerate(run_ids)}
        found.sort(key=lambda row: (order.get(row.run_id, 0), row.name))
        whole: dict[int, SeriesPoints] = {}
        if x_min is None and x_max is None:
            whole = _read_whole(conn, found, x_axis, max_points, after_seq)
        return [
            whole.get(row.id)
            or _read_one(
                conn, row.id, row.run_id, row.name, x_axis, x_min, x_max, max_points, after_seq
            )
            for row in found
        ]


def _read_whole(
    conn: sa.Connection, found: Sequence[Any], x_axis: XAxis, max_points: int, after_seq: int
) -> dict[int, SeriesPoints]:
    """The unzoomed series among ``found`` read in a few statements for all of them
    (keyed by series id); the ones left out take ``_read_one``'s path (a series logged
    without steps, or one whose x goes back in logging order).

    One statement of primary-key seeks gives each series' sequence range (which bounds its
    size: sequence numbers are unique) and last value. The short series come back whole
    from one ordered read. The long ones are cut into buckets of equal sequence ranges,
    each an index range scan of the primary key (no sort of the values, which a GROUP BY
    on x costs SQLite for a million of them): when x never goes back from one
    bucket to the next, those are the min/max buckets of x in order, as ``_buckets``
    makes them.
    """
    x_column: Any = metrics.c.logged_at if x_axis == "time" else metrics.c.step
    names = {row.id: (row.run_id, row.name) for row in found}
    if not names:
        return {}

    def seek(column: Any, descending: bool = False) -> Any:
        after = sa.and_(metrics.c.series_id == metric_series.c.id, metrics.c.seq > after_seq)
        order = metrics.c.seq.desc() if descending else metrics.c.seq
        return sa.select(column).where(after).order_by(order).limit(1).scalar_subquery()

    stats = conn.execute(
        sa.select(
            metric_series.c.id,
            seek(metrics.c.seq),
            seek(metrics.c.seq, descending=True),
            seek(x_column),
            seek(x_column, descending=True),
            seek(metrics.c.value, descending=True),
        ).where(metric_series.c.id.in_(list(names)))
    ).all()
    out: dict[int, SeriesPoints] = {}
    short: list[int] = []
    long: dict[int, tuple[int, int]] = {}
    lasts: dict[int, tuple[float, Any]] = {}
    for series_id, low_seq, high_seq, first_x, last_x, last_value in stats:
        if low_seq is None:  # nothing after after_seq
            out[series_id] = SeriesPoints(*names[series_id], last_seq=after_seq)
            continue
        if first_x is None:  # x is the index of each value: _by_index's path
            continue
        out[series_id] = SeriesPoints(*names[series_id], last_seq=int(high_seq))
        if high_seq - low_seq < max_points:  # sequence numbers are unique: short
            short.append(series_id)
        else:
            long[series_id] = (int(low_seq), int(high_seq))
            lasts[series_id] = (float(last_x), last_value)
    if short:
        rows = conn.execute(
            sa.select(metrics.c.series_id, x_column.label("x"), metrics.c.value)
            .where(metrics.c.series_id.in_(short), metrics.c.seq > after_seq)
            .order_by(metrics.c.series_id, metrics.c.seq)
        )
        for series_id, x, value in rows:
            points = out[series_id]
            points.x.append(float(x))
            points.y.append(value)
            points.total += 1
    if long:
        count = max(1, max_points // 3)
        buckets = _seq_buckets(conn, long, x_column, count)
        for series_id, (last_x, last_value) in lasts.items():
            kept = [row for row in buckets[series_id] if row[0]]
            if sum(row[0] for row in kept) <= max_points or any(
                a[4] > b[3] for a, b in itertools.pairwise(kept)
            ):
                # Short after all (logged among other series), or x goes back:
                # _read_one's path reads it whole or buckets it by x itself.
                del out[series_id]
                continue
            points = out[series_id]
            for n, low, high, x_lo, x_hi in kept:
                points.total += int(n)
                _add_bucket(points, low, high, float(x_lo), float(x_hi))
            if points.x and float(last_x) > points.x[-1]:
                points.x.append(float(last_x))
                points.y.append(last_value)
            points.downsampled = True
    return out


def _seq_buckets(
    conn: sa.Connection, ranges: dict[int, tuple[int, int]], x_column: Any, count: int
) -> dict[int, list[list[Any]]]:
    """For each series id of ``ranges`` (its lowest and highest sequence number), the
    ``[n, lowest, highest, first x, last x]`` of ``count`` buckets of equal sequence
    ranges, in order."""
    seq, value = metrics.c.seq, metrics.c.value
    found: dict[int, list[list[Any]]] = {}
    if conn.dialect.name == "sqlite":
        # One correlated aggregate per bucket (a range of the primary key): SQLite walks
        # the rows in key order and sorts nothing. json_array carries a bucket's values,
        # json_group_array a series' buckets: one text per series, not a row per bucket.
        plan = [[sid, low, (high - low) // count + 1] for sid, (low, high) in ranges.items()]
        each = sa.func.json_each(json.dumps(plan)).table_valued("value").alias("s")
        index = sa.func.json_each(json.dumps(list(range(count)))).table_valued("value")
        sid = sa.func.json_extract(each.c.value, "$[0]")
        width = sa.func.json_extract(each.c.value, "$[2]")
        start = sa.func.json_extract(each.c.value, "$[1]") + index.c.value * width
        inner = sa.select(
            sa.func.json_array(
                index.c.value,
                sa.func.count(),
                sa.func.min(value),
                sa.func.max(value),
                sa.func.min(x_column),
                sa.func.max(x_column),
            )
        ).where(metrics.c.series_id == sid, seq >= start, seq < start + width)
        query = (
            sa.select(sid, sa.func.json_group_array(sa.func.json(inner.scalar_subquery())))
            .select_from(each)
            .join(index, sa.true())
            .group_by(sid)
        )
        for series_id, text in conn.execute(query):
            found[int(series_id)] = [row[1:] for row in sorted(json.loads(text))]
        return found
    for series_id, (low, high) in ranges.items():  # PostgreSQL aggregates with a hash
        bucket = ((seq - low) // ((high - low) // count + 1)).label("bucket")
        found[series_id] = [
            list(row)[1:]
            for row in conn.execute(
                sa.select(
                    bucket,
                    sa.func.count(),
                    sa.func.min(value),
                    sa.func.max(value),
                    sa.func.min(x_column),
                    sa.func.max(x_column),
                )
                .where(metrics.c.series_id == series_id, seq >= low, seq <= high)
                .group_by(bucket)
                .order_by(bucket)
            )
        ]
    return found


def _add_bucket(out: SeriesPoints, low: Any, high: Any, x_lo: float, x_hi: float) -> None:
    """One bucket's two kept values, in the order that continues the line."""
    if low is None:  # only NaN in this bucket
        out.x.append(x_lo)
        out.y.append(None)
        return
    pair = [(x_lo, low), (x_hi, high)]
    previous = out.y[-1] if out.y else None
    if previous is not None and abs(previous - high) < abs(previous - low):
        pair = [(x_lo, high), (x_hi, low)]  # falling
    for x, y in pair if high != low else pair[:1]:
        out.x.append(x)
        out.y.append(y)


def _read_one(
    conn: sa.Connection,
    series_id: int,
    run_id: str,
    name: str,
    x_axis: XAxis,
    x_min: float | None,
    x_max: float | None,
    max_points: int,
    after_seq: int,
) -> SeriesPoints:
    out = SeriesPoints(run_id, name)
    x_column: Any = metrics.c.logged_at if x_axis == "time" else metrics.c.step
    where: list[Any] = [metrics.c.series_id == series_id, metrics.c.seq > after_seq]
    first = conn.execute(
        sa.select(metrics.c.seq, metrics.c.step, metrics.c.logged_at, metrics.c.value)
        .where(*where)
        .order_by(metrics.c.seq)
        .limit(max_points + 1)
    ).all()
    if not first:
        out.last_seq = after_seq
        return out
    by_index = x_axis == "step" and first[0].step is None  # logged without steps
    if by_index:  # x is the value's index: take the range as indexes of logging order
        return _by_index(conn, out, where, first, x_min, x_max, max_points)
    if x_min is not None:
        where.append(x_column >= x_min)
    if x_max is not None:
        where.append(x_column <= x_max)
    if len(first) <= max_points and x_min is None and x_max is None:
        rows: Sequence[Any] = first
    else:
        rows = conn.execute(
            sa.select(metrics.c.seq, metrics.c.step, metrics.c.logged_at, metrics.c.value)
            .where(*where)
            .order_by(metrics.c.seq)
            .limit(max_points + 1)
        ).all()
    out.last_seq = _newest_seq(conn, series_id)
    if len(rows) <= max_points:
        for row in rows:
            out.x.append(float(row.logged_at if x_axis == "time" else row.step))
            out.y.append(row.value)
        out.total = len(rows)
        return out
    bounds = conn.execute(
        sa.select(sa.func.min(x_column), sa.func.max(x_column)).where(*where)
    ).one()
    lo, hi = float(bounds[0]), float(bounds[1])
    _buckets(conn, out, where, x_column, lo, hi, max_points)
    return out


def _newest_seq(conn: sa.Connection, series_id: int) -> int:
    newest = conn.execute(
        sa.select(sa.func.max(metrics.c.seq)).where(metrics.c.series_id == series_id)
    ).scalar_one()
    return int(newest or 0)


def _buckets(
    conn: sa.Connection,
    out: SeriesPoints,
    where: list[Any],
    x_column: Any,
    lo: float,
    hi: float,
    max_points: int,
) -> None:
    """Fill ``out`` with the min/max of each of ``max_points // 3`` buckets of x."""
    count = max(1, max_points // 3)
    span = (hi - lo) or 1.0
    bucket = sa.cast((x_column - lo) * (count / span), sa.Integer).label("bucket")
    value = metrics.c.value
    grouped = conn.execute(
        sa.select(
            bucket,
            sa.func.count().label("n"),
            sa.func.min(value).label("low"),
            sa.func.max(value).label("high"),
            sa.func.min(x_column).label("x_lo"),
            sa.func.max(x_column).label("x_hi"),
        )
        .where(*where)
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    last = conn.execute(
        sa.select(x_column, value).where(*where).order_by(metrics.c.seq.desc()).limit(1)
    ).one()
    for row in grouped:
        out.total += int(row.n)
        _add_bucket(out, row.low, row.high, float(row.x_lo), float(row.x_hi))
    if out.x and float(last[0]) > out.x[-1]:
        out.x.append(float(last[0]))
        out.y.append(last[1])
    out.downsampled = True


def _by_index(
    conn: sa.Connection,
    out: SeriesPoints,
    where: list[Any],
    first: Sequence[Any],
    x_min: float | None,
    x_max: float | None,
    max_points: int,
) -> SeriesPoints:
    """A series logged without steps: x is each value's index in logging order, read
    through the sequence numbers (exact when the run logged this series alone; close
    when it interleaved others)."""
    if len(first) <= max_points:
        indexed = list(enumerate(first))
        if x_min is not None or x_max is not None:
            low = -1e300 if x_min is None else x_min
            high = 1e300 if x_max is None else x_max
            indexed = [(i, row) for i, row in indexed if low <= i <= high]
        out.x = [float(i) for i, _ in indexed]
        out.y = [row.value for _, row in indexed]
        out.total = len(indexed)
        out.last_seq = int(first[-1].seq)
        return out
    seq = metrics.c.seq
    lo_seq, hi_seq, n = conn.execute(
        sa.select(sa.func.min(seq), sa.func.max(seq), sa.func.count()).where(*where)
    ).one()
    scale = (hi_seq - lo_seq) / max(1, n - 1) or 1.0  # seq numbers per index
    index = (seq - lo_seq) / scale
    if x_min is not None:
        where = [*where, seq >= lo_seq + x_min * scale]
    if x_max is not None:
        where = [*where, seq <= lo_seq + x_max * scale]
    lo = max(0.0, x_min or 0.0)
    hi = min(float(n - 1), x_max if x_max is not None else float(n - 1))
    _buckets(conn, out, where, index, lo, hi, max_points)
    out.last_seq = int(hi_seq)
    if out.total <= max_points:  # a zoom narrow enough: the values themselves
        rows = conn.execute(sa.select(seq, metrics.c.value).where(*where).order_by(seq)).all()
        out.x = [round((row.seq - lo_seq) / scale) for row in rows]
        out.y = [row.value for row in rows]
        out.downsampled = False
    return out
