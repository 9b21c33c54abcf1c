"""A registered model version."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModelRecord:
    """What the registry keeps of one model version."""

    name: str
    version: int
    artifact_path: str  # where the files are in the artifact store: models/NAME/VERSION/...
    created_at: float
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    framework: str | None = None
    framework_version: str | None = None
    run_id: str | None = None
    experiment_name: str | None = None

    @property
    def id(self) -> str:
        """``NAME:VERSION``, the model id SDK v1 users know."""
        return f"{self.name}:{self.version}"
