"""A trial's command line: the base script's arguments with the sampled values appended.

v1 appends each sampled value to the child's arguments as a flag/value pair, and a value
sampled for a flag the script already gets wins (with a warning listing the overridden
names). A parameter named without dashes (``learning_rate``) reaches the script as
``--learning_rate``, as the v1 samples imply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from runyard.entities.definition import DataInput

# A token that starts another option, not a value: ``--x``, ``-x`` (but not ``-0.5``).
_OPTION = re.compile(r"^--?[A-Za-z_]")


def flag_of(name: str) -> str:
    """The command-line flag of parameter ``name`` (``--`` added when it has no dash)."""
    return name if name.startswith("-") else f"--{name}"


def format_value(value: Any) -> str:
    """A sampled value as the script reads it (``repr`` of floats keeps every digit)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def trial_arguments(
    base: Sequence[str | DataInput], params: Mapping[str, Any]
) -> tuple[tuple[str | DataInput, ...], list[str]]:
    """The base arguments without the flags ``params`` sets, then ``params`` as flag/value
    pairs; and the flags that were overridden (sorted).

    A flag in the base is removed with its value (the next token, unless that starts
    another option); ``--flag=value`` is removed whole.
    """
    flags = {flag_of(name) for name in params}
    kept: list[str | DataInput] = []
    overridden: set[str] = set()
    tokens = list(base)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if isinstance(token, str):
            if token in flags:
                overridden.add(token)
                following = tokens[i + 1] if i + 1 < len(tokens) else None
                skip_value = following is not None and not (
                    isinstance(following, str) and _OPTION.match(following)
                )
                i += 2 if skip_value else 1
                continue
            name, eq, _ = token.partition("=")
            if eq and name in flags:
                overridden.add(name)
                i += 1
                continue
        kept.append(token)
        i += 1
    for name, value in params.items():
        kept.extend((flag_of(name), format_value(value)))
    return tuple(kept), sorted(overridden)
