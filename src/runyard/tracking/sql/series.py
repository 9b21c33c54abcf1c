"""Chart lines of several runs (``MetricStore.read_series_many``), read as columns.

The values are read through the driver's own cursor (sqlite3; psycopg in binary format),
so no SQLAlchemy row and no record is made per value: the rows of each series are cut
into columns by ``zip``. Measured on the 100-run chart of ``benchmarks/bench_search.py``
(400 values a run), the SQLAlchemy rows alone cost three times the driver's fetch.

Where the buckets are computed: a series of at most ``_IN_PYTHON`` x ``max_points``
values is read whole and bucketed by ``tracking.series.kept_indexes`` (C-speed min/max
per bucket); a longer one is bucketed in the database by window functions, one query for
all of them, so only the kept rows travel. On that chart the window query costs the
database about ten times what reading the 40,000 rows plainly does (three sorts per
bucket on SQLite and PostgreSQL alike), so it pays only when it spares sending many
times the rows it keeps.
"""

from __future__ import annotations

import itertools
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from runyard.entities import MetricKind, MetricSeries
from runyard.tracking import messages
from runyard.tracking import series as lines
from runyard.tracking.sql.tables import metric_series, runs
from runyard.tracking.sql.tables import run_metric_summaries as summaries

# Read whole and bucket here up to this many times max_points values per series.
_IN_PYTHON = 8
_COLUMNS = "series_id, step, logged_at, value, payload"


def read_many(
    conn: sa.Connection, run_ids: list[str], name: str, *, max_points: int | None
) -> list[MetricSeries]:
    """See ``MetricStore.read_series_many``; ``run_ids`` are distinct and checked."""
    found = _scalar_series(conn, run_ids, name)
    owner = {series_id: run_id for run_id, (series_id, _) in found.items()}
    whole = sorted(
        series_id
        for series_id, count in found.values()
        if max_points is None or count <= _IN_PYTHON * max_points
    )
    windowed = sorted(set(owner) - set(whole))
    built: dict[str, MetricSeries] = {}
    if owner and conn.dialect.name == "postgresql":
        # Row estimates of an IN list over a big table exceed the JIT threshold; compiling
        # then costs more than the query.
        conn.exec_driver_sql("SET LOCAL jit = off")
    if whole:
        rows = _fetch(conn, f"SELECT {_COLUMNS} FROM metrics WHERE series_id IN ({_ids(whole)})")
        _build(rows, owner, name, max_points, built)
    if windowed:
        assert max_points is not None
        _build(_fetch(conn, _windowed(windowed, max_points)), owner, name, None, built)
    return [built.get(run_id) or MetricSeries(run_id, name) for run_id in run_ids]


def _scalar_series(
    conn: sa.Connection, run_ids: list[str], name: str
) -> dict[str, tuple[int, int]]:
    """The id and value count of each run's scalar series ``name`` (runs without one are
    left out); NotFound naming the runs that do not exist."""
    series = sa.and_(
        metric_series.c.run_key == runs.c.id,
        metric_series.c.name == name,
        metric_series.c.kind == MetricKind.SCALAR.value,
    )
    counted = sa.and_(summaries.c.run_key == runs.c.id, summaries.c.name == name)
    query = (
        sa.select(runs.c.run_id, metric_series.c.id, summaries.c.count)
        .select_from(runs.outerjoin(metric_series, series).outerjoin(summaries, counted))
        .where(runs.c.run_id.in_(run_ids))
    )
    known: set[str] = set()
    found: dict[str, tuple[int, int]] = {}
    for run_id, series_id, count in conn.execute(query):
        known.add(run_id)
        if series_id is not None:
            found[run_id] = (series_id, count or 0)
    missing = [run_id for run_id in run_ids if run_id not in known]
    if missing:
        raise messages.chart_runs_not_found(name, missing)
    return found


def _ids(series_ids: list[int]) -> str:
    # Integers the database gave: inlined, so one text serves both drivers' paramstyles.
    return ", ".join(str(int(i)) for i in series_ids)


def _fetch(conn: sa.Connection, sql: str) -> list[tuple[Any, ...]]:
    """All rows of ``sql``, ordered by series and logging order, from the driver itself."""
    driver: Any = conn.connection.driver_connection
    cursor = driver.cursor()
    try:
        sql += " ORDER BY series_id, seq"
        if conn.dialect.name == "postgresql":
            cursor.execute(sql, binary=True)  # binary doubles: no text to parse
        else:
            cursor.execute(sql)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows
    finally:
        cursor.close()


def _build(
    rows: list[tuple[Any, ...]],
    owner: dict[int, str],
    name: str,
    max_points: int | None,
    built: dict[str, MetricSeries],
) -> None:
    """Add the series of ``rows`` (series id, step, time, value, payload) to ``built``."""
    for series_id, group in itertools.groupby(rows, key=itemgetter(0)):
        _, steps, times, values, payloads = zip(*group, strict=True)
        if None in values:  # NaN, or -0.0 (see tracking/sql/metrics.py)
            values = tuple(map(lines.scalar, values, payloads))
        run_id = owner[series_id]
        built[run_id] = lines.build(run_id, name, steps, values, times, max_points)


def _windowed(series_ids: list[int], max_points: int) -> str:
    """The rows of ``series_ids`` that ``paging.keep_in_buckets`` keeps, bucketed by the
    database: a value's rank in its series gives its bucket; each bucket keeps its
    earliest lowest and highest value (NaN, stored as NULL, in no order; -0.0, NULL with
    a payload, as 0.0) and its last one."""
    buckets = max_points // 3
    return f"""
        WITH ranked AS (
            SELECT {_COLUMNS}, seq,
                row_number() OVER (PARTITION BY series_id ORDER BY seq) - 1 AS position,
                count(*) OVER (PARTITION BY series_id) AS total
            FROM metrics WHERE series_id IN ({_ids(series_ids)})
        ), bucketed AS (
            SELECT {_COLUMNS}, seq,
                CASE WHEN total <= {max_points} THEN position
                    ELSE position * {buckets} / total END AS bucket,
                CASE WHEN value IS NULL AND payload IS NOT NULL THEN 0.0
                    ELSE value END AS number
            FROM ranked
        ), marked AS (
            SELECT {_COLUMNS}, seq, number,
                row_number() OVER (PARTITION BY series_id, bucket
                    ORDER BY CASE WHEN number IS NULL THEN 1 ELSE 0 END, number, seq) AS low,
                row_number() OVER (PARTITION BY series_id, bucket
                    ORDER BY CASE WHEN number IS NULL THEN 1 ELSE 0 END, number DESC, seq)
                    AS high,
                row_number() OVER (PARTITION BY series_id, bucket ORDER BY seq DESC) AS newest
            FROM bucketed
        )
        SELECT {_COLUMNS} FROM marked
        WHERE newest = 1 OR (number IS NOT NULL AND (low = 1 OR high = 1))"""
