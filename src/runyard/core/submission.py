"""Submitting a run: validate the configuration, snapshot the source, record the run as
Queued with its definition, and hand it to the target's backend. Returns at once; the run's
executor carries it from there (see ``runyard.node.executor``)."""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Any

from runyard.core.definition import (
    check_environment_variables,
    data_reference_spec,
    environment_definition,
    input_datasets,
    serialise_arguments,
)
from runyard.entities.definition import ResourceRequest, RunDefinition
from runyard.entities.run import RunErrorCode, RunStatus
from runyard.entities.run_details import RUN_DEFINITION
from runyard.entities.validation import check_display_name, check_key, check_tag_value
from runyard.errors import InvalidArgument, NotFound, RunyardError

if TYPE_CHECKING:
    from runyard.core.experiment import Experiment
    from runyard.core.run import Run
    from runyard.core.script_run_config import ScriptRunConfig


def _script_run_config(config: Any) -> ScriptRunConfig:
    from runyard.core.script_run_config import ScriptRunConfig

    if isinstance(config, ScriptRunConfig):
        return config
    to_src = getattr(config, "_to_script_run_config", None)
    if callable(to_src):  # an Estimator
        result: ScriptRunConfig = to_src()
        return result
    raise InvalidArgument(
        f"Experiment.submit() takes a ScriptRunConfig, an Estimator or a HyperDriveConfig, "
        f"got {type(config).__name__}."
    )


def _check_script(config: ScriptRunConfig) -> tuple[str, str]:
    """The source directory (absolute) and the script (relative POSIX path)."""
    source = os.path.abspath(config.source_directory)
    if not os.path.isdir(source):
        raise NotFound(
            f"source_directory {config.source_directory!r} does not exist or is not a folder."
        )
    script = config.script
    if not script:
        raise InvalidArgument("No script to run: give ScriptRunConfig(script='train.py').")
    if os.path.isabs(script):
        try:
            script = os.path.relpath(script, source)
        except ValueError:
            script = "../"  # another drive: refused below
    script = script.replace(os.sep, "/")
    normal = posixpath.normpath(script)
    if normal.startswith("../") or normal == "..":
        raise InvalidArgument(
            f"The script {config.script!r} is outside source_directory {source!r}; only the "
            "source directory is sent with the run. Move the script into it."
        )
    if not os.path.isfile(os.path.join(source, *normal.split("/"))):
        here = sorted(f for f in os.listdir(source) if f.endswith(".py"))[:10]
        raise NotFound(
            f"The entry script {normal!r} does not exist in source_directory {source!r}. "
            f"Python files there: {', '.join(here) or 'none'}."
        )
    return source, normal


def _target_name(target: Any) -> str:
    if target is None:
        return "local"
    if isinstance(target, str):
        return target
    name = getattr(target, "name", None)
    if isinstance(name, str):
        return name
    raise InvalidArgument(
        f"compute_target must be a ComputeTarget or a target's name, got {type(target).__name__}."
    )


def build_definition(experiment: Experiment, config: ScriptRunConfig) -> tuple[RunDefinition, Any]:
    """Check ``config`` and turn it into a run definition (without the snapshot).

    Returns:
        The definition and the target's record.

    Raises:
        NotFound: the source directory, the script or the target does not exist.
        InvalidArgument: a bad argument, environment, variable or node count.
    """
    from runyard.core.compute_target import get_target_record

    source, script = _check_script(config)
    rc = config.run_config
    arguments = serialise_arguments(config.arguments)
    target_name = _target_name(rc.target)
    record = get_target_record(experiment.workspace, target_name)
    node_count = int(rc.node_count or 1)
    if node_count > 1 and record.kind == "local":
        raise InvalidArgument(
            f"The run asks for {node_count} nodes, but target {target_name!r} is this one "
            "machine. Use a cluster target (ClusterCompute/AmlCompute) or node_count=1."
        )
    use_gpu = bool(getattr(rc, "use_gpu", False))
    resources = ResourceRequest(cpus=1.0, gpus=1 if use_gpu else 0, node_count=node_count)
    limit = rc.max_run_duration_seconds
    definition = RunDefinition(
        script=script,
        source_directory=source,
        target=target_name,
        arguments=tuple(arguments),
        environment=environment_definition(rc.environment),
        environment_variables=check_environment_variables(rc.environment_variables),
        inputs=tuple(data_reference_spec(ref) for ref in config._inputs),
        resources=resources,
        use_gpu=use_gpu,
        max_run_duration_seconds=float(limit) if limit is not None else None,
        framework=str(getattr(rc, "framework", "Python") or "Python"),
        framework_version=config._framework_version,
        distributed=config._distributed,
        notes=tuple(str(n) for n in config._notes),
    )
    return definition, record


def submit(
    experiment: Experiment, config: Any, tags: dict[str, str] | None = None, **kwargs: Any
) -> Run:
    """Submit ``config`` to ``experiment``: the run is Queued when this returns and goes on
    after this process exits.

    Args:
        experiment: the experiment the run belongs to.
        config: a ScriptRunConfig, an Estimator, or a configuration with its own
            ``_submit(experiment, tags=..., **kwargs)`` (HyperDriveConfig).
        tags: tags to set on the run.
        parent_run_id: (keyword) make the run a child of this run (HyperDrive trials).
        display_name: (keyword) the run's display name.

    Raises:
        NotFound: the source directory, the entry script or the compute target is missing.
        InvalidArgument: an argument cannot be passed on a command line, the source is over
            the snapshot size limit, or another setting is wrong (the message says which).
        BackendError: the backend could not start the run (the run is then Failed).
    """
    own_submit = getattr(config, "_submit", None)
    if callable(own_submit):
        run: Run = own_submit(experiment, tags=tags, **kwargs)
        return run
    from runyard.artifacts.snapshots import take_snapshot
    from runyard.compute.registry import backend_for
    from runyard.core.experiment import _new_run_id
    from runyard.core.run import Run

    unknown = sorted(set(kwargs) - {"parent_run_id", "display_name"})
    if unknown:
        raise InvalidArgument(
            f"Experiment.submit() got unexpected arguments: {', '.join(unknown)}."
        )
    src = _script_run_config(config)
    definition, target_record = build_definition(experiment, src)
    checked_tags = {
        check_key("Tag", k): check_tag_value("Tag", k, v) for k, v in (tags or {}).items()
    }
    workspace = experiment.workspace
    backend = backend_for(workspace.resources, target_record)
    resources = workspace.resources
    snapshot_id = take_snapshot(
        resources.artifacts,
        definition.source_directory,
        limit_bytes=resources.settings.snapshot_limit_bytes,
    )
    definition = definition.with_snapshot(snapshot_id)
    record = resources.store.create_run(
        experiment.name,
        run_id=_new_run_id(experiment.name),
        status=RunStatus.QUEUED,
        run_type="submitted",
        target=definition.target,
        parent_run_id=kwargs.get("parent_run_id"),
        display_name=check_display_name(kwargs.get("display_name")),
        tags=checked_tags,
        details={
            RUN_DEFINITION: definition.to_dict(),
            "inputDatasets": input_datasets(definition.data_references),
        },
    )
    try:
        backend.launch(record.run_id, definition)
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, RunyardError) else f"{type(exc).__name__}: {exc}"
        workspace.resources.store.set_run_status(
            record.run_id,
            RunStatus.FAILED,
            error={
                "code": RunErrorCode.LAUNCH_FAILED.value,
                "message": f"The run could not be started: {reason}",
            },
        )
        raise
    finally:
        backend.close()
    return Run._from_record(workspace, record, experiment=experiment)


def request_cancel(run: Run) -> None:
    """Make the run's backend stop its executor and process tree (the run is
    CancelRequested already; the executor marks it Canceled)."""
    from runyard.compute.registry import backend_for
    from runyard.core.compute_target import get_target_record

    record = run.workspace.resources.store.get_run(run.id)
    try:
        target = get_target_record(run.workspace, record.target or "local")
    except NotFound:  # the target was deleted: the executor still sees CancelRequested
        return
    backend = backend_for(run.workspace.resources, target)
    try:
        backend.cancel(run.id)
    finally:
        backend.close()
