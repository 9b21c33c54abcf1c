"""The workspace catalogue and web service records over the API (``/datastores``,
``/compute-targets``, ``/environments``, ``/services``)."""

from __future__ import annotations

from typing import Any

from runyard.entities import ComputeTargetRecord, DatastoreRecord, EnvironmentRecord
from runyard.entities.service import ServiceRecord
from runyard.tracking.rest.base import RestBase, segment
from runyard.tracking.wire import from_wire, to_wire


class RestCatalogue(RestBase):
    """The CatalogueStore and ServiceStore ports over the API."""

    # -- datastores ------------------------------------------------------------------
    def save_datastore(self, record: DatastoreRecord, *, overwrite: bool = False) -> None:
        body = {"datastore": to_wire(record), "overwrite": overwrite}
        self._call("POST", "datastores", json=body)

    def get_datastore(self, name: str | None = None) -> DatastoreRecord:
        if name is None:
            return self._get(DatastoreRecord, "default-datastore")
        return self._get(DatastoreRecord, f"datastores/{segment(name)}")

    def list_datastores(self) -> list[DatastoreRecord]:
        return self._list(DatastoreRecord, "datastores", "datastores")

    # -- compute targets -------------------------------------------------------------
    def save_compute_target(self, record: ComputeTargetRecord, *, overwrite: bool = False) -> None:
        body = {"compute_target": to_wire(record), "overwrite": overwrite}
        self._call("POST", "compute-targets", json=body)

    def get_compute_target(self, name: str) -> ComputeTargetRecord:
        return self._get(ComputeTargetRecord, f"compute-targets/{segment(name)}")

    def list_compute_targets(self) -> list[ComputeTargetRecord]:
        return self._list(ComputeTargetRecord, "compute-targets", "compute_targets")

    def delete_compute_target(self, name: str) -> None:
        self._call("DELETE", f"compute-targets/{segment(name)}")

    # -- environments ----------------------------------------------------------------
    def create_environment_version(self, name: str, spec: dict[str, Any]) -> EnvironmentRecord:
        data = self._call(
            "POST", f"environments/{segment(name)}/versions", json={"spec": to_wire(spec)}
        )
        return from_wire(EnvironmentRecord, data)

    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord:
        if version is None:
            return self._get(EnvironmentRecord, f"environments/{segment(name)}")
        return self._get(
            EnvironmentRecord, f"environments/{segment(name)}/versions/{segment(version)}"
        )

    def list_environments(self) -> list[EnvironmentRecord]:
        return self._list(EnvironmentRecord, "environments", "environments")

    # -- web services ----------------------------------------------------------------
    def create_service(self, record: ServiceRecord, *, overwrite: bool = False) -> ServiceRecord:
        body = {"service": to_wire(record), "overwrite": overwrite}
        return from_wire(ServiceRecord, self._call("POST", "services", json=body))

    def get_service(self, name: str) -> ServiceRecord:
        return self._get(ServiceRecord, f"services/{segment(name)}")

    def list_services(
        self, *, model_name: str | None = None, compute_type: str | None = None
    ) -> list[ServiceRecord]:
        return self._list(
            ServiceRecord, "services", "services", model_name=model_name, compute_type=compute_type
        )

    def update_service(self, record: ServiceRecord) -> ServiceRecord:
        body = {"service": to_wire(record)}
        data = self._call("PUT", f"services/{segment(record.name)}", json=body)
        return from_wire(ServiceRecord, data)

    def delete_service(self, name: str) -> None:
        self._call("DELETE", f"services/{segment(name)}")
