"""The run definition: what a submitted run records about itself, and what its executor reads.

It lives in the run's details under ``runDefinition`` as plain JSON::

    {"script": "train.py",
     "arguments": ["--lr", "0.01", {"runyard_data_reference": 1, ...}],
     "sourceDirectory": "/home/me/train",
     "snapshotId": "3f2a...",
     "target": "local",
     "environment": {"name": "keras-env", "version": "2", "spec": {...EnvironmentSpec...},
                     "environmentVariables": {...}},
     "environmentVariables": {...},
     "inputs": [{...data reference...}],
     "resources": {"cpus": 1.0, "gpus": 0, "memoryGb": null, "nodeCount": 1},
     "useGpu": false,
     "maxRunDurationSeconds": null,
     "framework": "Python", "frameworkVersion": null, "distributed": null,
     "notes": ["lines put at the top of the run's log (settings that have no effect)"]}

A data reference travels as the dict ``DataReference.to_dict()`` gives (see
:mod:`runyard.core.data_reference`); the executor resolves it to a local path before the
script starts.
"""

from __future__ import annotations

import math
import os
from typing import Any

from runyard.compute.backend import ResourceRequest
from runyard.errors import InvalidArgument


def is_data_reference(value: Any) -> bool:
    """Whether ``value`` is a data reference (``ds.path('x').as_mount()``...)."""
    from runyard.core.data_reference import DataReference

    return isinstance(value, DataReference)


def data_reference_dict(ref: Any) -> dict[str, Any]:
    """A data reference as the JSON the executor reads
    (:meth:`runyard.core.data_reference.DataReference.to_dict`).

    Raises:
        InvalidArgument: ``ref`` is not a data reference.
    """
    if not is_data_reference(ref):
        raise InvalidArgument(
            f"inputs must hold data references (ds.path('x').as_mount()), got {ref!r}."
        )
    data: dict[str, Any] = ref.to_dict()
    return data


def serialise_arguments(arguments: list[Any]) -> list[Any]:
    """Arguments as JSON: numbers and booleans become strings (as on a command line), data
    references their dict.

    Raises:
        InvalidArgument: an argument is of another type, a NaN/inf number, or text with a
            NUL character.
    """
    out: list[Any] = []
    for i, value in enumerate(arguments):
        if isinstance(value, (str, os.PathLike)) and "\x00" in (text := os.fspath(value)):
            # argv strings end at NUL: the run would fail when started, not here.
            raise InvalidArgument(
                f"Argument {i} ({text!r}) contains a NUL character, which no program can "
                "receive in its command line; remove it."
            )
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, bool) or (isinstance(value, int) and not isinstance(value, bool)):
            out.append(str(value))
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidArgument(f"Argument {i} is {value!r}; give a finite number.")
            out.append(repr(value))
        elif isinstance(value, os.PathLike):
            out.append(os.fspath(value))
        elif is_data_reference(value):
            out.append(data_reference_dict(value))
        elif hasattr(value, "item") and callable(value.item):  # a numpy scalar
            out.extend(serialise_arguments([value.item()]))
        else:
            raise InvalidArgument(
                f"Argument {i} ({value!r}) is a {type(value).__name__}; arguments must be "
                "strings, numbers, booleans or data references (ds.path('x').as_mount())."
            )
    return out


def environment_dict(environment: Any) -> dict[str, Any]:
    """The environment part of a run definition.

    ``environment`` may be an Environment, an EnvironmentSpec, or None (an environment with
    Runyard only).

    Raises:
        InvalidArgument: ``environment`` is something else.
    """
    from runyard.environments.spec import EnvironmentSpec

    if environment is None:
        return {"name": None, "version": None, "spec": EnvironmentSpec().to_dict()}
    if isinstance(environment, EnvironmentSpec):
        return {"name": None, "version": None, "spec": environment.to_dict()}
    to_spec = getattr(environment, "to_spec", None)
    if not callable(to_spec):
        raise InvalidArgument(
            f"environment must be an Environment, got {type(environment).__name__}. Create one "
            "with Environment('name') or Environment.get(ws, 'name')."
        )
    return {
        "name": getattr(environment, "name", None),
        "version": getattr(environment, "version", None),
        "spec": to_spec().to_dict(),
        "environmentVariables": dict(getattr(environment, "environment_variables", {}) or {}),
    }


def resources_dict(resources: ResourceRequest) -> dict[str, Any]:
    return {
        "cpus": resources.cpus,
        "gpus": resources.gpus,
        "memoryGb": resources.memory_gb,
        "nodeCount": resources.node_count,
    }


def resources_from_dict(data: dict[str, Any] | None) -> ResourceRequest:
    data = data or {}
    return ResourceRequest(
        cpus=float(data.get("cpus", 1.0)),
        gpus=int(data.get("gpus", 0)),
        memory_gb=data.get("memoryGb"),
        node_count=int(data.get("nodeCount", 1)),
    )


def check_environment_variables(variables: Any) -> dict[str, str]:
    """Environment variables as a str -> str dict.

    Raises:
        InvalidArgument: not a dict, or a name that cannot be a variable name.
    """
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise InvalidArgument(
            f"environment_variables must be a dict of name -> value, got {variables!r}."
        )
    out = {}
    for name, value in variables.items():
        if not isinstance(name, str) or not name or "=" in name or "\0" in name:
            raise InvalidArgument(f"Environment variable name {name!r} is not allowed.")
        out[name] = str(value)
    return out
