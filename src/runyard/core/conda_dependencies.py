"""CondaDependencies, as in the Azure ML SDK v1 (``azureml.core.conda_dependencies``).

Runyard installs every package from PyPI with uv: conda packages are installed from PyPI
under the same name (the run's log says so for each one), conda channels are kept but not
used, and the Python version is that of the interpreter running Runyard (a different one
asked for is reported in the run's log).

Example::

    from runyard.core.conda_dependencies import CondaDependencies

    deps = CondaDependencies.create(pip_packages=["keras"], conda_packages=["numpy"])
    deps.add_pip_package("matplotlib")
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from runyard.environments.package_strings import (
    check_no_control_characters,
    check_package_string,
)
from runyard.environments.requirements import requirement_name
from runyard.errors import InvalidArgument

_CONDA_NAME = re.compile(r"^(?:[^:\s]+::)?([A-Za-z0-9][A-Za-z0-9._\-]*)")
_EXTRA_INDEX = "--extra-index-url"


def _conda_name(spec: str) -> str:
    match = _CONDA_NAME.match(spec.strip())
    return match.group(1).lower() if match else spec.strip().lower()


def _check_package(kind: str, package: object) -> str:
    if not isinstance(package, str) or not package.strip():
        raise InvalidArgument(f"A {kind} package must be a non-empty string, got {package!r}.")
    if kind == "pip option":
        return check_no_control_characters(kind, package.strip())
    return check_package_string(f"{kind} package", package.strip())


def _strings(kind: str, packages: Iterable[str] | None) -> list[str]:
    if packages is None:
        return []
    if isinstance(packages, str):
        raise InvalidArgument(
            f"{kind}_packages must be a list of strings, got the string {packages!r}; "
            f"did you mean [{packages!r}]?"
        )
    return [_check_package(kind, p) for p in packages]


#: The file ``save_to_file`` writes when given no name (SDK v1's).
DEFAULT_CONDA_FILE = "conda_dependencies.yml"


class CondaDependencies:
    """The packages of an environment, in SDK v1's shape.

    Args:
        conda_dependencies_file_path: A conda environment file (``environment.yml``) to
            read: its ``channels``, its ``dependencies`` and their ``pip:`` list.

    Raises:
        InvalidArgument: The file is missing or not a conda environment file.
    """

    def __init__(self, conda_dependencies_file_path: str | os.PathLike[str] | None = None) -> None:
        self._name = "project_environment"
        self._channels: list[str] = []
        self._conda_packages: list[str] = []
        self._pip_packages: list[str] = []
        self._pip_options: list[str] = []
        self._python_version: str | None = None
        if conda_dependencies_file_path is not None:
            from runyard.environments.conda_file import read_conda_file

            name, channels, conda, pip = read_conda_file(os.fspath(conda_dependencies_file_path))
            self._name = name or self._name
            for channel in channels:
                self.add_channel(channel)
            for package in conda:
                self.add_conda_package(package)
            for line in pip:
                if line.startswith("-"):
                    self.set_pip_option(line)
                else:
                    self.add_pip_package(line)

    @staticmethod
    def create(
        pip_indexurl: str | None = None,
        pip_packages: Iterable[str] | None = None,
        conda_packages: Iterable[str] | None = None,
        python_version: str | None = None,
        pin_sdk_version: bool = True,
    ) -> CondaDependencies:
        """Create the dependencies of an environment.

        Args:
            pip_indexurl: An index URL for pip packages (``--index-url``).
            pip_packages: Requirement strings, e.g. ``["keras", "six==1.16.0"]``.
            conda_packages: Conda package specs, e.g. ``["numpy=1.26"]``; installed from
                PyPI under the same name.
            python_version: The Python version asked for (None: this interpreter's).
            pin_sdk_version: Accepted for SDK v1 code; Runyard always provides itself.

        Returns:
            The dependencies.

        Raises:
            InvalidArgument: A package list is a plain string or holds a non-string.
        """
        del pin_sdk_version  # Runyard is always the running one, see runyard.environments
        deps = CondaDependencies()
        for package in _strings("pip", pip_packages):
            deps.add_pip_package(package)
        for package in _strings("conda", conda_packages):
            deps.add_conda_package(package)
        if python_version is not None:
            deps.set_python_version(python_version)
        if pip_indexurl:
            deps.set_pip_option(f"--index-url {pip_indexurl}")
        return deps

    # -- packages ---------------------------------------------------------------------
    @property
    def pip_packages(self) -> list[str]:
        """The pip packages, in the order they were added."""
        return list(self._pip_packages)

    @property
    def conda_packages(self) -> list[str]:
        """The conda packages (Python itself excluded), in the order they were added."""
        return list(self._conda_packages)

    @property
    def conda_channels(self) -> list[str]:
        """The conda channels (kept for SDK v1 code; packages come from PyPI)."""
        return list(self._channels)

    @property
    def pip_options(self) -> list[str]:
        """Options for pip, such as ``--extra-index-url URL``."""
        return list(self._pip_options)

    def add_pip_package(self, pip_package: str) -> None:
        """Add a pip package; one of the same name is replaced.

        Raises:
            InvalidArgument: ``pip_package`` is not a non-empty string, holds a control
                character or starts with ``-`` (an option: see :meth:`set_pip_option`).
        """
        package = _check_package("pip", pip_package)
        name = requirement_name(package)
        self._pip_packages = [p for p in self._pip_packages if requirement_name(p) != name]
        self._pip_packages.append(package)

    def remove_pip_package(self, pip_package: str) -> None:
        """Remove the pip package of that name (a version given is ignored)."""
        name = requirement_name(pip_package)
        self._pip_packages = [p for p in self._pip_packages if requirement_name(p) != name]

    def add_conda_package(self, conda_package: str) -> None:
        """Add a conda package (installed from PyPI); one of the same name is replaced.
        ``python=X.Y`` sets the Python version instead.

        Raises:
            InvalidArgument: ``conda_package`` is not a non-empty string, holds a control
                character or starts with ``-``.
        """
        package = _check_package("conda", conda_package)
        name = _conda_name(package)
        if name == "python":
            version = package.split("::")[-1].strip()[len("python") :].lstrip("=<>! ")
            self._python_version = version or None
            return
        self._conda_packages = [p for p in self._conda_packages if _conda_name(p) != name]
        self._conda_packages.append(package)

    def add_tensorflow_conda_package(
        self, core_type: str = "cpu", version: str | None = None
    ) -> None:
        """Add TensorFlow (``tensorflow-gpu`` for ``core_type='gpu'``, as SDK v1 names it),
        optionally pinned to ``version``."""
        self.add_conda_package(_tensorflow(core_type) + (f"={version}" if version else ""))

    def add_tensorflow_pip_package(
        self, core_type: str = "cpu", version: str | None = None
    ) -> None:
        """Add TensorFlow as a pip package (see :meth:`add_tensorflow_conda_package`)."""
        self.add_pip_package(_tensorflow(core_type) + (f"=={version}" if version else ""))

    def remove_conda_package(self, conda_package: str) -> None:
        """Remove the conda package of that name."""
        name = _conda_name(conda_package)
        self._conda_packages = [p for p in self._conda_packages if _conda_name(p) != name]

    def add_channel(self, channel: str) -> None:
        """Add a conda channel (recorded only: packages come from PyPI)."""
        if channel not in self._channels:
            self._channels.append(channel)

    def remove_channel(self, channel: str) -> None:
        """Remove a conda channel."""
        self._channels = [c for c in self._channels if c != channel]

    def set_pip_option(self, pip_option: str) -> None:
        """Add an option for pip, e.g. ``--extra-index-url https://my.index/simple``; an
        option of the same flag is replaced.

        Raises:
            InvalidArgument: ``pip_option`` is empty or holds a control character (a line
                break would add a line to the requirements file).
        """
        option = _check_package("pip option", pip_option)
        flag = option.split()[0].split("=")[0]
        if flag != _EXTRA_INDEX:
            self._pip_options = [o for o in self._pip_options if o.split()[0] != flag]
        if option not in self._pip_options:
            self._pip_options.append(option)

    def set_python_version(self, version: str) -> None:
        """Set the Python version asked for."""
        self._python_version = str(version).strip() or None

    def get_python_version(self) -> str | None:
        """The Python version asked for, or None for this interpreter's."""
        return self._python_version

    # -- serialisation ----------------------------------------------------------------
    def extra_index_urls(self) -> list[str]:
        """The URLs of the ``--extra-index-url`` options."""
        urls = []
        for option in self._pip_options:
            flag, _, value = option.replace("=", " ", 1).partition(" ")
            if flag == _EXTRA_INDEX and value.strip():
                urls.append(value.strip())
        return urls

    def other_pip_options(self) -> list[str]:
        """The pip options other than ``--extra-index-url`` (requirements-file lines)."""
        return [o for o in self._pip_options if o.split()[0].split("=")[0] != _EXTRA_INDEX]

    def serialize_to_string(self) -> str:
        """The dependencies as a conda environment file (YAML)."""
        lines = [f"name: {self._name}", "channels:"]
        lines += [f"  - {c}" for c in self._channels or ["conda-forge"]]
        lines.append("dependencies:")
        if self._python_version:
            lines.append(f"  - python={self._python_version}")
        lines += [f"  - {p}" for p in self._conda_packages]
        if self._pip_packages or self._pip_options:
            lines.append("  - pip:")
            lines += [f"    - {p}" for p in [*self._pip_options, *self._pip_packages]]
        return "\n".join(lines) + "\n"

    def save_to_file(
        self, base_directory: str | os.PathLike[str], conda_file_path: str | None = None
    ) -> str:
        """Write :meth:`serialize_to_string` to ``base_directory/conda_file_path`` (default
        ``conda_dependencies.yml``), creating the folders it needs; returns the path."""
        path = os.path.join(os.fspath(base_directory), conda_file_path or DEFAULT_CONDA_FILE)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return self.save(path)

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write :meth:`serialize_to_string` to ``path``; returns the path."""
        path = os.fspath(path)
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.serialize_to_string())
        return path

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of everything set."""
        return {
            "channels": self.conda_channels,
            "conda_packages": self.conda_packages,
            "pip_packages": self.pip_packages,
            "pip_options": self.pip_options,
            "python_version": self._python_version,
        }

    def __repr__(self) -> str:
        return (
            f"CondaDependencies(pip_packages={self._pip_packages!r}, "
            f"conda_packages={self._conda_packages!r}, python_version={self._python_version!r})"
        )


def _tensorflow(core_type: str) -> str:
    if core_type not in ("cpu", "gpu"):
        raise InvalidArgument(f"core_type must be 'cpu' or 'gpu', got {core_type!r}.")
    return "tensorflow-gpu" if core_type == "gpu" else "tensorflow"
