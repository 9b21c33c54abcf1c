"""The run definition: everything a submitted run needs, handed by the submitter to the
compute backend and read by the executor on the node.

It is stored once, in the run's details under ``runDefinition``, as the JSON
:meth:`RunDefinition.to_dict` gives (camelCase keys, the same shape the REST API and the web
UI show)::

    {"script": "train.py",
     "arguments": ["--lr", "0.01", {"runyard_data_reference": 1, ...},
                   {"runyard_dataset": 1, ...}],
     "sourceDirectory": "/home/me/train",
     "snapshotId": "3f2a...",
     "target": "local",
     "environment": {"name": "keras-env", "version": "2", "spec": {...EnvironmentSpec...},
                     "environmentVariables": {...}},
     "environmentVariables": {...},
     "inputs": [{...data reference or dataset input...}],
     "resources": {"cpus": 1.0, "gpus": 0, "memoryGb": null, "nodeCount": 1},
     "useGpu": false,
     "maxRunDurationSeconds": null,
     "framework": "Python", "frameworkVersion": null,
     "distributed": {"kind": "pytorch", "nodeCount": 2, "processCount": 2, ...} | null,
     "notes": ["lines put at the top of the run's log (settings that have no effect)"]}
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runyard.entities.data_reference import DataReferenceSpec, is_data_reference_dict
from runyard.entities.dataset import DatasetInputSpec, is_dataset_input_dict
from runyard.errors import InvalidArgument

#: What a run's arguments and inputs may hold besides text: a datastore's file or folder,
#: or a dataset's pinned files (both resolve to a local path on the node).
DataInput = DataReferenceSpec | DatasetInputSpec


def data_input_from_dict(data: object) -> DataInput:
    """A data reference or dataset input from its dict.

    Raises:
        InvalidArgument: ``data`` is neither, or malformed.
    """
    if is_dataset_input_dict(data):
        return DatasetInputSpec.from_dict(data)
    return DataReferenceSpec.from_dict(data)


def is_data_input_dict(value: object) -> bool:
    """Whether ``value`` is a serialised data reference or dataset input."""
    return is_data_reference_dict(value) or is_dataset_input_dict(value)


@dataclass(frozen=True)
class ResourceRequest:
    """What one run asks of a node."""

    cpus: float = 1.0
    gpus: int = 0
    memory_gb: float | None = None
    node_count: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpus": self.cpus,
            "gpus": self.gpus,
            "memoryGb": self.memory_gb,
            "nodeCount": self.node_count,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ResourceRequest:
        data = data or {}
        memory = data.get("memoryGb")
        return cls(
            cpus=float(data.get("cpus", 1.0)),
            gpus=int(data.get("gpus", 0)),
            memory_gb=float(memory) if memory is not None else None,
            node_count=int(data.get("nodeCount", 1)),
        )


@dataclass(frozen=True)
class EnvironmentDefinition:
    """The run's Python environment: its name and version (when registered) and the spec
    the environment builder takes (``EnvironmentSpec.to_dict()``)."""

    name: str | None = None
    version: str | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version, "spec": dict(self.spec)}
        if self.variables:
            out["environmentVariables"] = dict(self.variables)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> EnvironmentDefinition:
        data = data or {}
        version = data.get("version")
        return cls(
            name=data.get("name"),
            version=str(version) if version is not None else None,
            spec=dict(data.get("spec") or {}),
            variables=dict(data.get("environmentVariables") or {}),
        )


#: Distribution kinds a run definition may name.
DISTRIBUTION_KINDS = ("none", "tensorflow", "pytorch", "mpi")


@dataclass(frozen=True)
class DistributedSpec:
    """How many processes of which framework one run starts (SDK v1's distributed training
    configurations, reduced to what the node needs)."""

    kind: str = "none"
    node_count: int = 1
    worker_count: int | None = None
    parameter_server_count: int | None = None
    process_count: int | None = None
    process_count_per_node: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in DISTRIBUTION_KINDS:
            raise InvalidArgument(
                f"Distribution kind {self.kind!r} is unknown; use one of {DISTRIBUTION_KINDS}."
            )

    def to_dict(self) -> dict[str, Any]:
        return {_camel(f.name): getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DistributedSpec:
        counts: dict[str, int] = {}
        for f in dataclasses.fields(cls):
            value = data.get(_camel(f.name), data.get(f.name))
            if value is not None and f.name != "kind":
                counts[f.name] = int(value)
        return cls(kind=str(data.get("kind") or "none"), **counts)


@dataclass(frozen=True)
class RunDefinition:
    """What a submitted run runs, where, and with what (see the module docstring)."""

    script: str
    source_directory: str
    target: str
    arguments: tuple[str | DataInput, ...] = ()
    snapshot_id: str | None = None
    environment: EnvironmentDefinition = field(default_factory=EnvironmentDefinition)
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    inputs: tuple[DataInput, ...] = ()
    resources: ResourceRequest = field(default_factory=ResourceRequest)
    use_gpu: bool = False
    max_run_duration_seconds: float | None = None
    framework: str = "Python"
    framework_version: str | None = None
    distributed: DistributedSpec | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        limit = self.max_run_duration_seconds
        if limit is not None and (not math.isfinite(limit) or limit <= 0):
            raise InvalidArgument(
                f"max_run_duration_seconds must be a positive number of seconds, got {limit!r}."
            )

    def with_snapshot(self, snapshot_id: str) -> RunDefinition:
        return dataclasses.replace(self, snapshot_id=snapshot_id)

    @property
    def data_references(self) -> tuple[DataInput, ...]:
        """Every data reference and dataset input of the run: in its arguments, then its
        inputs."""
        in_args = tuple(a for a in self.arguments if not isinstance(a, str))
        return in_args + self.inputs

    def to_dict(self) -> dict[str, Any]:
        return {
            "script": self.script,
            "arguments": [a if isinstance(a, str) else a.to_dict() for a in self.arguments],
            "sourceDirectory": self.source_directory,
            "snapshotId": self.snapshot_id,
            "target": self.target,
            "environment": self.environment.to_dict(),
            "environmentVariables": dict(self.environment_variables),
            "inputs": [ref.to_dict() for ref in self.inputs],
            "resources": self.resources.to_dict(),
            "useGpu": self.use_gpu,
            "maxRunDurationSeconds": self.max_run_duration_seconds,
            "framework": self.framework,
            "frameworkVersion": self.framework_version,
            "distributed": self.distributed.to_dict() if self.distributed else None,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: object) -> RunDefinition:
        """The definition a run's details hold.

        Raises:
            InvalidArgument: ``data`` is not a run definition (the message says what is
                wrong).
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("script"), str):
            raise InvalidArgument("The run has no valid run definition: it was not submitted.")
        try:
            arguments = tuple(
                data_input_from_dict(a) if is_data_input_dict(a) else str(a)
                for a in data.get("arguments") or []
            )
            distributed = data.get("distributed")
            limit = data.get("maxRunDurationSeconds")
            return cls(
                script=data["script"],
                source_directory=str(data.get("sourceDirectory") or ""),
                target=str(data.get("target") or "local"),
                arguments=arguments,
                snapshot_id=data.get("snapshotId"),
                environment=EnvironmentDefinition.from_dict(data.get("environment")),
                environment_variables={
                    str(k): str(v) for k, v in (data.get("environmentVariables") or {}).items()
                },
                inputs=tuple(data_input_from_dict(r) for r in data.get("inputs") or []),
                resources=ResourceRequest.from_dict(data.get("resources")),
                use_gpu=bool(data.get("useGpu", False)),
                max_run_duration_seconds=float(limit) if limit is not None else None,
                framework=str(data.get("framework") or "Python"),
                framework_version=data.get("frameworkVersion"),
                distributed=DistributedSpec.from_dict(distributed) if distributed else None,
                notes=tuple(str(n) for n in data.get("notes") or []),
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise InvalidArgument(f"The run's definition is malformed: {exc}") from exc


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
