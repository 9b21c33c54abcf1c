"""The metric spool: values a submitted run's script could not store, kept on the node's
disk until the run's executor stores them.

Why: the script reaches the store from its own environment, which can lack what the store
needs (a database driver), or the store can be down for a while. Values logged then were
lost, and the run still ended Completed. The metric buffer appends them here instead
(``MetricBuffer(spool=...)``), and the executor, which has just shown it can reach the
store, :func:`replay`\\s them once the script has ended.

The file holds one JSON object per line, ``{"run_id", "name", "value", "kind", "step",
"logged_at"}`` (NaN and infinities as JSON's ``NaN``/``Infinity``). Each batch is one
``O_APPEND`` write, so the processes of one script (a data loader's workers) can share it.
A line that does not parse (the script was killed mid-write) is counted as lost.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from runyard.entities.metric import MetricKind, MetricRecord
from runyard.entities.validation import MAX_METRIC_BATCH

#: Failed writes in a row after which replay stops: the store is down, not one value bad.
_GIVE_UP_AFTER = 5


def append(path: str, records: Iterable[MetricRecord]) -> int:
    """Append ``records`` to the spool at ``path``; returns how many could be written
    (a value JSON cannot hold is skipped).

    Raises:
        OSError: the file cannot be written.
    """
    lines = []
    for r in records:
        try:
            lines.append(
                json.dumps(
                    {
                        "run_id": r.run_id,
                        "name": r.name,
                        "value": r.value,
                        "kind": MetricKind(r.kind).value,
                        "step": r.step,
                        "logged_at": r.logged_at,
                    },
                    separators=(",", ":"),
                )
            )
        except (TypeError, ValueError):
            continue
    if lines:
        data = ("\n".join(lines) + "\n").encode("utf-8")
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    return len(lines)


@dataclass(frozen=True)
class SpoolReplay:
    """What replaying a spool did."""

    stored: int = 0
    lost: int = 0
    error: str | None = None  # the first reason a value could not be stored


def replay(path: str, write: Callable[[list[MetricRecord]], None]) -> SpoolReplay:
    """Store every value in the spool at ``path`` with ``write`` (the store's
    ``log_metrics``), in batches; a batch the store refuses is written value by value so
    that one bad value loses only itself. A missing spool is an empty one.

    The file is removed when every value was stored, and kept otherwise.
    """
    stored = lost = 0
    error: str | None = None
    failed_in_a_row = 0
    if not os.path.exists(path):
        return SpoolReplay()
    for batch, unreadable in _batches(path):
        lost += unreadable
        if unreadable and error is None:
            error = f"{unreadable} lines of the spool could not be read"
        if failed_in_a_row >= _GIVE_UP_AFTER:
            lost += len(batch)
            continue
        try:
            write(batch)
            stored += len(batch)
            failed_in_a_row = 0
            continue
        except Exception:  # write one by one below to find the values it refuses
            pass
        for record in batch:
            if failed_in_a_row >= _GIVE_UP_AFTER:
                lost += 1
                continue
            try:
                write([record])
                stored += 1
                failed_in_a_row = 0
            except Exception as exc:
                lost += 1
                failed_in_a_row += 1
                error = error or f"{type(exc).__name__}: {exc}"
    if not lost:
        os.remove(path)
    return SpoolReplay(stored, lost, error)


def _batches(path: str) -> Iterator[tuple[list[MetricRecord], int]]:
    """(records, lines that did not parse) per batch of at most MAX_METRIC_BATCH lines."""
    with open(path, "rb") as fh:
        batch: list[MetricRecord] = []
        unreadable = 0
        for raw in fh:
            record = _parse(raw)
            if record is None:
                unreadable += 1
            else:
                batch.append(record)
            if len(batch) + unreadable >= MAX_METRIC_BATCH:
                yield batch, unreadable
                batch, unreadable = [], 0
        if batch or unreadable:
            yield batch, unreadable


def _parse(raw: bytes) -> MetricRecord | None:
    try:
        data = json.loads(raw)
        step = data["step"]
        logged_at = float(data["logged_at"])
        if not (
            isinstance(data["run_id"], str)
            and isinstance(data["name"], str)
            and (step is None or (isinstance(step, int) and not isinstance(step, bool)))
            and math.isfinite(logged_at)
        ):
            return None
        return MetricRecord(
            data["run_id"], data["name"], data["value"], MetricKind(data["kind"]), step, logged_at
        )
    except (ValueError, TypeError, KeyError):
        return None
