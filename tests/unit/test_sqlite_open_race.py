"""Several processes opening one brand-new SQLite database at the same moment.

Switching a new database to WAL needs it to itself, and SQLite answers "database is locked"
at once, without waiting, to all but one of several connections switching together. The
store's engine must retry instead (CI once lost a run of a concurrency test to it)."""

from __future__ import annotations

import multiprocessing
import sys

import pytest

from runyard.tracking.sql.engine import create_engine, normalize_url, sqlite_url

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="forks"),
    # Python 3.12+ warns when a process with threads forks; these children only open files.
    pytest.mark.filterwarnings(
        "ignore:.*use of fork\\(\\) may lead to deadlocks:DeprecationWarning"
    ),
]

PROCESSES = 8
ROUNDS = 25  # unguarded, about one round in six lost a process here


def _open(path: str, barrier, results) -> None:
    try:
        barrier.wait(timeout=30)
        engine = create_engine(normalize_url(sqlite_url(path)), busy_timeout_s=30)
        with engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        engine.dispose()
        results.put(str(mode))
    except BaseException as exc:  # reported to the parent, which fails the test
        results.put(repr(exc))


def test_processes_opening_a_new_database_together_all_get_it_in_wal_mode(tmp_path):
    context = multiprocessing.get_context("fork")
    for round_ in range(ROUNDS):
        path = str(tmp_path / f"new-{round_}.db")
        barrier, results = context.Barrier(PROCESSES), context.Queue()
        workers = [
            context.Process(target=_open, args=(path, barrier, results)) for _ in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        answers = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        assert answers == ["wal"] * PROCESSES, f"round {round_}: {answers}"
