"""Where a service's files live in its folder on the node that serves it.

``definition.json`` (what to serve), ``keys.json`` (key digests), ``node.json`` (this
node's record of the supervisor), ``status.json`` (written by the supervisor),
``service.log``, ``init_error.txt``, ``source/`` (the shipped files) and
``models/NAME/VERSION/...`` (the models' files).
"""

from __future__ import annotations

import json
import os


def definition_file(folder: str) -> str:
    return os.path.join(folder, "definition.json")


def keys_file(folder: str) -> str:
    return os.path.join(folder, "keys.json")


def node_file(folder: str) -> str:
    return os.path.join(folder, "node.json")


def status_file(folder: str) -> str:
    return os.path.join(folder, "status.json")


def log_file(folder: str) -> str:
    return os.path.join(folder, "service.log")


def init_error_file(folder: str) -> str:
    return os.path.join(folder, "init_error.txt")


def source_dir(folder: str) -> str:
    return os.path.join(folder, "source")


def models_dir(folder: str) -> str:
    return os.path.join(folder, "models")


def write_json(path: str, data: dict[str, object]) -> None:
    """Write ``data`` to ``path`` atomically (readers see the old or the new file)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def read_json(path: str) -> dict[str, object] | None:
    """The JSON object in ``path``; None when it is missing or not an object."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
