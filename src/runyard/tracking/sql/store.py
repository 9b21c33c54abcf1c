"""``SqlTrackingStore``: the TrackingStore port on SQLite and PostgreSQL.

Each method is one short transaction (a connection from the engine's pool per call, so
the store is safe to share between threads); the logic lives in one module per entity
(``experiments``, ``runs``, ``metrics``, ``models``, ``catalogue``), this class only
opens transactions and delegates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.engine import URL

from runyard.entities import (
    ComputeTargetRecord,
    DatastoreRecord,
    EnvironmentRecord,
    ExperimentRecord,
    MetricPage,
    MetricRecord,
    MetricSeries,
    ModelRecord,
    RunPage,
    RunRecord,
    RunStatus,
    StatusChange,
)
from runyard.entities.dataset import DatasetRecord
from runyard.entities.search import RunFilter, RunOrder, RunSearchPage
from runyard.entities.service import ServiceRecord
from runyard.entities.validation import check_batch_id
from runyard.tracking.paging import check_many, check_read_limits
from runyard.tracking.run_search import check_search
from runyard.tracking.sql import (
    catalogue,
    datasets,
    experiments,
    models,
    runs,
    search,
    series,
    services,
)
from runyard.tracking.sql import metrics as metric_log  # "metrics" is an argument name below
from runyard.tracking.sql.database import Database
from runyard.tracking.sql.migrations import upgrade_to_head
from runyard.tracking.store import TrackingStore


class SqlTrackingStore(TrackingStore):
    """The tracking store of a workspace kept in SQLite (embedded) or PostgreSQL (server).

    Opening the store brings the schema to the newest revision (a no-op costing a couple
    of queries when it is there already; safe when several processes open a new database
    at once).

    Args:
        url: SQLAlchemy URL: ``sqlite:///path/to/runyard.db`` or
            ``postgresql://user:password@host:5432/database`` (``postgresql://`` uses
            psycopg 3). ``runyard.tracking.sql.sqlite_url(path)`` builds the first.
        busy_timeout_s: how long a SQLite writer waits for another process's write to
            finish before failing with BackendError.

    Raises:
        InvalidArgument: malformed URL or unsupported database.
        MissingDependency: a PostgreSQL URL without psycopg installed.
        BackendError: the database cannot be opened or reached, or its schema is newer
            than this version of Runyard.
    """

    def __init__(self, url: str | URL, *, busy_timeout_s: float = 30.0) -> None:
        self._db = Database(url, busy_timeout_s=busy_timeout_s)
        try:
            upgrade_to_head(self._db)
        except BaseException:
            self._db.close()
            raise

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._db.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"SqlTrackingStore({self.url!r})"

    # -- experiments -------------------------------------------------------------
    def create_experiment(self, name: str) -> ExperimentRecord:
        with self._db.read() as conn:
            found = experiments.find(conn, name)
        if found is not None:
            return found
        with self._db.write() as conn:
            return experiments.create(conn, name)

    def get_experiment(self, name: str) -> ExperimentRecord:
        with self._db.read() as conn:
            return experiments.get(conn, name)

    def list_experiments(self) -> list[ExperimentRecord]:
        with self._db.read() as conn:
            return experiments.list_all(conn)

    # -- runs --------------------------------------------------------------------
    def create_run(
        self,
        experiment_name: str,
        *,
        run_id: str,
        status: RunStatus,
        display_name: str | None = None,
        parent_run_id: str | None = None,
        run_type: str = "interactive",
        target: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> RunRecord:
        with self._db.write() as conn:
            return runs.create(
                conn,
                experiment_name,
                run_id=run_id,
                status=status,
                display_name=display_name,
                parent_run_id=parent_run_id,
                run_type=run_type,
                target=target,
                tags=tags,
                properties=properties,
                details=details,
            )

    def get_run(self, run_id: str) -> RunRecord:
        with self._db.read() as conn:
            return runs.get(conn, run_id)

    def list_runs(
        self,
        *,
        experiment_name: str | None = None,
        parent_run_id: str | None = None,
        statuses: Sequence[RunStatus] | None = None,
        tags: dict[str, str | None] | None = None,
        limit: int | None = None,
        target: str | None = None,
    ) -> list[RunRecord]:
        with self._db.read() as conn:
            return runs.list_runs(
                conn,
                experiment_name=experiment_name,
                parent_run_id=parent_run_id,
                statuses=statuses,
                tags=tags,
                limit=limit,
                target=target,
            )

    def list_runs_page(
        self,
        *,
        experiment_name: str | None = None,
        parent_run_id: str | None = None,
        statuses: Sequence[RunStatus] | None = None,
        tags: dict[str, str | None] | None = None,
        target: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunPage:
        with self._db.read() as conn:
            return runs.list_page(
                conn,
                experiment_name=experiment_name,
                parent_run_id=parent_run_id,
                statuses=statuses,
                tags=tags,
                target=target,
                max_results=max_results,
                page_token=page_token,
            )

    def set_run_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: dict[str, Any] | None = None,
        expected: Iterable[RunStatus] | None = None,
    ) -> RunRecord:
        with self._db.write() as conn:
            return runs.set_status(conn, run_id, status, error=error, expected=expected)

    def get_status_history(self, run_id: str) -> list[StatusChange]:
        with self._db.read() as conn:
            return runs.status_history(conn, run_id)

    def update_run(
        self,
        run_id: str,
        *,
        display_name: str | None = None,
        details: dict[str, Any] | None = None,
        heartbeat_at: float | None = None,
    ) -> RunRecord:
        with self._db.write() as conn:
            return runs.update(
                conn,
                run_id,
                display_name=display_name,
                details=details,
                heartbeat_at=heartbeat_at,
            )

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        with self._db.write() as conn:
            runs.set_tags(conn, run_id, tags)

    def remove_tags(self, run_id: str, names: Iterable[str]) -> None:
        with self._db.write() as conn:
            runs.remove_tags(conn, run_id, names)

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        with self._db.write() as conn:
            runs.add_properties(conn, run_id, properties)

    # -- metrics -----------------------------------------------------------------
    def log_metrics(self, metrics: Sequence[MetricRecord], *, batch_id: str | None = None) -> None:
        if batch_id is not None:
            check_batch_id(batch_id)
        if not metrics:
            return
        with self._db.write() as conn:
            # The id is claimed in the transaction that writes the values: a retry of a
            # batch that committed finds it and writes nothing; one that is still being
            # written by another server waits for it (PostgreSQL's unique index).
            if batch_id is not None and not metric_log.claim_batch(conn, batch_id):
                return
            metric_log.log(conn, metrics)

    def get_metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        with self._db.read() as conn:
            return metric_log.get(conn, run_id, name)

    def read_metrics(
        self,
        run_id: str,
        name: str | None = None,
        *,
        after_seq: int = 0,
        max_points: int | None = None,
    ) -> MetricPage:
        check_read_limits(after_seq, max_points)
        with self._db.read() as conn:
            return metric_log.read(conn, run_id, name, after_seq=after_seq, max_points=max_points)

    def read_metrics_many(
        self, run_ids: Sequence[str], name: str, *, max_points: int | None = None
    ) -> dict[str, MetricPage]:
        wanted = check_many(run_ids, name, max_points)
        if not wanted:
            return {}
        with self._db.read() as conn:
            return metric_log.read_many(conn, wanted, name, max_points=max_points)

    def read_series_many(
        self, run_ids: Sequence[str], name: str, *, max_points: int | None = None
    ) -> list[MetricSeries]:
        wanted = check_many(run_ids, name, max_points)
        if not wanted:
            return []
        with self._db.read() as conn:
            return series.read_many(conn, wanted, name, max_points=max_points)

    # -- run search --------------------------------------------------------------
    def search_runs(
        self,
        experiment_name: str,
        *,
        filters: Sequence[RunFilter] = (),
        order_by: RunOrder | None = None,
        metrics: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunSearchPage:
        query = check_search(experiment_name, filters, order_by, metrics, max_results, page_token)
        with self._db.read() as conn:
            return search.search(conn, query)

    # -- model registry ----------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        *,
        artifact_path_template: str,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        framework: str | None = None,
        framework_version: str | None = None,
        run_id: str | None = None,
        experiment_name: str | None = None,
        pending: bool = False,
    ) -> ModelRecord:
        with self._db.write() as conn:
            return models.create_version(
                conn,
                name,
                artifact_path_template=artifact_path_template,
                description=description,
                tags=tags,
                properties=properties,
                framework=framework,
                framework_version=framework_version,
                run_id=run_id,
                experiment_name=experiment_name,
                pending=pending,
            )

    def complete_model_version(self, name: str, version: int) -> ModelRecord:
        with self._db.write() as conn:
            return models.complete(conn, name, version)

    def reap_pending_model_versions(self, older_than_s: float) -> list[ModelRecord]:
        with self._db.write() as conn:
            return models.reap_pending(conn, older_than_s)

    def get_model(self, name: str, version: int | None = None) -> ModelRecord:
        with self._db.read() as conn:
            return models.get(conn, name, version)

    def list_models(
        self,
        *,
        name: str | None = None,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str | None] | None = None,
        run_id: str | None = None,
        latest: bool = False,
    ) -> list[ModelRecord]:
        """See ``TrackingStore.list_models``; with ``latest``, the newest version of each
        name among the versions that match the other filters."""
        with self._db.read() as conn:
            return models.list_models(
                conn, name=name, tags=tags, properties=properties, run_id=run_id, latest=latest
            )

    def update_model(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        add_tags: dict[str, str] | None = None,
        remove_tags: Iterable[str] | None = None,
        add_properties: dict[str, str] | None = None,
    ) -> ModelRecord:
        with self._db.write() as conn:
            return models.update(
                conn,
                name,
                version,
                description=description,
                add_tags=add_tags,
                remove_tags=remove_tags,
                add_properties=add_properties,
            )

    def delete_model(self, name: str, version: int) -> None:
        with self._db.write() as conn:
            models.delete(conn, name, version)

    # -- workspace catalogue -----------------------------------------------------
    def save_datastore(self, record: DatastoreRecord, *, overwrite: bool = False) -> None:
        with self._db.write() as conn:
            catalogue.save_datastore(conn, record, overwrite=overwrite)

    def get_datastore(self, name: str | None = None) -> DatastoreRecord:
        with self._db.read() as conn:
            return catalogue.get_datastore(conn, name)

    def list_datastores(self) -> list[DatastoreRecord]:
        with self._db.read() as conn:
            return catalogue.list_datastores(conn)

    def save_compute_target(self, record: ComputeTargetRecord, *, overwrite: bool = False) -> None:
        with self._db.write() as conn:
            catalogue.save_compute_target(conn, record, overwrite=overwrite)

    def get_compute_target(self, name: str) -> ComputeTargetRecord:
        with self._db.read() as conn:
            return catalogue.get_compute_target(conn, name)

    def list_compute_targets(self) -> list[ComputeTargetRecord]:
        with self._db.read() as conn:
            return catalogue.list_compute_targets(conn)

    def delete_compute_target(self, name: str) -> None:
        with self._db.write() as conn:
            catalogue.delete_compute_target(conn, name)

    def create_environment_version(self, name: str, spec: dict[str, Any]) -> EnvironmentRecord:
        with self._db.write() as conn:
            return catalogue.create_environment_version(conn, name, spec)

    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord:
        with self._db.read() as conn:
            return catalogue.get_environment(conn, name, version)

    def list_environments(self) -> list[EnvironmentRecord]:
        with self._db.read() as conn:
            return catalogue.list_environments(conn)

    # -- datasets ----------------------------------------------------------------
    def register_dataset_version(
        self,
        name: str,
        *,
        kind: str,
        definition: dict[str, Any],
        fingerprint: str,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        create_new_version: bool = False,
    ) -> DatasetRecord:
        with self._db.write() as conn:
            return datasets.register_dataset_version(
                conn,
                name,
                kind=kind,
                definition=definition,
                fingerprint=fingerprint,
                description=description,
                tags=tags,
                create_new_version=create_new_version,
            )

    def get_dataset(self, name: str, version: int | None = None) -> DatasetRecord:
        with self._db.read() as conn:
            return datasets.get_dataset(conn, name, version)

    def list_datasets(self) -> list[DatasetRecord]:
        with self._db.read() as conn:
            return datasets.list_datasets(conn)

    # -- web services ------------------------------------------------------------
    def create_service(self, record: ServiceRecord, *, overwrite: bool = False) -> ServiceRecord:
        with self._db.write() as conn:
            return services.create(conn, record, overwrite=overwrite)

    def get_service(self, name: str) -> ServiceRecord:
        with self._db.read() as conn:
            return services.get(conn, name)

    def list_services(
        self, *, model_name: str | None = None, compute_type: str | None = None
    ) -> list[ServiceRecord]:
        with self._db.read() as conn:
            return services.list_all(conn, model_name, compute_type)

    def update_service(self, record: ServiceRecord) -> ServiceRecord:
        with self._db.write() as conn:
            return services.update(conn, record)

    def delete_service(self, name: str) -> None:
        with self._db.write() as conn:
            services.delete(conn, name)

    # -- lifecycle ---------------------------------------------------------------
    def close(self) -> None:
        """Close the database connections (a later call opens new ones)."""
        self._db.close()

    def __enter__(self) -> SqlTrackingStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
