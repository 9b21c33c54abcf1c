"""Names and limits, checked the same way by every front end and every store.

Limits (documented in docs/limits.md):

- experiment, model, datastore, compute target and environment names: 1-255 characters,
  letters, digits, ``_``, ``-`` and ``.``, starting with a letter or digit;
- metric, tag and property names, table column names: 1-255 characters, no control
  characters;
- a run's display name: at most 255 characters, no control characters;
- tag and property values, descriptions, text cells of a table metric: at most 5,000
  characters; no control characters but tab and line feed;
- one metric batch: at most 100,000 values; one list or table metric: at most 250,000 cells;
- a metric batch's id (idempotent writes): 1-64 characters, letters, digits, ``_`` and ``-``;
- no text anywhere may hold a lone surrogate (``"\ud800"``): it cannot be encoded as UTF-8,
  so no store could keep it.

Control characters are C0 (NUL included), DEL and C1. They are refused, the same on every
store, because PostgreSQL cannot keep NUL in text at all and the others would show up
raw in terminals and logs.
"""

from __future__ import annotations

import math
import re
from typing import Any

from runyard.errors import InvalidArgument

MAX_NAME_LENGTH = 255
MAX_TAG_VALUE_LENGTH = 5000
MAX_DESCRIPTION_LENGTH = 5000
MAX_METRIC_BATCH = 100_000
MAX_METRIC_CELLS = 250_000

MAX_BATCH_ID_LENGTH = 64

_ENTITY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_BATCH_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
# Names: no control character at all. Text values: tab and line feed are fine.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(what: str, text: str, control: re.Pattern[str], allowed: str) -> None:
    """Refuse control characters (those ``control`` matches) and lone surrogates."""
    bad = control.search(text)
    if bad:
        raise ValidationError(
            f"{what} contains the control character {bad.group()!r} at position "
            f"{bad.start()}; {allowed}."
        )
    bad = _SURROGATE.search(text)
    if bad:
        raise ValidationError(
            f"{what} contains a lone surrogate {bad.group()!r} at position {bad.start()}, "
            "which is not valid Unicode text (it often comes from decoding bytes with "
            "errors='surrogateescape'); decode the text properly or remove it."
        )


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


def check_batch_id(batch_id: object) -> str:
    """Check the id a writer gave a metric batch (``log_metrics(batch_id=...)``): 1-64
    letters, digits, ``_`` or ``-`` (a UUID's hex fits)."""
    if not isinstance(batch_id, str) or not _BATCH_ID.fullmatch(batch_id):
        raise ValidationError(
            f"Metric batch id {batch_id!r} is not allowed: use 1-{MAX_BATCH_ID_LENGTH} "
            "letters, digits, '_' or '-' (uuid.uuid4().hex is one)."
        )
    return batch_id


def check_key(kind: str, key: object) -> str:
    """Check a metric, tag or property name."""
    if not isinstance(key, str) or not key:
        raise ValidationError(f"{kind} name must be a non-empty string, got {key!r}.")
    if len(key) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"{kind} name {key[:40]!r}... is {len(key)} characters long; "
            f"the limit is {MAX_NAME_LENGTH}."
        )
    _check_text(f"{kind} name {key!r}", key, _CONTROL, "names may hold no control characters")
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
    _check_text(f"{kind} {key!r}", text, _CONTROL_IN_TEXT, _TEXT_ALLOWED)
    return text


_TEXT_ALLOWED = "only tab and line feed are allowed"


def check_display_name(value: object) -> str | None:
    """Check a run's display name: None, or a string of at most 255 characters without
    control characters.

    Raises:
        ValidationError: the value is not a string, is too long or holds a control
            character or a lone surrogate.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"display_name must be a string, got {type(value).__name__}.")
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"display_name {value[:40]!r}... is {len(value)} characters long; the limit is "
            f"{MAX_NAME_LENGTH}."
        )
    _check_text(f"display_name {value!r}", value, _CONTROL, "a display name is one line")
    return value


def check_cell_text(metric: str, value: str) -> str:
    """Check a text cell of a table metric (``log_row``, ``log_table``): at most 5,000
    characters, like a tag value, without control characters but tab and line feed.

    Raises:
        ValidationError: the text is too long or holds a control character or a lone
            surrogate.
    """
    if len(value) > MAX_TAG_VALUE_LENGTH:
        raise ValidationError(
            f"A text cell of table {metric!r} is {len(value)} characters long; the limit is "
            f"{MAX_TAG_VALUE_LENGTH}. Store long text as a file (run.upload_file)."
        )
    _check_text(f"A text cell of table {metric!r}", value, _CONTROL_IN_TEXT, _TEXT_ALLOWED)
    return value


def check_description(description: object) -> str | None:
    """Check a description: None, or a string of at most 5,000 characters without control
    characters but tab and line feed."""
    if description is None:
        return None
    if not isinstance(description, str):
        raise ValidationError(f"description must be a string, got {type(description).__name__}.")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError(
            f"description is {len(description)} characters long; the limit is "
            f"{MAX_DESCRIPTION_LENGTH}."
        )
    _check_text("description", description, _CONTROL_IN_TEXT, _TEXT_ALLOWED)
    return description


def to_metric_float(name: str, value: Any) -> float:
    """A metric value as a float: numbers (bool excluded, numpy scalars included) only.

    NaN and +-inf are valid values and kept as they are; a finite value too large for a
    float (``Decimal("1e500")``, which ``float()`` turns into inf) is refused.
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
    # inf from a value that is not inf itself: float() overflowed without saying so.
    if math.isinf(result) and not _equals(value, result):
        raise ValidationError(f"Metric {name!r} is too large for a 64-bit float: {value!r}.")
    return result


def _equals(value: Any, result: float) -> bool:
    try:
        return bool(value == result)
    except Exception:  # an exotic number type that cannot compare: trust float()
        return True
