"""How Optuna-backed samplers see each parameter expression: a *latent* distribution.

Optuna's samplers need bounded distributions, and some v1 expressions are not (the normal
family) or have no Optuna counterpart (a quantised log scale). Each expression therefore
maps to a latent Optuna distribution and a transform from the latent value to the value
the script gets:

===============  =======================================================  ==============
expression       latent Optuna distribution                               script value
===============  =======================================================  ==============
choice           ``CategoricalDistribution(options)``                     the same
randint(u)       ``IntDistribution(0, u - 1)``                            the same
uniform(a, b)    ``FloatDistribution(a, b)``                              the same
quniform(a,b,q)  ``Int/FloatDistribution(round(a/q)*q, round(b/q)*q,      the same
                 step=q)``
loguniform(a,b)  ``FloatDistribution(e^a, e^b, log=True)``                the same
qloguniform      ``FloatDistribution(e^a, e^b, log=True)``                ``round(x/q)*q``
normal family    ``FloatDistribution(1e-9, 1 - 1e-9)``, a quantile ``u``  ``mu + sigma *
                                                                          Φ⁻¹(u)``, then
                                                                          exp / round
===============  =======================================================  ==============

So a sampler works in *quantile space* for the normal family: a uniform ``u`` that the
inverse normal CDF turns into the normal draw. Random draws of ``u`` give exactly the
normal distribution (truncated at about ±6 sigma, a 2e-9 tail), and TPE's density model
over ``u`` is a model over the normal's quantiles, where the prior's mass is uniform. For
the first six kinds, the latent value *is* the script's value, so an exported Optuna study
(:func:`runyard.tuning.export.to_optuna_study`) shows the values the script got.

A difference from v1 worth knowing: v1's ``quniform`` rounds a uniform draw, which gives
the two end points half the weight of the others; the latent step distribution weights
every multiple of ``q`` alike. The random sampler does not use this module and keeps v1's
formula exactly.

Optuna is imported inside the functions: ``import runyard.tuning`` stays cheap.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from runyard.tuning.space import (
    Choice,
    Expression,
    LogNormal,
    LogUniform,
    Normal,
    QLogNormal,
    QLogUniform,
    QNormal,
    QUniform,
    RandInt,
    Uniform,
    quantise,
)

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

# The quantile range of the normal family: +-6 sigma.
QUANTILE_EPS = 1e-9
_STANDARD = NormalDist()


def latent_distribution(expression: Expression) -> BaseDistribution:
    """The Optuna distribution a sampler draws from for ``expression``."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if isinstance(expression, Choice):
        return CategoricalDistribution(expression.options)
    if isinstance(expression, RandInt):
        return IntDistribution(0, expression.upper - 1)
    if isinstance(expression, QUniform):
        q = expression.q
        low, high = quantise(expression.low, q), quantise(expression.high, q)
        if isinstance(q, int):
            return IntDistribution(int(low), int(high), step=q)
        return FloatDistribution(float(low), float(high), step=float(q))
    if isinstance(expression, Uniform):
        return FloatDistribution(expression.low, expression.high)
    if isinstance(expression, (LogUniform, QLogUniform)):
        return FloatDistribution(math.exp(expression.low), math.exp(expression.high), log=True)
    return FloatDistribution(QUANTILE_EPS, 1.0 - QUANTILE_EPS)


def from_latent(expression: Expression, latent: Any) -> Any:
    """The script's value for a latent value drawn from :func:`latent_distribution`."""
    if isinstance(expression, QLogUniform):
        return quantise(latent, expression.q)
    if isinstance(expression, (Normal, QNormal, LogNormal, QLogNormal)):
        normal = expression.mu + expression.sigma * _STANDARD.inv_cdf(latent)
        if isinstance(expression, Normal):
            return normal
        if isinstance(expression, QNormal):
            return quantise(normal, expression.q)
        value = math.exp(normal)
        return value if isinstance(expression, LogNormal) else quantise(value, expression.q)
    return latent


def to_latent(expression: Expression, value: Any) -> Any:
    """A latent value that gives (about) ``value``: to replay known parameters (resumed
    child runs, restored trials) through an Optuna sampler.

    Quantised values map back to a latent value that rounds to them; values outside the
    latent range are clamped into it.
    """
    if isinstance(expression, QLogUniform):
        low, high = math.exp(expression.low), math.exp(expression.high)
        return min(max(float(value), low), high)
    if isinstance(expression, (Normal, QNormal, LogNormal, QLogNormal)):
        normal = float(value)
        if isinstance(expression, (LogNormal, QLogNormal)):
            normal = math.log(normal) if normal > 0 else -math.inf
        if expression.sigma == 0:
            quantile = 0.5
        elif math.isinf(normal):
            quantile = 0.0 if normal < 0 else 1.0
        else:
            quantile = _STANDARD.cdf((normal - expression.mu) / expression.sigma)
        return min(max(quantile, QUANTILE_EPS), 1.0 - QUANTILE_EPS)
    return value


def latent_space(space: dict[str, Expression]) -> dict[str, BaseDistribution]:
    """:func:`latent_distribution` for every parameter."""
    return {name: latent_distribution(expression) for name, expression in space.items()}
