"""A run's parameters: its script arguments (``--lr 0.01`` pairs of the run definition; a
HyperDrive child's arguments hold its sampled values). The runs table shows them, and run
search filters and orders on them (the SQL store keeps them in ``run_params``, written
with the details they come from)."""

from __future__ import annotations

import math
from typing import Any


def params_of(details: dict[str, Any]) -> dict[str, str]:
    """``{name: value}`` from the ``--name value`` (or ``--name=value``) arguments of the
    run definition in ``details``; a flag without a value is ``"true"``, a data input is
    ``"(data)"``. Leading dashes are dropped from names."""
    definition = details.get("runDefinition")
    arguments = definition.get("arguments") if isinstance(definition, dict) else None
    if not isinstance(arguments, list):
        return {}
    params: dict[str, str] = {}
    i = 0
    while i < len(arguments):
        item = arguments[i]
        i += 1
        if not (isinstance(item, str) and item.startswith("-") and len(item) > 1):
            continue
        name, eq, inline = item.lstrip("-").partition("=")
        if not name:
            continue
        if eq:
            params[name] = inline
            continue
        following = arguments[i] if i < len(arguments) else None
        if isinstance(following, str) and not _is_flag(following):
            params[name], i = following, i + 1
        elif isinstance(following, dict):
            params[name], i = "(data)", i + 1
        else:
            params[name] = "true"
    return params


def _is_flag(text: str) -> bool:
    if not text.startswith("-") or len(text) < 2:
        return False
    try:
        float(text)  # "-1" and "-0.5" are values, not flags
    except ValueError:
        return True
    return False


def param_number(value: str) -> float | None:
    """The number a parameter's value reads as (``"0.01"``, ``"1e-3"``, ``"-2"``), or None
    when it is text or not finite: those sort as text, after the numbers."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def sort_key(value: str | None) -> tuple[int, float, str]:
    """Sorts parameter values numerically where they are numbers, missing ones last."""
    if value is None:
        return (2, 0.0, "")
    number = param_number(value)
    return (1, 0.0, value) if number is None else (0, number, "")
