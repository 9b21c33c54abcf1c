"""Request and response bodies of the workspace routes, through the one wire codec.

Bodies are read as JSON and checked field by field with
:func:`runyard.tracking.wire.from_wire`, so a wrong type is an ``InvalidArgument`` naming
the field (400), and NaN/+-inf travel as ``"NaN"``/``"Infinity"``/``"-Infinity"``. Responses
are encoded once, straight to bytes: no second pass through FastAPI's encoder.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response

from runyard.errors import InvalidArgument
from runyard.tracking.wire import from_wire, to_wire

#: "No default": a field that must be in the body.
REQUIRED: Any = object()


async def json_body(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object (the dependency of every route with a body).

    Raises:
        InvalidArgument: the body is empty, not JSON, or not an object.
    """
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"The request body is not JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise InvalidArgument(f"The request body must be a JSON object, got {type(data).__name__}.")
    return data


def field(body: dict[str, Any], name: str, tp: Any, default: Any = REQUIRED) -> Any:
    """Field ``name`` of ``body`` as a ``tp`` (``default`` when absent or null).

    Raises:
        InvalidArgument: the field is missing with no default, or is not a ``tp``.
    """
    value = body.get(name)
    if value is None:
        if default is REQUIRED:
            raise InvalidArgument(f"The request body has no {name!r}.")
        return default
    try:
        return from_wire(tp, value)
    except InvalidArgument as exc:
        raise InvalidArgument(f"Field {name!r}: {exc.message}") from exc


def wire(value: Any, status_code: int = 200) -> Response:
    """A JSON response holding ``value`` in its wire form."""
    return json_response(to_wire(value), status_code)


def json_response(data: Any, status_code: int = 200) -> Response:
    """A JSON response holding ``data``, which is in wire form already."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(text.encode("utf-8"), status_code, media_type="application/json")


def no_content() -> Response:
    """The answer of a write that returns nothing (204)."""
    return Response(status_code=204)


def optional_json(text: str | None, name: str) -> Any:
    """A query parameter holding JSON (None when absent).

    Raises:
        InvalidArgument: the parameter is not JSON.
    """
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"Query parameter {name!r} is not JSON: {exc}.") from exc


def body_doc(description: str, example: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` that documents a route's JSON body (read by :func:`json_body`,
    so FastAPI does not see it) in the OpenAPI document."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": {"type": "object"}, "example": example}},
        }
    }


def filters(
    pairs: list[str] | None, as_json: str | None, what: str
) -> dict[str, str | None] | None:
    """Tag or property filters from a query: ``NAME`` (has it) or ``NAME=VALUE`` (split at
    the first ``=``), repeated, and/or ``as_json``, a JSON object of names to a value or
    null (for names that hold ``=``). None when neither is given.

    Raises:
        InvalidArgument: ``as_json`` is not an object of strings or nulls.
    """
    if not pairs and as_json is None:
        return None
    found: dict[str, str | None] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        found[name] = value if sep else None
    data = optional_json(as_json, what)
    if data is not None:
        if not isinstance(data, dict) or not all(
            v is None or isinstance(v, str) for v in data.values()
        ):
            raise InvalidArgument(
                f"Query parameter {what!r} must be an object of strings or nulls."
            )
        found.update(data)
    return found
