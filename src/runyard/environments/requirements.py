"""From an EnvironmentSpec to the requirement lines uv installs, with a log line for every
package that is installed differently from how it was asked for.

- Conda package specs are installed from PyPI under the same name (``numpy=1.26`` becomes
  ``numpy==1.26.*``, conda's "starts with" match); a few conda-only names are mapped or
  skipped (``pytorch`` is ``torch`` on PyPI; ``python`` and ``pip`` come with the
  interpreter; CUDA runtimes come with the driver or with the framework's wheels).
- ``azureml-*`` and ``runyard`` pip packages are skipped: this Runyard is put inside every
  environment, and SDK v1 code asks for ``azureml-defaults`` out of habit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from runyard.environments.spec import EnvironmentSpec

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-]*)")
_CONDA = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)\s*(.*)$")
_OPERATORS = ("==", ">=", "<=", "!=", "~=", ">", "<")

#: Conda names whose PyPI package has another name; None: nothing to install from PyPI.
CONDA_TO_PYPI: dict[str, str | None] = {
    "python": None,
    "pip": None,
    "cudatoolkit": None,
    "cudnn": None,
    "nccl": None,
    "pytorch": "torch",
    "py-xgboost": "xgboost",
    "tensorflow-gpu": "tensorflow",
}

_CONDA_SKIP_REASONS = {
    "python": "the environment uses the interpreter that runs Runyard",
    "pip": "uv installs the packages",
    "cudatoolkit": "CUDA comes with the driver and the framework's own wheels",
    "cudnn": "CUDA comes with the driver and the framework's own wheels",
    "nccl": "CUDA comes with the driver and the framework's own wheels",
}


def requirement_name(requirement: str) -> str:
    """The normalised project name of a requirement string (PEP 503), or ``""``."""
    match = _NAME.match(requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def _conda_version(rest: str) -> str:
    """A conda version constraint as a pip one (``=1.2`` -> ``==1.2.*``)."""
    rest = rest.strip()
    if not rest:
        return ""
    if rest.startswith(_OPERATORS):
        # ``>=1.2,<2`` is pip syntax too; ``==1.2 build`` drops the conda build string.
        return rest.split()[0]
    fuzzy = rest.startswith("=")
    version = re.split(r"[=\s]+", rest.lstrip("="), maxsplit=1)[0]
    if not version:
        return ""
    if fuzzy and not version.endswith("*"):
        version += ".*"
    return "==" + version


def conda_to_pip(conda_spec: str) -> tuple[str | None, str]:
    """Translate one conda package spec into a pip requirement.

    Args:
        conda_spec: e.g. ``"numpy"``, ``"numpy=1.26"``, ``"conda-forge::scipy>=1.10"``.

    Returns:
        The pip requirement (None when nothing is installed for it) and the log line that
        says what happened.
    """
    bare = conda_spec.split("::", 1)[-1].strip()
    match = _CONDA.match(bare)
    if not match:
        return conda_spec, (f"conda package {conda_spec!r} installed from PyPI as {conda_spec!r}")
    conda_name, rest = match.group(1), match.group(2)
    key = conda_name.lower()
    if key in CONDA_TO_PYPI and CONDA_TO_PYPI[key] is None:
        return None, f"conda package {conda_spec!r} skipped: {_CONDA_SKIP_REASONS[key]}"
    pypi_name = CONDA_TO_PYPI.get(key) or conda_name
    requirement = pypi_name + _conda_version(rest)
    return requirement, f"conda package {conda_spec!r} installed from PyPI as {requirement!r}"


def _skip_pip_package(requirement: str) -> bool:
    name = requirement_name(requirement)
    return name == "runyard" or name.startswith("azureml-")


@dataclass(frozen=True)
class InstallPlan:
    """What uv is asked to install for a spec."""

    runyard_requirements: tuple[str, ...]
    user_requirements: tuple[str, ...]
    requirements_text: str | None

    def requirements_file(self) -> str:
        """The requirements file handed to ``uv pip install -r``."""
        parts = ["# Runyard's own dependencies (Run.get_context() in the script)"]
        parts += self.runyard_requirements
        if self.user_requirements:
            parts += ["# pip_packages and conda_packages", *self.user_requirements]
        if self.requirements_text:
            parts += ["# pip_requirements", self.requirements_text]
        return "\n".join(parts) + "\n"


def plan_install(
    spec: EnvironmentSpec, runyard_requirements: tuple[str, ...], log: Callable[[str], None]
) -> InstallPlan:
    """The requirements to install for ``spec``, logging every translation and skip.

    Args:
        spec: The environment asked for.
        runyard_requirements: Runyard's base dependencies, installed into every environment.
        log: Receives one line per conda package and per skipped pip package.
    """
    user: list[str] = []
    for requirement in spec.pip_packages:
        if _skip_pip_package(requirement):
            log(f"pip package {requirement!r} skipped: Runyard is provided in the environment")
        else:
            user.append(requirement)
    for conda_spec in spec.conda_packages:
        pip_requirement, line = conda_to_pip(conda_spec)
        log(line)
        if pip_requirement is not None:
            user.append(pip_requirement)
    text = spec.pip_requirements
    if text:
        kept = []
        for line in text.splitlines():
            if (
                line.strip()
                and not line.lstrip().startswith(("-", "#"))
                and _skip_pip_package(line)
            ):
                log(f"requirement {line.strip()!r} skipped: Runyard is provided in the environment")
            else:
                kept.append(line)
        text = "\n".join(kept)
    return InstallPlan(
        runyard_requirements=tuple(runyard_requirements),
        user_requirements=tuple(dict.fromkeys(user)),
        requirements_text=text or None,
    )
