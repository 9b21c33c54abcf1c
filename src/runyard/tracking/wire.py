"""The wire form of Runyard's records: what the server sends and the REST store reads.

One codec for both sides, so a record survives the trip exactly: :func:`to_wire` turns
entities (dataclasses, named tuples, enums, lists, dicts) into JSON-able values, and
:func:`from_wire` builds them back from a type annotation. Floats that JSON cannot carry
(NaN, +-inf) travel as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` — the
names JavaScript's ``Number()`` reads — so the web UI can parse every body with plain
``JSON.parse``. Nothing here executes or imports what it reads.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import types
import typing
from typing import Any, Union

from runyard.errors import InvalidArgument

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_float(value: float) -> float | str:
    """A float as JSON carries it: itself, or its name when it is NaN or infinite."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def decode_float(value: Any) -> float:
    """The float a wire value stands for.

    Raises:
        InvalidArgument: neither a number nor one of the three names.
    """
    if isinstance(value, bool):
        raise InvalidArgument(f"Expected a number, got {value!r}.")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    raise InvalidArgument(f"Expected a number, got {value!r}.")


def to_wire(value: Any) -> Any:
    """``value`` as JSON-able data (records become objects keyed by field name)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {name: to_wire(getattr(value, name)) for name in value._fields}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_wire(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_wire(v) for v in value]
    raise InvalidArgument(f"Cannot send a {type(value).__name__} over the wire.")


def from_wire(tp: Any, data: Any) -> Any:
    """The value of type ``tp`` that ``data`` (from :func:`to_wire`) describes.

    Raises:
        InvalidArgument: ``data`` does not fit ``tp``.
    """
    origin = typing.get_origin(tp)
    if tp is Any or tp is object:
        return data
    if origin in (Union, types.UnionType):
        options = typing.get_args(tp)
        if data is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return from_wire(option, data)
            except (InvalidArgument, TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise InvalidArgument(f"{data!r} fits none of {tp}: {'; '.join(errors)}")
    if tp is type(None):
        if data is not None:
            raise InvalidArgument(f"Expected null, got {data!r}.")
        return None
    if tp is float:
        return decode_float(data)
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise InvalidArgument(f"Expected an integer, got {data!r}.")
        return data
    if tp is str:
        if not isinstance(data, str):
            raise InvalidArgument(f"Expected a string, got {data!r}.")
        return data
    if tp is bool:
        if not isinstance(data, bool):
            raise InvalidArgument(f"Expected true or false, got {data!r}.")
        return data
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError as exc:
            raise InvalidArgument(f"{data!r} is not a {tp.__name__}.") from exc
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple):
        if not isinstance(data, list):
            raise InvalidArgument(f"Expected a list, got {data!r}.")
        args = typing.get_args(tp)
        item = args[0] if args else Any
        items = [from_wire(item, v) for v in data]
        return (origin or tp)(items) if origin is not list else items
    if origin is dict or tp is dict:
        if not isinstance(data, dict):
            raise InvalidArgument(f"Expected an object, got {data!r}.")
        args = typing.get_args(tp)
        value_tp = args[1] if len(args) == 2 else Any
        return {str(k): from_wire(value_tp, v) for k, v in data.items()}
    if isinstance(tp, type):
        hints = _hints(tp)
        if hints is not None:
            return _record(tp, hints, data)
    raise InvalidArgument(f"Cannot read a {tp!r} from the wire.")


@functools.cache
def _hints(cls: type) -> dict[str, Any] | None:
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        hints = typing.get_type_hints(cls)
        return {name: hints[name] for name in cls._fields}
    return None


def _record(cls: type, hints: dict[str, Any], data: Any) -> Any:
    if not isinstance(data, dict):
        raise InvalidArgument(f"Expected a {cls.__name__} object, got {data!r}.")
    values = {}
    for name, tp in hints.items():
        if name in data:
            try:
                values[name] = from_wire(tp, data[name])
            except InvalidArgument as exc:
                raise InvalidArgument(f"{cls.__name__}.{name}: {exc}") from exc
    try:
        return cls(**values)
    except TypeError as exc:  # a required field is missing
        raise InvalidArgument(f"{cls.__name__}: {exc}") from exc


def error_body(code: str, message: str) -> dict[str, Any]:
    """The body of every error response: ``{"error": {"code": ..., "message": ...}}``."""
    return {"error": {"code": code, "message": message}}


__all__ = ["decode_float", "encode_float", "error_body", "from_wire", "to_wire"]
