"""SDK v1's early-termination policies, with v1's constructor signatures.

Each class is the tuning engine's policy (:mod:`runyard.tuning.policies`, where the
decision rules are documented), so a HyperDriveConfig hands it to the engine as it is.
A stopped run ends Canceled, with the policy, the interval, its value and the threshold
recorded as the reason.
"""

from __future__ import annotations

from runyard.tuning import policies as engine

__all__ = [
    "BanditPolicy",
    "EarlyTerminationPolicy",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "TruncationSelectionPolicy",
]

#: The base of every policy (v1's name).
EarlyTerminationPolicy = engine.Policy


class BanditPolicy(engine.BanditPolicy):
    """Cancel runs whose best metric is not within the slack of the best run's.

    Args:
        evaluation_interval: evaluate every this many reports of the primary metric.
        slack_factor: allowed slack as a ratio: with MAXIMIZE, a run below
            ``best / (1 + slack_factor)`` is canceled.
        slack_amount: allowed slack as an amount: below ``best - slack_amount``.
        delay_evaluation: evaluate first at this interval.

    Raises:
        InvalidArgument: not exactly one of ``slack_factor``/``slack_amount`` (0 counts
            as unset, as in v1), or intervals that are not ints.
    """

    def __init__(
        self,
        evaluation_interval: int = 1,
        slack_factor: float | None = None,
        slack_amount: float | None = None,
        delay_evaluation: int = 0,
    ) -> None:
        super().__init__(
            evaluation_interval=evaluation_interval,
            delay_evaluation=delay_evaluation,
            slack_factor=slack_factor,
            slack_amount=slack_amount,
        )

    @property
    def policy_name(self) -> str:
        """v1's name: ``"Bandit"``."""
        return self.name


class MedianStoppingPolicy(engine.MedianStoppingPolicy):
    """Cancel runs whose best metric is worse than the median of the running averages.

    Args:
        evaluation_interval: evaluate every this many reports of the primary metric.
        delay_evaluation: evaluate first at this interval (v1 suggests 5).

    Raises:
        InvalidArgument: intervals that are not ints.
    """

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        super().__init__(evaluation_interval=evaluation_interval, delay_evaluation=delay_evaluation)

    @property
    def policy_name(self) -> str:
        """v1's name: ``"MedianStopping"``."""
        return self.name


class TruncationSelectionPolicy(engine.TruncationSelectionPolicy):
    """Cancel the given percentage of the lowest-ranked runs at each evaluation.

    Args:
        truncation_percentage: the percentage to cancel, an int from 1 to 99.
        evaluation_interval: evaluate every this many reports of the primary metric.
        delay_evaluation: evaluate first at this interval.

    Raises:
        InvalidArgument: a percentage outside 1..99, or intervals that are not ints.
    """

    def __init__(
        self, truncation_percentage: int, evaluation_interval: int = 1, delay_evaluation: int = 0
    ) -> None:
        super().__init__(
            truncation_percentage=truncation_percentage,
            evaluation_interval=evaluation_interval,
            delay_evaluation=delay_evaluation,
        )

    @property
    def policy_name(self) -> str:
        """v1's name: ``"TruncationSelection"``."""
        return self.name


class NoTerminationPolicy(engine.NoTerminationPolicy):
    """Every run runs to completion (what ``policy=None`` means)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def policy_name(self) -> str:
        """v1's name: ``"Default"``."""
        return self.name
