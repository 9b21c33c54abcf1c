"""The dataset registry of the in-memory store."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from runyard.entities.dataset import DatasetRecord
from runyard.tracking import documents, messages
from runyard.tracking.memory.state import MemoryState
from runyard.tracking.ports import DatasetRegistryStore

_SCOPE = "dataset"


class MemoryDatasets(DatasetRegistryStore):
    """The dataset registry port over a :class:`MemoryState` (definitions and tags kept as
    the canonical JSON the SQL adapter stores)."""

    _state: MemoryState

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
        text = documents.dumps(definition, f"Definition of dataset {name!r}", canonical=True)
        tags_text = documents.dumps(dict(tags or {}), f"Tags of dataset {name!r}", canonical=True)
        state = self._state
        with state.lock:
            latest = state.counters.get((_SCOPE, name), 0)
            if latest:
                record, kept_text, _ = state.datasets[(name, latest)]
                if kept_text == text and record.kind == kind:
                    return self.get_dataset(name, latest)
                if not create_new_version:
                    raise messages.dataset_version_differs(name, latest)
            version = latest + 1
            state.counters[(_SCOPE, name)] = version
            record = DatasetRecord(
                name=name,
                version=version,
                kind=kind,
                definition={},
                fingerprint=fingerprint,
                description=description,
                created_at=time.time(),
            )
            state.datasets[(name, version)] = (record, text, tags_text)
            return self.get_dataset(name, version)

    def get_dataset(self, name: str, version: int | None = None) -> DatasetRecord:
        state = self._state
        with state.lock:
            wanted = state.counters.get((_SCOPE, name), 0) if version is None else version
            found = state.datasets.get((name, wanted))
            if found is None:
                known = sorted({n for n, _ in state.datasets})[: messages.LISTED + 1]
                raise messages.dataset_not_found(name, version, known)
            record, text, tags_text = found
            return dataclasses.replace(
                record, definition=documents.loads(text), tags=documents.loads(tags_text)
            )

    def list_datasets(self) -> list[DatasetRecord]:
        with self._state.lock:
            return [self.get_dataset(n) for n in sorted({n for n, _ in self._state.datasets})]
