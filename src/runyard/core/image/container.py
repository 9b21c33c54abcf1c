"""ContainerImage.image_configuration: the 2019 way to say what a service runs.

No image is built: the configuration becomes an ``InferenceConfig`` and the service runs
in an environment built from its conda file.
"""

from __future__ import annotations

from typing import Any

from runyard.core.inference_config import InferenceConfig
from runyard.core.webservice.errors import WebserviceException


class ContainerImageConfig:
    """What ``ContainerImage.image_configuration`` returns."""

    def __init__(self, execution_script: str, runtime: str, conda_file: str | None, **kwargs: Any):
        if kwargs.get("docker_file") is not None:
            raise WebserviceException(
                "docker_file needs container images, which Runyard does not build; put the "
                "packages in conda_file."
            )
        self.execution_script = execution_script
        self.runtime = runtime
        self.conda_file = conda_file
        self.dependencies = kwargs.get("dependencies")
        self.description = kwargs.get("description")
        self.tags = kwargs.get("tags")
        # Checked now, as v1 checks the files when the configuration is made.
        self._inference = self.inference_config()

    def inference_config(self) -> InferenceConfig:
        """The equivalent ``InferenceConfig``."""
        return InferenceConfig(
            entry_script=self.execution_script,
            runtime=self.runtime,
            conda_file=self.conda_file,
            description=self.description,
        )


class ContainerImage:
    """SDK v1's container image, for its ``image_configuration`` (2019 notebooks)."""

    @staticmethod
    def image_configuration(
        execution_script: str,
        runtime: str,
        conda_file: str | None = None,
        docker_file: str | None = None,
        schema_file: str | None = None,
        dependencies: list[str] | None = None,
        enable_gpu: bool | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        description: str | None = None,
        base_image: str | None = None,
        base_image_registry: Any = None,
        cuda_version: str | None = None,
    ) -> ContainerImageConfig:
        """What a service runs: the scoring script, the runtime (``python``) and the
        conda file of its environment (``Webservice.deploy_from_model`` takes it).

        Raises:
            WebserviceException: a missing script or conda file, an unknown runtime, or a
                docker_file.
        """
        return ContainerImageConfig(
            execution_script,
            runtime,
            conda_file,
            docker_file=docker_file,
            dependencies=dependencies,
            description=description,
            tags=tags,
        )
