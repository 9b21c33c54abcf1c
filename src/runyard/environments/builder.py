"""The EnvironmentBuilder port: from an EnvironmentSpec to an interpreter ready to run a script.

Adapters: :class:`runyard.environments.uv.UvEnvironmentBuilder` (virtual environments built
with uv, cached by content hash).
"""

from __future__ import annotations

import abc
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runyard.environments.spec import EnvironmentSpec

#: Receives one human-readable line at a time, without a trailing newline.
LogFn = Callable[[str], None]


@dataclass(frozen=True)
class BuiltEnvironment:
    """An environment ready to run a script.

    Attributes:
        python: The interpreter to run the script with (absolute path).
        path: The environment's folder (the virtual environment, or the ``sys.prefix`` of
            a user-managed interpreter).
        packages: Exactly what is installed: distribution name -> version.
        cache_hit: True when the environment was already built.
        seconds: How long ``build`` took.
        spec_hash: The content hash the environment is cached under.
        user_managed: True when ``python`` is a user-managed interpreter used as it is.
    """

    python: str
    path: str
    packages: Mapping[str, str] = field(default_factory=dict)
    cache_hit: bool = False
    seconds: float = 0.0
    spec_hash: str = ""
    user_managed: bool = False

    @property
    def bin_dir(self) -> str:
        """The folder of the environment's executables (put it first on ``PATH``)."""
        return os.path.dirname(self.python)

    def process_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment variables for a process run in this environment: ``base`` (default
        ``os.environ``) with ``bin_dir`` first on ``PATH`` and ``VIRTUAL_ENV`` set."""
        env = dict(os.environ if base is None else base)
        env["PATH"] = self.bin_dir + os.pathsep + env.get("PATH", "")
        if not self.user_managed:
            env["VIRTUAL_ENV"] = self.path
        env.pop("PYTHONHOME", None)
        return env

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary, what a run records in its details."""
        return {
            "python": self.python,
            "path": self.path,
            "packages": dict(self.packages),
            "cache_hit": self.cache_hit,
            "seconds": round(self.seconds, 3),
            "spec_hash": self.spec_hash,
            "user_managed": self.user_managed,
        }


class EnvironmentBuilder(abc.ABC):
    """Builds (or finds in a cache) the environment an EnvironmentSpec describes.

    Contract:

    - ``build`` blocks until the environment is ready and returns it; the same spec gives
      the same environment again, from cache, without running an installer.
    - Several processes (or threads) building the same spec at once build it once: the
      others wait for it and get it as a cache hit.
    - A failed build raises ``runyard.errors.EnvironmentBuildError`` whose message carries
      the installer's own error output, and leaves nothing half-built behind.
    - Runyard itself is importable in the environment (``Run.get_context()`` works).
    - ``user_managed`` specs are not built: the interpreter is checked and used as it is.
    - Progress goes to ``log``, one line at a time, as the build goes.
    """

    @abc.abstractmethod
    def build(self, spec: EnvironmentSpec, log: LogFn | None = None) -> BuiltEnvironment:
        """Build the environment of ``spec``, or take it from the cache.

        Args:
            spec: What to install.
            log: Receives progress lines (default: none are printed).

        Returns:
            The ready environment.

        Raises:
            EnvironmentBuildError: The installer failed (its output is in the message), or
                a user-managed interpreter is missing or cannot import Runyard.
        """


def print_log(line: str) -> None:
    """A ``log`` function that prints to stderr."""
    print(line, file=sys.stderr, flush=True)
