"""What the script is started with: its command line (data references resolved to local
paths) and its environment variables (the run context, the environment's variables)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from runyard.entities.data_reference import DataReferenceSpec
from runyard.node import processes
from runyard.resources import ENV_RUN_ID, ENV_WORKSPACE

if TYPE_CHECKING:
    from runyard.entities.definition import RunDefinition
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

    Data references in the arguments become local paths; each reference (arguments and
    inputs) also sets ``RUNYARD_DATAREFERENCE_<name>`` and ``AZUREML_DATAREFERENCE_<name>``,
    and an argument that is ``str(ref)`` (``$RUNYARD_DATAREFERENCE_<name>``) is replaced by
    the path too.

    Raises:
        NotFound, InvalidArgument, BackendError: a data reference cannot be resolved.
    """
    env = built.process_env(base_env)
    env.update(definition.environment.variables)
    env.update(definition.environment_variables)
    resolved: dict[str, str] = {}
    arguments: list[str] = []
    for value in definition.arguments:
        if isinstance(value, DataReferenceSpec):
            arguments.append(_resolve(resources, value, workdir, env, resolved, say))
        else:
            arguments.append(value)
    for ref in definition.inputs:
        _resolve(resources, ref, workdir, env, resolved, say)
    arguments = [resolved.get(a, a) for a in arguments]
    env[ENV_RUN_ID] = run_id
    env["AZUREML_RUN_ID"] = run_id
    env[ENV_WORKSPACE] = resources.config.to_json()
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
    ref: DataReferenceSpec,
    workdir: str,
    env: dict[str, str],
    resolved: dict[str, str],
    say: Callable[[str], None],
) -> str:
    from runyard.node.data import resolve_data_reference

    cache_dir = os.path.join(resources.settings.scratch_dir, ".data-cache")
    path = resolve_data_reference(resources, ref, cache_dir, working_dir=workdir)
    for variable in (ref.env_var, f"AZUREML_DATAREFERENCE_{ref.data_reference_name}"):
        env[variable] = path
        resolved[f"${variable}"] = path
    where = ref.path_on_datastore or ""
    say(f"Data reference {ref.datastore_name}/{where} ({ref.mode}) -> {path}")
    return path
