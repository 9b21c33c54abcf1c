"""RunConfiguration, as in SDK v1 (``azureml.core.runconfig``): where and how a script runs.

Only the settings Runyard acts on are kept; SDK v1 code that sets others (Docker, history,
Spark) still runs, as those attributes are accepted and ignored.
"""

from __future__ import annotations

import math
from typing import Any

# SDK v1 imports CondaDependencies and the distributed configurations from here
# (azureml.core.runconfig).
from runyard.core.conda_dependencies import CondaDependencies  # noqa: F401
from runyard.core.distributed import (  # noqa: F401
    MpiConfiguration,
    PyTorchConfiguration,
    TensorflowConfiguration,
)
from runyard.errors import InvalidArgument

#: A run's maximum duration when none is given (30 days, SDK v1's default).
DEFAULT_MAX_RUN_DURATION_S = 30 * 24 * 3600


class RunConfiguration:
    """Settings of a submitted run, usable through ``ScriptRunConfig(run_config=...)``.

    Attributes:
        target: the compute target's name (``"local"`` by default) or a ComputeTarget.
        environment: the Environment (None: an environment with Runyard only).
        node_count: nodes the run asks for (more than one needs a cluster target).
        environment_variables: variables set for the script.
        max_run_duration_seconds: the run fails when it runs longer (None: no limit).
        use_gpu: ask the target for a GPU (a target without one runs the script on the CPU,
            with a warning in the run's log and details).
        framework: the training framework's name (informational: ``Python``, ``TensorFlow``).
    """

    def __init__(
        self,
        script: str | None = None,
        arguments: list[Any] | None = None,
        framework: str | None = None,
        communicator: str | None = None,
        conda_dependencies: Any = None,
        _history_enabled: Any = None,
        _path: Any = None,
        _name: Any = None,
        command: Any = None,
    ) -> None:
        self.script = script
        self.arguments: list[Any] = list(arguments or [])
        self.framework = framework or "Python"
        self.communicator = communicator or "None"
        self.target: Any = "local"
        self.environment: Any = None
        self.node_count = 1
        self.environment_variables: dict[str, str] = {}
        self.max_run_duration_seconds: int | None = None
        self.use_gpu = False
        self.data_references: dict[str, Any] = {}
        if conda_dependencies is not None:
            self._set_conda_dependencies(conda_dependencies)

    def _set_conda_dependencies(self, conda_dependencies: Any) -> None:
        from runyard.core.environment import Environment

        env = Environment("runconfig-environment")
        env.python.conda_dependencies = conda_dependencies
        self.environment = env

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "node_count" and (not isinstance(value, int) or value < 1):
            raise InvalidArgument(f"node_count must be a whole number >= 1, got {value!r}.")
        if name == "max_run_duration_seconds":
            value = check_max_run_duration(value)
        super().__setattr__(name, value)


def check_max_run_duration(value: Any) -> int | None:
    """``max_run_duration_seconds`` as whole seconds; None for no limit.

    Raises:
        InvalidArgument: not a positive, finite number of seconds.
    """
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 1
    ):
        raise InvalidArgument(
            "max_run_duration_seconds must be a positive number of seconds (at least 1), "
            f"or None for no limit; got {value!r}."
        )
    return int(value)

    def __repr__(self) -> str:
        return (
            f"RunConfiguration(target={self.target!r}, node_count={self.node_count}, "
            f"framework={self.framework!r})"
        )
