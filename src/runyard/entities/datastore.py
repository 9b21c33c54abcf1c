"""A registered datastore: a named place where data lives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DatastoreRecord:
    """What the store keeps of one datastore. ``url`` is an fsspec URL (a local
    folder is ``file:///...``); ``options`` are the fsspec storage options."""

    name: str
    url: str
    kind: str = "local"
    options: dict[str, Any] = field(default_factory=dict)
    is_default: bool = False
