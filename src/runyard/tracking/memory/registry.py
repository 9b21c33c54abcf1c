"""The model registry and the workspace catalogue of the in-memory store."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from typing import Any

from runyard.entities import (
    ComputeTargetRecord,
    DatastoreRecord,
    EnvironmentRecord,
    ModelRecord,
)
from runyard.tracking import documents, messages
from runyard.tracking.memory.runs import add_once
from runyard.tracking.memory.state import MemoryState, StoredModel
from runyard.tracking.ports import CatalogueStore, ModelRegistryStore


class MemoryRegistry(ModelRegistryStore, CatalogueStore):
    """The model registry and catalogue ports over a :class:`MemoryState`."""

    _state: MemoryState

    # -- models ------------------------------------------------------------------
    def _next(self, scope: str, name: str) -> int:
        counters = self._state.counters
        counters[(scope, name)] = counters.get((scope, name), 0) + 1
        return counters[(scope, name)]

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
        state = self._state
        with state.lock:
            version = self._next("model", name)
            record = ModelRecord(
                name=name,
                version=version,
                artifact_path=artifact_path_template.replace("{version}", str(version)),
                created_at=time.time(),
                description=description,
                tags=dict(tags or {}),
                properties=dict(properties or {}),
                framework=framework,
                framework_version=framework_version,
                run_id=run_id,
                experiment_name=experiment_name,
            )
            state.models[(name, version)] = StoredModel(state.next_key(), record, pending)
            return _copy(record)

    def complete_model_version(self, name: str, version: int) -> ModelRecord:
        with self._state.lock:
            found = self._state.models.get((name, version))
            if found is None:
                raise self._not_found(name, version)
            found.pending = False
            return _copy(found.record)

    def reap_pending_model_versions(self, older_than_s: float) -> list[ModelRecord]:
        cutoff = time.time() - older_than_s
        with self._state.lock:
            models = self._state.models
            stale = sorted(
                (m for m in models.values() if m.pending and m.record.created_at < cutoff),
                key=lambda m: m.key,
            )
            for stored in stale:
                del models[(stored.record.name, stored.record.version)]
            return [_copy(m.record) for m in stale]

    def _visible(self) -> list[StoredModel]:
        """Complete versions, newest (highest key) first."""
        found = [m for m in self._state.models.values() if not m.pending]
        return sorted(found, key=lambda m: -m.key)

    def _not_found(self, name: str, version: int | None) -> Exception:
        versions = sorted(
            (m.record.version for m in self._visible() if m.record.name == name), reverse=True
        )
        return messages.model_not_found(name, version, versions[: messages.LISTED + 1])

    def _model(self, name: str, version: int | None) -> StoredModel:
        if version is None:
            newest = [m for m in self._visible() if m.record.name == name]
            found = max(newest, key=lambda m: m.record.version) if newest else None
        else:
            found = self._state.models.get((name, version))
        if found is None or found.pending:
            raise self._not_found(name, version)
        return found

    def get_model(self, name: str, version: int | None = None) -> ModelRecord:
        with self._state.lock:
            return _copy(self._model(name, version).record)

    def list_models(
        self,
        *,
        name: str | None = None,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str | None] | None = None,
        run_id: str | None = None,
        latest: bool = False,
    ) -> list[ModelRecord]:
        with self._state.lock:
            found = []
            seen: set[str] = set()
            for stored in self._visible():
                model = stored.record
                if (
                    (name is not None and model.name != name)
                    or (run_id is not None and model.run_id != run_id)
                    or not _has(model.tags, tags)
                    or not _has(model.properties, properties)
                    or (latest and model.name in seen)
                ):
                    continue
                seen.add(model.name)
                found.append(_copy(model))
            return found

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
        with self._state.lock:
            model = self._model(name, version).record
            if add_properties:  # checked first: a refused update changes nothing
                add_once(model.properties, add_properties, what=f"{name}:{version}")
            if description is not None:
                model.description = description
            for tag in list(remove_tags or ()):
                model.tags.pop(tag, None)
            model.tags.update(add_tags or {})
            return _copy(model)

    def delete_model(self, name: str, version: int) -> None:
        with self._state.lock:
            if (name, version) not in self._state.models:
                raise self._not_found(name, version)
            del self._state.models[(name, version)]

    # -- datastores --------------------------------------------------------------
    def save_datastore(self, record: DatastoreRecord, *, overwrite: bool = False) -> None:
        stores = self._state.datastores
        with self._state.lock:
            if record.name in stores and not overwrite:
                raise messages.datastore_exists(record.name)
            text = documents.dumps(record.options, f"Options of datastore {record.name!r}")
            if record.is_default:
                for other, (kept, kept_text) in list(stores.items()):
                    if other != record.name and kept.is_default:
                        stores[other] = (dataclasses.replace(kept, is_default=False), kept_text)
            stores[record.name] = (
                dataclasses.replace(record, is_default=bool(record.is_default)),
                text,
            )

    def get_datastore(self, name: str | None = None) -> DatastoreRecord:
        stores = self._state.datastores
        with self._state.lock:
            known = sorted(stores)[: messages.LISTED + 1]
            if name is None:
                defaults = [n for n in sorted(stores) if stores[n][0].is_default]
                if not defaults:
                    raise messages.no_default_datastore(known)
                name = defaults[0]
            elif name not in stores:
                raise messages.datastore_not_found(name, known)
            record, text = stores[name]
            return dataclasses.replace(record, options=documents.loads(text))

    def list_datastores(self) -> list[DatastoreRecord]:
        with self._state.lock:
            return [self.get_datastore(name) for name in sorted(self._state.datastores)]

    # -- compute targets -----------------------------------------------------------
    def save_compute_target(self, record: ComputeTargetRecord, *, overwrite: bool = False) -> None:
        targets = self._state.compute_targets
        with self._state.lock:
            if record.name in targets and not overwrite:
                raise messages.compute_target_exists(record.name)
            text = documents.dumps(record.config, f"Config of compute target {record.name!r}")
            kept = dataclasses.replace(record, created_at=record.created_at or time.time())
            targets[record.name] = (kept, text)

    def get_compute_target(self, name: str) -> ComputeTargetRecord:
        targets = self._state.compute_targets
        with self._state.lock:
            if name not in targets:
                known = sorted(targets)[: messages.LISTED + 1]
                raise messages.compute_target_not_found(name, known)
            record, text = targets[name]
            return dataclasses.replace(record, config=documents.loads(text))

    def list_compute_targets(self) -> list[ComputeTargetRecord]:
        with self._state.lock:
            return [self.get_compute_target(n) for n in sorted(self._state.compute_targets)]

    def delete_compute_target(self, name: str) -> None:
        with self._state.lock:
            self.get_compute_target(name)
            del self._state.compute_targets[name]

    # -- environments --------------------------------------------------------------
    def create_environment_version(self, name: str, spec: dict[str, Any]) -> EnvironmentRecord:
        text = documents.dumps(spec, f"Spec of environment {name!r}", canonical=True)
        environments = self._state.environments
        with self._state.lock:
            latest = self._state.counters.get(("environment", name), 0)
            if latest and environments[(name, latest)][1] == text:
                return self.get_environment(name, latest)
            version = self._next("environment", name)
            record = EnvironmentRecord(name=name, version=version, spec={}, created_at=time.time())
            environments[(name, version)] = (record, text)
            return self.get_environment(name, version)

    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord:
        with self._state.lock:
            if version is None:
                version = self._state.counters.get(("environment", name))
            found = self._state.environments.get((name, version or 0))
            if found is None:
                known = sorted({n for n, _ in self._state.environments})
                raise messages.environment_not_found(name, version, known[: messages.LISTED + 1])
            record, text = found
            return dataclasses.replace(record, spec=documents.loads(text))

    def list_environments(self) -> list[EnvironmentRecord]:
        with self._state.lock:
            names = sorted({n for n, _ in self._state.environments})
            return [self.get_environment(n) for n in names]


def _has(values: dict[str, str], wanted: dict[str, str | None] | None) -> bool:
    return all(
        name in values and (value is None or values[name] == value)
        for name, value in (wanted or {}).items()
    )


def _copy(record: ModelRecord) -> ModelRecord:
    return dataclasses.replace(
        record,
        tags=dict(sorted(record.tags.items())),
        properties=dict(sorted(record.properties.items())),
    )
