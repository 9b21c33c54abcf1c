"""Search spaces: SDK v1's parameter expressions as typed, validated, JSON-able records.

Each expression keeps v1's meaning (``azureml.train.hyperdrive.parameter_expressions``):

============================  ===========================================================
``Choice(options)``           one of ``options``
``RandInt(upper)``            an integer in ``[0, upper)``
``Uniform(low, high)``        uniform on ``[low, high]``
``QUniform(low, high, q)``    ``round(uniform(low, high) / q) * q``
``LogUniform(low, high)``     ``exp(uniform(low, high))``: **natural-log bounds**, so
                              ``LogUniform(-6, -1)`` lies in ``[e^-6, e^-1]``
``QLogUniform(low, high, q)`` ``round(exp(uniform(low, high)) / q) * q``
``Normal(mu, sigma)``         normal, unbounded
``QNormal(mu, sigma, q)``     ``round(normal(mu, sigma) / q) * q``
``LogNormal(mu, sigma)``      ``exp(normal(mu, sigma))``
``QLogNormal(mu, sigma, q)``  ``round(exp(normal(mu, sigma)) / q) * q``
============================  ===========================================================

The JSON form is v1's: ``["choice", [[25, 50, 100]]]``, ``["loguniform", [-6, -1]]``. The
parent run records the space in that form (its ``generator_config``), and
:func:`space_from_json` reads it back.

Optuna-backed samplers see each expression through a *latent* distribution
(:mod:`runyard.tuning.latent`); the random sampler draws from the formulas above directly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from runyard.errors import InvalidArgument

#: A value a ``choice`` may hold: JSON scalars (Optuna's categorical values are the same).
ChoiceValue: TypeAlias = bool | int | float | str | None


def _number(kind: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgument(f"{kind}: {name} must be a number, got {value!r}.")
    if not math.isfinite(value):
        raise InvalidArgument(f"{kind}: {name} must be finite, got {value!r}.")
    return value


def _quantum(kind: str, q: object) -> int | float:
    # v1 requires q to be an integer (an int, or a float with an integral value).
    _number(kind, "q", q)
    assert isinstance(q, (int, float))
    if q <= 0:
        raise InvalidArgument(f"{kind}: q must be a positive integer, got {q!r}.")
    if isinstance(q, float) and not q.is_integer():
        raise InvalidArgument(
            f"{kind}: q must be an integer (or a float with an integral value), got {q!r}."
        )
    return q


def quantise(value: float, q: int | float) -> int | float:
    # v1's formula, literally: Python's round() gives an int, so an int q gives int values.
    result: int | float = round(value / q) * q
    return result


class Expression:
    """Base of the parameter expressions: a kind, its v1 arguments and a sampling rule."""

    kind: ClassVar[str] = ""

    def args(self) -> list[Any]:
        """The v1 argument list of the JSON form (``[low, high]``, ``[[options]]``...)."""
        raise NotImplementedError

    def to_json(self) -> list[Any]:
        """The v1 JSON form: ``[kind, args]``."""
        return [self.kind, self.args()]

    def sample(self, rng: random.Random) -> Any:
        """Draw one value with v1's formula, using ``rng``."""
        raise NotImplementedError


@dataclass(frozen=True)
class Choice(Expression):
    """One of ``options`` (JSON scalars: None, bool, int, float or str)."""

    options: tuple[ChoiceValue, ...]
    kind: ClassVar[str] = "choice"

    def __post_init__(self) -> None:
        if not self.options:
            raise InvalidArgument(
                "choice needs at least one option: choice(1, 2, 3), choice([1, 2, 3]) or "
                "choice(range(1, 4))."
            )
        for option in self.options:
            if option is not None and not isinstance(option, (bool, int, float, str)):
                raise InvalidArgument(
                    f"choice options must be numbers, strings, booleans or None, got "
                    f"{option!r} ({type(option).__name__})."
                )

    def args(self) -> list[Any]:
        return [list(self.options)]

    def sample(self, rng: random.Random) -> ChoiceValue:
        return self.options[rng.randrange(len(self.options))]


@dataclass(frozen=True)
class RandInt(Expression):
    """An integer in ``[0, upper)``."""

    upper: int
    kind: ClassVar[str] = "randint"

    def __post_init__(self) -> None:
        if isinstance(self.upper, bool) or not isinstance(self.upper, int) or self.upper <= 0:
            raise InvalidArgument(f"randint: upper must be a positive int, got {self.upper!r}.")

    def args(self) -> list[Any]:
        return [self.upper]

    def sample(self, rng: random.Random) -> int:
        return rng.randrange(self.upper)


@dataclass(frozen=True)
class _Bounded(Expression):
    """``low``/``high`` bounds; ``strict`` says whether ``low == high`` is an error."""

    low: float
    high: float
    strict: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _number(self.kind, "min_value", self.low)
        _number(self.kind, "max_value", self.high)
        if self.low > self.high or (self.strict and self.low == self.high):
            relation = "<" if self.strict else "<="
            raise InvalidArgument(
                f"{self.kind}: min_value must be {relation} max_value, got "
                f"min_value={self.low!r}, max_value={self.high!r}."
            )

    def args(self) -> list[Any]:
        return [self.low, self.high]


@dataclass(frozen=True)
class Uniform(_Bounded):
    """Uniform on ``[low, high]``; v1 requires ``low < high``."""

    kind: ClassVar[str] = "uniform"

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)


@dataclass(frozen=True)
class QUniform(_Bounded):
    """``round(uniform(low, high) / q) * q``; v1 requires ``low < high`` and an integral q."""

    q: int | float = 1
    kind: ClassVar[str] = "quniform"

    def __post_init__(self) -> None:
        super().__post_init__()
        _quantum(self.kind, self.q)

    def args(self) -> list[Any]:
        return [self.low, self.high, self.q]

    def sample(self, rng: random.Random) -> int | float:
        return quantise(rng.uniform(self.low, self.high), self.q)


@dataclass(frozen=True)
class LogUniform(_Bounded):
    """``exp(uniform(low, high))``: the bounds are natural logarithms; ``low <= high``."""

    kind: ClassVar[str] = "loguniform"
    strict: ClassVar[bool] = False

    def sample(self, rng: random.Random) -> float:
        return math.exp(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class QLogUniform(_Bounded):
    """``round(exp(uniform(low, high)) / q) * q`` (natural-log bounds, ``low <= high``)."""

    q: int | float = 1
    kind: ClassVar[str] = "qloguniform"
    strict: ClassVar[bool] = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _quantum(self.kind, self.q)

    def args(self) -> list[Any]:
        return [self.low, self.high, self.q]

    def sample(self, rng: random.Random) -> int | float:
        return quantise(math.exp(rng.uniform(self.low, self.high)), self.q)


@dataclass(frozen=True)
class _Gaussian(Expression):
    """``mu``/``sigma`` of a normal; v1 requires ``sigma >= 0``."""

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        _number(self.kind, "mu", self.mu)
        _number(self.kind, "sigma", self.sigma)
        if self.sigma < 0:
            raise InvalidArgument(f"{self.kind}: sigma must be >= 0, got {self.sigma!r}.")

    def args(self) -> list[Any]:
        return [self.mu, self.sigma]

    def normal(self, rng: random.Random) -> float:
        return rng.gauss(self.mu, self.sigma)


@dataclass(frozen=True)
class Normal(_Gaussian):
    """A normal distribution with mean ``mu`` and standard deviation ``sigma``."""

    kind: ClassVar[str] = "normal"

    def sample(self, rng: random.Random) -> float:
        return self.normal(rng)


@dataclass(frozen=True)
class QNormal(_Gaussian):
    """``round(normal(mu, sigma) / q) * q``."""

    q: int | float = 1
    kind: ClassVar[str] = "qnormal"

    def __post_init__(self) -> None:
        super().__post_init__()
        _quantum(self.kind, self.q)

    def args(self) -> list[Any]:
        return [self.mu, self.sigma, self.q]

    def sample(self, rng: random.Random) -> int | float:
        return quantise(self.normal(rng), self.q)


@dataclass(frozen=True)
class LogNormal(_Gaussian):
    """``exp(normal(mu, sigma))``, always positive."""

    kind: ClassVar[str] = "lognormal"

    def sample(self, rng: random.Random) -> float:
        return math.exp(self.normal(rng))


@dataclass(frozen=True)
class QLogNormal(_Gaussian):
    """``round(exp(normal(mu, sigma)) / q) * q``."""

    q: int | float = 1
    kind: ClassVar[str] = "qlognormal"

    def __post_init__(self) -> None:
        super().__post_init__()
        _quantum(self.kind, self.q)

    def args(self) -> list[Any]:
        return [self.mu, self.sigma, self.q]

    def sample(self, rng: random.Random) -> int | float:
        return quantise(math.exp(self.normal(rng)), self.q)


_KINDS: dict[str, type[Expression]] = {
    cls.kind: cls
    for cls in (
        Choice,
        RandInt,
        Uniform,
        QUniform,
        LogUniform,
        QLogUniform,
        Normal,
        QNormal,
        LogNormal,
        QLogNormal,
    )
}

#: A search space: parameter name (the script's flag, e.g. ``"--batch-size"``) -> expression.
Space: TypeAlias = Mapping[str, Expression]


def expression_from_json(data: object) -> Expression:
    """Read one expression from its v1 JSON form ``[kind, args]``.

    Raises:
        InvalidArgument: the form is not ``[kind, args]``, the kind is unknown or the
            arguments break the kind's rules.
    """
    if not isinstance(data, (list, tuple)) or len(data) != 2 or not isinstance(data[1], list):
        raise InvalidArgument(
            f"A parameter expression is [kind, [arguments]], got {data!r}; "
            "build it with choice(...), uniform(...) etc."
        )
    kind, args = data
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidArgument(
            f"Unknown parameter expression {kind!r}; known: {', '.join(sorted(_KINDS))}."
        )
    if cls is Choice:
        if len(args) != 1 or not isinstance(args[0], list):
            raise InvalidArgument(f"choice's JSON form is ['choice', [[options]]], got {data!r}.")
        return Choice(tuple(args[0]))
    try:
        return cls(*args)
    except TypeError as exc:
        raise InvalidArgument(f"Wrong arguments for {kind}: {args!r} ({exc}).") from exc


def check_space(space: Mapping[str, object]) -> dict[str, Expression]:
    """Check that ``space`` maps non-empty string names to expressions; return a copy.

    Raises:
        InvalidArgument: the space is empty, a name is not a non-empty string, or a value
            is not an expression.
    """
    if not isinstance(space, Mapping) or not space:
        raise InvalidArgument(
            "The parameter space must be a non-empty dict of name -> expression, e.g. "
            "{'--learning-rate': loguniform(-6, -1)}."
        )
    checked: dict[str, Expression] = {}
    for name, expression in space.items():
        if not isinstance(name, str) or not name.strip():
            raise InvalidArgument(f"Parameter names must be non-empty strings, got {name!r}.")
        if not isinstance(expression, Expression):
            raise InvalidArgument(
                f"Parameter {name!r} must be an expression such as choice(...) or "
                f"uniform(...), got {expression!r}."
            )
        checked[name] = expression
    return checked


def space_to_json(space: Space) -> dict[str, list[Any]]:
    """The v1 JSON form of a space: ``{name: [kind, args]}``."""
    return {name: expression.to_json() for name, expression in space.items()}


def space_from_json(data: Mapping[str, object]) -> dict[str, Expression]:
    """Read a space written by :func:`space_to_json`.

    Raises:
        InvalidArgument: an entry is not a valid expression.
    """
    return check_space({name: expression_from_json(value) for name, value in data.items()})


def sample_space(space: Space, rng: random.Random) -> dict[str, Any]:
    """One draw of every parameter, in the space's order, with v1's formulas."""
    return {name: expression.sample(rng) for name, expression in space.items()}
