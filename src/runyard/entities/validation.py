"""Names and limits, checked the same way by every front end and every store.

Limits (documented in docs/limits.md):

- experiment, model, datastore, compute target and environment names: 1-255 characters,
  letters, digits, ``_``, ``-`` and ``.``, starting with a letter or digit;
- metric, tag and property names: 1-255 characters, no control characters;
- tag and property values: at most 5,000 characters;
- one metric batch: at most 100,000 values; one list or table metric: at most 250,000 cells;
- description: at most 5,000 characters.
"""

from __future__ import annotations

import re
from typing import Any

from runyard.errors import InvalidArgument

MAX_NAME_LENGTH = 255
MAX_TAG_VALUE_LENGTH = 5000
MAX_DESCRIPTION_LENGTH = 5000
MAX_METRIC_BATCH = 100_000
MAX_METRIC_CELLS = 250_000

_ENTITY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ValidationError(InvalidArgument, ValueError):
    """Raised by the checks below: an ``InvalidArgument`` that is also a ``ValueError``."""


def check_entity_name(kind: str, name: object) -> str:
    """Check the name of an experiment, model, datastore, compute target or environment."""
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{kind} name must be a non-empty string, got {name!r}.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"{kind} name is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}."
        )
    if not _ENTITY_NAME.fullmatch(name):
        raise ValidationError(
            f"{kind} name {name!r} is not allowed: use letters, digits, '_', '-' and '.', "
            "starting with a letter or digit."
        )
    return name


def check_key(kind: str, key: object) -> str:
    """Check a metric, tag or property name."""
    if not isinstance(key, str) or not key:
        raise ValidationError(f"{kind} name must be a non-empty string, got {key!r}.")
    if len(key) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"{kind} name {key[:40]!r}... is {len(key)} characters long; "
            f"the limit is {MAX_NAME_LENGTH}."
        )
    if _CONTROL.search(key):
        raise ValidationError(f"{kind} name {key!r} contains control characters.")
    return key


def check_tag_value(kind: str, key: str, value: object) -> str:
    """Tag and property values are strings (other scalars are converted) of bounded size."""
    if value is None:
        value = ""
    if not isinstance(value, (str, int, float, bool)):
        raise ValidationError(
            f"{kind} {key!r} must be a string or a number, got {type(value).__name__}."
        )
    text = str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise ValidationError(
            f"{kind} {key!r} is {len(text)} characters long; the limit is {MAX_TAG_VALUE_LENGTH}."
        )
    return text


def check_description(description: object) -> str | None:
    if description is None:
        return None
    if not isinstance(description, str):
        raise ValidationError(f"description must be a string, got {type(description).__name__}.")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError(
            f"description is {len(description)} characters long; the limit is "
            f"{MAX_DESCRIPTION_LENGTH}."
        )
    return description


def to_metric_float(name: str, value: Any) -> float:
    """A metric value as a float: numbers (bool excluded, numpy scalars included) only.

    NaN and +-inf are valid values and kept as they are.
    """
    if isinstance(value, (bool, str, bytes)):
        raise ValidationError(
            f"Metric {name!r} must be a number, got {type(value).__name__} {value!r}. "
            "Log text as a tag (run.tag) or a table (run.log_table)."
        )
    try:
        result = float(value)
    except OverflowError as exc:
        raise ValidationError(
            f"Metric {name!r} is too large for a 64-bit float: {value!r}."
        ) from exc
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"Metric {name!r} must be a number, got {type(value).__name__}."
        ) from exc
    return result
