"""v1's rules on which expressions each sampler accepts (grid, Bayesian)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from runyard.errors import InvalidArgument
from runyard.tuning.space import Choice, Expression, QUniform, Uniform

# v1's limit on a Bayesian quniform's number of values.
BAYESIAN_MAX_QUNIFORM_VALUES = 100_000


def check_grid_space(space: Mapping[str, Expression]) -> None:
    """v1's grid rules: ``choice`` only; int, float or str values; all or none str.

    Raises:
        InvalidArgument: the space breaks one of the rules.
    """
    for name, expression in space.items():
        if not isinstance(expression, Choice):
            raise InvalidArgument(
                f"Grid sampling supports only choice(...); parameter {name!r} is "
                f"{expression.kind}. Use RandomParameterSampling, or list the values with choice."
            )
        kinds = set()
        for option in expression.options:
            if isinstance(option, bool) or not isinstance(option, (int, float, str)):
                raise InvalidArgument(
                    f"Grid sampling needs int, float or str values; parameter {name!r} has "
                    f"{option!r}."
                )
            kinds.add(isinstance(option, str))
        if len(kinds) > 1:
            raise InvalidArgument(
                f"Grid sampling needs all or none of a parameter's values to be strings; "
                f"parameter {name!r} mixes them: {list(expression.options)!r}."
            )


def check_bayesian_space(space: Mapping[str, Expression]) -> None:
    """v1's Bayesian rules: ``choice``, ``uniform`` and ``quniform`` only; a quniform's
    arguments are ints with at most 100,000 values.

    Raises:
        InvalidArgument: the space breaks one of the rules.
    """
    for name, expression in space.items():
        if isinstance(expression, QUniform):
            args = (expression.low, expression.high, expression.q)
            if any(isinstance(a, bool) or not isinstance(a, int) for a in args):
                raise InvalidArgument(
                    f"Bayesian sampling needs int arguments for quniform; parameter {name!r} "
                    f"has quniform{args!r}."
                )
            if (expression.high - expression.low) / expression.q > BAYESIAN_MAX_QUNIFORM_VALUES:
                raise InvalidArgument(
                    f"Bayesian sampling allows at most {BAYESIAN_MAX_QUNIFORM_VALUES} values "
                    f"for a quniform; parameter {name!r} has quniform{args!r}. Use a larger q."
                )
        elif type(expression) not in (Choice, Uniform):
            raise InvalidArgument(
                f"Bayesian sampling supports only choice, uniform and quniform; parameter "
                f"{name!r} is {expression.kind}. Use RandomParameterSampling, or "
                "OptunaParameterSampling for every expression."
            )


def grid_size(space: Mapping[str, Expression]) -> int:
    """How many points a grid over ``space`` has."""
    check_grid_space(space)
    return math.prod(len(e.options) for e in space.values() if isinstance(e, Choice))
