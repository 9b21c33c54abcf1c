"""The wire form of metric records: what ``POST /metrics`` takes and
``GET /runs/{run_id}/metrics`` answers, written once for the server and the REST store.

Metrics are the hot path (tens of thousands of values a second), so this codec is written
out by hand and compact: a batch names each series once and sends its points as arrays::

    {"series": [{"run_id": "r", "name": "loss", "kind": "scalar"}, ...],
     "points": [[0, 0.5, 3, 1700000000.25], [0, 0.25, 4, 1700000000.5], ...]}

A point is ``[series index, value, step or null, logged_at]``, in logging order (which
the store keeps across series).

- A ``scalar``'s value is a number, or ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
- The other kinds (text, list, row, table, image) carry their value as its JSON would be
  stored (tuples become lists, keys become strings), with non-finite floats named as for
  scalars. When such a value holds a *string* that is one of those three names, the names
  would be ambiguous: the point then has a fifth element, ``1``, and its value is the
  value's JSON text (where Python writes ``NaN``/``Infinity``). Values come back exactly
  either way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

from runyard.entities.metric import MetricKind, MetricRecord
from runyard.errors import InvalidArgument
from runyard.tracking import documents, messages
from runyard.tracking.wire import decode_float, encode_float

_NAMES = frozenset({"NaN", "Infinity", "-Infinity"})
_KINDS = {kind.value: kind for kind in MetricKind}
_SCALAR = MetricKind.SCALAR


def encode_records(records: Iterable[MetricRecord]) -> dict[str, Any]:
    """The wire form of a batch of ``records``.

    Raises:
        InvalidArgument: a scalar that is not a number, or a value that is not JSON (the
            same messages as the SQL store's, so callers see one behaviour).
    """
    series: list[dict[str, Any]] = []
    index: dict[tuple[str, str, Any], int] = {}
    points: list[list[Any]] = []
    append = points.append
    isfinite = math.isfinite
    for record in records:
        run_id, name, value, kind, step, logged_at = record
        if not isinstance(kind, str):
            raise messages.unknown_metric_kind(run_id, name, kind)
        key = (run_id, name, kind)
        at = index.get(key)
        if at is None:
            at = index[key] = len(series)
            kind_name = kind.value if isinstance(kind, MetricKind) else kind
            series.append({"run_id": run_id, "name": name, "kind": kind_name})
        if kind == "scalar":
            if type(value) is not float:
                try:
                    value = float(value)
                except (TypeError, ValueError) as exc:
                    raise messages.bad_metric_value(run_id, name, value, "scalar", exc) from exc
            append([at, value if isfinite(value) else encode_float(value), step, logged_at])
        elif kind in _KINDS:
            append(_structured(at, value, step, logged_at, f"Metric {name!r}"))
        else:  # the receiving store names the kinds there are
            append([at, None, step, logged_at])
    return {"series": series, "points": points}


def _structured(at: int, value: Any, step: Any, logged_at: Any, what: str) -> list[Any]:
    if isinstance(value, str) and value not in _NAMES:  # text and images: the common case
        return [at, value, step, logged_at]
    text = documents.dumps(value, what)  # the same check (and message) as the SQL store
    normal = json.loads(text)
    if _holds_a_name(normal):
        return [at, text, step, logged_at, 1]
    return [at, _named(normal), step, logged_at]


def _holds_a_name(value: Any) -> bool:
    if isinstance(value, str):
        return value in _NAMES
    if isinstance(value, list):
        return any(_holds_a_name(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_a_name(v) for v in value.values())
    return False


def _named(value: Any) -> Any:
    """A JSON value with non-finite floats replaced by their names."""
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, list):
        return [_named(v) for v in value]
    if isinstance(value, dict):
        return {k: _named(v) for k, v in value.items()}
    return value


def _unnamed(value: Any) -> Any:
    """The inverse of :func:`_named`."""
    if isinstance(value, str):
        return decode_float(value) if value in _NAMES else value
    if isinstance(value, list):
        return [_unnamed(v) for v in value]
    if isinstance(value, dict):
        return {k: _unnamed(v) for k, v in value.items()}
    return value


def decode_records(data: Any) -> list[MetricRecord]:
    """Records from the wire form of a batch, checked field by field.

    Raises:
        InvalidArgument: ``data`` is not a batch, a kind is unknown, a scalar is not a
            number, or a field has the wrong type (the message names the metric).
    """
    if not isinstance(data, dict):
        raise InvalidArgument(
            f"Expected a batch of metrics ({{'series': [...], 'points': [...]}}), got "
            f"{type(data).__name__}."
        )
    series = [_series(i, item) for i, item in enumerate(_list(data, "series"))]
    records: list[MetricRecord] = []
    append = records.append
    count = len(series)
    for point in _list(data, "points"):
        if type(point) is not list or not 4 <= len(point) <= 5:
            raise InvalidArgument(f"Metric point {point!r:.80} is not [series, value, step, time].")
        at, value, step, logged_at = point[:4]
        if type(at) is not int or not 0 <= at < count:
            raise InvalidArgument(f"Metric point {point!r:.80} names no series of the batch.")
        run_id, name, kind = series[at]
        if step is not None and type(step) is not int:
            raise InvalidArgument(f"Metric {name!r} of run {run_id!r}: step {step!r} is not int.")
        if type(logged_at) is not float:
            logged_at = _time(run_id, name, logged_at)
        if kind is _SCALAR:
            if type(value) is not float:
                try:
                    value = decode_float(value)
                except InvalidArgument as exc:
                    reason = ValueError("it is not a number")
                    raise messages.bad_metric_value(run_id, name, value, "scalar", reason) from exc
        elif len(point) == 5:
            value = _from_text(run_id, name, value)
        else:
            value = _unnamed(value)
        append(MetricRecord(run_id, name, value, kind, step, logged_at))
    return records


def _list(data: dict[str, Any], key: str) -> list[Any]:
    found = data.get(key)
    if not isinstance(found, list):
        raise InvalidArgument(f"A metric batch needs a list {key!r}, got {found!r:.80}.")
    return found


def _series(index: int, item: Any) -> tuple[str, str, MetricKind]:
    if not isinstance(item, dict):
        raise InvalidArgument(f"Metric series {index} is not an object: {item!r:.80}.")
    run_id, name, kind_name = item.get("run_id"), item.get("name"), item.get("kind")
    if type(run_id) is not str or type(name) is not str:
        raise InvalidArgument(f"Metric series {index}: run_id and name must be strings.")
    kind = _KINDS.get(kind_name) if type(kind_name) is str else None
    if kind is None:
        raise messages.unknown_metric_kind(run_id, name, kind_name)
    return run_id, name, kind


def _from_text(run_id: str, name: str, text: Any) -> Any:
    if type(text) is not str:
        raise InvalidArgument(f"Metric {name!r} of run {run_id!r}: its JSON is not text.")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"Metric {name!r} of run {run_id!r}: not JSON: {exc}.") from exc


def _time(run_id: str, name: str, logged_at: Any) -> float:
    if type(logged_at) is int:
        return float(logged_at)
    raise InvalidArgument(
        f"Metric {name!r} of run {run_id!r} has no time (logged_at {logged_at!r}); every "
        "value needs the time it was logged."
    )


def run_ids(records: Sequence[MetricRecord]) -> set[str]:
    """The runs a batch writes to."""
    return {record.run_id for record in records}


__all__ = ["decode_records", "encode_records", "run_ids"]
