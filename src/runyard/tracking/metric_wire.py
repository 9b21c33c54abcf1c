"""The wire form of metric records: what ``POST /metrics`` takes and
``GET /runs/{run_id}/metrics`` answers, written once for the server and the REST store.

Metrics are the hot path (tens of thousands of values a second), so this codec is written
out by hand rather than going through :func:`runyard.tracking.wire.from_wire`. One record
is an object::

    {"run_id": "r", "name": "loss", "kind": "scalar", "value": 0.5, "step": 3,
     "logged_at": 1700000000.25}

- A ``scalar``'s ``value`` is a number, or ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
- The other kinds (text, list, row, table, image) carry their value as its JSON would be
  stored (tuples become lists, keys become strings), with non-finite floats named as for
  scalars. When such a value holds a *string* that is one of those three names, the names
  would be ambiguous: the record then carries ``"json"`` (the value's JSON text, where
  Python writes ``NaN``/``Infinity``) instead of ``value``. Values come back exactly either
  way.
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


def encode_records(records: Iterable[MetricRecord]) -> list[dict[str, Any]]:
    """The wire form of ``records``.

    Raises:
        InvalidArgument: a scalar that is not a number, or a value that is not JSON (the
            same messages as the SQL store's, so callers see one behaviour).
    """
    out: list[dict[str, Any]] = []
    append = out.append
    for record in records:
        run_id, name, value, kind, step, logged_at = record
        kind_name = kind.value if isinstance(kind, MetricKind) else kind
        item: dict[str, Any] = {
            "run_id": run_id,
            "name": name,
            "kind": kind_name,
            "step": step,
            "logged_at": logged_at,
        }
        if kind_name == "scalar":
            try:
                number = float(value)
            except (TypeError, ValueError) as exc:
                raise messages.bad_metric_value(run_id, name, value, kind_name, exc) from exc
            item["value"] = number if math.isfinite(number) else encode_float(number)
        elif kind_name in _KINDS:
            _put_structured(item, value, f"Metric {name!r}")
        else:  # the receiving store names the kinds there are
            item["value"] = None
        append(item)
    return out


def _put_structured(item: dict[str, Any], value: Any, what: str) -> None:
    if isinstance(value, str) and value not in _NAMES:  # text and images: the common case
        item["value"] = value
        return
    text = documents.dumps(value, what)  # the same check (and message) as the SQL store
    normal = json.loads(text)
    if _holds_a_name(normal):
        item["json"] = text
    else:
        item["value"] = _named(normal)


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
    """Records from their wire form (a list of objects), checked field by field.

    Raises:
        InvalidArgument: ``data`` is not a list of metric objects, a kind is unknown, a
            scalar is not a number, or a field has the wrong type (the message names the
            record).
    """
    if not isinstance(data, list):
        raise InvalidArgument(f"Expected a list of metric records, got {type(data).__name__}.")
    records: list[MetricRecord] = []
    append = records.append
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise InvalidArgument(f"Metric record {index} is not an object: {item!r:.80}.")
        try:
            run_id = item["run_id"]
            name = item["name"]
            kind_name = item["kind"]
            step = item.get("step")
            logged_at = item["logged_at"]
        except KeyError as exc:
            raise InvalidArgument(f"Metric record {index} has no {exc.args[0]!r}.") from exc
        if type(run_id) is not str or type(name) is not str:
            raise InvalidArgument(f"Metric record {index}: run_id and name must be strings.")
        kind = _KINDS.get(kind_name) if type(kind_name) is str else None
        if kind is None:
            raise messages.unknown_metric_kind(run_id, name, kind_name)
        if step is not None and type(step) is not int:
            raise InvalidArgument(f"Metric {name!r} of run {run_id!r}: step {step!r} is not int.")
        if type(logged_at) is not float:
            logged_at = _time(run_id, name, logged_at)
        if kind is _SCALAR:
            value = item.get("value")
            if type(value) is not float:
                try:
                    value = decode_float(value)
                except InvalidArgument as exc:
                    raise messages.bad_metric_value(run_id, name, value, "scalar", exc) from exc
        elif "json" in item:
            text = item["json"]
            if type(text) is not str:
                raise InvalidArgument(f"Metric {name!r} of run {run_id!r}: json is not text.")
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise InvalidArgument(
                    f"Metric {name!r} of run {run_id!r}: json is not JSON: {exc}."
                ) from exc
        else:
            value = _unnamed(item.get("value"))
        append(MetricRecord(run_id, name, value, kind, step, logged_at))
    return records


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
