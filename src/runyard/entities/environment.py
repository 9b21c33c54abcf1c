"""A registered environment version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EnvironmentRecord:
    """What the store keeps of one environment version; ``spec`` is the environment's
    definition as a JSON-able dict."""

    name: str
    version: int
    spec: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
