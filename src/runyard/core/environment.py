"""Environment, as in the Azure ML SDK v1 (``azureml.core.environment``).

An Environment says which Python packages a run needs. Runyard builds it with uv into a
cache keyed by the content hash of its :class:`EnvironmentSpec` (see
``runyard.environments``), or, with ``python.user_managed_dependencies = True``, uses an
existing interpreter as it is.

Example::

    from runyard.core import Environment
    from runyard.core.conda_dependencies import CondaDependencies

    env = Environment("keras-env")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["keras"])
    env = env.register(ws)              # version "1"
    env = Environment.get(ws, "keras-env")
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from runyard.core.conda_dependencies import CondaDependencies
from runyard.entities.validation import check_entity_name
from runyard.environments.spec import EnvironmentSpec
from runyard.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from runyard.entities import EnvironmentRecord
    from runyard.tracking.store import TrackingStore


class PythonSection:
    """The Python part of an Environment.

    Attributes:
        user_managed_dependencies: Use an existing interpreter as it is (nothing installed).
        interpreter_path: That interpreter (None: the one running Runyard).
        conda_dependencies: The packages to install.
    """

    def __init__(self) -> None:
        self.user_managed_dependencies: bool = False
        self.interpreter_path: str | None = None
        self.conda_dependencies: CondaDependencies = CondaDependencies()

    def __repr__(self) -> str:
        return (
            f"PythonSection(user_managed_dependencies={self.user_managed_dependencies!r}, "
            f"interpreter_path={self.interpreter_path!r}, "
            f"conda_dependencies={self.conda_dependencies!r})"
        )


@dataclass
class DockerSection:
    """SDK v1's Docker settings: kept with the environment for compatibility; Runyard runs
    scripts in virtual environments, not containers."""

    enabled: bool = False
    base_image: str | None = None
    base_dockerfile: str | None = None
    shm_size: str | None = None
    arguments: list[str] = field(default_factory=list)


def _store_of(workspace: Any) -> TrackingStore:
    resources = getattr(workspace, "resources", None)
    store = getattr(resources, "store", None)
    if store is None:
        raise InvalidArgument(f"Expected a Workspace, got {workspace!r}.")
    return store


def _version_number(version: str | int | None) -> int | None:
    if version is None:
        return None
    try:
        number = int(version)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise InvalidArgument(
            f"Environment version must be a positive whole number, got {version!r}."
        )
    return number


class Environment:
    """The Python packages a run needs.

    Args:
        name: The environment's name (letters, digits, ``_``, ``-``, ``.``).

    Attributes:
        name: The name.
        version: The registered version (``"1"``, ``"2"``...), None until registered.
        python: The Python settings (:class:`PythonSection`).
        docker: SDK v1's Docker settings (kept, not used).
        environment_variables: Variables set for the run's script.

    Raises:
        InvalidArgument: The name is not allowed.
    """

    def __init__(self, name: str) -> None:
        self.name = check_entity_name("Environment", name)
        self.version: str | None = None
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables: dict[str, str] = {}
        self._pip_requirements: str | None = None

    # -- constructors ---------------------------------------------------------------------
    @staticmethod
    def from_pip_requirements(
        name: str, file_path: str | os.PathLike[str], pip_version: str | None = None
    ) -> Environment:
        """An environment with the packages of a pip requirements file.

        ``-r other.txt`` lines are read in (relative to the file), since the file is
        installed from a copy.

        Args:
            name: The environment's name.
            file_path: The requirements file.
            pip_version: Accepted for SDK v1 code (uv installs the packages).

        Raises:
            InvalidArgument: The file cannot be read, or the name is not allowed.
        """
        del pip_version
        env = Environment(name)
        env._pip_requirements = _read_requirements(os.fspath(file_path), seen=())
        return env

    @staticmethod
    def from_conda_specification(name: str, file_path: str | os.PathLike[str]) -> Environment:
        """An environment with the packages of a conda environment file; conda packages
        are installed from PyPI under the same name.

        Raises:
            InvalidArgument: The file cannot be read or is not a conda environment file.
        """
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(file_path)
        return env

    # -- the spec -------------------------------------------------------------------------
    def to_spec(self) -> EnvironmentSpec:
        """What to build for this environment."""
        deps = self.python.conda_dependencies
        text_parts = [*deps.other_pip_options()]
        if self._pip_requirements:
            text_parts.append(self._pip_requirements)
        return EnvironmentSpec(
            pip_packages=tuple(deps.pip_packages),
            conda_packages=tuple(deps.conda_packages),
            pip_requirements="\n".join(text_parts) or None,
            python=deps.get_python_version(),
            user_managed=bool(self.python.user_managed_dependencies),
            interpreter=self.python.interpreter_path,
            extra_index_urls=tuple(deps.extra_index_urls()),
        )

    def to_dict(self) -> dict[str, Any]:
        """What is registered: the spec's fields (``EnvironmentSpec.from_dict`` reads them
        back) plus the environment variables and Docker settings."""
        data = self.to_spec().to_dict()
        data["environment_variables"] = dict(self.environment_variables)
        data["docker"] = asdict(self.docker)
        data["conda_channels"] = self.python.conda_dependencies.conda_channels
        return data

    @classmethod
    def from_dict(
        cls, name: str, data: Mapping[str, Any], version: str | int | None = None
    ) -> Environment:
        """The environment that :meth:`to_dict` gave."""
        spec = EnvironmentSpec.from_dict(data)
        env = cls(name)
        env.version = None if version is None else str(version)
        env.python.user_managed_dependencies = spec.user_managed
        env.python.interpreter_path = spec.interpreter
        deps = CondaDependencies.create(
            pip_packages=spec.pip_packages,
            conda_packages=spec.conda_packages,
            python_version=spec.python,
        )
        for url in spec.extra_index_urls:
            deps.set_pip_option(f"--extra-index-url {url}")
        for channel in data.get("conda_channels") or []:
            deps.add_channel(str(channel))
        env.python.conda_dependencies = deps
        env._pip_requirements = spec.pip_requirements
        env.environment_variables = {
            str(k): str(v) for k, v in (data.get("environment_variables") or {}).items()
        }
        docker = data.get("docker") or {}
        known = DockerSection.__dataclass_fields__
        env.docker = DockerSection(**{k: v for k, v in docker.items() if k in known})
        return env

    @classmethod
    def _from_record(cls, record: EnvironmentRecord) -> Environment:
        return cls.from_dict(record.name, record.spec, version=record.version)

    # -- the workspace --------------------------------------------------------------------
    def register(self, workspace: Any) -> Environment:
        """Register this environment in ``workspace`` as its next version (or as the
        latest version again when nothing changed).

        Args:
            workspace: The Workspace.

        Returns:
            The registered environment, with ``version`` set (this object's ``version`` is
            set too).
        """
        record = _store_of(workspace).create_environment_version(self.name, self.to_dict())
        self.version = str(record.version)
        return Environment._from_record(record)

    @staticmethod
    def get(workspace: Any, name: str, version: str | int | None = None) -> Environment:
        """A registered environment.

        Args:
            workspace: The Workspace.
            name: The environment's name.
            version: The version (default: the latest).

        Raises:
            NotFound: No such environment or version (the message lists the known ones).
        """
        store = _store_of(workspace)
        number = _version_number(version)
        try:
            record = store.get_environment(name, number)
        except NotFound as exc:
            known = ", ".join(sorted(r.name for r in store.list_environments())) or "none"
            which = f"Environment {name!r}" + (f" version {number}" if number else "")
            raise NotFound(
                f"{which} not found in workspace {getattr(workspace, 'name', '?')!r}. "
                f"Known environments: {known}. Register one with env.register(workspace)."
            ) from exc
        return Environment._from_record(record)

    @staticmethod
    def list(workspace: Any) -> dict[str, Environment]:
        """The latest version of every registered environment, by name."""
        records = _store_of(workspace).list_environments()
        return {r.name: Environment._from_record(r) for r in records}

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r}, version={self.version!r}, python={self.python!r})"


def _read_requirements(path: str, seen: tuple[str, ...]) -> str:
    real = os.path.realpath(path)
    if real in seen:
        raise InvalidArgument(f"Requirements file {path!r} includes itself.")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise InvalidArgument(f"Cannot read the requirements file {path!r}: {exc}") from exc
    lines: builtins.list[str] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("-r", "--requirement"):
            nested = os.path.join(os.path.dirname(path), parts[1])
            lines.append(_read_requirements(nested, (*seen, real)))
        else:
            lines.append(line)
    return "\n".join(lines)
