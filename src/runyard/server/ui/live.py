"""What the web UI's live streams watch, and the app's registry of open streams.

A live stream (``routes/ui_live.py``) reads a small *state* of what it watches every
fraction of a second and sends an event when a part of it changed: the page then reloads
just that part (the run record, its metric charts, its log tail, the runs table). Reading
the state is a few indexed queries; what changed is never sent whole, so an event is tiny
and the page's existing reads stay the one way data reaches it.

:class:`LiveStreams` ends every open stream when the server is asked to stop: uvicorn's
graceful shutdown waits for open responses, and an event stream never ends by itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import sqlalchemy as sa

from runyard.artifacts.layout import LOG_PREFIXES, run_files_prefix
from runyard.artifacts.store import ArtifactStore
from runyard.entities import TERMINAL_STATUSES, RunStatus
from runyard.errors import NotFound
from runyard.server.ui.database import database_of
from runyard.tracking.sql.tables import experiments, metric_series, metrics, runs
from runyard.tracking.store import TrackingStore
from runyard.tracking.wire import to_wire

# The newest value's ``seq`` of each series of a run: one index probe per series (the
# metrics table is clustered by (series_id, seq)), however long the series.
_NEWEST = (
    sa.select(sa.func.max(metrics.c.seq))
    .where(metrics.c.series_id == metric_series.c.id)
    .scalar_subquery()
)
_SEQS = (
    sa.select(_NEWEST)
    .select_from(metric_series.join(runs, runs.c.id == metric_series.c.run_key))
    .where(runs.c.run_id == sa.bindparam("b_run_id"))
)
_ACTIVE = (
    sa.select(runs.c.run_id, runs.c.status)
    .join(experiments, experiments.c.id == runs.c.experiment_id)
    .where(
        experiments.c.name == sa.bindparam("b_name"),
        # IN the unfinished statuses, not NOT IN the finished ones: one index range each.
        runs.c.status.in_([s.value for s in RunStatus if s not in TERMINAL_STATUSES]),
    )
)
_COUNT = sa.select(experiments.c.run_count).where(experiments.c.name == sa.bindparam("b_name"))


@dataclass(frozen=True)
class RunState:
    """What a run page follows: a fingerprint of the run record (status, times, details,
    tags; not its heartbeat), the newest metric value's sequence number, and each log's
    size."""

    status: str
    ended: bool
    record: str
    metrics_seq: int
    logs: dict[str, int] = field(default_factory=dict)


def run_state(store: TrackingStore, artifacts: ArtifactStore, run_id: str) -> RunState:
    """The run's state now (raises NotFound for an unknown run)."""
    record = store.get_run(run_id)
    # Heartbeats change the record every few seconds and nothing the page shows.
    shown = dataclasses.replace(record, heartbeat_at=None)
    wire = json.dumps(to_wire(shown), sort_keys=True, default=str)
    with database_of(store).read() as conn:
        seqs = [int(s) for s in conn.execute(_SEQS, {"b_run_id": run_id}).scalars() if s]
    return RunState(
        status=record.status.value,
        ended=record.is_terminal,
        record=hashlib.sha1(wire.encode(), usedforsecurity=False).hexdigest(),
        metrics_seq=max(seqs, default=0),
        logs=_log_sizes(artifacts, run_id),
    )


def _log_sizes(artifacts: ArtifactStore, run_id: str) -> dict[str, int]:
    prefix = run_files_prefix(run_id) + "/"
    sizes: dict[str, int] = {}
    for log_prefix in LOG_PREFIXES:
        for key in artifacts.list(prefix + log_prefix.rstrip("/")):
            try:
                sizes[key[len(prefix) :]] = artifacts.size(key)
            except (NotFound, OSError):  # rotated or removed between list and size
                continue
    return sizes


@dataclass(frozen=True)
class ExperimentState:
    """What a runs table follows: the number of runs created, and the status of each run
    that has not ended (a run that ends leaves this map: that is a change too)."""

    run_count: int
    active: dict[str, str]


def experiment_state(store: TrackingStore, name: str) -> ExperimentState:
    """The experiment's state now (raises NotFound for an unknown experiment)."""
    with database_of(store).read() as conn:
        count = conn.execute(_COUNT, {"b_name": name}).scalar_one_or_none()
        if count is None:
            store.get_experiment(name)  # the store's NotFound, with the names it knows
        active = dict(conn.execute(_ACTIVE, {"b_name": name}).tuples().all())
    return ExperimentState(int(count or 0), active)


_EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class LiveStreams:
    """The app's open live streams: they end as soon as the server is asked to stop.

    ``hook_exit_signals`` (called when the app starts) wraps the SIGINT/SIGTERM handlers
    the ASGI server installed, so the streams hear of a stop before the server waits for
    open responses to finish; ``close`` (called when the app stops, and by the hook) tells
    every stream to end.
    """

    def __init__(self) -> None:
        self._closing = threading.Event()
        self._previous: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._open = 0

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    @property
    def open_count(self) -> int:
        """How many streams are open now."""
        return self._open

    def opened(self) -> None:
        with self._lock:
            self._open += 1

    def finished(self) -> None:
        with self._lock:
            self._open -= 1

    def close(self) -> None:
        """End every open stream (each ends within one poll interval) and refuse new ones."""
        self._closing.set()

    def hook_exit_signals(self) -> None:
        """Chain a handler before the current SIGINT/SIGTERM handlers (the ASGI server's);
        a no-op outside the main thread, where signals cannot be handled."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in _EXIT_SIGNALS:
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue  # default or ignored: the server did not ask to hear of it
            self._previous[sig] = previous
            signal.signal(sig, _ChainedHandler(self, previous))

    def unhook_exit_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, previous in self._previous.items():
            current = signal.getsignal(sig)
            if not (isinstance(current, _ChainedHandler) and current.streams is self):
                continue  # someone replaced ours since: leave theirs
            signal.signal(sig, previous)
        self._previous.clear()


@dataclass
class _ChainedHandler:
    streams: LiveStreams
    previous: Callable[[int, FrameType | None], Any]

    def __call__(self, sig: int, frame: FrameType | None) -> Any:
        self.streams.close()
        return self.previous(sig, frame)
