"""Estimator, as in SDK v1 (``azureml.train.estimator``): a training script with its packages,
its parameters and where it runs, in one object.

Example (the walkthrough's form)::

    est = Estimator(source_directory="./train", entry_script="train.py",
                    script_params={"--data-folder": ds.path("mnist").as_mount(), "--lr": 0.01},
                    compute_target="local", pip_packages=["scikit-learn"])
    run = exp.submit(est)

Docker settings (``use_docker``, ``custom_docker_image``...) are accepted: Runyard runs
scripts in cached virtual environments, and says so in the run's log when one is given.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from runyard.errors import InvalidArgument

_DOCKER_SETTINGS = (
    "custom_docker_base_image",
    "custom_docker_image",
    "image_registry_details",
    "shm_size",
)


class Estimator:
    """A training job: ``entry_script`` from ``source_directory`` with ``script_params``.

    Args:
        source_directory: the folder sent with the run.
        entry_script: the script to run, relative to ``source_directory``.
        script_params: command-line parameters as ``{"--name": value}``; a value of None
            or ``""`` makes a flag without a value; data references become local paths.
        compute_target: a ComputeTarget or a target's name (default ``"local"``).
        pip_packages: packages to install from PyPI.
        conda_packages: conda packages, installed from PyPI under the same name.
        use_gpu: ask the target for a GPU (a target without one runs on the CPU, with a
            warning in the run's log).
        environment_definition: an Environment to use instead of the package arguments.
        inputs: data references the script finds through the environment variables
            ``RUNYARD_DATAREFERENCE_<name>`` (and ``AZUREML_DATAREFERENCE_<name>``).
        node_count: nodes (more than one needs a cluster target).
        distributed_training: SDK v1's MPI/ParameterServer/TensorflowConfiguration.
        user_managed: use the current interpreter as it is (nothing installed).
        pip_requirements_file_path: a requirements file to install.
        conda_dependencies_file_path: a conda environment file whose packages to install.
        environment_variables: variables set for the script.
        max_run_duration_seconds: the run fails if it runs longer.

    Raises:
        InvalidArgument: a parameter has the wrong type, or package arguments are given
            together with ``environment_definition``.
    """

    _framework = "Python"
    #: Other distributions of a framework package: listing one replaces the default.
    _variants: dict[str, tuple[str, ...]] = {}

    def __init__(
        self,
        source_directory: str | os.PathLike[str],
        entry_script: str | None = None,
        script_params: Mapping[str, Any] | None = None,
        compute_target: Any = None,
        pip_packages: Iterable[str] | None = None,
        conda_packages: Iterable[str] | None = None,
        use_gpu: bool = False,
        environment_definition: Any = None,
        inputs: Iterable[Any] | None = None,
        node_count: int = 1,
        distributed_training: Any = None,
        *,
        vm_size: str | None = None,
        vm_priority: str | None = None,
        process_count_per_node: int = 1,
        distributed_backend: str | None = None,
        use_docker: bool = True,
        user_managed: bool = False,
        conda_dependencies_file_path: str | None = None,
        pip_requirements_file_path: str | None = None,
        conda_dependencies_file: str | None = None,
        pip_requirements_file: str | None = None,
        environment_variables: Mapping[str, str] | None = None,
        source_directory_data_store: Any = None,
        resume_from: Any = None,
        max_run_duration_seconds: int | None = None,
        framework_version: str | None = None,
        **docker_settings: Any,
    ) -> None:
        unknown = sorted(set(docker_settings) - set(_DOCKER_SETTINGS))
        if unknown:
            raise InvalidArgument(
                f"{type(self).__name__} got unexpected arguments: {', '.join(unknown)}."
            )
        if not entry_script or not isinstance(entry_script, str):
            raise InvalidArgument(
                f"{type(self).__name__} needs entry_script, the script to run "
                "(e.g. entry_script='train.py')."
            )
        if script_params is not None and not isinstance(script_params, Mapping):
            raise InvalidArgument(
                "script_params must be a dict such as {'--batch-size': 50}, got "
                f"{type(script_params).__name__}."
            )
        if not isinstance(node_count, int) or isinstance(node_count, bool) or node_count < 1:
            raise InvalidArgument(f"node_count must be a whole number >= 1, got {node_count!r}.")
        self.source_directory = os.fspath(source_directory)
        self.entry_script = entry_script
        self.script_params = dict(script_params or {})
        self.compute_target = compute_target
        self.use_gpu = bool(use_gpu)
        self.inputs = list(inputs or [])
        self.node_count = node_count
        self.distributed_training = distributed_training or distributed_backend
        self.framework_version = framework_version
        self.environment_variables = dict(environment_variables or {})
        self.max_run_duration_seconds = max_run_duration_seconds
        self.vm_size = vm_size
        self.notes = [
            f"{name}={value!r} is ignored: Runyard runs scripts in virtual environments, "
            "not Docker images."
            for name, value in sorted(docker_settings.items())
            if value
        ]
        self.environment = self._environment(
            environment_definition,
            list(pip_packages or []),
            list(conda_packages or []),
            user_managed,
            conda_dependencies_file_path or conda_dependencies_file,
            pip_requirements_file_path or pip_requirements_file,
        )

    # -- the environment --------------------------------------------------------------
    def _framework_packages(self) -> list[str]:
        """Packages the framework adds (TensorFlow, PyTorch); none for the generic one."""
        return []

    def _environment(
        self,
        definition: Any,
        pip: list[str],
        conda: list[str],
        user_managed: bool,
        conda_file: str | None,
        pip_file: str | None,
    ) -> Any:
        from runyard.core.conda_dependencies import CondaDependencies
        from runyard.core.environment import Environment

        if isinstance(pip, str) or isinstance(conda, str):
            raise InvalidArgument("pip_packages and conda_packages must be lists of names.")
        if definition is not None:
            if pip or conda or conda_file or pip_file:
                raise InvalidArgument(
                    "Give either environment_definition or package arguments (pip_packages, "
                    "conda_packages, *_file_path), not both: add the packages to the "
                    "Environment instead."
                )
            return definition
        name = f"{self._framework}-estimator".lower()
        if pip_file:
            env = Environment.from_pip_requirements(name, pip_file)
        elif conda_file:
            env = Environment.from_conda_specification(name, conda_file)
        else:
            env = Environment(name)
            env.python.conda_dependencies = CondaDependencies.create()
        deps = env.python.conda_dependencies
        asked = {_project(p) for p in [*pip, *deps.pip_packages, *conda, *deps.conda_packages]}
        for package in self._framework_packages():
            names = {_project(package), *self._variants.get(_project(package), ())}
            if not names & asked:
                deps.add_pip_package(package)
        for package in pip:
            deps.add_pip_package(package)
        for package in conda:
            deps.add_conda_package(package)
        env.python.user_managed_dependencies = bool(user_managed)
        env.environment_variables = dict(self.environment_variables)
        return env

    # -- submitting -------------------------------------------------------------------
    def _arguments(self) -> list[Any]:
        arguments: list[Any] = []
        for name, value in self.script_params.items():
            if not isinstance(name, str) or not name:
                raise InvalidArgument(f"script_params names must be strings, got {name!r}.")
            arguments.append(name)
            if value is not None and value != "":
                arguments.append(value)
        return arguments

    def _to_script_run_config(self) -> Any:
        """The ScriptRunConfig this estimator submits as."""
        from runyard.core.runconfig import RunConfiguration
        from runyard.core.script_run_config import ScriptRunConfig

        rc = RunConfiguration(framework=self._framework)
        rc.target = self.compute_target if self.compute_target is not None else "local"
        rc.environment = self.environment
        rc.node_count = self.node_count
        rc.environment_variables = dict(self.environment_variables)
        rc.use_gpu = self.use_gpu
        config = ScriptRunConfig(
            self.source_directory,
            script=self.entry_script,
            arguments=self._arguments(),
            run_config=rc,
            max_run_duration_seconds=self.max_run_duration_seconds,
        )
        config._inputs = list(self.inputs)
        config._framework_version = self.framework_version
        from runyard.core.distributed import describe_distribution

        config._distributed = describe_distribution(self.distributed_training, self.node_count)
        config._notes = list(self.notes)
        return config

    @property
    def run_config(self) -> Any:
        """The RunConfiguration of the ScriptRunConfig this estimator submits as."""
        return self._to_script_run_config().run_config

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(source_directory={self.source_directory!r}, "
            f"entry_script={self.entry_script!r})"
        )


def _project(requirement: str) -> str:
    from runyard.environments.requirements import requirement_name

    return requirement_name(requirement.split("::", 1)[-1])
