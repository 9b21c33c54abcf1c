"""Submitting a HyperDriveConfig: ``exp.submit(hdc)`` records the parent run and starts its
controller, and returns a :class:`~runyard.train.hyperdrive.run.HyperDriveRun` at once.

The parent (run type ``hyperdrive``, Queued) keeps v1's tags (``generator_config``,
``primary_metric_config``...), the trial script's run definition with its snapshot (taken
once here, shared by every child) and the initial study state (seed and start time fixed
now). Its controller, a detached process (``python -m runyard.sweep``), does the rest.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from runyard.entities.run import RunErrorCode, RunStatus
from runyard.entities.run_details import RUN_DEFINITION, TUNING_STATE
from runyard.entities.validation import check_display_name, check_key, check_tag_value
from runyard.errors import InvalidArgument, InvalidState, RunyardError
from runyard.train.hyperdrive.exceptions import (
    HyperDriveConfigException,
)
from runyard.tuning.records import TrialRecord, TrialStatus
from runyard.tuning.study import ResumedChild, StudyState

if TYPE_CHECKING:
    from runyard.core.experiment import Experiment
    from runyard.resources import WorkspaceResources
    from runyard.train.hyperdrive.run import HyperDriveRun
    from runyard.train.hyperdrive.runconfig import HyperDriveConfig


def _inherited(config: HyperDriveConfig) -> list[TrialRecord]:
    """The finished trials of the ``resume_from`` runs, for warm start and the policy."""
    from runyard.sweep.ranking import study_of

    trials = []
    for parent in config.resume_from:
        record = parent.workspace.resources.store.get_run(parent.id)
        for trial in study_of(record).trials:
            if not trial.status.active:
                trials.append(
                    TrialRecord(
                        trial.number,
                        trial.params,
                        status=TrialStatus(trial.status),
                        run_id=trial.run_id,
                        reports=trial.reports,
                        source=record.run_id,
                    )
                )
    return trials


def _resumed_children(
    config: HyperDriveConfig, resources: WorkspaceResources
) -> list[ResumedChild]:
    """The ``resume_child_runs`` as the engine takes them: each earlier child's id and the
    values its sweep gave it (the parent's tag named after it, v1's form).

    Raises:
        NotFound: a run id names no run.
        HyperDriveConfigException: a run is still active, is not a HyperDrive child, or
            was tuned over other parameters than this sweep's.
    """
    from runyard.sweep.ranking import hyperparameters_of

    if not config.resume_child_runs:
        return []
    space = set(config.hyperparameter_sampling.parameter_space)
    store = resources.store
    children = []
    for child in config.resume_child_runs:
        run_id = str(getattr(child, "id", child))
        record = store.get_run(run_id)
        if not record.is_terminal:
            raise HyperDriveConfigException(
                f"resume_child_runs run {run_id!r} is {record.status.value}; it must have ended."
            )
        values = None
        if record.parent_run_id is not None:
            values = hyperparameters_of(store.get_run(record.parent_run_id)).get(run_id)
        if values is None:
            raise HyperDriveConfigException(
                f"resume_child_runs run {run_id!r} is not a child of a HyperDrive run (no "
                "hyperparameters were recorded for it)."
            )
        params = json.loads(values)
        if set(params) != space:
            raise HyperDriveConfigException(
                f"resume_child_runs run {run_id!r} was tuned over {sorted(params)}, this "
                f"sweep over {sorted(space)}: resume children of a sweep of the same "
                "parameters."
            )
        children.append(ResumedChild(run_id, params))
    return children


def submit_hyperdrive(
    config: HyperDriveConfig,
    experiment: Experiment,
    tags: dict[str, str] | None = None,
    **kwargs: Any,
) -> HyperDriveRun:
    """Record ``config``'s HyperDrive run in ``experiment`` and start its controller.

    Raises:
        HyperDriveConfigException: a ``resume_child_runs`` run that cannot be resumed.
        NotFound: the source directory, the script or the compute target is missing.
        InvalidArgument: a bad argument (the message says which).
        BackendError: the controller could not be started (the run is then Failed).
    """
    from runyard.artifacts.snapshots import take_snapshot
    from runyard.compute.registry import backend_for
    from runyard.core.experiment import _new_run_id
    from runyard.core.submission import build_definition
    from runyard.sweep.launch import claim_controller, launch_controller
    from runyard.train.hyperdrive.run import HyperDriveRun

    unknown = sorted(set(kwargs) - {"display_name"})
    if unknown:
        raise InvalidArgument(
            f"Experiment.submit() of a HyperDriveConfig got unexpected arguments: "
            f"{', '.join(unknown)}."
        )
    resources = experiment.workspace.resources
    resumed = _resumed_children(config, resources)
    src = config.run_config if config.run_config is not None else None
    if src is None:
        src = config.estimator._to_script_run_config()
    definition, target_record = build_definition(experiment, src)
    backend_for(resources, target_record).close()  # an unknown kind or missing extra: now
    snapshot_id = take_snapshot(
        resources.artifacts,
        definition.source_directory,
        limit_bytes=resources.settings.snapshot_limit_bytes,
    )
    definition = definition.with_snapshot(snapshot_id)
    state = StudyState.new(config.to_tuning_spec(), time.time(), _inherited(config), resumed)
    all_tags = dict(config.parent_tags())
    all_tags.update(
        {check_key("Tag", k): check_tag_value("Tag", k, v) for k, v in (tags or {}).items()}
    )
    properties = {}
    if config.resume_from:
        properties["resume_from"] = ",".join(p.id for p in config.resume_from)
    if resumed:
        properties["resume_child_runs"] = ",".join(child.run_id for child in resumed)
    record = resources.store.create_run(
        experiment.name,
        run_id=_new_run_id(experiment.name),
        status=RunStatus.QUEUED,
        run_type="hyperdrive",
        target=definition.target,
        display_name=check_display_name(kwargs.get("display_name")),
        tags=all_tags,
        properties=properties,
        details={RUN_DEFINITION: definition.to_dict(), TUNING_STATE: state.to_json()},
    )
    try:
        claim = claim_controller(resources, record)
        if claim is None:  # nobody else knows this run yet
            raise InvalidState(f"The first controller of {record.run_id} was claimed already.")
        launch_controller(resources, record.run_id, claim)
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, RunyardError) else f"{type(exc).__name__}: {exc}"
        resources.store.set_run_status(
            record.run_id,
            RunStatus.FAILED,
            error={
                "code": RunErrorCode.LAUNCH_FAILED.value,
                "message": f"The tuning controller could not be started: {reason}",
            },
        )
        raise
    return HyperDriveRun(experiment, record.run_id, hyperdrive_config=config)
