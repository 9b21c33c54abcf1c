"""Environments: how a submitted run gets its Python packages.

``EnvironmentSpec`` says what to install; an ``EnvironmentBuilder`` (the port) turns it into
an interpreter ready to run the script; ``UvEnvironmentBuilder`` (the adapter) builds
virtual environments with uv into a cache keyed by the spec's content hash.

Example::

    builder = UvEnvironmentBuilder()                  # ~/.cache/runyard/envs
    built = builder.build(EnvironmentSpec(pip_packages=("keras",)), log=print)
    subprocess.run([built.python, "train.py"], env=built.process_env())
"""

from runyard.environments.builder import BuiltEnvironment, EnvironmentBuilder, LogFn
from runyard.environments.cache import default_cache_dir
from runyard.environments.spec import EnvironmentSpec
from runyard.environments.uv import UvEnvironmentBuilder

__all__ = [
    "BuiltEnvironment",
    "EnvironmentBuilder",
    "EnvironmentSpec",
    "LogFn",
    "UvEnvironmentBuilder",
    "default_cache_dir",
]
