"""The ServingBackend port: where a web service runs and how it is reached."""

from __future__ import annotations

import abc
from dataclasses import dataclass

from runyard.entities.service import ServiceDefinition


@dataclass(frozen=True)
class ServiceStatus:
    """What a backend sees of a service now.

    Attributes:
        state: ``Transitioning``, ``Healthy``, ``Unhealthy`` or ``Failed``.
        scoring_uri: Where scoring requests go (None until known).
        detail: One line on why (a restart, a dead process, the end of an init error).
        restarts: How many times the scoring process was restarted after a crash.
    """

    state: str
    scoring_uri: str | None = None
    detail: str = ""
    restarts: int = 0


class ServingBackend(abc.ABC):
    """Runs web services.

    Contract:

    - ``deploy`` returns once the service is started (its scoring URI known); it becomes
      ``Healthy`` when ``score.py``'s ``init()`` has returned, or ``Failed`` when it
      raised (the traceback is in ``logs``). Deploying a name that runs replaces it.
    - ``set_keys`` changes what the running service accepts, without a restart.
    - ``delete`` stops the service and frees what it held (its port, its files); deleting
      a service that is not running is not an error.
    """

    @abc.abstractmethod
    def deploy(
        self, definition: ServiceDefinition, *, auth_enabled: bool, keys: tuple[str, str]
    ) -> ServiceStatus:
        """Start serving ``definition`` (stopping a service of that name first)."""

    @abc.abstractmethod
    def status(self, name: str) -> ServiceStatus:
        """The service's state now."""

    @abc.abstractmethod
    def set_keys(self, name: str, *, auth_enabled: bool, keys: tuple[str, str]) -> None:
        """Make the running service check these keys (or none, without auth)."""

    @abc.abstractmethod
    def logs(self, name: str, num_lines: int = 5000) -> str:
        """The last ``num_lines`` lines of the service's output (server and score.py)."""

    @abc.abstractmethod
    def log_since(self, name: str, offset: int) -> tuple[str, int]:
        """The service's output written after byte ``offset`` of its log (whole lines
        only), and the offset to ask from next time. A log that was started afresh (a
        redeploy) is read from its beginning; a negative ``offset`` reads nothing and
        answers the log's end (to follow only what comes next)."""

    @abc.abstractmethod
    def restart(self, name: str) -> ServiceStatus:
        """Restart the scoring process with the service's files as they are now."""

    @abc.abstractmethod
    def delete(self, name: str) -> None:
        """Stop the service and remove its files."""
