"""A compute target: where submitted runs execute."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ComputeTargetRecord:
    """What the store keeps of one compute target. ``kind`` is ``local`` or ``ray``;
    ``config`` holds the provisioning configuration (sizes, node bounds, address...)."""

    name: str
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    state: str = "Succeeded"
