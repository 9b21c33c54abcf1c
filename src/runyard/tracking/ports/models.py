"""The ModelRegistryStore port: versions of registered models."""

from __future__ import annotations

import abc
from collections.abc import Iterable

from runyard.entities import ModelRecord


class ModelRegistryStore(abc.ABC):
    """The model registry of one workspace.

    ``create_model_version`` allocates versions 1, 2, ... per name with no gaps or
    duplicates, even when many processes register the same name at once; a version
    number is never handed out twice, even after its version is deleted.

    A version created with ``pending=True`` is invisible (``get_model``, ``list_models``,
    ``update_model`` and "latest" skip it) until ``complete_model_version`` makes it
    visible in one update, so a registration killed while uploading files never shows a
    version without its files. Its number stays allocated: a registration that never
    completes leaves its number unused, like a deleted version (numbers are never reused,
    so a later version can never be mistaken for files half-written under the old
    number). ``reap_pending_model_versions`` removes pending versions older than a given
    age so their files can be deleted.
    """

    @abc.abstractmethod
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
        """Register the next version of ``name``.

        ``artifact_path_template`` may contain ``{version}``, filled in with the version
        allocated (so files can be put where the record says). With ``pending``, the
        version stays invisible until ``complete_model_version``.
        """

    @abc.abstractmethod
    def complete_model_version(self, name: str, version: int) -> ModelRecord:
        """Make a pending version visible (a visible one is returned unchanged).

        Raises:
            NotFound: no such version (a pending version that was reaped included).
        """

    @abc.abstractmethod
    def reap_pending_model_versions(self, older_than_s: float) -> list[ModelRecord]:
        """Delete the versions pending for more than ``older_than_s`` seconds and return
        them (oldest first), so the caller can delete their files. Their numbers are not
        reused."""

    @abc.abstractmethod
    def get_model(self, name: str, version: int | None = None) -> ModelRecord:
        """The given version, or the latest one. Raises NotFound."""

    @abc.abstractmethod
    def list_models(
        self,
        *,
        name: str | None = None,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str | None] | None = None,
        run_id: str | None = None,
        latest: bool = False,
    ) -> list[ModelRecord]:
        """Model versions matching every filter, newest first; ``latest`` keeps only the
        newest matching version of each name."""

    @abc.abstractmethod
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
        """Change a model version's description and tags, add properties (a set property
        cannot change: InvalidState)."""

    @abc.abstractmethod
    def delete_model(self, name: str, version: int) -> None:
        """Delete a version, pending or not. Raises NotFound. Versions are never reused
        after a delete."""
