"""JSON documents in ``Text`` columns: details, errors, options, specs, metric payloads.

Python's ``json`` writes NaN and +-inf as ``NaN``/``Infinity`` and reads them back, which
JSON column types (PostgreSQL ``jsonb``) refuse; ``Text`` keeps them on both databases.
"""

from __future__ import annotations

import json
from typing import Any

from runyard.errors import InvalidArgument


def dumps(value: Any, what: str, *, canonical: bool = False) -> str:
    """``value`` as JSON text; ``canonical`` sorts keys so equal values give equal text.

    Raises:
        InvalidArgument: ``value`` holds something JSON cannot represent.
    """
    try:
        return json.dumps(value, separators=(",", ":"), sort_keys=canonical)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{what} must be JSON-serializable: {exc}.") from exc


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
