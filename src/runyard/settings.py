"""Runyard's settings: declared once here, read at the edges, passed down.

Every knob a user can turn is a field of :class:`Settings`, with its environment variable,
its default and its meaning (``docs/settings.md`` shows the same table). The edges read
them once — ``Workspace`` when the SDK opens a workspace, the executor's ``main``, the CLI's
root command — and hand the object down; lower layers take arguments, never
``os.environ``.

A process that starts another Runyard process (a run's executor, a Ray task) passes the
settings on with :meth:`Settings.to_env`, so both sides agree.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runyard.errors import InvalidArgument


def _setting(env: str, doc: str, default: Any, *, kind: str = "float") -> Any:
    # A secret never shows in a repr (logs, tracebacks) and is never passed on (to_env).
    return field(
        default=default, repr=kind != "secret", metadata={"env": env, "doc": doc, "kind": kind}
    )


def _home_default() -> str:
    return os.path.join(os.path.expanduser("~"), ".runyard")


@dataclass(frozen=True)
class Settings:
    """What a user can set, each through one environment variable.

    Attributes are documented in the field metadata (``env``, ``doc``); see
    :func:`settings_table`.
    """

    home: str = _setting(
        "RUNYARD_HOME",
        "Where embedded workspaces are created by name (``workspaces/NAME``).",
        "",
        kind="path",
    )
    scratch: str = _setting(
        "RUNYARD_SCRATCH",
        "Where runs get their working folders on a node (default ``~/.cache/runyard/runs``).",
        "",
        kind="path",
    )
    env_cache: str = _setting(
        "RUNYARD_ENV_CACHE",
        "Where built run environments are cached (default ``$XDG_CACHE_HOME/runyard/envs`` "
        "or ``~/.cache/runyard/envs``).",
        "",
        kind="path",
    )
    snapshot_limit_mb: float = _setting(
        "RUNYARD_SNAPSHOT_LIMIT_MB",
        "Largest source snapshot a submit accepts, in MB (files kept after ignore rules).",
        300.0,
    )
    heartbeat_s: float = _setting("RUNYARD_HEARTBEAT_S", "Seconds between a run's heartbeats.", 5.0)
    liveness_timeout_s: float = _setting(
        "RUNYARD_HEARTBEAT_TIMEOUT_S",
        "Seconds without a heartbeat after which a run's process is taken for dead "
        "(at least twice the heartbeat).",
        30.0,
    )
    keep_workdir: bool = _setting(
        "RUNYARD_KEEP_WORKDIR",
        "Keep each run's scratch folder (working copy, log spool) after it ends: 1 or 0.",
        False,
        kind="bool",
    )
    warm_scripts: bool = _setting(
        "RUNYARD_WARM_SCRIPTS",
        "Start a sweep's trial scripts on local compute from a pre-warmed, forked copy of "
        "the launcher's interpreter when they use that interpreter (0: always a new "
        "interpreter): 1 or 0.",
        True,
        kind="bool",
    )
    sqlite_busy_timeout_s: float = _setting(
        "RUNYARD_SQLITE_BUSY_TIMEOUT_S",
        "How long a SQLite writer waits for another process's write before failing.",
        30.0,
    )
    ray_dir: str = _setting(
        "RUNYARD_RAY_DIR",
        "Where local Ray heads that Runyard starts keep their files (a short path: Ray's "
        "sockets must fit 107 bytes).",
        "",
        kind="path",
    )
    serve_ship_files: bool = _setting(
        "RUNYARD_SERVE_SHIP_FILES",
        "Ship a web service's files to its Ray cluster's nodes through Ray's package store "
        "even when the nodes run on this machine (nodes in containers that do not share its "
        "folders): 1 or 0. Nodes on other machines always get them shipped.",
        False,
        kind="bool",
    )
    outbox: str = _setting(
        "RUNYARD_OUTBOX",
        "Where metric values a team server has not taken yet wait on disk, one folder per "
        "server and workspace (default ``RUNYARD_HOME/outbox``, i.e. ``~/.runyard/outbox``).",
        "",
        kind="path",
    )
    flush_timeout_s: float = _setting(
        "RUNYARD_FLUSH_TIMEOUT_S",
        "How long a run's end, ``run.flush()`` and process exit wait for a team server to "
        "take buffered metric values before leaving them in the outbox with a warning.",
        30.0,
    )
    token: str = _setting(
        "RUNYARD_TOKEN",
        "The API token sent to a team server (workspaces whose config names a ``server``); "
        "never passed on to the processes Runyard starts.",
        "",
        kind="secret",
    )

    def __post_init__(self) -> None:
        # The timeout must leave room for a late beat or two.
        if self.liveness_timeout_s < 2 * self.heartbeat_s:
            object.__setattr__(self, "liveness_timeout_s", 2 * self.heartbeat_s)

    # -- derived locations ------------------------------------------------------------
    @property
    def home_dir(self) -> str:
        return os.path.abspath(os.path.expanduser(self.home or _home_default()))

    @property
    def scratch_dir(self) -> str:
        root = self.scratch or os.path.join(os.path.expanduser("~"), ".cache", "runyard", "runs")
        return os.path.abspath(os.path.expanduser(root))

    @property
    def outbox_dir(self) -> str:
        root = self.outbox or os.path.join(self.home_dir, "outbox")
        return os.path.abspath(os.path.expanduser(root))

    @property
    def snapshot_limit_bytes(self) -> int:
        return int(self.snapshot_limit_mb * 1024 * 1024)

    # -- reading and passing on -------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment variables give (unset ones keep their defaults).

        Raises:
            InvalidArgument: a variable's value is not of its kind (the message names it).
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.metadata["env"], f.metadata["kind"], raw)
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The variables that give these settings to another process (non-defaults only;
        never a secret: a run gets its own token)."""
        out: dict[str, str] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value == f.default or f.metadata["kind"] == "secret":
                continue
            if f.metadata["kind"] == "bool":
                out[f.metadata["env"]] = "1" if value else "0"
            else:
                out[f.metadata["env"]] = str(value)
        return out


def _parse(env: str, kind: str, raw: str) -> Any:
    if kind == "secret":
        if any(c.isspace() or not c.isprintable() for c in raw):
            raise InvalidArgument(
                f"{env} holds spaces or control characters; give the token alone."
            )
        return raw
    if kind == "path":
        if "\0" in raw:
            raise InvalidArgument(f"{env} holds a NUL character; give a folder path.")
        return raw
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise InvalidArgument(f"{env}={raw!r} is not a yes/no value; use 1 or 0.")
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgument(f"{env}={raw!r} is not a positive number; e.g. {env}=30.")
    return value


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for each setting, as ``docs/settings.md`` shows them."""
    rows = []
    for f in dataclasses.fields(Settings):
        default = f.default
        if f.metadata["kind"] == "secret":
            shown = "(none)"
        elif default == "":
            shown = "(see meaning)"
        else:
            shown = "0" if default is False else f"{default:g}"
        rows.append((f.metadata["env"], shown, f.metadata["doc"]))
    return rows
