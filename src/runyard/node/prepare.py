"""Preparing a node to run a run's script: the one routine the executor and the workers of
a distributed run share.

Restore the snapshot into a fresh working folder (hashes checked), build the environment or
take it from the cache, and work out the script's command line and environment (data
references resolved to local paths).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runyard.entities.definition import RunDefinition
    from runyard.environments.builder import BuiltEnvironment
    from runyard.resources import WorkspaceResources


@dataclass(frozen=True)
class Prepared:
    """A run's script, ready to start."""

    workdir: str
    built: BuiltEnvironment
    command: list[str]
    env: dict[str, str]
    warnings: list[str]


def restore(
    resources: WorkspaceResources,
    definition: RunDefinition,
    workdir: str,
    say: Callable[[str], None],
) -> None:
    """Restore the run's snapshot into ``workdir`` (emptied first)."""
    from runyard.artifacts.snapshots import restore_snapshot
    from runyard.errors import InvalidState

    if not definition.snapshot_id:
        raise InvalidState("The run definition names no snapshot: it was not submitted.")
    if os.path.exists(workdir):
        shutil.rmtree(workdir)
    files = restore_snapshot(resources.artifacts, definition.snapshot_id, workdir)
    say(f"Snapshot {definition.snapshot_id} restored ({len(files)} files) in {workdir}")


def environment_key(definition: RunDefinition) -> str:
    """What identifies a run's environment among prepared ones: its spec, canonically."""
    import json

    return json.dumps(dict(definition.environment.spec), sort_keys=True, default=str)


def build_environment(
    resources: WorkspaceResources, definition: RunDefinition, say: Callable[[str], None]
) -> BuiltEnvironment:
    """The run's environment, built or taken from the cache."""
    from runyard.environments import EnvironmentSpec, UvEnvironmentBuilder
    from runyard.environments.host import RunyardHost

    spec = EnvironmentSpec.from_dict(dict(definition.environment.spec))
    say(f"Environment {definition.environment.name or '(unnamed)'}: preparing")
    cache = resources.settings.env_cache or None
    # The script reports to this workspace: its environment gets what reaching the
    # workspace's stores needs (the PostgreSQL driver, an object store's file system).
    host = RunyardHost(extras=resources.required_extras)
    log = PackageListFilter(say)
    built = UvEnvironmentBuilder(cache_dir=cache, host=host).build(spec, log=log)
    say(
        f"Environment ready in {built.seconds:.2f} s "
        f"({'cache hit' if built.cache_hit else 'built'}, {len(built.packages)} packages; "
        f"the list: {ENVIRONMENT_FILE}): {built.python}"
    )
    return built


#: The run file with the environment's full package list (the log has one summary line).
ENVIRONMENT_FILE = "runyard-logs/environment.txt"

# uv lists what it installed one package a line (" + numpy==2.0.1"); a fresh environment
# is dozens of such lines, which bury the log's other lines. The list is kept whole in
# ENVIRONMENT_FILE and in the run's details instead.
_PACKAGE_LINE = re.compile(r"^ [-+~] \S+(==| @ )")


class PackageListFilter:
    """A log function that passes everything on but uv's package-per-line listing.

    Args:
        say: where the other lines go.
    """

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self.skipped = 0

    def __call__(self, line: str) -> None:
        if _PACKAGE_LINE.match(line):
            self.skipped += 1
            return
        self._say(line)


def environment_file_text(built: BuiltEnvironment) -> str:
    """The content of ``ENVIRONMENT_FILE``: where the environment is and what it holds."""
    lines = [
        f"# Environment {built.spec_hash} ({'cache hit' if built.cache_hit else 'built'})",
        f"# python: {built.python}",
        f"# {len(built.packages)} packages:",
    ]
    lines += [f"{name}=={version}" for name, version in sorted(built.packages.items())]
    return "\n".join(lines) + "\n"


def script_launch(
    resources: WorkspaceResources,
    run_id: str,
    definition: RunDefinition,
    built: BuiltEnvironment,
    workdir: str,
    base_env: dict[str, str],
    say: Callable[[str], None],
) -> Prepared:
    """The script's command and environment, its data references resolved."""
    from runyard.node.script import script_command

    command, env, warnings = script_command(
        resources, run_id, definition, built, workdir, base_env, say
    )
    return Prepared(workdir, built, command, env, warnings)
