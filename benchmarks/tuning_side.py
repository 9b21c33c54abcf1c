"""Shared pieces of the tuning benchmarks: a runner whose children finish at once, and
the test objective.

``InstantRunner`` is a :class:`runyard.tuning.TrialRunner` whose children report a
scripted series, ``reports_per_poll`` values per poll, then complete; it costs next to
nothing, so what a benchmark times through it is the controller's own bookkeeping.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runyard.entities.run import RunStatus
from runyard.tuning import TrialRunner, TrialUpdate


class InstantRunner(TrialRunner):
    """Children that report ``series(params)`` one value per poll, then complete."""

    def __init__(self, series: Callable[[Mapping[str, Any]], list[float]]) -> None:
        self._series = series
        self.children: dict[str, list[float]] = {}
        self.emitted: dict[str, int] = {}
        self.canceled: set[str] = set()

    def submit(self, trial: int, params: Mapping[str, Any], resume_from: str | None) -> str:
        run_id = f"hd_{trial}"
        if run_id not in self.children:
            self.children[run_id] = self._series(params)
            self.emitted[run_id] = 0
        return run_id

    def poll(self, known_reports: Mapping[str, int]) -> Sequence[TrialUpdate]:
        updates = []
        for run_id in known_reports:
            values = self.children[run_id]
            if run_id in self.canceled:
                updates.append(TrialUpdate(run_id, RunStatus.CANCELED))
                continue
            if self.emitted[run_id] < len(values):
                self.emitted[run_id] += 1
                n = self.emitted[run_id]
                updates.append(TrialUpdate(run_id, RunStatus.RUNNING, ((n, values[n - 1]),)))
            else:
                updates.append(TrialUpdate(run_id, RunStatus.COMPLETED))
        return updates

    def cancel(self, run_id: str, reason: str) -> None:
        self.canceled.add(run_id)


def noisy_quadratic(x: float, n: int, lr: float, rng: random.Random) -> float:
    """A loss to minimise over a float, an integer and a log-scale parameter; its minimum
    (about 0) is at x=0.3, n=37, lr=10^-2.5, with Gaussian noise of sigma 0.01."""
    return (
        (x - 0.3) ** 2 + ((n - 37) / 50) ** 2 + (math.log10(lr) + 2.5) ** 2 / 4 + rng.gauss(0, 0.01)
    )


def learning_curve(final: float, reports: int) -> list[float]:
    """``reports`` accuracies rising towards ``final``."""
    return [final * (1 - 0.5 ** (i + 1)) for i in range(reports)]
