"""What an environment build depends on besides its spec: this interpreter and this Runyard.

Every environment runs the user's script with the interpreter that runs Runyard (same
Python version) and with this Runyard's own code on its path, so ``Run.get_context()``
works in the script. Both go into the environment's content hash: a new Python, a new
Runyard version, a change of Runyard's base dependencies or another Runyard checkout each
give new environments.
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
    """

    executable: str = sys.executable

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

    def context(self) -> dict[str, Any]:
        """What the content hash of an environment depends on besides its spec."""
        return {
            "python": self.python_version,
            "implementation": sys.implementation.name,
            "interpreter": os.path.realpath(self.executable),
            "runyard": self.version,
            "runyard_requires": sorted(self.base_requirements),
            "runyard_path": self.package_dir,
        }

    def _distribution(self) -> metadata.Distribution:
        try:
            return metadata.distribution("runyard")
        except metadata.PackageNotFoundError as exc:
            raise EnvironmentBuildError(
                "Runyard's package metadata was not found, so its dependencies cannot be "
                "installed into the environment. Install Runyard with pip "
                "(pip install -e . in a checkout) rather than running it from a bare path."
            ) from exc
