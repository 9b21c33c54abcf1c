"""SDK v1's parameter expressions (``azureml.train.hyperdrive.parameter_expressions``).

Each function returns a typed expression of :mod:`runyard.tuning.space`, whose
``to_json()`` is v1's list form (``choice(25, 50)`` -> ``["choice", [[25, 50]]]``).
The bounds of the log-scale expressions are natural logarithms, as in v1:
``loguniform(-6, -1)`` draws from ``[e^-6, e^-1]``, about ``[0.00248, 0.368]``.
"""

from __future__ import annotations

from typing import Any

from runyard.tuning.space import (
    Choice,
    LogNormal,
    LogUniform,
    Normal,
    QLogNormal,
    QLogUniform,
    QNormal,
    QUniform,
    RandInt,
    Uniform,
)

__all__ = [
    "choice",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]


def choice(*options: Any) -> Choice:
    """One of ``options``: ``choice(1, 2, 3)``, ``choice([1, 2, 3])`` or
    ``choice(range(1, 4))``.

    Raises:
        InvalidArgument: no options, or an option that is not a number, string, bool or None.
    """
    if len(options) == 1 and isinstance(options[0], (list, tuple, range)):
        options = tuple(options[0])
    return Choice(tuple(options))


def randint(upper: int) -> RandInt:
    """An integer in ``[0, upper)``; ``upper`` is a positive int.

    Raises:
        InvalidArgument: ``upper`` is not a positive int.
    """
    return RandInt(upper)


def uniform(min_value: float, max_value: float) -> Uniform:
    """Uniform on ``[min_value, max_value]``.

    Raises:
        InvalidArgument: ``min_value >= max_value`` or a bound is not a finite number.
    """
    return Uniform(min_value, max_value)


def quniform(min_value: float, max_value: float, q: int) -> QUniform:
    """``round(uniform(min_value, max_value) / q) * q``; ``q`` is an integer.

    Raises:
        InvalidArgument: ``min_value >= max_value`` or ``q`` is not a positive integer.
    """
    return QUniform(min_value, max_value, q)


def loguniform(min_value: float, max_value: float) -> LogUniform:
    """``exp(uniform(min_value, max_value))``: the bounds are natural logarithms.

    Raises:
        InvalidArgument: ``min_value > max_value`` or a bound is not a finite number.
    """
    return LogUniform(min_value, max_value)


def qloguniform(min_value: float, max_value: float, q: int) -> QLogUniform:
    """``round(exp(uniform(min_value, max_value)) / q) * q`` (natural-log bounds).

    Raises:
        InvalidArgument: ``min_value > max_value`` or ``q`` is not a positive integer.
    """
    return QLogUniform(min_value, max_value, q)


def normal(mu: float, sigma: float) -> Normal:
    """A normal distribution with mean ``mu`` and standard deviation ``sigma``.

    Raises:
        InvalidArgument: ``sigma < 0``.
    """
    return Normal(mu, sigma)


def qnormal(mu: float, sigma: float, q: int) -> QNormal:
    """``round(normal(mu, sigma) / q) * q``.

    Raises:
        InvalidArgument: ``sigma < 0`` or ``q`` is not a positive integer.
    """
    return QNormal(mu, sigma, q)


def lognormal(mu: float, sigma: float) -> LogNormal:
    """``exp(normal(mu, sigma))``, always positive.

    Raises:
        InvalidArgument: ``sigma < 0``.
    """
    return LogNormal(mu, sigma)


def qlognormal(mu: float, sigma: float, q: int) -> QLogNormal:
    """``round(exp(normal(mu, sigma)) / q) * q``.

    Raises:
        InvalidArgument: ``sigma < 0`` or ``q`` is not a positive integer.
    """
    return QLogNormal(mu, sigma, q)
