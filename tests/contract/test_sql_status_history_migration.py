"""Migration 0006_status_history on both SQL databases: runs created before the store kept
a status history get one entry each (their status at their last recorded time), and the
history grows from there as statuses change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from runyard.entities import RunStatus
from runyard.tracking.sql import SqlTrackingStore
from runyard.tracking.sql.engine import normalize_url
from runyard.tracking.sql.migrations import SCRIPT_LOCATION

S = RunStatus


def _migrate(url: str, revision: str, *, down: bool) -> None:
    engine = sa.create_engine(normalize_url(url))
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


def test_upgrading_gives_existing_runs_their_current_status_as_history(store_url):
    with SqlTrackingStore(store_url) as store:
        store.create_experiment("exp")
        store.create_run("exp", run_id="queued", status=S.QUEUED)
        store.create_run("exp", run_id="running", status=S.QUEUED)
        started = store.set_run_status("running", S.RUNNING).started_at
        store.create_run("exp", run_id="done", status=S.RUNNING)
        ended = store.set_run_status("done", S.COMPLETED).ended_at
        created = store.get_run("queued").created_at

    _migrate(store_url, "0005", down=True)
    _migrate(store_url, "head", down=False)
    with SqlTrackingStore(store_url) as again:
        histories = {r: again.get_status_history(r) for r in ("queued", "running", "done")}
        assert [(c.status, c.at) for c in histories["queued"]] == [
            (S.QUEUED, pytest.approx(created))
        ]
        assert [(c.status, c.at) for c in histories["running"]] == [
            (S.RUNNING, pytest.approx(started))
        ]
        assert [(c.status, c.at) for c in histories["done"]] == [
            (S.COMPLETED, pytest.approx(ended))
        ]
        again.set_run_status("running", S.FINALIZING)
        assert [c.status for c in again.get_status_history("running")] == [
            S.RUNNING,
            S.FINALIZING,
        ]
