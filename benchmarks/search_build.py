"""Build bench_search.py's data set in a Runyard store, fast: the schema comes from the
store itself (its migrations), then runs, tags, series and values go in as bulk SQL straight
into its tables, and the metric summaries are filled by migration 0005's own backfill.

Built databases are kept (SQLite files under ``benchmarks/.work/search/``, PostgreSQL
schemas named after the shape) and reused by later runs; delete them to rebuild.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from search_data import METRICS, T0, Shape, value_sql

from runyard.tracking.sql import SqlTrackingStore, sqlite_url
from runyard.tracking.sql.engine import normalize_url
from runyard.tracking.sql.migrations import SCRIPT_LOCATION

EXPERIMENT = "bench"
_NAMES = list(METRICS)


def backfill_sql() -> str:
    """Migration 0005's statement that summarizes the values already stored."""
    path = Path(SCRIPT_LOCATION) / "versions" / "0005_run_metric_summary.py"
    spec = importlib.util.spec_from_file_location("runyard_migration_0005", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.BACKFILL)


def _steps_case(shape: Shape, column: str) -> str:
    parts = " ".join(f"WHEN '{name}' THEN {shape.steps(name)}" for name in _NAMES)
    return f"CASE {column} {parts} END"


def _value_case(index: str, step: str) -> str:
    parts = " ".join(f"WHEN '{name}' THEN {value_sql(name, index, step)}" for name in _NAMES)
    return f"CASE s.name {parts} END"


def _log(message: str) -> None:
    print(f"[bench_search] {message}", flush=True)


# -- SQLite ------------------------------------------------------------------------------
def sqlite_store(folder: Path, shape: Shape) -> tuple[str, dict[str, float]]:
    """The URL of a SQLite workspace database holding ``shape`` (built when missing) and
    the build's timings (empty when it was there)."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"runyard-{shape.label}.db"
    if final.exists():
        return sqlite_url(final), {}
    building = folder / f"runyard-{shape.label}.building.db"
    for leftover in folder.glob(f"runyard-{shape.label}.building.db*"):
        leftover.unlink()
    with SqlTrackingStore(sqlite_url(building)) as store:
        store.create_experiment(EXPERIMENT)
    timings: dict[str, float] = {}
    con = sqlite3.connect(building, isolation_level=None)
    try:
        # A bulk load: no journal, no fsync; WAL again once done.
        con.execute("PRAGMA journal_mode = DELETE")
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA cache_size = -1000000")
        start = time.perf_counter()
        con.execute("BEGIN")
        _sqlite_runs(con, shape)
        timings["runs_s"] = time.perf_counter() - start
        start = time.perf_counter()
        chunk = max(1, 2_000_000 // shape.points)
        steps = max(shape.steps(name) for name in _NAMES)
        for first in range(0, shape.runs, chunk):
            con.execute(
                f"""WITH RECURSIVE steps(step) AS (
                        SELECT 0 UNION ALL SELECT step + 1 FROM steps WHERE step < {steps - 1})
                    INSERT INTO metrics (series_id, seq, step, logged_at, value)
                    SELECT s.id, s.id * 1000000 + st.step, st.step, {T0} + st.step,
                           {_value_case("(s.run_key - 1)", "st.step")}
                    FROM metric_series s JOIN steps st ON st.step < {_steps_case(shape, "s.name")}
                    WHERE s.run_key > {first} AND s.run_key <= {first + chunk}
                    ORDER BY s.id, st.step"""
            )
            _log(f"sqlite {shape.label}: values of {min(first + chunk, shape.runs)} runs")
        con.execute(
            "INSERT OR REPLACE INTO counters (scope, name, value) "
            "SELECT 'sequence', 'metrics', MAX(seq) FROM metrics"
        )
        timings["values_s"] = time.perf_counter() - start
        start = time.perf_counter()
        con.execute(backfill_sql())
        timings["backfill_s"] = time.perf_counter() - start
        con.execute("COMMIT")
        start = time.perf_counter()
        con.execute("ANALYZE")
        timings["analyze_s"] = time.perf_counter() - start
        con.execute("PRAGMA journal_mode = WAL")
    finally:
        con.close()
    building.rename(final)
    return sqlite_url(final), timings


def _sqlite_runs(con: sqlite3.Connection, shape: Shape) -> None:
    con.executemany(
        "INSERT INTO runs (id, run_id, experiment_id, number, status, display_name, run_type,"
        " created_at, started_at, ended_at, details) VALUES (?, ?, 1, ?, 'Completed', ?,"
        " 'interactive', ?, ?, ?, '{}')",
        (
            (i + 1, f"run-{i:06d}", i + 1, f"run {i}", T0 + i, T0 + i, T0 + i + 60 + i % 600)
            for i in range(shape.runs)
        ),
    )
    con.execute(f"UPDATE experiments SET run_count = {shape.runs}")
    con.executemany(
        "INSERT INTO run_tags (owner_id, name, value) VALUES (?, ?, ?)",
        ((i + 1, "group", f"g{i % 10}") for i in range(shape.runs)),
    )
    con.executemany(
        "INSERT INTO run_tags (owner_id, name, value) VALUES (?, 'rare', 'yes')",
        ((i + 1,) for i in range(0, shape.runs, 100)),
    )
    con.executemany(
        "INSERT INTO metric_series (id, run_key, name, kind) VALUES (?, ?, ?, 'scalar')",
        (
            (i * len(_NAMES) + j + 1, i + 1, name)
            for i in range(shape.runs)
            for j, name in enumerate(_NAMES)
        ),
    )


# -- PostgreSQL --------------------------------------------------------------------------
def postgres_store(base_url: str, shape: Shape) -> tuple[str, dict[str, float]]:
    """The URL of a PostgreSQL schema holding ``shape`` (built in a fresh schema when
    missing) and the build's timings (empty when it was there)."""
    schema = f"runyard_bench_search_{shape.runs}_{shape.points}"
    admin = sa.create_engine(
        normalize_url(base_url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    store_url = url.render_as_string(hide_password=False)
    try:
        with admin.connect() as conn:
            done = conn.exec_driver_sql(
                "SELECT 1 FROM information_schema.tables "
                f"WHERE table_schema = '{schema}' AND table_name = 'bench_complete'"
            ).scalar()
            if done:
                return store_url, {}
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        with SqlTrackingStore(store_url) as store:
            store.create_experiment(EXPERIMENT)
        timings = _postgres_fill(sa.create_engine(url, poolclass=sa.pool.NullPool), shape)
        with admin.connect() as conn:
            start = time.perf_counter()
            conn.exec_driver_sql(f'SET search_path = "{schema}"')
            conn.exec_driver_sql("VACUUM ANALYZE")
            timings["analyze_s"] = time.perf_counter() - start
            conn.exec_driver_sql("CREATE TABLE bench_complete (built_at double precision)")
            conn.exec_driver_sql(f"INSERT INTO bench_complete VALUES ({time.time()})")
        return store_url, timings
    finally:
        admin.dispose()


def _postgres_fill(engine: sa.Engine, shape: Shape) -> dict[str, float]:
    timings: dict[str, float] = {}
    names = ", ".join(f"({j}, '{name}')" for j, name in enumerate(_NAMES))
    with engine.begin() as conn:

        def run(statement: str) -> Any:
            # No parameters, but psycopg still reads % as one: SQL's modulo is doubled.
            return conn.exec_driver_sql(statement.replace("%", "%%"))

        run("SET LOCAL synchronous_commit = off")
        run("SET LOCAL maintenance_work_mem = '1GB'")
        start = time.perf_counter()
        run(
            "INSERT INTO runs (id, run_id, experiment_id, number, status, display_name, run_type,"
            " created_at, started_at, ended_at, details) "
            "SELECT i + 1, 'run-' || lpad(i::text, 6, '0'), 1, i + 1, 'Completed', 'run ' || i,"
            f" 'interactive', {T0} + i, {T0} + i, {T0} + i + 60 + i % 600, '{{}}' "
            f"FROM generate_series(0, {shape.runs - 1}) i"
        )
        run(f"UPDATE experiments SET run_count = {shape.runs}")
        run(
            "INSERT INTO run_tags (owner_id, name, value) "
            f"SELECT i + 1, 'group', 'g' || (i % 10) FROM generate_series(0, {shape.runs - 1}) i"
        )
        run(
            "INSERT INTO run_tags (owner_id, name, value) "
            f"SELECT i + 1, 'rare', 'yes' FROM generate_series(0, {shape.runs - 1}, 100) i"
        )
        run(
            "INSERT INTO metric_series (id, run_key, name, kind) "
            f"SELECT i * {len(_NAMES)} + n.j + 1, i + 1, n.name, 'scalar' "
            f"FROM generate_series(0, {shape.runs - 1}) i, (VALUES {names}) AS n(j, name)"
        )
        timings["runs_s"] = time.perf_counter() - start
        start = time.perf_counter()
        # Values without the primary key, then the key built once (a sort, not 50 M
        # index insertions).
        run("ALTER TABLE metrics DROP CONSTRAINT pk_metrics")
        chunk = max(1, 5_000_000 // shape.points)
        for first in range(0, shape.runs, chunk):
            run(
                "INSERT INTO metrics (series_id, seq, step, logged_at, value) "
                f"SELECT s.id, s.id::bigint * 1000000 + st, st, {T0} + st, "
                f"{_value_case('(s.run_key - 1)', 'st')} "
                "FROM metric_series s CROSS JOIN LATERAL "
                f"generate_series(0, {_steps_case(shape, 's.name')} - 1) st "
                f"WHERE s.run_key > {first} AND s.run_key <= {first + chunk}"
            )
            _log(f"postgresql {shape.label}: values of {min(first + chunk, shape.runs)} runs")
        run("ALTER TABLE metrics ADD CONSTRAINT pk_metrics PRIMARY KEY (series_id, seq)")
        for table, column in (("metrics", "seq"), ("runs", "id"), ("metric_series", "id")):
            run(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"(SELECT MAX({column}) FROM {table}))"
            )
        timings["values_s"] = time.perf_counter() - start
        start = time.perf_counter()
        run(backfill_sql())
        timings["backfill_s"] = time.perf_counter() - start
    return timings
