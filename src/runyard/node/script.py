"""What the script is started with: its command line (data references resolved to local
paths) and its environment variables (the run context, the environment's variables)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from runyard.artifacts.layout import run_file_key
from runyard.entities.dataset import DatasetInputSpec
from runyard.node import processes
from runyard.resources import ENV_RUN_ID

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore
    from runyard.entities.definition import DataInput, RunDefinition
    from runyard.environments.builder import BuiltEnvironment
    from runyard.resources import WorkspaceResources

#: An argument the executor replaces with a local folder holding the run's files under
#: ``RESUME_FOLDER`` (a resumed HyperDrive child's checkpoints, copied there by the tuning
#: controller); the same path is in ``RESUME_FROM_ENV``. The controller cannot hand the
#: script a path itself: the run's files may live in an object store or behind a server,
#: and the script may run on another machine.
RESUME_FROM_ENV = "RUNYARD_RESUME_FROM"
RESUME_FROM_ARGUMENT = f"${RESUME_FROM_ENV}"
#: The run files folder that ``RESUME_FROM_ARGUMENT`` stands for.
RESUME_FOLDER = "resume-from"


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
    if RESUME_FROM_ARGUMENT in arguments:
        folder = resume_folder(resources.artifacts, run_id, os.path.dirname(workdir))
        env[RESUME_FROM_ENV] = resolved[RESUME_FROM_ARGUMENT] = folder
        say(f"Resume folder {RESUME_FOLDER}/ -> {folder}")
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


def resume_folder(artifacts: ArtifactStore, run_id: str, scratch: str) -> str:
    """A local folder with the files of run ``run_id`` under ``RESUME_FOLDER``: the folder
    itself when the artifacts are on this machine's disk, else a copy downloaded into
    ``scratch`` (the run's scratch folder). Empty when there are none.

    Raises:
        BackendError: a file could not be downloaded.
    """
    prefix = run_file_key(run_id, RESUME_FOLDER)
    local = artifacts.local_path(prefix)
    if local is not None:
        os.makedirs(local, exist_ok=True)
        return local
    folder = os.path.join(scratch, RESUME_FOLDER)
    os.makedirs(folder, exist_ok=True)
    for name in artifacts.list(prefix + "/"):
        target = os.path.join(folder, *name[len(prefix) + 1 :].split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        artifacts.get_file(name, target)
    return folder
