"""A sweep written as data (``runyard tune submit SPEC``): JSON (or YAML) to a
:class:`HyperDriveConfig`.

Example (JSON; YAML takes the same keys)::

    {"experiment": "demo", "script": "train.py", "source_directory": ".",
     "arguments": ["--epochs", 3], "pip_packages": [], "target": "local",
     "sampling": "random", "seed": 1,
     "space": {"--lr": {"loguniform": [-6, -1]}, "--batch-size": {"choice": [25, 50]}},
     "policy": {"bandit": {"evaluation_interval": 2, "slack_factor": 0.1}},
     "primary_metric_name": "Accuracy", "primary_metric_goal": "maximize",
     "max_total_runs": 20, "max_concurrent_runs": 4, "max_duration_minutes": 60}

``sampling`` is ``random``, ``grid``, ``bayesian`` or ``optuna:<sampler>``; ``policy`` is
null or one of ``bandit``, ``median_stopping``, ``truncation_selection`` with the policy's
arguments; each expression is ``{name: [arguments]}`` with the names of
:mod:`runyard.train.hyperdrive` (``choice``, ``uniform``, ``loguniform``...). Paths are
relative to the spec file's folder. Without ``pip_packages`` the script runs in the
interpreter that submits it, as it is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from runyard.errors import InvalidArgument
from runyard.train.hyperdrive import parameter_expressions, policy, sampling
from runyard.train.hyperdrive.runconfig import HyperDriveConfig

REQUIRED = ("script", "space", "primary_metric_name", "max_total_runs")
OPTIONAL = (
    "experiment",
    "source_directory",
    "arguments",
    "pip_packages",
    "target",
    "sampling",
    "seed",
    "policy",
    "primary_metric_goal",
    "max_concurrent_runs",
    "max_duration_minutes",
)
EXPRESSIONS = (
    "choice",
    "randint",
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
)
POLICIES = {
    "bandit": policy.BanditPolicy,
    "median_stopping": policy.MedianStoppingPolicy,
    "truncation_selection": policy.TruncationSelectionPolicy,
}


def load_spec(path: str) -> dict[str, Any]:
    """Read a spec file: JSON, or YAML (``.yaml``/``.yml``, needs PyYAML).

    Raises:
        NotFound: no such file.
        InvalidArgument: not a JSON/YAML mapping; YAML without PyYAML.
    """
    import json

    from runyard.errors import NotFound

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise NotFound(f"Spec file {path!r} does not exist.") from None
    if path.lower().endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError:
            raise InvalidArgument(
                f"{path} is YAML, but PyYAML is not installed: pip install pyyaml, or write "
                "the spec as JSON."
            ) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidArgument(f"{path} is not valid YAML: {exc}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidArgument(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidArgument(f"{path} must hold a mapping of settings, not {type(data).__name__}.")
    return data


def _expression(name: str, value: object) -> Any:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise InvalidArgument(
            f"space[{name!r}] must be one expression like {{'choice': [1, 2]}}, got {value!r}."
        )
    (kind, args), *_ = value.items()
    if kind not in EXPRESSIONS:
        raise InvalidArgument(
            f"space[{name!r}]: unknown expression {kind!r}; known: {', '.join(EXPRESSIONS)}."
        )
    if not isinstance(args, list):
        args = [args]
    return getattr(parameter_expressions, kind)(*args)


def _sampling(text: object, space: dict[str, Any], seed: object) -> sampling.HyperParameterSampling:
    seed_value = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
    if seed is not None and seed_value is None:
        raise InvalidArgument(f"seed must be an int, got {seed!r}.")
    name = str(text or "random").lower()
    if name == "random":
        return sampling.RandomParameterSampling(space, seed=seed_value)
    if name == "grid":
        return sampling.GridParameterSampling(space, seed=seed_value)
    if name == "bayesian":
        return sampling.BayesianParameterSampling(space, seed=seed_value)
    if name.startswith("optuna:"):
        return sampling.OptunaParameterSampling(space, name.split(":", 1)[1], seed=seed_value)
    raise InvalidArgument(
        f"sampling must be random, grid, bayesian or optuna:<sampler>, got {text!r}."
    )


def _policy(value: object) -> Any:
    if value is None:
        return None
    if not isinstance(value, Mapping) or len(value) != 1:
        raise InvalidArgument(
            f"policy must be null or one policy like {{'bandit': {{...}}}}, got {value!r}."
        )
    (name, args), *_ = value.items()
    cls = POLICIES.get(name)
    if cls is None:
        raise InvalidArgument(f"Unknown policy {name!r}; known: {', '.join(POLICIES)}.")
    if not isinstance(args, Mapping):
        raise InvalidArgument(f"policy {name!r} takes a mapping of its arguments.")
    return cls(**args)


def config_from_spec(data: Mapping[str, Any], base_dir: str) -> HyperDriveConfig:
    """The HyperDriveConfig a spec describes.

    Args:
        data: the spec (see the module docstring).
        base_dir: the folder relative paths start from (the spec file's).

    Raises:
        InvalidArgument: an unknown or missing key, or a bad value (the message says
            which).
        HyperDriveConfigException: the sweep breaks a v1 rule.
    """
    from runyard.core.conda_dependencies import CondaDependencies
    from runyard.core.environment import Environment
    from runyard.core.script_run_config import ScriptRunConfig

    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise InvalidArgument(
            f"Unknown spec keys: {', '.join(unknown)}. Known: {', '.join(REQUIRED + OPTIONAL)}."
        )
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise InvalidArgument(f"The spec needs {', '.join(missing)}.")
    space_data = data["space"]
    if not isinstance(space_data, Mapping) or not space_data:
        raise InvalidArgument("space must map each parameter (the script's flag) to an expression.")
    space = {str(k): _expression(str(k), v) for k, v in space_data.items()}
    arguments = data.get("arguments") or []
    if not isinstance(arguments, list):
        raise InvalidArgument(f"arguments must be a list, got {arguments!r}.")
    pip = data.get("pip_packages") or []
    if not isinstance(pip, list) or not all(isinstance(p, str) for p in pip):
        raise InvalidArgument(f"pip_packages must be a list of requirements, got {pip!r}.")
    env = Environment(f"{str(data.get('experiment') or 'tune')[:200]}-tune")
    if pip:
        env.python.conda_dependencies = CondaDependencies.create(pip_packages=pip)
    else:
        env.python.user_managed_dependencies = True
        env.python.interpreter_path = sys.executable
    source = os.path.join(base_dir, str(data.get("source_directory") or "."))
    src = ScriptRunConfig(
        source_directory=source,
        script=str(data["script"]),
        arguments=list(arguments),
        compute_target=str(data.get("target") or "local"),
        environment=env,
    )
    return HyperDriveConfig(
        run_config=src,
        hyperparameter_sampling=_sampling(data.get("sampling"), space, data.get("seed")),
        policy=_policy(data.get("policy")),
        primary_metric_name=data["primary_metric_name"],
        primary_metric_goal=str(data.get("primary_metric_goal") or "maximize"),
        max_total_runs=data["max_total_runs"],
        max_concurrent_runs=data.get("max_concurrent_runs"),
        max_duration_minutes=data.get("max_duration_minutes") or 10080,
    )
