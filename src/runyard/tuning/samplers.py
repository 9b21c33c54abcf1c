"""Samplers: where each trial's parameters come from.

Every sampler has the same ask-and-tell interface (:class:`Sampler`), is reproducible from
its seed, and can be restored from a study's trials (a resumed controller) and warm-started
with other studies' trials (v1's ``resume_from``).

===================  =====================================================================
name                 sampler
===================  =====================================================================
``random``           v1's RandomParameterSampling, pure Python: trial ``n`` draws with
                     ``random.Random(f"{seed}/{n}")`` and v1's formulas, so a trial's
                     parameters depend only on the seed and ``n`` (nothing to replay on
                     resume). Needs no Optuna.
``grid``             v1's GridParameterSampling, pure Python: ``choice`` only; trial ``n`` is
                     the ``n``-th element of the Cartesian product (first parameter
                     slowest); :attr:`Sampler.size` is finite, so a small grid makes
                     fewer runs.
``bayesian``         v1's BayesianParameterSampling on Optuna's TPE sampler (see below).
``optuna:<name>``    Optuna's own samplers: ``tpe``, ``gp``, ``cmaes``, ``qmc``, ``random``.
===================  =====================================================================

**Why TPE for "bayesian".** Optuna's GP sampler needs PyTorch and SciPy, a heavy install for
a base feature, while TPE needs nothing beyond Optuna; TPE models ``choice`` natively (the
notebook's space is three choices and a log-uniform), handles concurrent trials through its
constant liar (``max_concurrent_runs`` > 1), costs about a millisecond a trial, and makes
use of pruned trials, which is what lets Runyard combine it with early termination.

The Optuna-backed samplers see each expression through :mod:`runyard.tuning.latent`.
"""

from __future__ import annotations

import abc
import importlib.util
import math
import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from runyard.errors import InvalidArgument, InvalidState, MissingDependency
from runyard.tuning.latent import from_latent, latent_space, to_latent
from runyard.tuning.records import Goal, TrialRecord, TrialStatus
from runyard.tuning.rules import check_bayesian_space, check_grid_space
from runyard.tuning.space import Choice, Expression, check_space

if TYPE_CHECKING:
    import optuna

#: How a finished trial is told to the sampler.
Outcome = Literal["complete", "pruned", "fail"]

OPTUNA_SAMPLERS = ("tpe", "gp", "cmaes", "qmc", "random")
SAMPLER_NAMES = ("random", "grid", "bayesian", *(f"optuna:{n}" for n in OPTUNA_SAMPLERS))

# Optional packages each Optuna sampler imports when it samples.
_NEEDS: dict[str, tuple[str, ...]] = {
    "gp": ("torch", "scipy"),
    "cmaes": ("cmaes",),
    "qmc": ("scipy",),
}


class Sampler(abc.ABC):
    """The sampler port: ask for a trial's parameters, tell how the trial ended.

    Contract: trial numbers count 0, 1, 2... in the order of :meth:`ask`; :meth:`restore`
    and :meth:`warm_start` are called, if at all, before the first :meth:`ask`; the same
    seed and the same sequence of calls give the same parameters.
    """

    def __init__(self, space: Mapping[str, Expression], goal: Goal, seed: int) -> None:
        self.space = check_space(space)
        self.goal = goal
        self.seed = seed
        self._next = 0
        # Trials asked without fixed parameters: a grid's resumed children are extra
        # trials, not points of the grid.
        self._fresh = 0

    @property
    def size(self) -> int | None:
        """How many distinct trials the sampler can make, besides those asked with fixed
        parameters (None: unbounded)."""
        return None

    def ask(self, fixed: Mapping[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """The next trial's number and parameters.

        Args:
            fixed: parameters to use instead of sampling (a resumed child run); the
                sampler records them as that trial's.

        Raises:
            InvalidArgument: ``fixed`` does not name exactly the space's parameters.
            InvalidState: a finite sampler (grid) is exhausted.
        """
        if fixed is not None and set(fixed) != set(self.space):
            raise InvalidArgument(
                f"Fixed parameters {sorted(fixed)} do not match the search space's "
                f"{sorted(self.space)}."
            )
        number = self._next
        if fixed is None and self.size is not None and self._fresh >= self.size:
            raise InvalidState(f"The sampler has made all {self.size} of its trials.")
        params = self._ask(number, fixed)
        self._next += 1
        self._fresh += fixed is None
        return number, params

    @abc.abstractmethod
    def _ask(self, number: int, fixed: Mapping[str, Any] | None) -> dict[str, Any]: ...

    def tell(
        self,
        number: int,
        outcome: Outcome,
        value: float | None = None,
        reports: Sequence[tuple[int, float]] = (),
    ) -> None:
        """Tell how trial ``number`` ended: its best value (``complete``), or that it was
        stopped early (``pruned``, with its reports) or failed (``fail``). Random and
        grid sampling do not learn, so the base does nothing."""
        return None

    def restore(self, trials: Sequence[TrialRecord]) -> None:
        """Take up a study's own trials after a restart: terminal ones as history, active
        ones as pending; the next :meth:`ask` continues after the highest number."""
        if trials:
            self._next = max(self._next, max(t.number for t in trials) + 1)
            fresh = sum(1 for t in trials if t.resumed_from is None)
            self._fresh = max(self._fresh, fresh)

    def warm_start(self, trials: Sequence[TrialRecord]) -> None:
        """Learn from finished trials of other studies (v1's ``resume_from``). Random and
        grid sampling ignore them, as in v1 (they only inform early termination)."""
        return None


class RandomSampler(Sampler):
    """v1's random sampling, with v1's formulas (no Optuna)."""

    def _ask(self, number: int, fixed: Mapping[str, Any] | None) -> dict[str, Any]:
        if fixed is not None:
            return dict(fixed)
        rng = random.Random(f"{self.seed}/{number}")
        return {name: expression.sample(rng) for name, expression in self.space.items()}


class GridSampler(Sampler):
    """v1's grid sampling: the Cartesian product of the ``choice`` options, in order."""

    def __init__(self, space: Mapping[str, Expression], goal: Goal, seed: int) -> None:
        super().__init__(space, goal, seed)
        check_grid_space(self.space)
        self._options = [e.options for e in self.space.values() if isinstance(e, Choice)]

    @property
    def size(self) -> int:
        return math.prod(len(options) for options in self._options)

    def _ask(self, number: int, fixed: Mapping[str, Any] | None) -> dict[str, Any]:
        if fixed is not None:
            return dict(fixed)
        # Mixed-radix digits of the grid point's index, the last parameter fastest
        # (itertools.product order); resumed children take no grid point.
        number = self._fresh
        values = []
        for options in reversed(self._options):
            number, digit = divmod(number, len(options))
            values.append(options[digit])
        return dict(zip(self.space, reversed(values), strict=True))


class OptunaSampler(Sampler):
    """An Optuna sampler driven through ask-and-tell on an in-memory study."""

    def __init__(
        self, space: Mapping[str, Expression], goal: Goal, seed: int, optuna_name: str
    ) -> None:
        super().__init__(space, goal, seed)
        if optuna_name not in OPTUNA_SAMPLERS:
            raise InvalidArgument(
                f"Unknown Optuna sampler {optuna_name!r}; known: {', '.join(OPTUNA_SAMPLERS)}."
            )
        missing = [m for m in _NEEDS.get(optuna_name, ()) if importlib.util.find_spec(m) is None]
        if missing:
            raise MissingDependency(
                f"Optuna's {optuna_name!r} sampler needs {' and '.join(missing)}, which "
                f"{'is' if len(missing) == 1 else 'are'} not installed. Install "
                f"{'it' if len(missing) == 1 else 'them'} with: pip install {' '.join(missing)}"
            )
        self.optuna_name = optuna_name
        self._study: optuna.Study | None = None
        self._distributions: dict[str, Any] = {}
        self._pending: dict[int, optuna.Trial] = {}
        self._history: list[TrialRecord] = []
        self._active: list[TrialRecord] = []

    def _ensure(self) -> optuna.Study:
        if self._study is not None:
            return self._study
        optuna = import_optuna()
        self._distributions = latent_space(self.space)
        # A restored sampler must not replay the draws its first life made (it would
        # re-propose the same start-up points), so its seed moves with the history.
        seed = self.seed + 1_000_003 * len(self._history) if self._history else self.seed
        self._study = optuna.create_study(
            direction="maximize" if self.goal is Goal.MAXIMIZE else "minimize",
            sampler=_optuna_sampler(optuna, self.optuna_name, seed),
        )
        trials = [t for t in (self._frozen(optuna, r) for r in self._history) if t is not None]
        self._study.add_trials(trials)
        for record in self._active:
            self._pending_from(record)
        return self._study

    def _latent(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        latent = {}
        for name, expression in self.space.items():
            value = to_latent(expression, params[name])
            if not _fits(self._distributions[name], value):
                return None
            latent[name] = value
        return latent

    def _frozen(self, optuna: Any, record: TrialRecord) -> optuna.trial.FrozenTrial | None:
        from optuna.trial import TrialState

        if set(record.params) != set(self.space):
            return None
        try:
            latent = self._latent(record.params)
        except (ValueError, TypeError):
            return None
        if latent is None:
            return None
        best = record.best(self.goal)
        intermediate = {i: v for i, v in record.reports if not math.isnan(v)}
        if record.status is TrialStatus.COMPLETED and best is not None:
            state, value = TrialState.COMPLETE, best
        elif record.status is TrialStatus.CANCELED and record.verdict is not None:
            state, value = TrialState.PRUNED, None
        else:
            state, value = TrialState.FAIL, None
        return optuna.trial.create_trial(
            state=state,
            value=value,
            params=latent,
            distributions=self._distributions,
            intermediate_values=intermediate,
        )

    def _pending_from(self, record: TrialRecord) -> None:
        assert self._study is not None
        latent = self._latent(record.params) if set(record.params) == set(self.space) else None
        if latent is not None:
            self._study.enqueue_trial(latent)
            self._pending[record.number] = self._study.ask(self._distributions)

    def restore(self, trials: Sequence[TrialRecord]) -> None:
        if self._study is not None:
            raise InvalidState("restore() must come before the first ask().")
        super().restore(trials)
        for record in sorted(trials, key=lambda t: t.number):
            (self._active if record.status.active else self._history).append(record)

    def warm_start(self, trials: Sequence[TrialRecord]) -> None:
        if self._study is not None:
            raise InvalidState("warm_start() must come before the first ask().")
        self._history.extend(t for t in trials if not t.status.active)

    def _ask(self, number: int, fixed: Mapping[str, Any] | None) -> dict[str, Any]:
        study = self._ensure()
        if fixed is not None:
            latent = self._latent(fixed)
            if latent is None:
                # Outside the space (a resumed child of another space): run it, but the
                # sampler does not learn from it.
                return dict(fixed)
            study.enqueue_trial(latent)
        trial = study.ask(self._distributions)
        self._pending[number] = trial
        if fixed is not None:
            return dict(fixed)
        return {name: from_latent(e, trial.params[name]) for name, e in self.space.items()}

    def tell(
        self,
        number: int,
        outcome: Outcome,
        value: float | None = None,
        reports: Sequence[tuple[int, float]] = (),
    ) -> None:
        from optuna.trial import TrialState

        trial = self._pending.pop(number, None)
        if trial is None:
            return
        study = self._ensure()
        for interval, reported in reports:
            if not math.isnan(reported):
                trial.report(reported, interval)
        if outcome == "complete" and value is not None and not math.isnan(value):
            study.tell(trial, value)
        elif outcome == "pruned":
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, state=TrialState.FAIL)


def _fits(distribution: Any, value: Any) -> bool:
    """Whether ``value`` is a point of an Optuna distribution (public attributes only)."""
    choices = getattr(distribution, "choices", None)
    if choices is not None:
        return any(value == c and type(value) is type(c) for c in choices)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if not distribution.low <= value <= distribution.high:
        return False
    step = getattr(distribution, "step", None)
    if step is None:
        return True
    steps = (value - distribution.low) / step
    return math.isclose(steps, round(steps), abs_tol=1e-8)


def import_optuna() -> Any:
    try:
        import optuna
    except ImportError as exc:
        raise MissingDependency(
            "Bayesian and Optuna sampling need the 'optuna' package, which is not installed. "
            "Install it with: pip install 'runyard[tune]'"
        ) from exc
    return optuna


def _optuna_sampler(optuna: Any, name: str, seed: int) -> Any:
    samplers = optuna.samplers
    if name == "tpe":
        return samplers.TPESampler(seed=seed)
    if name == "random":
        return samplers.RandomSampler(seed=seed)
    # These fall back to random sampling for what they cannot model (choice, for CMA-ES
    # and QMC); Optuna warns about that on every trial, which says nothing new here.
    if name == "gp":
        return samplers.GPSampler(seed=seed, warn_independent_sampling=False)
    if name == "cmaes":
        return samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    return samplers.QMCSampler(
        seed=seed, scramble=True, warn_independent_sampling=False, warn_asynchronous_seeding=False
    )


def make_sampler(name: str, space: Mapping[str, Expression], goal: Goal, seed: int) -> Sampler:
    """The sampler called ``name`` (one of :data:`SAMPLER_NAMES`) over ``space``.

    Raises:
        InvalidArgument: the name is unknown or the space breaks the sampler's rules.
        MissingDependency: an Optuna sampler's packages are not installed.
    """
    if name == "random":
        return RandomSampler(space, goal, seed)
    if name == "grid":
        return GridSampler(space, goal, seed)
    if name == "bayesian":
        check_bayesian_space(space)
        return OptunaSampler(space, goal, seed, "tpe")
    if name.startswith("optuna:"):
        return OptunaSampler(space, goal, seed, name.removeprefix("optuna:"))
    raise InvalidArgument(f"Unknown sampler {name!r}; known: {', '.join(SAMPLER_NAMES)}.")
