"""The model and dataset registries over the API (``/models``, ``/datasets``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runyard.entities import ModelRecord
from runyard.entities.dataset import DatasetRecord
from runyard.tracking.rest.base import RestBase, segment
from runyard.tracking.rest.runs import tag_filter
from runyard.tracking.wire import from_wire, to_wire


class RestRegistry(RestBase):
    """The ModelRegistryStore and DatasetRegistryStore ports over the API."""

    # -- models ----------------------------------------------------------------------
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
        body = to_wire(
            {
                "artifact_path_template": artifact_path_template,
                "description": description,
                "tags": tags,
                "properties": properties,
                "framework": framework,
                "framework_version": framework_version,
                "run_id": run_id,
                "experiment_name": experiment_name,
                "pending": pending,
            }
        )
        data = self._call("POST", f"models/{segment(name)}/versions", json=body)
        return from_wire(ModelRecord, data)

    def complete_model_version(self, name: str, version: int) -> ModelRecord:
        data = self._call("POST", f"models/{segment(name)}/versions/{segment(version)}/complete")
        return from_wire(ModelRecord, data)

    def reap_pending_model_versions(self, older_than_s: float) -> list[ModelRecord]:
        body = {"older_than_s": to_wire(float(older_than_s))}
        data = self._call("POST", "model-versions/reap-pending", json=body)
        return [from_wire(ModelRecord, item) for item in data["models"]]

    def get_model(self, name: str, version: int | None = None) -> ModelRecord:
        if version is None:
            return self._get(ModelRecord, f"models/{segment(name)}")
        return self._get(ModelRecord, f"models/{segment(name)}/versions/{segment(version)}")

    def list_models(
        self,
        *,
        name: str | None = None,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str | None] | None = None,
        run_id: str | None = None,
        latest: bool = False,
    ) -> list[ModelRecord]:
        return self._list(
            ModelRecord,
            "models",
            "models",
            name=name,
            tags=tag_filter(tags),
            properties=tag_filter(properties),
            run_id=run_id,
            latest="true" if latest else None,
        )

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
        body = to_wire(
            {
                "description": description,
                "add_tags": add_tags,
                "remove_tags": None if remove_tags is None else list(remove_tags),
                "add_properties": add_properties,
            }
        )
        data = self._call("PATCH", f"models/{segment(name)}/versions/{segment(version)}", json=body)
        return from_wire(ModelRecord, data)

    def delete_model(self, name: str, version: int) -> None:
        self._call("DELETE", f"models/{segment(name)}/versions/{segment(version)}")

    # -- datasets --------------------------------------------------------------------
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
        body = to_wire(
            {
                "kind": kind,
                "definition": definition,
                "fingerprint": fingerprint,
                "description": description,
                "tags": tags,
                "create_new_version": create_new_version,
            }
        )
        data = self._call("POST", f"datasets/{segment(name)}/versions", json=body)
        return from_wire(DatasetRecord, data)

    def get_dataset(self, name: str, version: int | None = None) -> DatasetRecord:
        if version is None:
            return self._get(DatasetRecord, f"datasets/{segment(name)}")
        return self._get(DatasetRecord, f"datasets/{segment(name)}/versions/{segment(version)}")

    def list_datasets(self) -> list[DatasetRecord]:
        return self._list(DatasetRecord, "datasets", "datasets")
