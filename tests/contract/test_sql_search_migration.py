"""Migrations 0005 and 0008_run_params on both SQL databases: a database with metrics logged before
run search existed gets its summaries from the values already there, the same as logging
keeps; one with runs created before parameters were kept gets them from the runs' details,
the same as creating and updating runs writes them."""

from __future__ import annotations

import math

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from runyard.entities import MetricKind, MetricRecord, RunStatus
from runyard.entities.search import RunOrder
from runyard.tracking.sql import SqlTrackingStore
from runyard.tracking.sql.engine import normalize_url
from runyard.tracking.sql.migrations import SCRIPT_LOCATION


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


def _summaries(store: SqlTrackingStore) -> list[tuple[str, list[object]]]:
    page = store.search_runs(
        "exp", metrics=["loss", "acc", "notes"], order_by=RunOrder.metric("loss")
    )
    return [
        (run.run_id, [repr(s) for s in page.metrics.get(run.run_id, {}).values()])
        for run in page.runs
    ]


def test_upgrading_a_database_with_metrics_summarizes_them_as_logging_does(store_url):
    store = SqlTrackingStore(store_url)
    store.create_experiment("exp")
    values = {
        "a": [[3.0, 1.0, 2.0], [math.nan]],
        "b": [[-0.0, math.inf], [-2.0, 5.0]],
        "c": [[math.nan]],
        "d": [],
    }
    for run_id, batches in values.items():
        store.create_run("exp", run_id=run_id, status=RunStatus.RUNNING)
        step = 0
        for batch in batches:
            store.log_metrics(
                [
                    MetricRecord(run_id, "loss", v, MetricKind.SCALAR, step + i, 1.0)
                    for i, v in enumerate(batch)
                ]
                + [MetricRecord(run_id, "acc", 0.5, MetricKind.SCALAR, None, 1.0)]
            )
            step += len(batch)
    store.log_metrics([MetricRecord("a", "notes", ["x"], MetricKind.LIST, 0, 1.0)])
    kept = _summaries(store)
    store.close()
    assert kept[0][0] == "b" and len(kept) == 4  # the others' last value is NaN, or none

    _migrate(store_url, "0004", down=True)
    _migrate(store_url, "head", down=False)
    with SqlTrackingStore(store_url) as again:
        assert _summaries(again) == kept
        run_b = again.search_runs("exp", metrics=["loss"]).metrics["b"]["loss"]
        assert (run_b.last, run_b.last_step, run_b.min, run_b.max, run_b.count) == (
            5.0,
            3,
            -2.0,
            math.inf,
            4,
        )


def _by_lr(store: SqlTrackingStore) -> list[str]:
    return [run.run_id for run in store.search_runs("exp", order_by=RunOrder.parameter("lr")).runs]


def test_upgrading_a_database_with_runs_gives_their_parameters_as_creating_them_does(store_url):
    store = SqlTrackingStore(store_url)
    store.create_experiment("exp")
    arguments = {"a": ["--lr", "0.5"], "b": ["--lr=1e-4"], "c": ["--lr", "adam"], "d": []}
    for run_id, argv in arguments.items():
        details = {"runDefinition": {"arguments": argv}}
        store.create_run("exp", run_id=run_id, status=RunStatus.RUNNING, details=details)
    # Arguments set after creation (a submitted run's definition) replace the parameters.
    store.create_run("exp", run_id="e", status=RunStatus.RUNNING)
    store.update_run("e", details={"runDefinition": {"arguments": ["--lr", "0.01"]}})
    store.update_run("a", details={"runDefinition": {"arguments": ["--lr", "2"]}})
    kept = _by_lr(store)
    store.close()
    assert kept == ["b", "e", "a", "c", "d"]

    _migrate(store_url, "0005", down=True)
    _migrate(store_url, "head", down=False)
    with SqlTrackingStore(store_url) as again:
        assert _by_lr(again) == kept
