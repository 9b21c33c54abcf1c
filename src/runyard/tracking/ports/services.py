"""The ServiceStore port: the workspace's web services."""

from __future__ import annotations

import abc

from runyard.entities.service import ServiceRecord


class ServiceStore(abc.ABC):
    """The web services of one workspace, one record per name.

    - ``create_service`` stores a new record, stamping ``created_at`` and ``updated_at``;
      a name in use raises AlreadyExists unless ``overwrite``, which replaces the record
      (its ``created_at`` is new: it is a new deployment).
    - ``update_service`` replaces every field of an existing record but ``name`` and
      ``created_at`` and stamps ``updated_at``; NotFound when there is none.
    - Keys are stored as given: only those who can read the store can read them, as only
      they can deploy. Records never put keys in their ``repr``.
    - ``get_service`` of a missing name raises NotFound naming the services there are.
    """

    @abc.abstractmethod
    def create_service(self, record: ServiceRecord, *, overwrite: bool = False) -> ServiceRecord:
        """Store a new service record; returns it as stored.

        Raises:
            AlreadyExists: the name is in use and ``overwrite`` is False.
        """

    @abc.abstractmethod
    def get_service(self, name: str) -> ServiceRecord:
        """The service called ``name``. Raises NotFound."""

    @abc.abstractmethod
    def list_services(
        self, *, model_name: str | None = None, compute_type: str | None = None
    ) -> list[ServiceRecord]:
        """Services by name; ``model_name`` keeps those serving a version of that model,
        ``compute_type`` those of that type (``ACI``, ``Local``)."""

    @abc.abstractmethod
    def update_service(self, record: ServiceRecord) -> ServiceRecord:
        """Replace the stored record of ``record.name``; returns it as stored.

        Raises:
            NotFound: no such service.
        """

    @abc.abstractmethod
    def delete_service(self, name: str) -> None:
        """Forget the service. Raises NotFound."""
