"""The environment cache: one folder per content hash, complete or absent.

Layout of ``<cache_dir>``::

    <hash>/                      a finished environment (renamed into place in one step)
        runyard-env.json         its manifest: spec, packages installed, build time
        requirements.txt         what uv was asked to install
        bin/python ...           the virtual environment
    <hash>.building-<random>/    a build in progress (removed if it fails)
    .locks/<hash>.lock           held while <hash> is being built

A folder named ``<hash>`` is only ever created by an atomic rename of a finished build, so
"the manifest exists" means "the environment is complete".
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from typing import Any

MANIFEST = "runyard-env.json"
REQUIREMENTS = "requirements.txt"
LOCKS = ".locks"
BUILDING = ".building-"


def default_cache_dir(environ: Mapping[str, str] | None = None) -> str:
    """Where environments are cached when no folder is given.

    ``$RUNYARD_ENV_CACHE`` if set, else ``$XDG_CACHE_HOME/runyard/envs``, else
    ``~/.cache/runyard/envs``.
    """
    env = os.environ if environ is None else environ
    if env.get("RUNYARD_ENV_CACHE"):
        return os.path.abspath(os.path.expanduser(env["RUNYARD_ENV_CACHE"]))
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(base), "runyard", "envs")


def env_python(env_dir: str) -> str:
    """The interpreter of the virtual environment in ``env_dir``."""
    if sys.platform == "win32":
        return os.path.join(env_dir, "Scripts", "python.exe")
    return os.path.join(env_dir, "bin", "python")


def site_packages(env_dir: str) -> str:
    """The site-packages folder of the virtual environment in ``env_dir``."""
    if sys.platform == "win32":
        return os.path.join(env_dir, "Lib", "site-packages")
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return os.path.join(env_dir, "lib", version, "site-packages")


def read_manifest(env_dir: str) -> dict[str, Any] | None:
    """The manifest of a complete, usable environment, or None.

    An environment whose interpreter is gone (its base Python was removed) is not usable.
    """
    try:
        with open(os.path.join(env_dir, MANIFEST), encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not os.path.exists(env_python(env_dir)):
        return None
    return manifest


def write_manifest(env_dir: str, manifest: Mapping[str, Any]) -> None:
    """Write ``manifest`` into ``env_dir`` (through a temporary file, then renamed)."""
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", dir=env_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
    os.replace(tmp, os.path.join(env_dir, MANIFEST))


def lock_path(cache_dir: str, spec_hash: str) -> str:
    """The lock file held while the environment ``spec_hash`` is built."""
    return os.path.join(cache_dir, LOCKS, f"{spec_hash}.lock")


def remove_leftovers(cache_dir: str, spec_hash: str) -> None:
    """Remove half-built folders of ``spec_hash`` (left by a killed build) and a broken
    ``<hash>`` folder. Call only while holding the hash's lock."""
    prefix = spec_hash + BUILDING
    for name in os.listdir(cache_dir):
        if name.startswith(prefix):
            shutil.rmtree(os.path.join(cache_dir, name), ignore_errors=True)
    final = os.path.join(cache_dir, spec_hash)
    if os.path.lexists(final) and read_manifest(final) is None:
        shutil.rmtree(final, ignore_errors=True)
