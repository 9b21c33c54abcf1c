"""Framework estimators, as in SDK v1 (``azureml.train.dnn``): an Estimator that also
installs its framework.

``TensorFlow(..., framework_version='2.16')`` installs ``tensorflow==2.16.*`` and ``keras``
(Keras 3 runs on TensorFlow); ``PyTorch(..., framework_version='2.3')`` installs
``torch==2.3.*``. Without a version, the newest release that fits the other packages is
installed. A package the user lists (``pip_packages=['tensorflow-cpu']``...) is kept as
given, and an ``environment_definition`` is used as it is.
"""

from __future__ import annotations

import re

from runyard.errors import InvalidArgument
from runyard.train.estimator import Estimator

_VERSION = re.compile(r"\d+(\.\d+){0,2}")


def _pinned(package: str, version: str | None) -> str:
    if version is None:
        return package
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise InvalidArgument(
            f"framework_version must look like '2.16' or '2.16.1', got {version!r}."
        )
    return f"{package}=={version}.*" if version.count(".") < 2 else f"{package}=={version}"


class TensorFlow(Estimator):
    """An Estimator for TensorFlow and Keras scripts (see :class:`Estimator` for the
    arguments; ``framework_version`` pins TensorFlow)."""

    _framework = "TensorFlow"
    _variants = {
        "tensorflow": (
            "tensorflow-cpu",
            "tensorflow-gpu",
            "tensorflow-macos",
            "tensorflow-intel",
            "tf-nightly",
        )
    }

    def _framework_packages(self) -> list[str]:
        return [_pinned("tensorflow", self.framework_version), "keras"]


class PyTorch(Estimator):
    """An Estimator for PyTorch scripts (see :class:`Estimator` for the arguments;
    ``framework_version`` pins torch)."""

    _framework = "PyTorch"
    _variants = {"torch": ("pytorch",)}

    def _framework_packages(self) -> list[str]:
        return [_pinned("torch", self.framework_version)]


__all__ = ["PyTorch", "TensorFlow"]
