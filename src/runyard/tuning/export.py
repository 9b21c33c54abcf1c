"""Hand a study to Optuna: its finished trials as an Optuna study, for Optuna's own tools
(visualisation, importance, dashboard) or to go on sampling with Optuna directly."""

from __future__ import annotations

from typing import Any

from runyard.tuning.latent import latent_space, to_latent
from runyard.tuning.records import Goal, TrialRecord, TrialStatus
from runyard.tuning.samplers import import_optuna
from runyard.tuning.study import StudyState


def to_optuna_study(
    state: StudyState,
    *,
    storage: Any = None,
    study_name: str | None = None,
    include_inherited: bool = False,
) -> Any:
    """An Optuna study holding the study's finished trials.

    Each trial's ``params`` are the latent values with the latent distributions of
    :mod:`runyard.tuning.latent` (for choice, randint, uniform, quniform and loguniform
    they are the values the script got); ``user_attrs`` hold ``runyard_params`` (the
    script's values), ``run_id`` and ``trial_number``. Completed trials carry their best
    value, trials stopped early are PRUNED, failed ones FAIL, all with their reports as
    intermediate values. Trials still running are left out.

    Args:
        state: the study (e.g. ``StudyState.from_json(...)``).
        storage: an Optuna storage or URL (default: in memory).
        study_name: the Optuna study's name (default: Optuna's).
        include_inherited: also add the trials inherited from resumed studies.

    Returns:
        an ``optuna.Study``.

    Raises:
        MissingDependency: Optuna is not installed.
    """
    optuna = import_optuna()
    from optuna.trial import TrialState

    spec = state.spec
    distributions = latent_space(dict(spec.space))
    study = optuna.create_study(
        storage=storage,
        study_name=study_name,
        direction="maximize" if spec.goal is Goal.MAXIMIZE else "minimize",
    )
    records: list[TrialRecord] = list(state.trials)
    if include_inherited:
        records.extend(state.inherited)
    trials = []
    for record in records:
        if record.status.active:
            continue
        best = record.best(spec.goal)
        if record.status is TrialStatus.COMPLETED and best is not None:
            trial_state, value = TrialState.COMPLETE, best
        elif record.status is TrialStatus.CANCELED and record.reports:
            trial_state, value = TrialState.PRUNED, None
        else:
            trial_state, value = TrialState.FAIL, None
        trials.append(
            optuna.trial.create_trial(
                state=trial_state,
                value=value,
                params={n: to_latent(e, record.params[n]) for n, e in spec.space.items()},
                distributions=distributions,
                intermediate_values={i: v for i, v in record.reports if v == v},
                user_attrs={
                    "runyard_params": dict(record.params),
                    "run_id": record.run_id,
                    "trial_number": record.number,
                    "source": record.source,
                },
            )
        )
    study.add_trials(trials)
    return study
