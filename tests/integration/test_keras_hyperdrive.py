"""The seed notebook's HyperDrive cells on the Keras example, as written (cells 57–74, 2019
form), with a small budget: 2 epochs, 2 runs at once. Slow (TensorFlow), so marked
``keras``; CI runs it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from runyard.core import Experiment
from runyard.train.dnn import TensorFlow
from runyard.train.hyperdrive import (
    BanditPolicy,
    HyperDriveConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    choice,
    loguniform,
)
from runyard.widgets import RunDetails

pytestmark = [pytest.mark.integration, pytest.mark.keras]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "keras-mnist"
MNIST = Path(os.environ.get("MNIST_DIR", REPO.parent / "shared" / "data" / "mnist"))


def test_the_notebooks_hyperdrive_cells_tune_the_keras_model(ws, tmp_path, capsys):
    if not (MNIST / "train-images-idx3-ubyte.gz").exists():
        pytest.fail(f"The MNIST files are missing from {MNIST}; set MNIST_DIR.")
    ds = ws.get_default_datastore()
    ds.upload(src_dir=str(MNIST), target_path="mnist", overwrite=True, show_progress=False)
    script_folder = tmp_path / "keras-mnist"
    script_folder.mkdir()
    for name in ("keras_mnist.py", "utils.py"):
        shutil.copyfile(EXAMPLE / name, script_folder / name)
    exp = Experiment(ws, "keras-mnist")

    # Cell 57: the search space.
    ps = RandomParameterSampling(
        {
            "--batch-size": choice(25, 50, 100),
            "--first-layer-neurons": choice(10, 50, 200, 300, 500),
            "--second-layer-neurons": choice(10, 50, 200, 500),
            "--learning-rate": loguniform(-6, -1),
        }
    )
    # Cell 59: the estimator, only the data folder in script_params (plus the budget).
    est = TensorFlow(
        source_directory=str(script_folder),
        script_params={"--data-folder": ds.path("mnist").as_mount(), "--epochs": 2},
        compute_target="local",
        entry_script="keras_mnist.py",
        pip_packages=["keras", "matplotlib"],
        use_gpu=True,
    )
    # Cells 61–65: the policy, the config, the submit.
    policy = BanditPolicy(evaluation_interval=2, slack_factor=0.1)
    hdc = HyperDriveConfig(
        estimator=est,
        hyperparameter_sampling=ps,
        policy=policy,
        primary_metric_name="Accuracy",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=2,
        max_concurrent_runs=2,
    )
    hdr = exp.submit(config=hdc)
    # Cells 67–68: the widget (its text form here), then wait.
    RunDetails(hdr).show()
    assert hdr.id in capsys.readouterr().out
    hdr.wait_for_completion(show_output=True)
    assert hdr.get_status() == "Completed"

    # Cells 70–74: the best run, its files, its model.
    best_run = hdr.get_best_run_by_primary_metric()
    arguments = best_run.get_details()["runDefinition"]["arguments"]
    assert "--learning-rate" in arguments and "--batch-size" in arguments
    assert "outputs/model/model.keras" in best_run.get_file_names()
    model = best_run.register_model(model_name="keras-mlp-mnist", model_path="outputs/model")
    assert (model.name, model.run_id) == ("keras-mlp-mnist", best_run.id)
    children = list(hdr.get_children())
    assert len(children) == 2
    scores = [_best(c.get_metrics().get("Accuracy")) for c in children]
    assert _best(best_run.get_metrics()["Accuracy"]) == max(s for s in scores if s is not None)


def _best(value):
    """A metric logged once per epoch is a list; its best value ranks the run."""
    if value is None:
        return None
    return max(value) if isinstance(value, list) else value
