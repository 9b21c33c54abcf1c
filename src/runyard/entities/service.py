"""Web services: the stored record of a deployed model, and the definition its scoring
server runs from.

A :class:`ServiceRecord` is what the tracking store keeps (``runyard.tracking.ports.services``);
a :class:`ServiceDefinition` is what the node that serves it writes next to the service's
files, so the scoring server process needs nothing but that file (never the SDK).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from runyard.errors import InvalidArgument

#: The states a service reports (SDK v1's ACI/AKS names).
TRANSITIONING = "Transitioning"
HEALTHY = "Healthy"
UNHEALTHY = "Unhealthy"
FAILED = "Failed"
STATES = (TRANSITIONING, HEALTHY, UNHEALTHY, FAILED)

#: Where a service runs: SDK v1's compute types.
COMPUTE_TYPES = ("ACI", "AKS", "Local")

# SDK v1's webservice_name_validation: 3-32 characters, lowercase letters, digits and
# dashes, starting with a letter (and, as Azure's DNS labels, not ending with a dash).
_SERVICE_NAME = re.compile(r"[a-z](?:[a-z0-9-]{1,30}[a-z0-9])")


def check_service_name(name: object) -> str:
    """Check a web service name against SDK v1's rule.

    Raises:
        InvalidArgument: the name breaks the rule (the message states it).
    """
    if not isinstance(name, str) or not _SERVICE_NAME.fullmatch(name):
        raise InvalidArgument(
            f"Service name {name!r} is not allowed: use 3 to 32 lowercase letters, digits "
            "and dashes, starting with a letter and ending with a letter or digit "
            "(e.g. 'keras-mnist-svc')."
        )
    return name


@dataclass(frozen=True)
class ServiceRecord:
    """One web service as the tracking store keeps it.

    Attributes:
        name: The service name (:func:`check_service_name`).
        compute_type: ``ACI``, ``AKS`` or ``Local`` (which SDK class it comes back as).
        state: One of :data:`STATES`, as last seen by whoever refreshed it.
        models: The deployed model ids (``name:version``).
        scoring_uri: Where ``POST`` requests go; None until a port is known.
        auth_enabled: Whether the scoring route needs a key.
        primary_key: The first key (empty without auth). Kept out of ``repr``, so a
            record that reaches a log never carries a key.
        secondary_key: The second key, as ``primary_key``.
        config: The deployment: inference config, deployment config, node (JSON-able).
        description: What the service is.
        tags: Replaced as a whole by ``update``.
        properties: Added to by ``update``, never changed.
        error: Why deployment failed (``message``, ``log_tail``), or None.
        created_at: Unix seconds.
        updated_at: Unix seconds of the last change.
    """

    name: str
    compute_type: str
    state: str = TRANSITIONING
    models: tuple[str, ...] = ()
    scoring_uri: str | None = None
    auth_enabled: bool = False
    primary_key: str = field(default="", repr=False)
    secondary_key: str = field(default="", repr=False)
    config: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    created_at: float = 0.0
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise InvalidArgument(f"Service state {self.state!r} is not one of {STATES}.")
        if self.compute_type not in COMPUTE_TYPES:
            raise InvalidArgument(
                f"Service compute type {self.compute_type!r} is not one of {COMPUTE_TYPES}."
            )

    @property
    def model_names(self) -> tuple[str, ...]:
        """The names of the deployed models (``models`` without versions)."""
        return tuple(m.partition(":")[0] for m in self.models)


@dataclass(frozen=True)
class DeployedModel:
    """A model version whose files a service gets.

    Attributes:
        name: The model name.
        version: The model version.
        artifact_path: Where the workspace's artifact store keeps its files.
    """

    name: str
    version: int
    artifact_path: str

    @property
    def id(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class ServiceDefinition:
    """Everything a node needs to serve a service, and the scoring server to run it.

    Attributes:
        name: The service name.
        entry_script: The scoring script, relative to ``source_directory`` (``/``-separated).
        source_directory: The local folder whose files ship with the service (the entry
            script's folder when the inference config names none).
        environment: The environment spec (``EnvironmentSpec.to_dict()``) to build.
        models: The model versions whose files the service gets.
        port: The port asked for; 0: any free port.
        max_body_bytes: The largest request body accepted (larger: 413).
        environment_variables: Extra variables for the scoring process.
        files: The files of ``source_directory`` that ship (``/``-separated); empty: all
            of them.
        cpu_cores: The CPUs the scoring server may run on (rounded up to whole CPUs);
            None: no limit.
        memory_gb: The resident memory (GB, 2**30 bytes) the scoring server and what it
            starts may use before it is stopped and restarted; None: no limit.
        max_concurrent_requests: How many ``run()`` calls the scoring server makes at
            once, each on a thread of its own; 1 (the default): one at a time, as SDK v1's
            server did. More only for a ``run()`` that is safe to call from several
            threads at once.
    """

    name: str
    entry_script: str
    source_directory: str
    environment: dict[str, Any] = field(default_factory=dict)
    models: tuple[DeployedModel, ...] = ()
    port: int = 0
    max_body_bytes: int = 100 * 1024 * 1024
    environment_variables: dict[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    cpu_cores: float | None = None
    memory_gb: float | None = None
    max_concurrent_requests: int = 1

    def to_dict(self) -> dict[str, Any]:
        """The definition as a JSON-able dict (:meth:`from_dict` reads it back)."""
        return {
            "name": self.name,
            "entry_script": self.entry_script,
            "source_directory": self.source_directory,
            "environment": dict(self.environment),
            "models": [
                {"name": m.name, "version": m.version, "artifact_path": m.artifact_path}
                for m in self.models
            ],
            "port": self.port,
            "max_body_bytes": self.max_body_bytes,
            "environment_variables": dict(self.environment_variables),
            "files": list(self.files),
            "cpu_cores": self.cpu_cores,
            "memory_gb": self.memory_gb,
            "max_concurrent_requests": self.max_concurrent_requests,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServiceDefinition:
        """Read :meth:`to_dict`'s output.

        Raises:
            InvalidArgument: ``data`` is not a service definition.
        """
        try:
            return cls(
                name=str(data["name"]),
                entry_script=str(data["entry_script"]),
                source_directory=str(data["source_directory"]),
                environment=dict(data.get("environment") or {}),
                models=tuple(
                    DeployedModel(str(m["name"]), int(m["version"]), str(m["artifact_path"]))
                    for m in data.get("models") or ()
                ),
                port=int(data.get("port") or 0),
                max_body_bytes=int(data.get("max_body_bytes") or cls.max_body_bytes),
                environment_variables={
                    str(k): str(v) for k, v in (data.get("environment_variables") or {}).items()
                },
                files=tuple(str(f) for f in data.get("files") or ()),
                cpu_cores=_positive_or_none(data.get("cpu_cores")),
                memory_gb=_positive_or_none(data.get("memory_gb")),
                max_concurrent_requests=_concurrency(data.get("max_concurrent_requests")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidArgument(f"Not a service definition: {exc!r}.") from exc


def _positive_or_none(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not number > 0:
        raise ValueError(f"a limit must be positive, got {value!r}")
    return number


def _concurrency(value: Any) -> int:
    if value is None:  # a definition written before the setting existed
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_concurrent_requests must be a whole number >= 1, got {value!r}")
    return value
