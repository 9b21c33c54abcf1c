"""What both ServiceStore adapters share: the errors' words and the record's documents.

A record's JSON-able parts (models, config, tags, properties, error) are kept as JSON
text, so the memory adapter gives back exactly what SQL gives back and a caller can never
change a stored record through a dict it passed in or got back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from runyard.entities.service import ServiceRecord
from runyard.errors import AlreadyExists, NotFound
from runyard.tracking import documents
from runyard.tracking.messages import listing


def service_exists(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"Web service {name!r} exists already. Deploy with overwrite=True to replace it, "
        "choose another name, or delete it first (service.delete())."
    )


def service_not_found(name: str, known: Sequence[str]) -> NotFound:
    return NotFound(
        f"WebserviceNotFound: web service {name!r} not found in this workspace. Known "
        f"services: {listing(known)}. Deploy one with Model.deploy(...)."
    )


def to_columns(record: ServiceRecord) -> dict[str, Any]:
    """The record as column values (documents as JSON text)."""
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    what = f"Web service {record.name!r}"
    values["models"] = documents.dumps(list(record.models), f"{what} models")
    for name in ("config", "tags", "properties", "error"):
        values[name] = documents.dumps(values[name], f"{what} {name}")
    return values


def from_columns(values: dict[str, Any]) -> ServiceRecord:
    """The record whose column values are ``values``."""
    fields = {f.name for f in dataclasses.fields(ServiceRecord)}
    data = {k: v for k, v in values.items() if k in fields}
    data["models"] = tuple(documents.loads(data["models"]) or ())
    for name in ("config", "tags", "properties"):
        data[name] = documents.loads(data[name]) or {}
    data["error"] = documents.loads(data["error"])
    data["auth_enabled"] = bool(data["auth_enabled"])
    return ServiceRecord(**data)


def matches(record: ServiceRecord, model_name: str | None, compute_type: str | None) -> bool:
    """Whether ``record`` passes ``list_services``'s filters."""
    if compute_type is not None and record.compute_type != compute_type:
        return False
    return model_name is None or model_name in record.model_names
