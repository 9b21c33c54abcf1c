"""Container images (SDK v1: ``azureml.core.image``), the 2019 deployment form."""

from runyard.core.image.container import ContainerImage, ContainerImageConfig

__all__ = ["ContainerImage", "ContainerImageConfig"]
