"""An experiment: a named group of runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ExperimentRecord:
    """What the store keeps of one experiment."""

    experiment_id: int
    name: str
    created_at: float
    run_count: int = 0
