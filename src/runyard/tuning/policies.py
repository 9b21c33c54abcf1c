"""Early-termination policies: v1's decision rules as pure functions over metric series.

"Each time the training script logs the primary metric counts as one interval." A policy
is applied at every multiple of ``evaluation_interval`` that is ``>= delay_evaluation``. A
running trial whose latest report is interval ``L`` is judged at the evaluation point
``N``, the largest such multiple ``<= min(L, M)`` where ``M`` is the furthest interval any
other trial has reported, against the *peers* at ``N``: every trial, itself included,
that has reported interval ``N`` — running, finished, stopped or inherited from a resumed
study alike. A trial ahead of all others is thus judged where they are (its values up to
that point), and again as they catch up, because :meth:`Policy.evaluate` looks at every
running trial each time it is called; a trial can never outrun the policy.

* **Bandit**: cancel when the trial's best value up to ``N`` is worse than the threshold,
  ``best / (1 + slack_factor)`` or ``best - slack_amount`` for MAXIMIZE, where ``best`` is
  the best peer's best value up to ``N``. For MINIMIZE (undocumented in v1) the mirror
  image: ``best * (1 + slack_factor)`` or ``best + slack_amount``, cancel when above.
  For a negative ``best`` the factor applies to ``|best|`` (``best - |best| * f / (1 + f)``
  and ``best + |best| * f``), so the slack still lies on the worse side of the best run.
* **MedianStopping**: cancel when the trial's best value up to ``N`` is worse than the
  median of the peers' running averages over intervals ``1..N``.
* **TruncationSelection**: rank the peers by their value *at* ``N``; cancel a trial that is
  among the ``floor(peers * truncation_percentage / 100)`` worst. Ties go against the later
  trial. Finished peers count (v1's ``exclude_finished_jobs=False``).
* **NoTermination** (v1's ``"Default"``): never cancels.

NaN reports are ignored (they count as an interval but hold no value).
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from runyard.errors import InvalidArgument
from runyard.tuning.records import Goal, Report, Verdict

#: The policy's input: every trial's reports, by a key (a trial number, or any hashable
#: for trials inherited from other studies).
Series = Mapping[Hashable, Sequence[Report]]


def _interval(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgument(f"{name} must be an int >= {minimum}, got {value!r}.")
    return value


@dataclass(frozen=True, kw_only=True)
class Policy:
    """Base of the policies: when to evaluate, and the v1 JSON form."""

    evaluation_interval: int = 1
    delay_evaluation: int = 0
    name: ClassVar[str] = ""

    def __post_init__(self) -> None:
        _interval("evaluation_interval", self.evaluation_interval, 1)
        _interval("delay_evaluation", self.delay_evaluation, 0)

    def evaluation_point(self, latest_interval: int) -> int | None:
        """The interval at which a trial whose latest report is ``latest_interval`` is
        judged, or None before the first evaluation point."""
        point = (latest_interval // self.evaluation_interval) * self.evaluation_interval
        return point if point >= max(1, self.delay_evaluation) else None

    def evaluate(self, series: Series, goal: Goal, running: Iterable[int]) -> list[Verdict]:
        """The verdicts on the ``running`` trials, given every trial's ``series``.

        Args:
            series: every trial's reports (interval, value), in interval order, by key.
            goal: whether the metric is maximised or minimised.
            running: the trial numbers (keys of ``series``) that may be stopped.

        Returns:
            One verdict per running trial to stop, in the order of ``running``.
        """
        # Trials are grouped by evaluation point, so the peers' aggregate (best, median,
        # ranking) is computed once per point, not once per judged trial.
        order: dict[int, int] = {}
        by_point: dict[int, list[int]] = {}
        # The two furthest trials: a trial ahead of every peer is judged at the furthest
        # point another trial has reached, so it cannot outrun the policy.
        furthest = sorted(
            ((r[-1][0], key) for key, r in series.items() if r), key=lambda x: x[0], reverse=True
        )[:2]
        for trial in running:
            reports = series.get(trial)
            if not reports:
                continue
            others = [latest for latest, key in furthest if key != trial]
            reach = min(reports[-1][0], others[0]) if others else reports[-1][0]
            point = self.evaluation_point(reach)
            if point is not None:
                order[trial] = len(order)
                by_point.setdefault(point, []).append(trial)
        verdicts: list[Verdict] = []
        for point, trials in by_point.items():
            peers = {key: r for key, r in series.items() if r and r[-1][0] >= point}
            verdicts.extend(self._judge(point, trials, peers, goal))
        return sorted(verdicts, key=lambda v: order[v.trial])

    def _judge(self, point: int, trials: list[int], peers: Series, goal: Goal) -> list[Verdict]:
        """The verdicts at ``point`` on ``trials``, given the ``peers`` that reached it."""
        return []

    def properties(self) -> dict[str, Any]:
        """The policy's settings, as v1's JSON ``properties``."""
        return {
            "evaluation_interval": self.evaluation_interval,
            "delay_evaluation": self.delay_evaluation,
        }

    def to_json(self) -> dict[str, Any]:
        """v1's JSON form: ``{"name": ..., "properties": {...}}``."""
        return {"name": self.name, "properties": self.properties()}


def _upto(reports: Sequence[Report], point: int) -> list[float]:
    """The values (NaN left out) reported at intervals ``<= point``."""
    # Intervals are ordinals in practice, so the cut is usually at index `point`.
    cut = point if len(reports) >= point and reports[point - 1][0] == point else None
    if cut is None:
        cut = bisect.bisect_right([i for i, _ in reports], point)
    return [v for _, v in reports[:cut] if v == v]


def _at(reports: Sequence[Report], point: int) -> float | None:
    """The value reported at interval ``point`` (None if none, or NaN)."""
    if len(reports) >= point and reports[point - 1][0] == point:
        value = reports[point - 1][1]
        return None if math.isnan(value) else value
    for i, value in reports:
        if i == point:
            return None if math.isnan(value) else value
    return None


@dataclass(frozen=True, kw_only=True)
class NoTerminationPolicy(Policy):
    """Every trial runs to completion (v1's ``"Default"`` policy)."""

    name: ClassVar[str] = "Default"

    def evaluate(self, series: Series, goal: Goal, running: Iterable[int]) -> list[Verdict]:
        return []

    def properties(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, kw_only=True)
class BanditPolicy(Policy):
    """Cancel a trial whose best value is not within a slack of the best trial's.

    Exactly one of ``slack_factor`` and ``slack_amount`` is set; as in v1 this is checked
    by truthiness, so ``0`` counts as not set.
    """

    slack_factor: float | None = None
    slack_amount: float | None = None
    name: ClassVar[str] = "Bandit"

    def __post_init__(self) -> None:
        super().__post_init__()
        if bool(self.slack_factor) == bool(self.slack_amount):
            raise InvalidArgument(
                "BanditPolicy needs exactly one of slack_factor and slack_amount (a non-zero "
                f"number), got slack_factor={self.slack_factor!r}, "
                f"slack_amount={self.slack_amount!r}."
            )
        for label, slack in (
            ("slack_factor", self.slack_factor),
            ("slack_amount", self.slack_amount),
        ):
            if slack is not None and (
                isinstance(slack, bool) or not isinstance(slack, (int, float)) or slack < 0
            ):
                raise InvalidArgument(
                    f"BanditPolicy: {label} must be a positive number, got {slack!r}."
                )

    def threshold(self, best: float, goal: Goal) -> float:
        """The value a trial must reach when the best peer is at ``best``."""
        sign = 1 if goal is Goal.MAXIMIZE else -1
        if self.slack_factor:
            # v1's best / (1 + f) (MAXIMIZE) and its mirror best * (1 + f) (MINIMIZE),
            # written with |best| so that a negative metric widens the slack as a positive
            # one does, instead of putting the threshold above the best run itself.
            if sign > 0:
                return best - abs(best) * self.slack_factor / (1.0 + self.slack_factor)
            return best + abs(best) * self.slack_factor
        assert self.slack_amount is not None
        return best - sign * self.slack_amount

    def _judge(self, point: int, trials: list[int], peers: Series, goal: Goal) -> list[Verdict]:
        bests = {}
        for key, reports in peers.items():
            values = _upto(reports, point)
            if values:
                bests[key] = goal.best(values)
        if not bests:
            return []
        threshold = self.threshold(goal.best(bests.values()), goal)
        return [
            Verdict(trial, self.name, point, bests[trial], threshold)
            for trial in trials
            if trial in bests and goal.better(threshold, bests[trial])
        ]

    def properties(self) -> dict[str, Any]:
        return {
            **super().properties(),
            "slack_factor": self.slack_factor,
            "slack_amount": self.slack_amount,
        }


@dataclass(frozen=True, kw_only=True)
class MedianStoppingPolicy(Policy):
    """Cancel a trial whose best value is worse than the median of the running averages."""

    name: ClassVar[str] = "MedianStopping"

    def _judge(self, point: int, trials: list[int], peers: Series, goal: Goal) -> list[Verdict]:
        bests, averages = {}, []
        for key, reports in peers.items():
            values = _upto(reports, point)
            if values:
                bests[key] = goal.best(values)
                averages.append(statistics.fmean(values))
        if not averages:
            return []
        median = statistics.median(averages)
        return [
            Verdict(trial, self.name, point, bests[trial], median)
            for trial in trials
            if trial in bests and goal.better(median, bests[trial])
        ]


@dataclass(frozen=True, kw_only=True)
class TruncationSelectionPolicy(Policy):
    """Cancel the given percentage of the lowest-ranked trials at each evaluation point.

    ``truncation_percentage`` is an int in 1..99 (v1's rule).
    """

    truncation_percentage: int
    name: ClassVar[str] = "TruncationSelection"

    def __post_init__(self) -> None:
        super().__post_init__()
        pct = self.truncation_percentage
        if isinstance(pct, bool) or not isinstance(pct, int) or not 1 <= pct <= 99:
            raise InvalidArgument(
                f"truncation_percentage must be an int from 1 to 99, got {pct!r}."
            )

    def _judge(self, point: int, trials: list[int], peers: Series, goal: Goal) -> list[Verdict]:
        ranked = []
        for order, (key, reports) in enumerate(peers.items()):
            value = _at(reports, point)
            if value is not None:
                ranked.append((value, order, key))
        cut = math.floor(len(ranked) * self.truncation_percentage / 100)
        if cut == 0:
            return []
        # Worst first; among equal values the later trial goes first.
        sign = 1 if goal is Goal.MAXIMIZE else -1
        ranked.sort(key=lambda item: (sign * item[0], -item[1]))
        worst = {key: value for value, _, key in ranked[:cut]}
        threshold = ranked[cut][0]
        return [
            Verdict(trial, self.name, point, worst[trial], threshold)
            for trial in trials
            if trial in worst
        ]

    def properties(self) -> dict[str, Any]:
        return {
            **super().properties(),
            "truncation_percentage": self.truncation_percentage,
            "exclude_finished_jobs": False,
        }


_POLICIES: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in (NoTerminationPolicy, BanditPolicy, MedianStoppingPolicy, TruncationSelectionPolicy)
}


def policy_from_json(data: Mapping[str, Any] | None) -> Policy:
    """Read a policy written by :meth:`Policy.to_json` (None: no termination).

    Raises:
        InvalidArgument: the name is unknown or the properties break the policy's rules.
    """
    if data is None:
        return NoTerminationPolicy()
    cls = _POLICIES.get(str(data.get("name")))
    if cls is None:
        raise InvalidArgument(
            f"Unknown early-termination policy {data.get('name')!r}; known: "
            f"{', '.join(sorted(_POLICIES))}."
        )
    properties = dict(data.get("properties") or {})
    properties.pop("exclude_finished_jobs", None)
    try:
        return cls(**properties)
    except TypeError as exc:
        raise InvalidArgument(f"Wrong properties for the {cls.name} policy: {exc}.") from exc
