"""Metrics: the bulk-insert hot path, and reading them back in logging order.

Encoding: each (run, name, kind) is a row of ``metric_series``; each logged value is a
row of ``metrics`` pointing to its series. A scalar is stored in ``value`` as a double,
NULL meaning NaN (SQLite turns NaN into NULL anyway; +-inf are stored as they are on both
databases). SQLite stores -0.0 as 0, so a scalar -0.0 is a row with ``value`` NULL and
``payload`` ``"-0.0"``. The other kinds (list, row, table, image) keep their JSON in ``payload``.
``seq`` is the logging order.

Writes go straight to the driver: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.
Values are clustered by series (see ``tables.metrics``); ``seq``, the logging order, is
allocated here in blocks on SQLite (under its write lock) and by PostgreSQL itself.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from runyard.entities import MetricKind, MetricPage, MetricRecord
from runyard.tracking import documents, messages
from runyard.tracking.paging import keep_in_buckets
from runyard.tracking.sql import runs as runs_module
from runyard.tracking.sql import summaries
from runyard.tracking.sql.database import dialect_insert
from runyard.tracking.sql.tables import metric_series, metrics, runs
from runyard.tracking.sql.tables import run_metric_summaries as summaries_table

_SCALAR = MetricKind.SCALAR.value
# read_many buckets a series in Python when it has at most this many times max_points values.
_IN_PYTHON = 8
_KINDS = frozenset(kind.value for kind in MetricKind)
_CHUNK = 500
#: How long a stored batch's id is remembered: a batch sent again later is stored again.
BATCH_ID_KEPT_S = 7 * 24 * 3600.0
_PRUNE_EVERY = 1000

SeriesKey = tuple[str, str, str]  # run id, metric name, kind


def claim_batch(conn: sa.Connection, batch_id: str) -> bool:
    """Record that the batch ``batch_id`` is stored by this transaction; False when a
    committed transaction stored it already (the caller then writes nothing)."""
    # Straight to the driver, as the values are: building the construct each time cost
    # about a millisecond, most of a small batch's write. RETURNING, not rowcount, tells
    # whether the row went in (rowcount is -1 for this statement through psycopg here).
    marker = "%s" if conn.dialect.name == "postgresql" else "?"
    inserted = conn.exec_driver_sql(
        "INSERT INTO metric_batches (batch_id, stored_at) "
        f"VALUES ({marker}, {marker}) ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id",
        (batch_id, time.time()),
    )
    claimed = inserted.first() is not None
    # Forget old ids now and then (one write in _PRUNE_EVERY, on average): a retry comes
    # within minutes, or within days from an outbox on a laptop; a table of every id
    # ever would grow by one row per batch forever.
    if claimed and random.random() < 1 / _PRUNE_EVERY:
        forget_batch_ids(conn, time.time() - BATCH_ID_KEPT_S)
    return claimed


def forget_batch_ids(conn: sa.Connection, stored_before: float) -> None:
    """Forget the ids of the batches stored before ``stored_before`` (Unix seconds)."""
    marker = "%s" if conn.dialect.name == "postgresql" else "?"
    conn.exec_driver_sql(f"DELETE FROM metric_batches WHERE stored_at < {marker}", (stored_before,))


def log(conn: sa.Connection, records: Sequence[MetricRecord]) -> None:
    """Append ``records`` (of one or several runs) in logging order.

    Raises:
        NotFound: a record names a run that does not exist (nothing is written).
        InvalidArgument: a scalar is not a number, or a payload is not JSON-serializable.
    """
    if not records:
        return
    # The hot path of the server (a batch of a few values per request): plain SQL through
    # the driver, so each statement skips SQLAlchemy's compile and cache-key work (about
    # 60 us a statement), and the runs and their series come back in one query.
    run_rows, found = _runs_and_series(conn, {r.run_id for r in records})
    series = _series_ids(conn, {(r.run_id, r.name, r.kind) for r in records}, run_rows, found)
    postgres = conn.dialect.name == "postgresql"
    first_seq = None
    if not postgres:  # PostgreSQL numbers the rows itself (identity column)
        count = len(records)
        first_seq = _next_seq(conn, count) - count + 1
    for is_scalar, rows in _row_groups(records, series, first_seq):
        columns = ["series_id", "step", "logged_at", "value" if is_scalar else "payload"]
        if postgres:
            _copy(conn, rows, ", ".join(columns))
        else:
            columns.insert(1, "seq")
            conn.exec_driver_sql(
                f"INSERT INTO metrics ({', '.join(columns)}) VALUES (?, ?, ?, ?, ?)", rows
            )
    summaries.update(conn, records, run_rows)


def _next_seq(conn: sa.Connection, count: int) -> int:
    """SQLite: reserve ``count`` sequence numbers; the last one reserved (the counter row
    of :mod:`counters`, ``sequence``/``metrics``, written in plain SQL)."""
    row = conn.exec_driver_sql(
        "INSERT INTO counters (scope, name, value) VALUES ('sequence', 'metrics', ?) "
        "ON CONFLICT (scope, name) DO UPDATE SET value = counters.value + excluded.value "
        "RETURNING value",
        (count,),
    ).one()
    return int(row[0])


def _runs_and_series(
    conn: sa.Connection, run_ids: set[str]
) -> tuple[dict[str, tuple[int, int]], dict[SeriesKey, int]]:
    """The row key and experiment id of each run, and the runs' existing series; NotFound
    naming the missing runs."""
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    wanted = sorted(run_ids)
    keys: dict[str, tuple[int, int]] = {}
    found: dict[SeriesKey, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = conn.exec_driver_sql(
            "SELECT r.run_id, r.id, r.experiment_id, s.id, s.name, s.kind FROM runs r "
            "LEFT JOIN metric_series s ON s.run_key = r.id "
            f"WHERE r.run_id IN ({', '.join([mark] * len(chunk))})",
            tuple(chunk),
        )
        for run_id, key, experiment, series_id, name, kind in rows:
            keys[run_id] = (key, experiment)
            if series_id is not None:
                found[(run_id, name, kind)] = series_id
    missing = [run_id for run_id in wanted if run_id not in keys]
    if missing:
        raise messages.metric_runs_not_found(missing)
    return keys, found


def _series_ids(
    conn: sa.Connection,
    wanted: set[SeriesKey],
    run_rows: dict[str, tuple[int, int]],
    found: dict[SeriesKey, int],
) -> dict[SeriesKey, int]:
    """The series id of each (run id, name, kind), creating the missing series; ``found``
    holds the runs' existing series."""
    missing = [key for key in wanted if key not in found]
    if missing:
        for run_id, name, kind in missing:
            if kind not in _KINDS:
                raise messages.unknown_metric_kind(run_id, name, kind)
        conn.execute(
            dialect_insert(conn, metric_series).on_conflict_do_nothing(),
            [
                {"run_key": run_rows[run_id][0], "name": name, "kind": MetricKind(kind).value}
                for run_id, name, kind in missing
            ],
        )
        run_keys = {run_id: key for run_id, (key, _) in run_rows.items()}
        found = _existing_series(conn, run_keys)
    return found


def _run_rows(conn: sa.Connection, run_ids: set[str]) -> dict[str, tuple[int, int]]:
    """The row key and experiment id of each run; NotFound naming the missing runs."""
    wanted = sorted(run_ids)
    keys: dict[str, tuple[int, int]] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = sa.select(runs.c.run_id, runs.c.id, runs.c.experiment_id).where(
            runs.c.run_id.in_(wanted[start : start + _CHUNK])
        )
        keys.update((run_id, (key, experiment)) for run_id, key, experiment in conn.execute(query))
    missing = [run_id for run_id in wanted if run_id not in keys]
    if missing:
        raise messages.metric_runs_not_found(missing)
    return keys


def _existing_series(conn: sa.Connection, run_keys: dict[str, int]) -> dict[SeriesKey, int]:
    run_ids = {key: run_id for run_id, key in run_keys.items()}
    keys = sorted(run_ids)
    found: dict[SeriesKey, int] = {}
    for start in range(0, len(keys), _CHUNK):
        query = sa.select(
            metric_series.c.id,
            metric_series.c.run_key,
            metric_series.c.name,
            metric_series.c.kind,
        ).where(metric_series.c.run_key.in_(keys[start : start + _CHUNK]))
        for series_id, run_key, name, kind in conn.execute(query):
            found[(run_ids[run_key], name, kind)] = series_id
    return found


def _row_groups(
    records: Sequence[MetricRecord], series: dict[SeriesKey, int], first_seq: int | None
) -> list[tuple[bool, list[tuple[Any, ...]]]]:
    """The rows to insert, in order, grouped into runs of scalars and of other kinds:
    ``(series_id, [seq,] step, logged_at, value or payload)``, seq when ``first_seq``."""
    groups: list[tuple[bool, list[tuple[Any, ...]]]] = []
    rows: list[tuple[Any, ...]] = []
    scalar_group = True
    next_seq = None if first_seq is None else itertools.count(first_seq).__next__
    record = None
    try:
        for record in records:
            series_id = series[(record.run_id, record.name, record.kind)]
            is_scalar = record.kind == _SCALAR
            item: Any
            if is_scalar:
                item = float(record.value)
                if item != item:  # NaN is stored as NULL
                    item = None
                elif item == 0.0 and math.copysign(1.0, item) < 0.0:
                    # SQLite would keep 0 for -0.0: the sign goes in payload, value NULL.
                    is_scalar, item = False, "-0.0"
            else:
                item = documents.dumps(record.value, f"Metric {record.name!r}")
            if is_scalar is not scalar_group:
                if rows:
                    groups.append((scalar_group, rows))
                rows, scalar_group = [], is_scalar
            if next_seq is None:
                rows.append((series_id, record.step, record.logged_at, item))
            else:
                rows.append((series_id, next_seq(), record.step, record.logged_at, item))
    except (TypeError, ValueError) as exc:
        assert record is not None
        raise messages.bad_metric_value(
            record.run_id, record.name, record.value, record.kind, exc
        ) from exc
    if rows:
        groups.append((scalar_group, rows))
    return groups


def _copy(conn: sa.Connection, rows: list[tuple[Any, ...]], columns: str) -> None:
    """PostgreSQL: COPY is several times faster than any INSERT for big batches."""
    driver_connection: Any = conn.connection.driver_connection
    with (
        driver_connection.cursor() as cursor,
        cursor.copy(f"COPY metrics ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _series(
    conn: sa.Connection, run_id: str, name: str | None
) -> dict[int, tuple[str, MetricKind]]:
    """The run's series (id -> name and kind), all of them or those called ``name``."""
    key = runs_module.require_key(conn, run_id, lock=False)
    series_query = sa.select(metric_series.c.id, metric_series.c.name, metric_series.c.kind).where(
        metric_series.c.run_key == key
    )
    if name is not None:
        series_query = series_query.where(metric_series.c.name == name)
    return {
        series_id: (series_name, MetricKind(kind))
        for series_id, series_name, kind in conn.execute(series_query)
    }


def _to_records(
    run_id: str, series: dict[int, tuple[str, MetricKind]], rows: Iterable[Sequence[Any]]
) -> list[MetricRecord]:
    """Records from rows of (series id, step, logged_at, value, payload, ...)."""
    scalar, nan = MetricKind.SCALAR, math.nan
    records: list[MetricRecord] = []
    append = records.append
    for series_id, step, logged_at, value, payload, *_ in rows:
        metric_name, kind = series[series_id]
        if kind is scalar:
            if value is None:  # NaN, or -0.0 kept in payload (see the module docstring)
                value = nan if payload is None else float(payload)
            append(MetricRecord(run_id, metric_name, value, kind, step, logged_at))
        else:
            append(
                MetricRecord(run_id, metric_name, documents.loads(payload), kind, step, logged_at)
            )
    return records


_COLUMNS = (
    metrics.c.series_id,
    metrics.c.step,
    metrics.c.logged_at,
    metrics.c.value,
    metrics.c.payload,
)


def get(conn: sa.Connection, run_id: str, name: str | None) -> list[MetricRecord]:
    """The run's records in logging order, all of them or those called ``name``."""
    series = _series(conn, run_id, name)
    if not series:
        return []
    # Rows carry only their series id: less to send and convert than a join.
    rows = conn.execute(
        sa.select(*_COLUMNS).where(metrics.c.series_id.in_(list(series))).order_by(metrics.c.seq)
    )
    return _to_records(run_id, series, rows)


def read(
    conn: sa.Connection, run_id: str, name: str | None, *, after_seq: int, max_points: int | None
) -> MetricPage:
    """See ``MetricStore.read_metrics``: values after ``after_seq``, downsampled in SQL
    (window functions, on SQLite and PostgreSQL alike) so a long series costs the database
    a scan but sends only the kept rows."""
    series = _series(conn, run_id, name)
    if not series:
        return MetricPage([], after_seq)
    selected = sa.and_(metrics.c.series_id.in_(list(series)), metrics.c.seq > after_seq)
    rows = _selected_rows(conn, selected, {i: kind for i, (_, kind) in series.items()}, max_points)
    last_seq = rows[-1].seq if rows else after_seq
    return MetricPage(_to_records(run_id, series, rows), int(last_seq))


def read_many(
    conn: sa.Connection, run_ids: list[str], name: str, *, max_points: int | None
) -> dict[str, MetricPage]:
    """See ``MetricStore.read_metrics_many``: one query for every run's series, the
    buckets computed in the database."""
    run_keys = {run_id: key for run_id, (key, _) in _run_rows(conn, set(run_ids)).items()}
    owners = {key: run_id for run_id, key in run_keys.items()}
    found = conn.execute(
        sa.select(metric_series.c.id, metric_series.c.run_key, metric_series.c.kind).where(
            metric_series.c.run_key.in_(list(owners)), metric_series.c.name == name
        )
    ).all()
    pages = {run_id: MetricPage([], 0) for run_id in run_ids}
    if not found:
        return pages
    owner_of = {series_id: owners[run_key] for series_id, run_key, _ in found}
    kinds = {series_id: MetricKind(kind) for series_id, _, kind in found}
    short: set[int] = set()
    thin: set[int] = set()  # of the short ones, those to bucket here
    runs_of = {series_id: run_key for series_id, run_key, _ in found}
    if max_points is not None:
        # A scalar series of at most _IN_PYTHON x max_points values is read plainly (an
        # index range scan) and, if longer than max_points, bucketed here by the reference
        # itself: one pass costs less than the three window sorts, and the database sends
        # at most a few times the rows it would send anyway. Longer series are bucketed by
        # the window functions, in the database.
        counts = dict(
            conn.execute(
                sa.select(summaries_table.c.run_key, summaries_table.c.count).where(
                    summaries_table.c.run_key.in_(list(owners)), summaries_table.c.name == name
                )
            ).all()
        )
        short = {
            series_id
            for series_id, run_key, kind in found
            if kind == MetricKind.SCALAR.value and counts.get(run_key, 0) <= _IN_PYTHON * max_points
        }
        thin = {i for i in short if counts.get(runs_of[i], 0) > max_points}
    selected = metrics.c.series_id.in_(list(kinds))
    by_run: dict[str, list[sa.Row[Any]]] = {}
    for row in _selected_rows(conn, selected, kinds, max_points, short):
        by_run.setdefault(owner_of[row[0]], []).append(row)  # row[0]: the series id
    names = {series_id: (name, kind) for series_id, kind in kinds.items()}
    for run_id, rows in by_run.items():
        last_seq = int(rows[-1].seq)
        if thin:
            assert max_points is not None
            rows = _bucketed(rows, thin, max_points)
        pages[run_id] = MetricPage(_to_records(run_id, names, rows), last_seq)
    return pages


def _bucketed(rows: list[sa.Row[Any]], series_ids: set[int], max_points: int) -> list[sa.Row[Any]]:
    """``rows`` (in logging order) with each series of ``series_ids`` cut to the values
    ``paging.keep_in_buckets`` keeps; the rows of other series as they are."""
    mine: dict[int, list[int]] = {}
    for index, row in enumerate(rows):
        if row[0] in series_ids:
            mine.setdefault(row[0], []).append(index)
    dropped: set[int] = set()
    for indexes in mine.values():
        if len(indexes) <= max_points:
            continue
        values = [_number(rows[i]) for i in indexes]
        kept = set(keep_in_buckets(values, max_points))
        dropped.update(index for n, index in enumerate(indexes) if n not in kept)
    if not dropped:
        return rows
    return [row for index, row in enumerate(rows) if index not in dropped]


def _number(row: sa.Row[Any]) -> float:
    """A scalar row's value: NULL is NaN, or -0.0 when the payload says so."""
    if row.value is not None:
        return float(row.value)
    return math.nan if row.payload is None else float(row.payload)


def _selected_rows(
    conn: sa.Connection,
    selected: sa.ColumnElement[bool],
    kinds: dict[int, MetricKind],
    max_points: int | None,
    short: set[int] | frozenset[int] = frozenset(),
) -> list[Any]:
    """The rows of the series in ``kinds`` that ``selected`` picks, in logging order,
    scalar series downsampled to ``max_points`` (None: all) unless they are ``short``
    (known to need no downsampling)."""
    scalar_ids = [i for i, kind in kinds.items() if kind is MetricKind.SCALAR and i not in short]
    if max_points is None or not scalar_ids:
        query = sa.select(*_COLUMNS, metrics.c.seq).where(selected).order_by(metrics.c.seq)
    else:
        other_ids = [i for i in kinds if i not in scalar_ids]
        whole = (
            sa.select(*_COLUMNS, metrics.c.seq)
            .where(selected, metrics.c.series_id.in_(other_ids))
            .subquery()
        )
        kept = _downsampled(selected, scalar_ids, max_points)
        both = sa.union_all(sa.select(*whole.c), sa.select(*kept.c)).subquery()
        query = sa.select(*both.c).order_by(both.c.seq)
    rows: list[Any] = [*conn.execute(query).all()]
    return rows


def _downsampled(
    selected: sa.ColumnElement[bool], series_ids: list[int], max_points: int
) -> sa.Subquery:
    """The rows of scalar series that ``paging.keep_in_buckets`` keeps, in SQL."""
    buckets = max_points // 3
    series_id, seq = metrics.c.series_id, metrics.c.seq
    ranked = (
        sa.select(
            *_COLUMNS,
            seq,
            (sa.func.row_number().over(partition_by=series_id, order_by=seq) - 1).label("rank"),
            sa.func.count().over(partition_by=series_id).label("n"),
        )
        .where(selected, series_id.in_(series_ids))
        .subquery()
    )
    bucket = sa.case(
        (ranked.c.n <= max_points, ranked.c.rank), else_=ranked.c.rank * buckets // ranked.c.n
    ).label("bucket")
    bucketed = sa.select(ranked, bucket).subquery()
    # NaN is stored as NULL and has no place in the order; -0.0 is NULL too but with a
    # payload, and ranks as 0.0 (a tie with 0.0, the earliest kept).
    signed_zero = sa.and_(bucketed.c.value.is_(None), bucketed.c.payload.is_not(None))
    number = sa.case((signed_zero, 0.0), else_=bucketed.c.value)
    nan_last = sa.case((number.is_(None), 1), else_=0)
    window = (bucketed.c.series_id, bucketed.c.bucket)
    marked = sa.select(
        bucketed,
        sa.func.row_number()
        .over(partition_by=window, order_by=(nan_last, number, bucketed.c.seq))
        .label("low"),
        sa.func.row_number()
        .over(partition_by=window, order_by=(nan_last, number.desc(), bucketed.c.seq))
        .label("high"),
        sa.func.row_number()
        .over(partition_by=window, order_by=bucketed.c.seq.desc())
        .label("newest"),
    ).subquery()
    present = sa.or_(marked.c.value.is_not(None), marked.c.payload.is_not(None))
    return (
        sa.select(
            marked.c.series_id,
            marked.c.step,
            marked.c.logged_at,
            marked.c.value,
            marked.c.payload,
            marked.c.seq,
        )
        .where(
            sa.or_(
                marked.c.newest == 1,
                sa.and_(present, sa.or_(marked.c.low == 1, marked.c.high == 1)),
            )
        )
        .subquery()
    )
