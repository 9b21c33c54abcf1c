"""Web services in memory (the ServiceStore port)."""

from __future__ import annotations

import dataclasses
import time

from runyard.entities.service import ServiceRecord
from runyard.tracking import service_records as records
from runyard.tracking.memory.state import MemoryState
from runyard.tracking.ports.services import ServiceStore


class MemoryServices(ServiceStore):
    """ServiceStore over :class:`MemoryState` (records kept as column values, as SQL)."""

    _state: MemoryState

    def create_service(self, record: ServiceRecord, *, overwrite: bool = False) -> ServiceRecord:
        with self._state.lock:
            if record.name in self._state.services and not overwrite:
                raise records.service_exists(record.name)
            now = time.time()
            stored = dataclasses.replace(record, created_at=now, updated_at=now)
            self._state.services[record.name] = records.to_columns(stored)
            return records.from_columns(self._state.services[record.name])

    def get_service(self, name: str) -> ServiceRecord:
        with self._state.lock:
            values = self._state.services.get(name)
            if values is None:
                raise records.service_not_found(name, sorted(self._state.services))
            return records.from_columns(values)

    def list_services(
        self, *, model_name: str | None = None, compute_type: str | None = None
    ) -> list[ServiceRecord]:
        with self._state.lock:
            found = [
                records.from_columns(self._state.services[n]) for n in sorted(self._state.services)
            ]
        return [r for r in found if records.matches(r, model_name, compute_type)]

    def update_service(self, record: ServiceRecord) -> ServiceRecord:
        with self._state.lock:
            current = self._state.services.get(record.name)
            if current is None:
                raise records.service_not_found(record.name, sorted(self._state.services))
            stored = dataclasses.replace(
                record, created_at=current["created_at"], updated_at=time.time()
            )
            self._state.services[record.name] = records.to_columns(stored)
            return records.from_columns(self._state.services[record.name])

    def delete_service(self, name: str) -> None:
        with self._state.lock:
            if self._state.services.pop(name, None) is None:
                raise records.service_not_found(name, sorted(self._state.services))
