"""User-managed environments: an existing interpreter, used as it is (nothing installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from importlib import metadata

from runyard.environments.builder import BuiltEnvironment, LogFn
from runyard.environments.spec import EnvironmentSpec
from runyard.errors import EnvironmentBuildError

# Run inside the interpreter: can it import Runyard, and what is installed there?
_PROBE = """
import json, sys
from importlib import metadata
try:
    import runyard
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
    raise SystemExit(0)
packages = {}
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if name:
        packages.setdefault(name, dist.version)
print(json.dumps({"prefix": sys.prefix, "executable": sys.executable, "packages": packages}))
"""

PROBE_TIMEOUT_S = 60.0


def resolve_interpreter(interpreter: str | None) -> str:
    """The absolute path of ``interpreter`` (a path, or a name looked up on ``PATH``; None:
    the interpreter running Runyard).

    Raises:
        EnvironmentBuildError: No such interpreter.
    """
    if not interpreter:
        return sys.executable
    candidate = os.path.expanduser(interpreter)
    path: str | None
    if os.sep in candidate or (os.altsep and os.altsep in candidate):
        path = os.path.abspath(candidate) if os.path.isfile(candidate) else None
    else:
        path = shutil.which(candidate)
    if path is None:
        raise EnvironmentBuildError(
            f"The interpreter {interpreter!r} of the user-managed environment does not "
            "exist. Set python.interpreter_path to an existing Python, or leave it unset to "
            "use the one running Runyard."
        )
    return path


def _current_packages() -> dict[str, str]:
    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            packages.setdefault(name, dist.version)
    return packages


def use_interpreter(spec: EnvironmentSpec, spec_hash: str, log: LogFn) -> BuiltEnvironment:
    """Check the interpreter of a user-managed ``spec`` and describe it.

    Raises:
        EnvironmentBuildError: The interpreter is missing, does not run, or cannot import
            Runyard (the message says to ``pip install runyard`` into it).
    """
    started = time.perf_counter()
    python = resolve_interpreter(spec.interpreter)
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        # The interpreter running Runyard: nothing to probe.
        log(f"Using the user-managed environment of {python} (the interpreter running Runyard)")
        return BuiltEnvironment(
            python=python,
            path=sys.prefix,
            packages=_current_packages(),
            cache_hit=True,
            seconds=time.perf_counter() - started,
            spec_hash=spec_hash,
            user_managed=True,
        )
    try:
        proc = subprocess.run(
            [python, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentBuildError(
            f"The interpreter {python} of the user-managed environment could not be run: {exc}"
        ) from exc
    try:
        answer = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise EnvironmentBuildError(
            f"The interpreter {python} of the user-managed environment did not run "
            f"(exit code {proc.returncode}): {proc.stderr.strip()[-2000:]}"
        ) from None
    if "error" in answer:
        raise EnvironmentBuildError(
            f"The user-managed interpreter {python} cannot import runyard "
            f"({answer['error']}). Install Runyard into it: {python} -m pip install runyard "
            "(or pip install -e <your Runyard checkout>), or set "
            "user_managed_dependencies=False to let Runyard build the environment."
        )
    log(f"Using the user-managed environment of {python} as it is (nothing installed)")
    return BuiltEnvironment(
        python=python,
        path=str(answer["prefix"]),
        packages=dict(answer["packages"]),
        cache_hit=True,
        seconds=time.perf_counter() - started,
        spec_hash=spec_hash,
        user_managed=True,
    )
