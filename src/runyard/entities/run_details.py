"""Typed records of what a run's details hold, one writer each.

The store keeps a run's details as one JSON object; each key below has a record here and
exactly one writer, so a reader (the SDK, the CLI, later the REST API and the web UI) knows
what it finds there:

==================  ======================  =============================================
key                 record                  written by
==================  ======================  =============================================
``runDefinition``   ``RunDefinition``       the submitter (``Experiment.submit``)
``executor``        :class:`ExecutorInfo`   the backend at launch, the executor at start
``placement``       :class:`Placement`      the compute backend (where the run goes)
``script``          :class:`ScriptInfo`     the executor when the script starts
``environment``     (builder's summary)     the executor when the environment is ready
``processes``       :class:`ProcessInfo`    a distributed run's gang (one per rank)
``warnings``        list of strings         the executor
``cancelReason``    string                  who asks to cancel (a tuning policy), before
                                            asking; the executor ends the run with it
``tuningState``     ``StudyState`` (JSON)   a HyperDrive run's submitter, then its
                                            controller
==================  ======================  =============================================

Keys are camelCase, as SDK v1's ``get_details()`` shows them.

Values read back from the store are data: a pid or a path in them is used to signal or
open something only by the node that wrote it (:meth:`ExecutorInfo.is_on`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

_T = TypeVar("_T", bound="_Record")

EXECUTOR = "executor"
PLACEMENT = "placement"
SCRIPT = "script"
PROCESSES = "processes"
WARNINGS = "warnings"
RUN_DEFINITION = "runDefinition"
ENVIRONMENT = "environment"
CANCEL_REASON = "cancelReason"
TUNING_STATE = "tuningState"


class _Record:
    """to_dict/from_dict with camelCase keys; unknown keys and bad types are dropped, so a
    forged or older record reads as "not known" instead of crashing a reader."""

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is not None:
                out[_camel(f.name)] = value
        return out

    @classmethod
    def from_dict(cls: type[_T], data: object) -> _T:
        if not isinstance(data, Mapping):
            return cls()
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            value = data.get(_camel(f.name))
            kind = _KINDS.get(str(f.type))
            if value is not None and kind is not None and _fits(value, kind):
                values[f.name] = float(value) if kind is float else value
        return cls(**values)


_KINDS: dict[str, type] = {
    "str | None": str,
    "int | None": int,
    "float | None": float,
    "bool | None": bool,
}


def _fits(value: object, kind: type) -> bool:
    if isinstance(value, bool) and kind is not bool:
        return False
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


@dataclass(frozen=True)
class ExecutorInfo(_Record):
    """Where and since when a run's executor runs."""

    host: str | None = None
    pid: int | None = None
    pid_start: int | None = None  # the process's start time, so a reused pid is not it
    backend: str | None = None  # local | ray
    launched_at: float | None = None
    started_at: float | None = None
    output: str | None = None  # the executor's own stdout/stderr file (local backend)
    driver_spool: str | None = None  # the node-local copy of the script's output

    def is_on(self, host: str) -> bool:
        """Whether this executor runs on ``host`` (only there are its pid and paths ours)."""
        return self.host == host and isinstance(self.pid, int) and self.pid > 0


@dataclass(frozen=True)
class ScriptInfo(_Record):
    """The script's process, as the executor started it."""

    pid: int | None = None
    pgid: int | None = None
    pid_start: int | None = None
    started_at: float | None = None
    executor_cpu_seconds: float | None = None


@dataclass(frozen=True)
class Placement(_Record):
    """Where a compute backend placed (or queued) the run."""

    address: str | None = None  # the cluster's address
    node: str | None = None  # the node the run landed on
    requested_at: float | None = None
    cpus: float | None = None
    gpus: float | None = None
    memory_bytes: int | None = None


@dataclass(frozen=True)
class ProcessInfo(_Record):
    """One process of a distributed run."""

    rank: int | None = None
    node: str | None = None
    host: str | None = None
    exit_code: int | None = None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
