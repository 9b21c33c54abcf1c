"""What the SQL adapter adds to the contract: URLs, migrations, the fast reopen path, and
database errors translated into Runyard's."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from runyard.entities import MetricRecord, RunStatus
from runyard.errors import BackendError, InvalidArgument
from runyard.tracking.sql import SqlTrackingStore, sqlite_url
from runyard.tracking.sql.engine import normalize_url
from runyard.tracking.sql.migrations import HEAD, SCRIPT_LOCATION
from runyard.tracking.sql.tables import metadata


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(normalize_url(url), poolclass=sa.pool.NullPool)


def _revision(url: str) -> str:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar())
    finally:
        engine.dispose()


# -- migrations ------------------------------------------------------------------------


def test_head_constant_is_the_head_of_the_migration_scripts():
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD]
    assert (Path(SCRIPT_LOCATION) / "versions" / "__init__.py").is_file()


def test_opening_a_new_database_migrates_it_to_head(store_url):
    SqlTrackingStore(store_url).close()
    assert _revision(store_url) == HEAD


def test_migrated_schema_matches_the_table_definitions(store_url):
    SqlTrackingStore(store_url).close()
    engine = _engine(store_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_reopening_a_database_at_head_does_not_run_alembic(store_url, monkeypatch):
    first = SqlTrackingStore(store_url)
    first.create_experiment("kept")
    first.close()

    def refuse(*args, **kwargs):
        raise AssertionError("alembic ran on a database that is at head")

    monkeypatch.setattr("alembic.command.upgrade", refuse)
    again = SqlTrackingStore(store_url)
    try:
        assert [e.name for e in again.list_experiments()] == ["kept"]
    finally:
        again.close()
    assert _revision(store_url) == HEAD


def test_a_database_from_a_newer_runyard_raises_backend_error(store_url):
    SqlTrackingStore(store_url).close()
    engine = _engine(store_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    finally:
        engine.dispose()
    with pytest.raises(BackendError, match=r"'9999'.*newer Runyard"):
        SqlTrackingStore(store_url)


# -- URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["mysql://user@host/db", "oracle://x", "mssql+pyodbc://x"])
def test_an_unsupported_database_raises_invalid_argument_listing_supported_ones(url):
    with pytest.raises(InvalidArgument, match=r"Supported databases: sqlite .* postgresql"):
        SqlTrackingStore(url)


def test_a_malformed_url_raises_invalid_argument():
    with pytest.raises(InvalidArgument, match="not a database URL"):
        SqlTrackingStore("not a url")


@pytest.mark.parametrize(
    "url", ["postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg://u@h/db"]
)
def test_postgresql_urls_use_psycopg_3(url):
    assert normalize_url(url).drivername == "postgresql+psycopg"


def test_sqlite_url_makes_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert sqlite_url("ws/runyard.db") == f"sqlite:///{tmp_path / 'ws' / 'runyard.db'}"


# -- database errors -------------------------------------------------------------------


def test_an_unreachable_postgresql_raises_backend_error_saying_what_to_check():
    with pytest.raises(BackendError, match=r"PostgreSQL database at 127\.0\.0\.1:1/db.*running"):
        SqlTrackingStore("postgresql://someone:secret@127.0.0.1:1/db")


def test_backend_errors_never_show_the_password():
    with pytest.raises(BackendError) as caught:
        SqlTrackingStore("postgresql://someone:s3cr3t@127.0.0.1:1/db")
    assert "s3cr3t" not in str(caught.value)


def test_a_sqlite_database_in_a_missing_folder_raises_backend_error(tmp_path):
    with pytest.raises(BackendError, match="folder exists"):
        SqlTrackingStore(sqlite_url(tmp_path / "missing" / "runyard.db"))


def test_a_sqlite_write_lock_held_too_long_raises_backend_error(tmp_path):
    url = sqlite_url(tmp_path / "runyard.db")
    store = SqlTrackingStore(url, busy_timeout_s=0.2)
    blocker = sqlite3.connect(tmp_path / "runyard.db", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(BackendError, match=r"locked.*RUNYARD_SQLITE_BUSY_TIMEOUT_S"):
            store.create_experiment("e")
        assert store.list_experiments() == []  # readers are not blocked (WAL)
    finally:
        blocker.close()
        store.close()


def test_sqlite_writers_queue_instead_of_failing(tmp_path):
    store = SqlTrackingStore(sqlite_url(tmp_path / "runyard.db"))
    store.create_experiment("e")
    store.create_run("e", run_id="r", status=RunStatus.RUNNING)
    blocker = sqlite3.connect(
        tmp_path / "runyard.db", isolation_level=None, check_same_thread=False
    )
    blocker.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, blocker.commit)
    release.start()
    try:
        store.log_metrics([MetricRecord("r", "m", 1.0)])  # waits for the blocker
        assert [m.value for m in store.get_metrics("r")] == [1.0]
    finally:
        release.join()
        blocker.close()
        store.close()


def test_sqlite_database_uses_the_wal_journal(tmp_path):
    SqlTrackingStore(sqlite_url(tmp_path / "runyard.db")).close()
    connection = sqlite3.connect(tmp_path / "runyard.db")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


def test_in_memory_sqlite_works_and_is_shared_by_threads():
    store = SqlTrackingStore("sqlite://")
    try:
        store.create_experiment("e")
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                store.create_run("e", run_id=f"r{n}", status=RunStatus.RUNNING)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(r.number for r in store.list_runs()) == [1, 2, 3, 4]
    finally:
        store.close()


def test_store_url_hides_the_password(tmp_path):
    assert "secret" not in repr(normalize_url("postgresql://u:secret@h/db"))
    with SqlTrackingStore(sqlite_url(tmp_path / "runyard.db")) as store:
        assert store.url == sqlite_url(tmp_path / "runyard.db")
        assert os.fspath(tmp_path) in repr(store)


def test_models_registered_before_the_pending_column_stay_visible_after_upgrade(store_url):
    from alembic import command

    engine = _engine(store_url)
    try:
        with engine.begin() as conn:
            config = Config()
            config.set_main_option("script_location", SCRIPT_LOCATION)
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
            conn.exec_driver_sql(
                "INSERT INTO models (name, version, artifact_path, created_at) "
                "VALUES ('old', 1, 'models/old/1/m', 1.0)"
            )
    finally:
        engine.dispose()
    store = SqlTrackingStore(store_url)
    try:
        assert _revision(store_url) == HEAD
        assert store.get_model("old").artifact_path == "models/old/1/m"
    finally:
        store.close()


def test_batch_ids_older_than_a_week_are_forgotten_and_recent_ones_kept(store_url):
    from runyard.tracking.sql.metrics import BATCH_ID_KEPT_S, forget_batch_ids

    store = SqlTrackingStore(store_url)
    try:
        store.create_experiment("e")
        store.create_run("e", run_id="r", status=RunStatus.RUNNING)
        for batch_id in ("old", "new"):
            store.log_metrics([MetricRecord("r", "x", 1.0, logged_at=1.0)], batch_id=batch_id)
        with store._db.write() as conn:
            week_ago = int(BATCH_ID_KEPT_S + 3600)
            conn.exec_driver_sql(
                f"UPDATE metric_batches SET stored_at = stored_at - {week_ago} "
                "WHERE batch_id = 'old'"
            )
            forget_batch_ids(conn, time.time() - BATCH_ID_KEPT_S)
        for batch_id in ("old", "new"):  # sent again: "old" is stored again, "new" is not
            store.log_metrics([MetricRecord("r", "x", 1.0, logged_at=1.0)], batch_id=batch_id)
        assert len(store.get_metrics("r")) == 3
    finally:
        store.close()
