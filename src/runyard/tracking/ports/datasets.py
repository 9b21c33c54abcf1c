"""The DatasetRegistryStore port: versions of registered datasets."""

from __future__ import annotations

import abc
from typing import Any

from runyard.entities.dataset import DatasetRecord


class DatasetRegistryStore(abc.ABC):
    """The dataset registry of one workspace.

    Versions are 1, 2, ... per name, allocated without gaps or duplicates when several
    processes register at once. A version's definition and fingerprint never change.
    Registering a definition equal to the latest version's (same kind, same canonical
    JSON) returns that version unchanged, whatever ``create_new_version`` says.
    """

    @abc.abstractmethod
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
        """Register ``definition`` under ``name``: as version 1 of a new name, as the
        latest version when it equals it, else as the next version.

        Raises:
            AlreadyExists: ``name`` has versions, the latest differs from ``definition``,
                and ``create_new_version`` is False.
            InvalidArgument: ``definition`` or ``tags`` are not JSON-able.
        """

    @abc.abstractmethod
    def get_dataset(self, name: str, version: int | None = None) -> DatasetRecord:
        """The given version, or the latest one.

        Raises:
            NotFound: no such name or version (the message lists the known names).
        """

    @abc.abstractmethod
    def list_datasets(self) -> list[DatasetRecord]:
        """The latest version of each dataset, by name."""
