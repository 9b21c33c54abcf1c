"""The offline run: what ``Run.get_context()`` returns when a script runs by hand.

It keeps what is logged in memory and prints it, so a training script written for Runyard
also runs outside it, unchanged.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from runyard.core.run_metrics import RunMetricsMixin, shape_metrics
from runyard.entities.metric import MetricKind, MetricRecord


class _MemoryBuffer:
    """The metric buffer of an offline run: a list."""

    def __init__(self) -> None:
        self.records: list[MetricRecord] = []

    def append(self, item: tuple[Any, ...]) -> None:
        record = MetricRecord._make(item)
        self.records.append(record)
        kind, name, value = record.kind, record.name, record.value
        _say(f"Attempted to log {_KIND_WORDS[kind]} metric {name}:\n{value}")

    def flush(self) -> None:
        return None


_KIND_WORDS = {
    MetricKind.SCALAR: "scalar",
    MetricKind.LIST: "list",
    MetricKind.ROW: "row",
    MetricKind.TABLE: "table",
    MetricKind.IMAGE: "image",
    MetricKind.TEXT: "text",
}


def _say(message: str) -> None:
    print(message, file=sys.stdout, flush=True)


class OfflineRun(RunMetricsMixin):
    """A run that lives only in this process; its methods log to stdout.

    Files are not uploaded anywhere: ``upload_file`` and friends only say what they would
    have done, and ``get_file_names`` is empty.
    """

    def __init__(self) -> None:
        self.id = f"OfflineRun_{os.urandom(16).hex()}"
        self.number = 0
        self.display_name = self.id
        self.status = "Running"
        self._memory = _MemoryBuffer()
        self._checked_names: set[str] = set()
        self._tags: dict[str, str] = {}
        self._properties: dict[str, str] = {}
        self.parent = None
        self.experiment = None

    @property
    def _buffer(self) -> Any:
        return self._memory

    def _fetch_metrics(self, name: str | None) -> list[MetricRecord]:
        return [r for r in self._memory.records if name is None or r.name == name]

    def get_metrics(self, name: str | None = None, recursive: bool = False, **_: Any) -> Any:
        return shape_metrics(self._fetch_metrics(name))

    def log_image(
        self, name: str, path: Any = None, plot: Any = None, description: str = ""
    ) -> None:
        target = path if path is not None else "a plot"
        _say(f"Attempted to log image metric {name}:\n{target}")
        self._memory.records.append(
            MetricRecord(self.id, name, str(target), MetricKind.IMAGE, None, time.time())
        )

    def upload_file(self, name: str, path_or_stream: Any) -> str:
        _say(f"Attempted to upload file {name} (offline run: not stored)")
        return name

    def upload_folder(self, name: str, path: Any) -> list[str]:
        _say(f"Attempted to upload folder {name} from {os.fspath(path)} (offline run)")
        return []

    def get_file_names(self) -> list[str]:
        return []

    def tag(self, key: str, value: Any = None) -> None:
        self._tags[key] = "" if value is None else str(value)
        _say(f"Attempted to tag {key}={value}")

    def set_tags(self, tags: dict[str, Any]) -> None:
        for k, v in tags.items():
            self.tag(k, v)

    def get_tags(self) -> dict[str, str]:
        return dict(self._tags)

    def remove_tags(self, tags: Any) -> None:
        for k in [tags] if isinstance(tags, str) else tags:
            self._tags.pop(k, None)

    def add_properties(self, properties: dict[str, Any]) -> None:
        self._properties.update({k: str(v) for k, v in properties.items()})

    def get_properties(self) -> dict[str, str]:
        return dict(self._properties)

    def get_status(self) -> str:
        return self.status

    def get_details(self) -> dict[str, Any]:
        return {"runId": self.id, "status": self.status, "target": "offline"}

    def get_children(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    def child_run(self, name: str | None = None, **kwargs: Any) -> OfflineRun:
        return OfflineRun()

    def complete(self, *args: Any, **kwargs: Any) -> None:
        self.status = "Completed"

    def fail(self, error_details: Any = None, *args: Any, **kwargs: Any) -> None:
        self.status = "Failed"
        _say(f"Offline run failed: {error_details}")

    def cancel(self) -> None:
        self.status = "Canceled"

    def __enter__(self) -> OfflineRun:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.status = "Completed" if exc is None else "Failed"

    def __repr__(self) -> str:
        return f"OfflineRun(id={self.id!r})"
