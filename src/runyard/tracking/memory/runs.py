"""Experiments, runs and metrics of the in-memory store (see ``tracking/ports``)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from typing import Any

from runyard.entities import (
    TERMINAL_STATUSES,
    ExperimentRecord,
    MetricKind,
    MetricPage,
    MetricRecord,
    RunPage,
    RunRecord,
    RunStatus,
    StatusChange,
    can_transition,
)
from runyard.entities.run import allowed_transitions
from runyard.entities.validation import check_batch_id
from runyard.errors import InvalidArgument
from runyard.tracking import documents, messages, paging, run_search
from runyard.tracking.memory.state import (
    MemoryState,
    StoredExperiment,
    StoredMetric,
    StoredRun,
)
from runyard.tracking.ports import ExperimentStore, MetricStore, RunStore

_KINDS = frozenset(kind.value for kind in MetricKind)


class MemoryRuns(ExperimentStore, RunStore, MetricStore):
    """The experiment, run and metric ports over a :class:`MemoryState`."""

    _state: MemoryState

    # -- experiments -------------------------------------------------------------
    def create_experiment(self, name: str) -> ExperimentRecord:
        state = self._state
        with state.lock:
            if name not in state.experiments:
                state.experiments[name] = StoredExperiment(state.next_key(), name, time.time())
            return self.get_experiment(name)

    def get_experiment(self, name: str) -> ExperimentRecord:
        with self._state.lock:
            found = self._state.experiments.get(name)
            if found is None:
                raise self._experiment_not_found(name)
            return ExperimentRecord(
                found.experiment_id, found.name, found.created_at, found.run_count
            )

    def _experiment_not_found(self, name: str) -> Exception:
        known = sorted(self._state.experiments)[: messages.LISTED + 1]
        return messages.experiment_not_found(name, known)

    def list_experiments(self) -> list[ExperimentRecord]:
        with self._state.lock:
            ordered = sorted(self._state.experiments.values(), key=lambda e: e.experiment_id)
            return [self.get_experiment(e.name) for e in ordered]

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
        state = self._state
        with state.lock:  # every check before any change: a refused run leaves no trace
            if parent_run_id is not None and parent_run_id not in state.runs:
                raise messages.parent_not_found(parent_run_id)
            experiment = state.experiments.get(experiment_name)
            if experiment is None:
                raise self._experiment_not_found(experiment_name)
            status = RunStatus(status)
            details_text = documents.dumps(dict(details or {}), "Run details")
            if run_id in state.runs:
                raise messages.run_id_taken(run_id)
            now = time.time()
            record = RunRecord(
                run_id=run_id,
                experiment_name=experiment_name,
                number=experiment.run_count + 1,
                status=status,
                display_name=display_name if display_name is not None else run_id,
                created_at=now,
                parent_run_id=parent_run_id,
                run_type=run_type,
                target=target,
                started_at=now if status is RunStatus.RUNNING else None,
                ended_at=now if status in TERMINAL_STATUSES else None,
                tags=dict(tags or {}),
                properties=dict(properties or {}),
                details={},
            )
            experiment.run_count += 1
            state.runs[run_id] = StoredRun(
                state.next_key(), record, details_text, history=[StatusChange(status, now)]
            )
            return self._record(state.runs[run_id])

    @staticmethod
    def _record(stored: StoredRun) -> RunRecord:
        record = stored.record
        return dataclasses.replace(
            record,
            tags=dict(sorted(record.tags.items())),  # by name, as SQL returns them
            properties=dict(sorted(record.properties.items())),
            details=documents.loads(stored.details),
            error=documents.loads(stored.error),
        )

    def _stored(self, run_id: str) -> StoredRun:
        found = self._state.runs.get(run_id)
        if found is None:
            raise messages.run_not_found(run_id)
        return found

    def get_run(self, run_id: str) -> RunRecord:
        with self._state.lock:
            return self._record(self._stored(run_id))

    def _matching(
        self,
        *,
        experiment_name: str | None,
        parent_run_id: str | None,
        statuses: Sequence[RunStatus] | None,
        tags: dict[str, str | None] | None,
        target: str | None,
    ) -> list[StoredRun]:
        """The runs matching every filter, newest (highest key) first."""
        wanted = None if statuses is None else {RunStatus(s) for s in statuses}
        found = []
        for stored in self._state.runs.values():
            run = stored.record
            if (
                (experiment_name is not None and run.experiment_name != experiment_name)
                or (parent_run_id is not None and run.parent_run_id != parent_run_id)
                or (wanted is not None and run.status not in wanted)
                or (target is not None and run.target != target)
                or not _has(run.tags, tags)
            ):
                continue
            found.append(stored)
        return sorted(found, key=lambda s: -s.key)

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
        with self._state.lock:
            found = self._matching(
                experiment_name=experiment_name,
                parent_run_id=parent_run_id,
                statuses=statuses,
                tags=tags,
                target=target,
            )
            return [self._record(s) for s in found[:limit]]

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
        filters: dict[str, Any] = {
            "experiment_name": experiment_name,
            "parent_run_id": parent_run_id,
            "statuses": statuses,
            "tags": tags,
            "target": target,
        }
        max_results = paging.check_max_results(max_results)
        fingerprint = paging.query_fingerprint(**filters)
        after = None if page_token is None else paging.decode_token(page_token, fingerprint)
        with self._state.lock:
            found = self._matching(**filters)
            if after is not None:
                found = [s for s in found if s.key < after]
            page = found[:max_results]
            token = None
            if len(found) > max_results:
                token = paging.encode_token(page[-1].key, fingerprint)
            return RunPage([self._record(s) for s in page], token)

    def set_run_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: dict[str, Any] | None = None,
        expected: Iterable[RunStatus] | None = None,
    ) -> RunRecord:
        status = RunStatus(status)
        with self._state.lock:
            stored = self._stored(run_id)
            current = stored.record.status
            if expected is not None:
                wanted = [RunStatus(s) for s in expected]
                if current not in wanted:
                    raise messages.unexpected_status(run_id, current, wanted, status)
            if not can_transition(current, status):
                allowed = [str(s) for s in RunStatus if s in allowed_transitions(current)]
                raise messages.forbidden_transition(run_id, current, status, allowed)
            error_text = None if error is None else documents.dumps(error, "Run error")
            now = time.time()
            record = stored.record
            record.status = status
            if status is RunStatus.RUNNING and record.started_at is None:
                record.started_at = now
            if status in TERMINAL_STATUSES:
                record.ended_at = now
            if error_text is not None:
                stored.error = error_text
            stored.history.append(StatusChange(status, now))
            return self._record(stored)

    def get_status_history(self, run_id: str) -> list[StatusChange]:
        with self._state.lock:
            return list(self._stored(run_id).history)

    def update_run(
        self,
        run_id: str,
        *,
        display_name: str | None = None,
        details: dict[str, Any] | None = None,
        heartbeat_at: float | None = None,
    ) -> RunRecord:
        with self._state.lock:
            stored = self._stored(run_id)
            if details:
                merged = {**documents.loads(stored.details), **details}
                stored.details = documents.dumps(merged, "Run details")
            if display_name is not None:
                stored.record.display_name = display_name
            if heartbeat_at is not None:
                stored.record.heartbeat_at = heartbeat_at
            return self._record(stored)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        with self._state.lock:
            self._stored(run_id).record.tags.update(tags)

    def remove_tags(self, run_id: str, names: Iterable[str]) -> None:
        with self._state.lock:
            run_tags = self._stored(run_id).record.tags
            for name in list(names):
                run_tags.pop(name, None)

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        with self._state.lock:
            add_once(self._stored(run_id).record.properties, properties, what=f"run {run_id}")

    # -- metrics -----------------------------------------------------------------
    def log_metrics(self, metrics: Sequence[MetricRecord], *, batch_id: str | None = None) -> None:
        if batch_id is not None:
            check_batch_id(batch_id)
        if not metrics:
            return
        state = self._state
        with state.lock:  # the whole batch is checked before any of it is kept
            if batch_id in state.metric_batches:
                return
            missing = sorted({m.run_id for m in metrics} - state.runs.keys())
            if missing:
                raise messages.metric_runs_not_found(missing)
            for record in metrics:
                if record.kind not in _KINDS:
                    raise messages.unknown_metric_kind(record.run_id, record.name, record.kind)
            rows = [(record.run_id, _stored_metric(record)) for record in metrics]
            for run_id, row in rows:
                state.last_seq += 1
                row.seq = state.last_seq
                state.metrics.setdefault(run_id, []).append(row)
            for (run_id, name), batch in run_search.aggregate(metrics).items():
                kept = state.summaries.setdefault(run_id, {})
                kept[name] = run_search.merge(kept.get(name), batch)
            if batch_id is not None:
                state.metric_batches.add(batch_id)

    def get_metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        with self._state.lock:
            return self._read(run_id, name, 0)

    def _read(self, run_id: str, name: str | None, after_seq: int) -> list[MetricRecord]:
        self._stored(run_id)
        return [
            _metric(run_id, row)
            for row in self._state.metrics.get(run_id, [])
            if row.seq > after_seq and (name is None or row.name == name)
        ]

    def read_metrics(
        self,
        run_id: str,
        name: str | None = None,
        *,
        after_seq: int = 0,
        max_points: int | None = None,
    ) -> MetricPage:
        paging.check_read_limits(after_seq, max_points)
        with self._state.lock:
            self._stored(run_id)
            rows = [
                row
                for row in self._state.metrics.get(run_id, [])
                if row.seq > after_seq and (name is None or row.name == name)
            ]
        if not rows:
            return MetricPage([], after_seq)
        last_seq = rows[-1].seq
        if max_points is not None:
            rows = _downsampled(rows, max_points)
        return MetricPage([_metric(run_id, row) for row in rows], last_seq)


def _has(values: dict[str, str], wanted: dict[str, str | None] | None) -> bool:
    """Whether ``values`` has each wanted name (with the wanted value unless None)."""
    return all(
        name in values and (value is None or values[name] == value)
        for name, value in (wanted or {}).items()
    )


def add_once(target: dict[str, str], values: dict[str, str], *, what: str) -> None:
    """Add write-once values (properties); InvalidState, with nothing added, on a change."""
    for name, value in values.items():
        if name in target and target[name] != value:
            raise messages.property_set(name, what, target[name], value)
    target.update(values)


def _stored_metric(record: MetricRecord) -> StoredMetric:
    kind = MetricKind(record.kind)
    if record.logged_at is None:  # SQL's NOT NULL column refuses it too
        raise InvalidArgument(
            f"Metric {record.name!r} of run {record.run_id!r} has no time (logged_at is None)."
        )
    value: Any
    if kind is MetricKind.SCALAR:
        try:
            value = float(record.value)
        except (TypeError, ValueError) as exc:
            raise messages.bad_metric_value(
                record.run_id, record.name, record.value, record.kind, exc
            ) from exc
    else:
        value = documents.dumps(record.value, f"Metric {record.name!r}")
    return StoredMetric(0, record.name, kind, record.step, float(record.logged_at), value)


def _metric(run_id: str, row: StoredMetric) -> MetricRecord:
    value = row.value if row.kind is MetricKind.SCALAR else documents.loads(row.value)
    return MetricRecord(run_id, row.name, value, row.kind, row.step, row.logged_at)


def _downsampled(rows: list[StoredMetric], max_points: int) -> list[StoredMetric]:
    """Each scalar series cut to ``max_points`` as ``paging.keep_in_buckets`` says; other
    kinds whole; in logging order."""
    series: dict[str, list[StoredMetric]] = {}
    for row in rows:
        if row.kind is MetricKind.SCALAR:
            series.setdefault(row.name, []).append(row)
    kept = {id(row) for row in rows if row.kind is not MetricKind.SCALAR}
    for values in series.values():
        indexes = paging.keep_in_buckets([v.value for v in values], max_points)
        kept.update(id(values[i]) for i in indexes)
    return [row for row in rows if id(row) in kept]
