"""LocalWebservice: SDK v1's service on this machine, without keys."""

from __future__ import annotations

from typing import Any, ClassVar

from runyard.core.webservice.deploy import concurrent_requests
from runyard.core.webservice.webservice import DeploymentConfiguration, Webservice
from runyard.entities.service import (
    FAILED,
    HEALTHY,
    TRANSITIONING,
    UNHEALTHY,
    ServiceDefinition,
)
from runyard.errors import InvalidArgument

#: SDK v1's lower-case local states. A crashed or restarting server reads "failed", as
#: an exited container does in v1.
_LOCAL_STATES = {
    TRANSITIONING: "deploying",
    HEALTHY: "running",
    UNHEALTHY: "failed",
    FAILED: "failed",
}


class LocalWebserviceDeploymentConfiguration(DeploymentConfiguration):
    """What ``LocalWebservice.deploy_configuration`` returns."""

    compute_type: ClassVar[str] = "Local"

    def __init__(
        self, port: int | None = None, replica_max_concurrent_requests: int | None = None
    ) -> None:
        if port is not None and (
            isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535
        ):
            raise InvalidArgument(f"port must be a whole number from 1 to 65535, got {port!r}.")
        self.port = port or 0
        self.max_concurrent_requests = concurrent_requests(replica_max_concurrent_requests)

    def serialize(self) -> dict[str, Any]:
        return {
            "computeType": self.compute_type,
            "port": self.port,
            "replicaMaxConcurrentRequests": self.max_concurrent_requests,
        }


class LocalWebservice(Webservice):
    """A service on this machine (127.0.0.1), without keys, as v1's local deployment.
    States are v1's: ``deploying``, ``running``, ``failed``."""

    _compute_type: ClassVar[str] = "Local"

    @staticmethod
    def deploy_configuration(
        port: int | None = None, replica_max_concurrent_requests: int | None = None
    ) -> LocalWebserviceDeploymentConfiguration:
        """A local deployment on ``port`` (None: a free port).

        ``replica_max_concurrent_requests`` (default 1, one ``run()`` at a time as in v1)
        is how many ``run()`` calls the scoring server makes at once, on threads: more
        only for a score.py whose ``run()`` is thread-safe.

        Raises:
            InvalidArgument: a port out of range, or a concurrency that is not 1 to 64.
        """
        return LocalWebserviceDeploymentConfiguration(port, replica_max_concurrent_requests)

    @property
    def state(self) -> str:
        return _LOCAL_STATES[self.update_deployment_state()]

    def _state_name(self, state: str) -> str:
        return _LOCAL_STATES[state]

    def _finished_line(self) -> str:
        return f"Local webservice is running at {self.scoring_uri}"

    def get_keys(self) -> tuple[str, str]:
        """Not available: a local service has no keys (as in SDK v1)."""
        raise NotImplementedError("LocalWebservice does not use keys; use AciWebservice.")

    def regen_key(self, key: str, set_key: str | None = None) -> None:
        """Not available: a local service has no keys (as in SDK v1)."""
        raise NotImplementedError("LocalWebservice does not use keys; use AciWebservice.")

    def reload(self, wait: bool = False) -> None:
        """Restart the scoring server with the source folder's files as they are now (an
        edited score.py), without rebuilding the environment."""
        definition = ServiceDefinition.from_dict(self._record.config["definition"])
        backend = self._backend()
        self._log_mark = backend.log_since(self.name, -1)[1]  # show only the reload's lines
        backend.restart(self.name, definition.source_directory)
        if wait:
            self.wait_for_deployment()

    def update(
        self,
        models: list[Any] | None = None,
        image_config: Any = None,
        deployment_config: Any = None,
        wait: bool = False,
        inference_config: Any = None,
    ) -> None:
        """Redeploy with new models or inference config (on the same port)."""
        if image_config is not None:
            inference_config = image_config.inference_config()
        self._redeploy(models, inference_config)
        if wait:
            self.wait_for_deployment()
