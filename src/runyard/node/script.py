"""What the script is started with: its command line (data references resolved to local
paths) and its environment variables (the run context, the environment's variables)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from runyard.entities.dataset import DatasetInputSpec
from runyard.node import processes
from runyard.resources import ENV_RUN_ID

if TYPE_CHECKING:
    from runyard.entities.definition import DataInput, RunDefinition
    from runyard.environments.builder import BuiltEnvironment
    from runyard.resources import WorkspaceResources


def script_command(
    resources: WorkspaceResources,
    run_id: str,
    definition: RunDefinition,
    built: BuiltEnvironment,
    workdir: str,
    base_env: dict[str, str],
    say: Callable[[str], None],
) -> tuple[list[str], dict[str, str], list[str]]:
    """The script's command, its environment variables and the warnings for its log.

    Data references and dataset inputs in the arguments become local paths; each one
    (arguments and inputs) also sets ``RUNYARD_DATAREFERENCE_<name>`` and
    ``AZUREML_DATAREFERENCE_<name>``, and an argument that is ``str(ref)``
    (``$RUNYARD_DATAREFERENCE_<name>``) is replaced by the path too.

    Raises:
        NotFound, InvalidArgument, BackendError: a data reference cannot be resolved.
    """
    env = built.process_env(base_env)
    env.update(definition.environment.variables)
    env.update(definition.environment_variables)
    resolved: dict[str, str] = {}
    arguments: list[str] = []
    for value in definition.arguments:
        if isinstance(value, str):
            arguments.append(value)
        else:
            arguments.append(_resolve(resources, value, workdir, env, resolved, say))
    for ref in definition.inputs:
        _resolve(resources, ref, workdir, env, resolved, say)
    arguments = [resolved.get(a, a) for a in arguments]
    env[ENV_RUN_ID] = run_id
    env["AZUREML_RUN_ID"] = run_id
    env.update(resources.node_env(run_id))
    env.update(resources.settings.to_env())
    env["PYTHONUNBUFFERED"] = "1"  # the log streams as the script prints
    warnings = list(definition.notes)
    if definition.use_gpu and processes.gpu_count() == 0:
        warnings.append(
            f"use_gpu=True, but {processes.hostname()} (target {definition.target!r}) has no "
            "GPU: the script runs on the CPU."
        )
    script = os.path.join(workdir, *definition.script.split("/"))
    return [built.python, script, *arguments], env, warnings


def _resolve(
    resources: WorkspaceResources,
    ref: DataInput,
    workdir: str,
    env: dict[str, str],
    resolved: dict[str, str],
    say: Callable[[str], None],
) -> str:
    cache_dir = os.path.join(resources.settings.scratch_dir, ".data-cache")
    if isinstance(ref, DatasetInputSpec):
        from runyard.node.dataset import resolve_dataset

        path = resolve_dataset(resources, ref, cache_dir, working_dir=workdir)
        named = f"{ref.name} version {ref.version}" if ref.name else "(not registered)"
        what = f"Dataset {ref.input_name} {named}, fingerprint {ref.fingerprint[:12]}"
    else:
        from runyard.node.data import resolve_data_reference

        path = resolve_data_reference(resources, ref, cache_dir, working_dir=workdir)
        what = f"Data reference {ref.datastore_name}/{ref.path_on_datastore or ''}"
    for variable in (ref.env_var, f"AZUREML_DATAREFERENCE_{ref.data_reference_name}"):
        env[variable] = path
        resolved[f"${variable}"] = path
    say(f"{what} ({ref.mode}) -> {path}")
    return path
