"""The errors every TrackingStore adapter raises, worded once so that all adapters say
the same thing (the contract tests match on these words)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from runyard.entities import MetricKind, RunStatus
from runyard.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound

#: How many names an error message lists before it says "...".
LISTED = 20


def listing(names: Sequence[Any]) -> str:
    """At most :data:`LISTED` of ``names`` (give one more to get the "..."), or "none"."""
    shown = ", ".join(map(str, names[:LISTED]))
    return shown + (", ..." if len(names) > LISTED else "") or "none"


def experiment_not_found(name: str, known: Sequence[str]) -> NotFound:
    return NotFound(
        f"Experiment {name!r} not found. Known experiments: {listing(known)}. "
        "Create it with Experiment(workspace, name)."
    )


def run_not_found(run_id: str) -> NotFound:
    return NotFound(f"Run {run_id!r} not found in this workspace.")


def parent_not_found(parent_run_id: str) -> NotFound:
    return NotFound(f"Parent run {parent_run_id!r} not found in this workspace.")


def run_id_taken(run_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"Run id {run_id!r} is taken already; use another id (or Run.get to open it)."
    )


def unexpected_status(
    run_id: str, current: RunStatus, wanted: Iterable[RunStatus], status: RunStatus
) -> InvalidState:
    return InvalidState(
        f"Run {run_id} is {current}, not {' or '.join(map(str, wanted))}; "
        f"it was not moved to {status}."
    )


def forbidden_transition(
    run_id: str, current: RunStatus, status: RunStatus, allowed: Sequence[str]
) -> InvalidState:
    return InvalidState(
        f"Run {run_id} is {current}; it cannot move to {status}. "
        f"Allowed from {current}: {', '.join(allowed) or 'none'}."
    )


def property_set(name: str, what: str, existing: str, value: str) -> InvalidState:
    return InvalidState(
        f"Property {name!r} of {what} is {existing!r}; it cannot change to "
        f"{value!r}. Properties are set once; use a tag for a value that changes."
    )


def metric_runs_not_found(missing: Sequence[str]) -> NotFound:
    return NotFound(
        f"Cannot log metrics to run(s) {', '.join(map(repr, missing[:10]))}: not found in "
        "this workspace. Nothing of this batch was written."
    )


def chart_runs_not_found(name: str, missing: Sequence[str]) -> NotFound:
    return NotFound(
        f"Cannot read metric {name!r} of run(s) {', '.join(map(repr, missing[:10]))}: not "
        "found in this workspace. Pass the run ids a run search or run listing returned."
    )


def unknown_metric_kind(run_id: str, name: str, kind: object) -> InvalidArgument:
    kinds = sorted(k.value for k in MetricKind)
    return InvalidArgument(
        f"Metric {name!r} of run {run_id!r} has kind {kind!r}; the kinds are {', '.join(kinds)}."
    )


def bad_metric_value(
    run_id: str, name: str, value: object, kind: object, exc: Exception
) -> InvalidArgument:
    return InvalidArgument(
        f"Metric {name!r} of run {run_id!r} has value {value!r}, "
        f"which a {MetricKind(kind).value} metric cannot keep: {exc}."
    )


def model_not_found(name: str, version: int | None, versions: Sequence[int]) -> NotFound:
    """``versions``: the name's versions, newest first (one more than listed is enough)."""
    if not versions:
        return NotFound(
            f"Model {name!r} not found in this workspace. Register it with "
            "Model.register(workspace, model_path, model_name)."
        )
    return NotFound(f"Model {name!r} has no version {version}. Its versions: {listing(versions)}.")


def datastore_exists(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"Datastore {name!r} is registered already; pass overwrite=True to replace it."
    )


def no_default_datastore(known: Sequence[str]) -> NotFound:
    return NotFound(
        "This workspace has no default datastore. Registered datastores: "
        f"{listing(known)}. Make one the default with datastore.set_as_default()."
    )


def datastore_not_found(name: str, known: Sequence[str]) -> NotFound:
    return NotFound(f"Datastore {name!r} not found. Registered datastores: {listing(known)}.")


def compute_target_exists(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"Compute target {name!r} exists already; use ComputeTarget(workspace, "
        f"{name!r}) to get it, or delete it first."
    )


def compute_target_not_found(name: str, known: Sequence[str]) -> NotFound:
    return NotFound(
        f"Compute target {name!r} not found in this workspace. Known targets: "
        f"{listing(known)}. Create it with ComputeTarget.create(...)."
    )


def dataset_not_found(name: str, version: int | None, known: Sequence[str]) -> NotFound:
    what = f"Dataset {name!r}" + ("" if version is None else f" version {version}")
    return NotFound(
        f"{what} not found. Registered datasets: {listing(known)}. Register one with "
        "dataset.register(ws, name)."
    )


def dataset_version_differs(name: str, latest: int) -> AlreadyExists:
    return AlreadyExists(
        f"Dataset {name!r} is registered already (latest version {latest}) with other files "
        "or settings. Pass create_new_version=True to register them as a new version, or "
        "choose another name."
    )


def environment_not_found(name: str, version: int | None, known: Sequence[str]) -> NotFound:
    what = f"Environment {name!r}" + ("" if version is None else f" version {version}")
    return NotFound(f"{what} not found. Registered environments: {listing(known)}.")
