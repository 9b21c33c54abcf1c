"""InferenceConfig: what a web service runs (SDK v1: ``azureml.core.model.InferenceConfig``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from runyard.core.webservice.errors import WebserviceException

if TYPE_CHECKING:
    from runyard.core.environment import Environment
    from runyard.environments.spec import EnvironmentSpec

#: Arguments that describe an environment, refused alongside ``environment`` (as v1).
_ENVIRONMENT_ARGUMENTS = (
    "runtime",
    "conda_file",
    "extra_docker_file_steps",
    "enable_gpu",
    "cuda_version",
    "base_image",
)


class InferenceConfig:
    """The scoring script, its files and its environment.

    Args:
        entry_script: the scoring script (a ``.py`` file defining ``init()`` and
            ``run(raw_data)``), relative to ``source_directory`` when that is given.
        runtime: ``"python"`` (the 2019 form, with ``conda_file``).
        conda_file: a conda environment file, relative to ``source_directory`` when that
            is given.
        extra_docker_file_steps, enable_gpu, cuda_version, base_image, base_image_registry:
            container settings; accepted, and noted as not used (no containers here).
        source_directory: a folder whose files all ship with the service.
        description: what the configuration is for.
        environment: a ``runyard.core.Environment``; excludes the arguments above.

    Raises:
        WebserviceException: a missing or non-``.py`` entry script, a missing folder or
            conda file, an unknown runtime, or environment arguments given alongside
            ``environment``.
    """

    def __init__(
        self,
        entry_script: str,
        runtime: str | None = None,
        conda_file: str | None = None,
        extra_docker_file_steps: str | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        enable_gpu: bool | None = None,
        description: str | None = None,
        base_image: str | None = None,
        base_image_registry: Any = None,
        cuda_version: str | None = None,
        environment: Environment | None = None,
    ) -> None:
        given = {
            "runtime": runtime,
            "conda_file": conda_file,
            "extra_docker_file_steps": extra_docker_file_steps,
            "enable_gpu": enable_gpu,
            "cuda_version": cuda_version,
            "base_image": base_image,
        }
        if environment is not None:
            clash = [k for k in _ENVIRONMENT_ARGUMENTS if given[k] is not None]
            if clash:
                raise WebserviceException(
                    f"InferenceConfig: {', '.join(clash)} cannot be given with environment: "
                    "put them in the Environment, or leave environment out."
                )
        if runtime is not None and runtime.lower() not in ("python", "spark-py"):
            raise WebserviceException(
                f"InferenceConfig: runtime {runtime!r} is not 'python' or 'spark-py'."
            )
        if runtime is not None and runtime.lower() == "spark-py":
            raise WebserviceException(
                "InferenceConfig: runtime 'spark-py' needs Spark, which Runyard does not "
                "run; use runtime='python'."
            )
        if not isinstance(entry_script, str) or not entry_script.endswith(".py"):
            raise WebserviceException(
                f"InferenceConfig: entry_script must be a .py file, got {entry_script!r}."
            )
        self.source_directory: str | None = None
        if source_directory is not None:
            self.source_directory = os.path.realpath(os.fspath(source_directory))
            if not os.path.isdir(self.source_directory):
                raise WebserviceException(
                    f"InferenceConfig: source_directory {self.source_directory!r} does not exist."
                )
        base = self.source_directory or os.getcwd()
        self.entry_script = entry_script
        if not os.path.isfile(os.path.join(base, entry_script)):
            raise WebserviceException(
                f"InferenceConfig: entry_script {entry_script!r} not found in {base!r}."
            )
        self.conda_file = conda_file
        if conda_file is not None and not os.path.isfile(os.path.join(base, conda_file)):
            raise WebserviceException(
                f"InferenceConfig: conda_file {conda_file!r} not found in {base!r}."
            )
        self.runtime = runtime
        self.environment = environment
        self.description = description
        self.enable_gpu = enable_gpu
        self.extra_docker_file_steps = extra_docker_file_steps
        self.base_image = base_image
        self.base_image_registry = base_image_registry
        self.cuda_version = cuda_version

    def notes(self) -> list[str]:
        """One line per container setting given, which a service here does not use."""
        unused = {
            "extra_docker_file_steps": self.extra_docker_file_steps,
            "base_image": self.base_image,
            "cuda_version": self.cuda_version,
        }
        return [
            f"InferenceConfig {k}={v!r} is a container setting; services here run without "
            "containers, so it is not used."
            for k, v in unused.items()
            if v is not None
        ]

    def _base(self) -> str:
        return self.source_directory or os.getcwd()

    def environment_spec(self) -> EnvironmentSpec:
        """The spec of the environment the service runs in."""
        from runyard.core.environment import Environment
        from runyard.environments.spec import EnvironmentSpec

        if self.environment is not None:
            return self.environment.to_spec()
        if self.conda_file is not None:
            path = os.path.join(self._base(), self.conda_file)
            return Environment.from_conda_specification("inference", path).to_spec()
        return EnvironmentSpec()

    def shipped(self) -> tuple[str, str, tuple[str, ...]]:
        """``(source folder, entry script relative to it, files that ship)``: the whole
        ``source_directory``, or only the entry script when there is none."""
        script = os.path.realpath(os.path.join(self._base(), self.entry_script))
        if self.source_directory is not None:
            rel = os.path.relpath(script, self.source_directory).replace(os.sep, "/")
            return self.source_directory, rel, ()
        name = os.path.basename(script)
        return os.path.dirname(script), name, (name,)

    def serialize(self) -> dict[str, Any]:
        """The configuration as a JSON-able dict."""
        return {
            "entryScript": self.entry_script,
            "runtime": self.runtime,
            "condaFile": self.conda_file,
            "sourceDirectory": self.source_directory,
            "environment": None if self.environment is None else self.environment.name,
            "description": self.description,
        }

    def __repr__(self) -> str:
        return (
            f"InferenceConfig(entry_script={self.entry_script!r}, "
            f"source_directory={self.source_directory!r})"
        )
