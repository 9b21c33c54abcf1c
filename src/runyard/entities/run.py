"""A run's record and its life: the statuses and the only transitions allowed between them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class RunStatus(str, enum.Enum):
    """The statuses of a run, with the names SDK v1 users know."""

    NOT_STARTED = "NotStarted"
    QUEUED = "Queued"
    PREPARING = "Preparing"
    STARTING = "Starting"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    CANCEL_REQUESTED = "CancelRequested"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    def __str__(self) -> str:
        return self.value


class RunErrorCode(str, enum.Enum):
    """Why a run ended Failed or Canceled: the ``code`` of its error (``docs/runs.md``
    explains each)."""

    LAUNCH_FAILED = "LaunchFailed"  # the backend could not start the executor
    EXECUTOR_NOT_STARTED = "ExecutorNotStarted"  # its Ray task ended before the executor ran
    EXECUTOR_LOST = "ExecutorLost"  # the executor stopped heart-beating and is gone
    NODE_LOST = "NodeLost"  # the Ray node carrying the run went away
    EXECUTOR_TERMINATED = "ExecutorTerminated"  # SIGTERM to the executor (not a cancel)
    EXECUTOR_ERROR = "ExecutorError"  # a bug or a fault in the executor itself
    SETUP_FAILED = "SetupFailed"  # the run could not be set up (snapshot, data, arguments)
    ENVIRONMENT_BUILD_FAILED = "EnvironmentBuildFailed"  # the environment could not be built
    SCRIPT_FAILED = "ScriptFailed"  # the script exited non-zero or called run.fail()
    RUN_TIMEOUT = "RunTimeout"  # longer than max_run_duration_seconds
    WORKER_FAILED = "WorkerFailed"  # a process of a distributed run failed
    OUTPUTS_INCOMPLETE = "OutputsIncomplete"  # some of ./outputs could not be kept
    METRICS_LOST = "MetricsLost"  # logged values could not be stored
    CANCELED = "Canceled"  # canceled by request

    def __str__(self) -> str:
        return self.value


TERMINAL_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED})

_S = RunStatus
# The one table of allowed transitions. A run may skip forward through the active
# phases (an interactive run goes NotStarted -> Running), never backwards, and every
# non-terminal status may end in Failed or Canceled or ask to be canceled.
_ACTIVE_ORDER = (_S.NOT_STARTED, _S.QUEUED, _S.PREPARING, _S.STARTING, _S.RUNNING, _S.FINALIZING)
_ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {}
for _i, _status in enumerate(_ACTIVE_ORDER):
    _ALLOWED[_status] = frozenset(
        {*_ACTIVE_ORDER[_i + 1 :], _S.COMPLETED, _S.FAILED, _S.CANCELED, _S.CANCEL_REQUESTED}
    ) - ({_S.COMPLETED} if _status in (_S.NOT_STARTED, _S.QUEUED, _S.PREPARING) else set())
# An interactive run (start_logging) completes straight from Running; submitted runs
# pass through Finalizing. Completing from NotStarted/Queued/Preparing is refused: the
# script never ran.
_ALLOWED[_S.CANCEL_REQUESTED] = frozenset({_S.CANCELED, _S.FAILED, _S.COMPLETED})
for _t in TERMINAL_STATUSES:
    _ALLOWED[_t] = frozenset()
del _i, _status, _t


def can_transition(current: RunStatus, new: RunStatus) -> bool:
    """Whether a run in ``current`` may move to ``new``."""
    return new in _ALLOWED[current]


def allowed_transitions(current: RunStatus) -> frozenset[RunStatus]:
    """The statuses a run in ``current`` may move to."""
    return _ALLOWED[current]


@dataclass
class RunRecord:
    """What the store keeps of one run."""

    run_id: str
    experiment_name: str
    number: int
    status: RunStatus
    display_name: str
    created_at: float
    parent_run_id: str | None = None
    run_type: str = "interactive"  # interactive | submitted | child | hyperdrive
    target: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    heartbeat_at: float | None = None
    error: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    # Facts recorded about the run, each key with one writer and a typed record in
    # ``runyard.entities.run_details``: runDefinition, executor, placement, script,
    # environment, processes, warnings.
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class StatusChange:
    """One entry of a run's status history: the status it moved to and when (Unix
    seconds). The first entry is the status the run was created with."""

    status: RunStatus
    at: float


@dataclass
class RunPage:
    """One page of a run listing, newest first.

    ``next_page_token`` is None on the last page; otherwise pass it as ``page_token``
    with the same filters to get the next page. Tokens are opaque.
    """

    runs: list[RunRecord]
    next_page_token: str | None = None
