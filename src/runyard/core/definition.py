"""Building a run definition on the submitting side: SDK values (arguments, environments,
data references) turned into the typed :class:`runyard.entities.definition.RunDefinition`
that the backend and the executor take."""

from __future__ import annotations

import math
import os
from typing import Any

from runyard.entities.data_reference import DataReferenceSpec
from runyard.entities.dataset import DatasetInputSpec
from runyard.entities.definition import DataInput, EnvironmentDefinition
from runyard.errors import InvalidArgument


def is_data_reference(value: Any) -> bool:
    """Whether ``value`` is a data reference (``ds.path('x').as_mount()``) or a dataset
    input (``dataset.as_mount()``)."""
    from runyard.core.data_reference import DataReference
    from runyard.core.dataset_input import DatasetConsumptionConfig

    return isinstance(value, (DataReference, DatasetConsumptionConfig))


def data_reference_spec(ref: Any) -> DataInput:
    """A data reference or dataset input as the run definition keeps it (a dataset's
    files are pinned to their hashes now, unless it is a registered version).

    Raises:
        InvalidArgument: ``ref`` is neither.
    """
    from runyard.core.dataset_input import DatasetConsumptionConfig

    if isinstance(ref, DatasetConsumptionConfig):
        return ref.to_spec()
    if not is_data_reference(ref):
        raise InvalidArgument(
            "inputs must hold data references (ds.path('x').as_mount()) or datasets "
            f"(dataset.as_mount()), got {ref!r}."
        )
    return DataReferenceSpec.from_dict(ref.to_dict())


def input_datasets(inputs: tuple[Any, ...]) -> list[dict[str, Any]]:
    """What a run's details list of its datasets (SDK v1's ``inputDatasets``): each one's
    name, version and fingerprint, and how the run consumes it."""
    return [
        {
            "dataset": {
                "name": spec.name,
                "version": spec.version,
                "fingerprint": spec.fingerprint,
                "fileCount": len(spec.files),
            },
            "consumptionDetails": {
                "type": "RunInput",
                "inputName": spec.input_name,
                "mechanism": spec.mode.title(),
            },
        }
        for spec in inputs
        if isinstance(spec, DatasetInputSpec)
    ]


def serialise_arguments(arguments: list[Any]) -> list[str | DataInput]:
    """Arguments as a command line has them: numbers and booleans become strings, data
    references and dataset inputs their spec.

    Raises:
        InvalidArgument: an argument is of another type, a NaN/inf number, or text with a
            NUL character.
    """
    out: list[str | DataInput] = []
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
            out.append(data_reference_spec(value))
        elif hasattr(value, "item") and callable(value.item):  # a numpy scalar
            out.extend(serialise_arguments([value.item()]))
        else:
            raise InvalidArgument(
                f"Argument {i} ({value!r}) is a {type(value).__name__}; arguments must be "
                "strings, numbers, booleans, data references (ds.path('x').as_mount()) or "
                "datasets (dataset.as_mount())."
            )
    return out


def environment_definition(environment: Any) -> EnvironmentDefinition:
    """The environment part of a run definition.

    ``environment`` may be an Environment, an EnvironmentSpec, or None (an environment with
    Runyard only).

    Raises:
        InvalidArgument: ``environment`` is something else.
    """
    from runyard.environments.spec import EnvironmentSpec

    if environment is None:
        return EnvironmentDefinition(spec=EnvironmentSpec().to_dict())
    if isinstance(environment, EnvironmentSpec):
        return EnvironmentDefinition(spec=environment.to_dict())
    to_spec = getattr(environment, "to_spec", None)
    if not callable(to_spec):
        raise InvalidArgument(
            f"environment must be an Environment, got {type(environment).__name__}. Create one "
            "with Environment('name') or Environment.get(ws, 'name')."
        )
    version = getattr(environment, "version", None)
    return EnvironmentDefinition(
        name=getattr(environment, "name", None),
        version=str(version) if version is not None else None,
        spec=to_spec().to_dict(),
        variables=check_environment_variables(getattr(environment, "environment_variables", {})),
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
