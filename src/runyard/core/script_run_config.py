"""ScriptRunConfig, as in SDK v1: a script, its arguments, where it runs and with what.

Example::

    from runyard.core import Environment, Experiment, ScriptRunConfig

    config = ScriptRunConfig(source_directory="./train", script="train.py",
                             arguments=["--data", ds.path("mnist").as_mount(), "--lr", 0.01],
                             compute_target="local", environment=env)
    run = Experiment(ws, "demo").submit(config)
    run.wait_for_completion(show_output=True)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runyard.entities.definition import DistributedSpec

from runyard.core.runconfig import RunConfiguration
from runyard.errors import InvalidArgument


class ScriptRunConfig:
    """What to run: ``script`` from ``source_directory`` with ``arguments``.

    Args:
        source_directory: the folder snapshotted with the run; the script runs in a copy of
            it (files ignored by ``.amlignore``/``.gitignore`` left out).
        script: the entry script, relative to ``source_directory``.
        arguments: command-line arguments: strings, numbers, booleans, and data references
            (``ds.path('x').as_mount()``), which the run sees as local paths.
        run_config: a :class:`RunConfiguration` for the other settings.
        compute_target: a ComputeTarget or a target's name (default ``"local"``).
        environment: the Environment (default: one with Runyard only).
        distributed_job_config: kept for SDK v1 code; several nodes need a cluster target.
        max_run_duration_seconds: the run fails if it runs longer.
        command: not supported (give ``script`` and ``arguments``).

    Raises:
        InvalidArgument: an argument has the wrong type (e.g. ``arguments`` given as one
            string).
    """

    def __init__(
        self,
        source_directory: str | os.PathLike[str],
        script: str | None = None,
        arguments: list[Any] | tuple[Any, ...] | None = None,
        run_config: RunConfiguration | None = None,
        _telemetry_values: Any = None,
        compute_target: Any = None,
        environment: Any = None,
        distributed_job_config: Any = None,
        resume_from: Any = None,
        max_run_duration_seconds: int | None = None,
        command: Any = None,
        docker_runtime_config: Any = None,
    ) -> None:
        if not isinstance(source_directory, (str, os.PathLike)):
            raise InvalidArgument(
                f"source_directory must be a folder path, got {type(source_directory).__name__}."
            )
        if command is not None:
            raise InvalidArgument(
                "ScriptRunConfig(command=...) is not supported; give script='train.py' and "
                "arguments=[...] instead."
            )
        self.source_directory = os.fspath(source_directory)
        self.run_config = run_config if run_config is not None else RunConfiguration()
        if not isinstance(self.run_config, RunConfiguration):
            raise InvalidArgument(
                f"run_config must be a RunConfiguration, got {type(run_config).__name__}."
            )
        self.script = script if script is not None else self.run_config.script
        if self.script is not None and not isinstance(self.script, str):
            raise InvalidArgument(f"script must be a file name, got {self.script!r}.")
        if arguments is None:
            arguments = self.run_config.arguments
        self.arguments = _check_arguments(arguments)
        if compute_target is not None:
            self.run_config.target = compute_target
        if environment is not None:
            self.run_config.environment = environment
        if max_run_duration_seconds is not None:  # checked by RunConfiguration
            self.run_config.max_run_duration_seconds = max_run_duration_seconds
        self.distributed_job_config = distributed_job_config
        node_count = getattr(distributed_job_config, "node_count", None)
        if isinstance(node_count, int) and node_count > 1:
            self.run_config.node_count = node_count
        # Set by estimators: data references that are not arguments, the framework's
        # version and distribution, and notes for the run's log.
        self._inputs: list[Any] = []
        self._framework_version: str | None = None
        self._distributed: DistributedSpec | None = None
        if distributed_job_config is not None:
            from runyard.core.distributed import describe_distribution

            self._distributed = describe_distribution(
                distributed_job_config, self.run_config.node_count
            )
        self._notes: list[str] = []

    @property
    def compute_target(self) -> Any:
        return self.run_config.target

    @property
    def environment(self) -> Any:
        return self.run_config.environment

    def __repr__(self) -> str:
        return (
            f"ScriptRunConfig(source_directory={self.source_directory!r}, "
            f"script={self.script!r}, arguments={self.arguments!r})"
        )


def _check_arguments(arguments: Any) -> list[Any]:
    if isinstance(arguments, (str, bytes)):
        raise InvalidArgument(
            f"arguments must be a list, got the string {arguments!r}; "
            f"write arguments={arguments.split()!r}."
        )
    if isinstance(arguments, Mapping):
        raise InvalidArgument(
            "arguments must be a list such as ['--lr', 0.01]; a dict of name -> value is "
            "what Estimator(script_params=...) takes."
        )
    try:
        return list(arguments)
    except TypeError:
        raise InvalidArgument(
            f"arguments must be a list, got {type(arguments).__name__}."
        ) from None
