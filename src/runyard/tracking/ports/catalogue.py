"""The CatalogueStore port: a workspace's datastores, compute targets and environments."""

from __future__ import annotations

import abc
from typing import Any

from runyard.entities import ComputeTargetRecord, DatastoreRecord, EnvironmentRecord


class CatalogueStore(abc.ABC):
    """Datastores, compute targets and environment versions of one workspace.

    Lists are sorted by name. Unknown names raise ``NotFound`` listing the known ones.
    """

    # -- datastores ----------------------------------------------------------------
    @abc.abstractmethod
    def save_datastore(self, record: DatastoreRecord, *, overwrite: bool = False) -> None:
        """Raises AlreadyExists unless ``overwrite``. Setting ``is_default`` clears it on
        the others."""

    @abc.abstractmethod
    def get_datastore(self, name: str | None = None) -> DatastoreRecord:
        """The named datastore, or the default one when ``name`` is None."""

    @abc.abstractmethod
    def list_datastores(self) -> list[DatastoreRecord]: ...

    # -- compute targets -----------------------------------------------------------
    @abc.abstractmethod
    def save_compute_target(
        self, record: ComputeTargetRecord, *, overwrite: bool = False
    ) -> None: ...

    @abc.abstractmethod
    def get_compute_target(self, name: str) -> ComputeTargetRecord: ...

    @abc.abstractmethod
    def list_compute_targets(self) -> list[ComputeTargetRecord]: ...

    @abc.abstractmethod
    def delete_compute_target(self, name: str) -> None: ...

    # -- environments --------------------------------------------------------------
    @abc.abstractmethod
    def create_environment_version(self, name: str, spec: dict[str, Any]) -> EnvironmentRecord:
        """Register ``spec`` as the next version of ``name``; when it equals the latest
        version's spec, that version is returned unchanged."""

    @abc.abstractmethod
    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord: ...

    @abc.abstractmethod
    def list_environments(self) -> list[EnvironmentRecord]:
        """The latest version of each environment."""
