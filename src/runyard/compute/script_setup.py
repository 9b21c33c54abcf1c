"""What the script is started with: its command line (data references resolved to local
paths) and its environment variables (the run context, the environment's variables)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runyard.compute import node
from runyard.core.run import ENV_RUN_ID, ENV_WORKSPACE

if TYPE_CHECKING:
    from runyard.core.workspace import Workspace
    from runyard.environments.builder import BuiltEnvironment


def script_command(
    workspace: Workspace,
    run_id: str,
    definition: dict[str, Any],
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
    from runyard.core.data_reference import is_data_reference_dict

    env = built.process_env(base_env)
    env.update((definition.get("environment") or {}).get("environmentVariables") or {})
    env.update(definition.get("environmentVariables") or {})
    resolved: dict[str, str] = {}
    arguments: list[str] = []
    for value in definition.get("arguments") or []:
        if is_data_reference_dict(value):
            arguments.append(_resolve(workspace, value, workdir, env, resolved, say))
        else:
            arguments.append(str(value))
    for ref in definition.get("inputs") or []:
        _resolve(workspace, ref, workdir, env, resolved, say)
    arguments = [resolved.get(a, a) for a in arguments]
    env[ENV_RUN_ID] = run_id
    env["AZUREML_RUN_ID"] = run_id
    env[ENV_WORKSPACE] = workspace.config.to_json()
    env["PYTHONUNBUFFERED"] = "1"  # the log streams as the script prints
    warnings = [str(n) for n in definition.get("notes") or []]
    if definition.get("useGpu") and node.gpu_count() == 0:
        warnings.append(
            f"use_gpu=True, but {node.hostname()} (target "
            f"{definition.get('target', 'local')!r}) has no GPU: the script runs on the CPU."
        )
    script = os.path.join(workdir, *definition["script"].split("/"))
    return [built.python, script, *arguments], env, warnings


def _resolve(
    workspace: Workspace,
    ref: dict[str, Any],
    workdir: str,
    env: dict[str, str],
    resolved: dict[str, str],
    say: Callable[[str], None],
) -> str:
    from runyard.core.data_reference import env_var_name, resolve_data_reference

    cache_dir = os.path.join(node.scratch_root(), ".data-cache")
    path = resolve_data_reference(workspace, ref, cache_dir, working_dir=workdir)
    name = str(ref.get("data_reference_name") or "")
    if name:
        for variable in (env_var_name(name), f"AZUREML_DATAREFERENCE_{name}"):
            env[variable] = path
            resolved[f"${variable}"] = path
    where = ref.get("path_on_datastore") or ""
    say(f"Data reference {ref.get('datastore_name')}/{where} ({ref.get('mode')}) -> {path}")
    return path
