"""Reading conda environment files (``environment.yml``) without a YAML library.

Only the shape conda itself writes and SDK v1 projects use is read::

    name: project_environment
    channels:
      - conda-forge
    dependencies:
      - python=3.11
      - numpy
      - pip:
        - keras
        - --extra-index-url https://example.org/simple

Anything else (flow lists, anchors, multi-line strings) is refused with a clear error.
"""

from __future__ import annotations

import re

from runyard.errors import InvalidArgument

_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_\-]*)\s*:\s*(.*)$")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _strip_comment(line: str) -> str:
    # A '#' starts a comment at the start of a line or after a space (URLs keep theirs).
    return re.split(r"(?:^|\s)#", line, maxsplit=1)[0].rstrip()


def read_conda_file(path: str) -> tuple[str | None, list[str], list[str], list[str]]:
    """Read a conda environment file.

    Args:
        path: The file.

    Returns:
        The environment's name (or None), its channels, its conda packages and its pip
        lines (packages and options), each in file order.

    Raises:
        InvalidArgument: The file is missing or is not in the shape above.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise InvalidArgument(f"Cannot read the conda environment file {path!r}: {exc}") from exc
    name: str | None = None
    channels: list[str] = []
    conda: list[str] = []
    pip: list[str] = []
    section: str | None = None
    in_pip = False
    pip_indent = -1
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw)
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        key = _KEY.match(stripped)
        if indent == 0 and key and not stripped.startswith("-"):
            section, value, in_pip = key.group(1), _unquote(key.group(2)), False
            if section == "name":
                name = value or None
            elif value and section in ("channels", "dependencies"):
                raise InvalidArgument(
                    f"{path}:{number}: write {section!r} as a list, one '- item' a line."
                )
            continue
        if not stripped.startswith("- "):
            raise InvalidArgument(f"{path}:{number}: expected '- item', got {stripped!r}.")
        item = _unquote(stripped[2:])
        if in_pip and indent > pip_indent:
            pip.append(item)
        elif section == "channels":
            channels.append(item)
        elif section == "dependencies":
            in_pip = item.rstrip() == "pip:"
            if in_pip:
                pip_indent = indent
            else:
                conda.append(item)
        # Other sections (variables, prefix) do not say what to install.
    return name, channels, conda, pip
