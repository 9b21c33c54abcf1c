"""Compute targets, as in SDK v1 (``azureml.core.compute_target``): where submitted runs go.

``'local'`` (this machine, runs in parallel without a limit) always exists and is not
stored. Named targets are stored in the workspace; each has a *kind* that picks its front
class here and its backend in :mod:`runyard.compute.registry`:

- ``local``: :class:`LocalCompute` — this machine, at most ``max_concurrent_runs`` at once;
- ``cluster``: ``ClusterCompute``/``AmlCompute`` (``runyard.core.compute.cluster``) — Ray.

Front classes for a kind subclass :class:`ComputeTarget`, set ``_kind``, and may override
``_provision()`` (called by :meth:`ComputeTarget.create`) and ``_deprovision()`` (called by
:meth:`ComputeTarget.delete`).
"""

from __future__ import annotations

import builtins
import importlib
import time
from typing import TYPE_CHECKING, Any

from runyard.entities.compute import ComputeTargetRecord
from runyard.entities.validation import check_entity_name
from runyard.errors import AlreadyExists, BackendError, InvalidArgument, NotFound

if TYPE_CHECKING:
    from runyard.compute.backend import ComputeBackend, TargetStatus
    from runyard.core.workspace import Workspace

LOCAL_TARGET = "local"

#: kind -> (module, class) of the front class.
FRONTS: dict[str, tuple[str, str]] = {
    "local": ("runyard.core.compute_target", "LocalCompute"),
    "cluster": ("runyard.core.compute.cluster", "ClusterCompute"),
    "ray": ("runyard.core.compute.cluster", "ClusterCompute"),
}


class ComputeTargetException(NotFound):
    """SDK v1's error for a compute target that does not exist (a ``NotFound``)."""

    code = "not_found"


def get_target_record(workspace: Workspace, name: str) -> ComputeTargetRecord:
    """The record of target ``name`` (``'local'`` is built in).

    Raises:
        ComputeTargetException: no such target; the message lists the known ones.
    """
    if name == LOCAL_TARGET:
        return ComputeTargetRecord(LOCAL_TARGET, "local", {})
    store = workspace.resources.store
    try:
        return store.get_compute_target(name)
    except NotFound:
        known = ", ".join([LOCAL_TARGET, *sorted(r.name for r in store.list_compute_targets())])
        raise ComputeTargetException(
            f"Compute target {name!r} not found in workspace {workspace.name!r}. Known "
            f"targets: {known}. Create it with ComputeTarget.create(ws, {name!r}, "
            "AmlCompute.provisioning_configuration(...)) or "
            "LocalCompute.provisioning_configuration(...)."
        ) from None


def _front_class(kind: str) -> type[ComputeTarget]:
    module_name, class_name = FRONTS.get(kind, ("", ""))
    if not module_name:
        return ComputeTarget
    try:
        cls: type[ComputeTarget] = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        return ComputeTarget  # the kind's front is not installed: the generic one still works
    return cls


class ComputeProvisioningConfiguration:
    """What :meth:`ComputeTarget.create` makes: a kind and its settings (JSON-able).

    Args:
        kind: the target kind (``local``, ``cluster``).
        config: its settings.
    """

    def __init__(self, kind: str, config: dict[str, Any]) -> None:
        self.kind = kind
        self.config = dict(config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, config={self.config!r})"


class ComputeTarget:
    """A compute target. ``ComputeTarget(ws, name)`` returns the target of that name as its
    kind's class (``LocalCompute``, ``AmlCompute``...).

    Raises:
        ComputeTargetException: no target of that name (the message lists the known ones),
            or it is of another kind than the class asked for.
    """

    _kind: str | None = None
    _type_name = "ComputeTarget"

    def __new__(cls, workspace: Workspace | None = None, name: str | None = None) -> Any:
        if workspace is None or name is None:
            raise InvalidArgument(
                "ComputeTarget needs a workspace and a name: ComputeTarget(ws, 'cpu')."
            )
        record = get_target_record(workspace, name)
        target_cls = _front_class(record.kind)
        if not issubclass(target_cls, cls):
            raise ComputeTargetException(
                f"Compute target {name!r} is a {target_cls._type_name} target, not a "
                f"{cls._type_name}; get it with ComputeTarget(ws, {name!r})."
            )
        return target_cls._from_record(workspace, record)

    def __init__(self, workspace: Workspace | None = None, name: str | None = None) -> None:
        """Set up by ``__new__``; nothing to do here."""

    @classmethod
    def _from_record(cls, workspace: Workspace, record: ComputeTargetRecord) -> Any:
        target = object.__new__(cls)
        target._workspace = workspace
        target._record = record
        return target

    _workspace: Workspace
    _record: ComputeTargetRecord

    # -- what it is -------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._record.name

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def type(self) -> str:
        """SDK v1's target type name: ``Local``, ``AmlCompute``..."""
        return self._type_name

    @property
    def kind(self) -> str:
        return self._record.kind

    @property
    def config(self) -> dict[str, Any]:
        """The target's stored settings (what its provisioning configuration held)."""
        return dict(self._record.config)

    @property
    def provisioning_state(self) -> str:
        """``Succeeded``, ``Creating``, ``Failed`` or ``Deleting``."""
        return self.get_status().state

    def _backend(self) -> ComputeBackend:
        from runyard.compute.registry import backend_for

        return backend_for(self._workspace.resources, self._record)

    # -- creating, listing, deleting --------------------------------------------------
    @staticmethod
    def create(
        workspace: Workspace,
        name: str,
        provisioning_configuration: ComputeProvisioningConfiguration,
    ) -> Any:
        """Create the target ``name``; creating it again with the same settings returns it.

        Raises:
            InvalidArgument: a bad name, ``'local'`` (built in), or not a provisioning
                configuration.
            AlreadyExists: a target of that name exists with other settings.
        """
        check_entity_name("Compute target", name)
        if name == LOCAL_TARGET:
            raise InvalidArgument(
                "'local' is the built-in target (this machine); give your target another name."
            )
        config = provisioning_configuration
        if not isinstance(config, ComputeProvisioningConfiguration):
            raise InvalidArgument(
                "provisioning_configuration must come from "
                "AmlCompute.provisioning_configuration(...) or "
                f"LocalCompute.provisioning_configuration(...), got {type(config).__name__}."
            )
        store = workspace.resources.store
        record = ComputeTargetRecord(name, config.kind, dict(config.config), time.time())
        try:
            store.save_compute_target(record)
        except AlreadyExists:
            existing = store.get_compute_target(name)
            # Only the settings given are compared: provisioning adds what it started.
            given = {k: existing.config.get(k) for k in record.config}
            if existing.kind != record.kind or given != record.config:
                raise AlreadyExists(
                    f"Compute target {name!r} exists already with other settings "
                    f"({existing.kind}: {existing.config}). Delete it first with "
                    f"ComputeTarget(ws, {name!r}).delete(), or choose another name."
                ) from None
            return ComputeTarget(workspace, name)
        target = ComputeTarget(workspace, name)
        target._provision()
        return target

    @staticmethod
    def list(workspace: Workspace) -> builtins.list[ComputeTarget]:
        """Every target of the workspace, ``'local'`` first."""
        targets = [ComputeTarget(workspace, LOCAL_TARGET)]
        for record in workspace.resources.store.list_compute_targets():
            targets.append(_front_class(record.kind)._from_record(workspace, record))
        return targets

    def delete(self) -> None:
        """Delete the target (its running runs are not stopped).

        Raises:
            InvalidArgument: the built-in ``'local'`` target cannot be deleted.
        """
        if self.name == LOCAL_TARGET:
            raise InvalidArgument("The built-in 'local' target cannot be deleted.")
        self._deprovision()
        self._workspace.resources.store.delete_compute_target(self.name)

    def detach(self) -> None:
        """Same as :meth:`delete`."""
        self.delete()

    def _provision(self) -> None:
        """Called once by :meth:`create` after the target is stored: the backend brings the
        target's compute up; on failure the target is removed again, so nothing half-made
        is left."""
        backend = self._backend()
        try:
            self._record = backend.provision()
        except BaseException:
            self._workspace.resources.store.delete_compute_target(self.name)
            raise
        finally:
            backend.close()

    def _deprovision(self) -> None:
        """Called by :meth:`delete` before the target is removed from the store: the
        backend stops the target's runs and what provisioning started."""
        backend = self._backend()
        try:
            backend.deprovision()
        finally:
            backend.close()

    @property
    def address(self) -> str | None:
        """Where the target's compute answers (a cluster's job API URL), if anywhere."""
        backend = self._backend()
        try:
            return backend.address
        finally:
            backend.close()

    # -- state ------------------------------------------------------------------------
    def get_status(self) -> TargetStatus:
        """The target's state: ``state``, ``nodes_busy``, ``nodes_idle``, ``queued_runs``,
        ``running_runs``."""
        backend = self._backend()
        try:
            return backend.status()
        finally:
            backend.close()

    def wait_for_completion(
        self,
        show_output: bool = False,
        min_node_count: int | None = None,
        timeout_in_minutes: float = 25,
        is_delete_operation: bool = False,
    ) -> None:
        """Wait until the target is ready (and has ``min_node_count`` nodes).

        Raises:
            BackendError: provisioning failed, or did not finish in time.
        """
        deadline = time.monotonic() + timeout_in_minutes * 60
        last = None
        while True:
            status = self.get_status()
            if show_output and status.state != last:
                print(status.state, flush=True)
                last = status.state
            nodes = status.nodes_busy + status.nodes_idle
            if status.state == "Succeeded" and (min_node_count is None or nodes >= min_node_count):
                if show_output:
                    print(f"{self.type} wait for completion finished", flush=True)
                return
            if status.state == "Failed":
                reason = status.details.get("error") or "see the target's details"
                raise BackendError(f"Compute target {self.name!r} failed to provision: {reason}")
            if time.monotonic() > deadline:
                raise BackendError(
                    f"Compute target {self.name!r} was not ready after {timeout_in_minutes} "
                    f"minutes (state {status.state}, {nodes} nodes)."
                )
            time.sleep(1.0)

    def get(self) -> dict[str, Any]:
        """The target's stored settings."""
        return {"name": self.name, "kind": self.kind, "type": self.type, **self._record.config}

    def serialize(self) -> dict[str, Any]:
        return self.get()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComputeTarget) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, kind={self.kind!r})"


class LocalCompute(ComputeTarget):
    """This machine. The built-in ``'local'`` target runs any number of runs at once; a named
    local target can run at most ``max_concurrent_runs`` (the others wait, Queued)."""

    _kind = "local"
    _type_name = "Local"

    @staticmethod
    def provisioning_configuration(
        max_concurrent_runs: int | None = None,
    ) -> ComputeProvisioningConfiguration:
        """Settings of a named local target.

        Args:
            max_concurrent_runs: how many runs may run at once (None: no limit).

        Raises:
            InvalidArgument: not a whole number >= 1.
        """
        if max_concurrent_runs is not None and (
            not isinstance(max_concurrent_runs, int)
            or isinstance(max_concurrent_runs, bool)
            or max_concurrent_runs < 1
        ):
            raise InvalidArgument(
                f"max_concurrent_runs must be a whole number >= 1 (or None for no limit), "
                f"got {max_concurrent_runs!r}."
            )
        return ComputeProvisioningConfiguration(
            "local", {"max_concurrent_runs": max_concurrent_runs}
        )

    @property
    def max_concurrent_runs(self) -> int | None:
        value = self._record.config.get("max_concurrent_runs")
        return int(value) if value else None
