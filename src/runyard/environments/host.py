"""What an environment build depends on besides its spec: this interpreter and this Runyard.

Every environment runs the user's script with the interpreter that runs Runyard (same
Python version) and with this Runyard's own code on its path, so ``Run.get_context()``
works in the script. Both go into the environment's content hash: a new Python, a new
Runyard version, a change of Runyard's base dependencies or another Runyard checkout each
give new environments.

So do Runyard's *extras* that the workspace needs (``RunyardHost(extras=("postgres",))``):
a script reporting to a PostgreSQL workspace needs the database driver in its environment,
or every value it logs is lost.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from typing import Any

from runyard.errors import EnvironmentBuildError

_EXTRA_MARKER = re.compile(r"\bextra\s*==")


@dataclass(frozen=True)
class RunyardHost:
    """The running interpreter and Runyard installation that environments are built for.

    Attributes:
        executable: The interpreter that builds environments (``sys.executable``).
        extras: Runyard's extras (``postgres``, ``s3``...) installed into every environment
            too: what the script needs to reach the workspace it reports to (a database
            driver, an object store's file system). Part of the content hash.
    """

    executable: str = sys.executable
    extras: tuple[str, ...] = ()

    @cached_property
    def python_version(self) -> str:
        """The full version of the interpreter, e.g. ``"3.11.7"``."""
        return platform.python_version()

    @cached_property
    def package_dir(self) -> str:
        """The folder of the ``runyard`` package that is running."""
        import runyard

        return os.path.dirname(os.path.abspath(runyard.__file__))

    @cached_property
    def version(self) -> str:
        """Runyard's installed version."""
        return self._distribution().version

    @cached_property
    def base_requirements(self) -> tuple[str, ...]:
        """Runyard's base dependencies (no extras), as requirement strings."""
        requires = self._distribution().requires or []
        return tuple(r for r in requires if not _EXTRA_MARKER.search(r))

    @cached_property
    def extra_requirements(self) -> tuple[str, ...]:
        """The requirements of :attr:`extras`, as plain requirement strings.

        Raises:
            EnvironmentBuildError: Runyard's metadata declares no such extra.
        """
        requires = self._distribution().requires or []
        found: list[str] = []
        for extra in sorted(set(self.extras)):
            clause = re.compile(rf"\bextra\s*==\s*[\"']{re.escape(extra)}[\"']")
            mine = [r for r in requires if clause.search(r)]
            if not mine:
                raise EnvironmentBuildError(
                    f"Runyard's package metadata declares no extra {extra!r}, which the "
                    "workspace needs in the run's environment. Reinstall Runyard "
                    "(pip install -e . in a checkout)."
                )
            found += [_without_extra_marker(r, clause) for r in mine]
        return tuple(dict.fromkeys(found))

    @property
    def requirements(self) -> tuple[str, ...]:
        """Everything Runyard installs into an environment: its base dependencies and
        those of :attr:`extras`."""
        return tuple(dict.fromkeys(self.base_requirements + self.extra_requirements))

    def context(self) -> dict[str, Any]:
        """What the content hash of an environment depends on besides its spec."""
        context = {
            "python": self.python_version,
            "implementation": sys.implementation.name,
            "interpreter": os.path.realpath(self.executable),
            "runyard": self.version,
            "runyard_requires": sorted(self.base_requirements),
            "runyard_path": self.package_dir,
        }
        if self.extras:  # only then: environments without extras keep their hashes
            context["runyard_extras"] = sorted(set(self.extras))
            context["runyard_extra_requires"] = sorted(self.extra_requirements)
        return context

    def _distribution(self) -> metadata.Distribution:
        try:
            return metadata.distribution("runyard")
        except metadata.PackageNotFoundError as exc:
            raise EnvironmentBuildError(
                "Runyard's package metadata was not found, so its dependencies cannot be "
                "installed into the environment. Install Runyard with pip "
                "(pip install -e . in a checkout) rather than running it from a bare path."
            ) from exc


def _without_extra_marker(requirement: str, clause: re.Pattern[str]) -> str:
    """``psycopg[binary]>=3.1; extra == "postgres"`` -> ``psycopg[binary]>=3.1`` (other
    conditions of the marker are kept)."""
    spec, _, marker = requirement.partition(";")
    rest = clause.sub("", marker)
    rest = re.sub(r"^\s*and\b|\band\s*$", "", rest.strip()).strip()
    return f"{spec.strip()}; {rest}" if rest else spec.strip()
