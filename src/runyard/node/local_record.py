"""What this node itself recorded about the runs it carries, kept on its own disk.

The store is shared: anyone who can write to it can write any pid, process group or path
into a run's details. So a pid is signalled and a path is opened only when this node's own
record (``<scratch>/<run_id>/node.json``, written by the backend that launched the
executor and by the executor itself) says so; what the store says is shown, never acted on.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from typing import Any

FILE = "node.json"


@dataclass(frozen=True)
class LocalRecord:
    """The processes and files of one run on this node."""

    executor_pid: int | None = None
    executor_start: int | None = None
    script_pgid: int | None = None
    script_start: int | None = None
    driver_spool: str | None = None


def run_folder(scratch_dir: str, run_id: str) -> str:
    """The node-local folder of a run (working copy, spool, this record)."""
    return os.path.join(scratch_dir, run_id)


def read(scratch_dir: str, run_id: str) -> LocalRecord | None:
    """This node's record of ``run_id``; None when this node never carried it."""
    if os.sep in run_id or run_id in (".", "..") or "/" in run_id:
        return None
    try:
        with open(os.path.join(run_folder(scratch_dir, run_id), FILE), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return LocalRecord(**{k: _int_or_str(k, data.get(k)) for k in LocalRecord.__annotations__})


def update(scratch_dir: str, run_id: str, **values: Any) -> None:
    """Merge ``values`` into this node's record of ``run_id`` (atomically replaced)."""
    folder = run_folder(scratch_dir, run_id)
    os.makedirs(folder, exist_ok=True)
    current = read(scratch_dir, run_id) or LocalRecord()
    merged = {k: getattr(current, k) for k in LocalRecord.__annotations__}
    merged.update({k: v for k, v in values.items() if k in merged})
    fd, tmp = tempfile.mkstemp(prefix=".node-", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(merged, fh)
    os.replace(tmp, os.path.join(folder, FILE))


def _int_or_str(key: str, value: object) -> Any:
    if key == "driver_spool":
        return value if isinstance(value, str) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
