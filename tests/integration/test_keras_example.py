"""The flagship example for real: the seed's TensorFlow estimator, 1 epoch on real MNIST.

Slow (the first run builds an environment with TensorFlow, ~1 min with a warm uv cache),
so it is marked ``keras``; CI runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from runyard.core import Experiment
from runyard.train.dnn import TensorFlow

pytestmark = [pytest.mark.integration, pytest.mark.keras]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "keras-mnist"
MNIST = Path(os.environ.get("MNIST_DIR", REPO.parent / "shared" / "data" / "mnist"))


@pytest.fixture
def mnist_on_datastore(ws):
    if not (MNIST / "train-images-idx3-ubyte.gz").exists():
        pytest.fail(f"The MNIST files are missing from {MNIST}; set MNIST_DIR.")
    ds = ws.get_default_datastore()
    ds.upload(src_dir=str(MNIST), target_path="mnist", overwrite=True, show_progress=False)
    return ds


def test_keras_example_trains_logs_and_registers_a_model_that_loads(
    ws, mnist_on_datastore, tmp_path
):
    script_folder = tmp_path / "keras-mnist"
    script_folder.mkdir()
    for name in ("keras_mnist.py", "utils.py"):
        shutil.copyfile(EXAMPLE / name, script_folder / name)
    est = TensorFlow(
        source_directory=str(script_folder),
        entry_script="keras_mnist.py",
        script_params={
            "--data-folder": mnist_on_datastore.path("mnist").as_mount(),
            "--batch-size": 50,
            "--first-layer-neurons": 300,
            "--second-layer-neurons": 100,
            "--learning-rate": 0.001,
            "--epochs": 1,
        },
        compute_target="local",
        pip_packages=["keras", "matplotlib"],
        use_gpu=True,  # as in the seed; this machine has none, so it runs on CPU
    )
    run = Experiment(ws, "keras-mnist").submit(est)
    details = run.wait_for_completion(show_output=False, timeout_seconds=900)
    assert details["status"] == "Completed"

    metrics = run.get_metrics()
    assert metrics["Final test accuracy"] > 0.9
    assert 0 < metrics["Final test loss"] < 1
    assert isinstance(metrics["Loss"], float) and isinstance(metrics["Accuracy"], float)
    assert metrics["Accuracy vs Loss"].startswith("images/")
    assert any("GPU" in w for w in details.get("warnings", []))

    names = run.get_file_names()
    assert "outputs/model/model.keras" in names
    assert "runyard-logs/driver.txt" in names

    model = run.register_model(model_name="keras-dnn-mnist", model_path="outputs/model")
    assert (model.name, model.version, model.run_id) == ("keras-dnn-mnist", 1, run.id)
    target = model.download(str(tmp_path / "downloaded"))

    # Load the registered model with Keras in the run's own environment and score it.
    python = run.get_details()["environment"]["python"]
    check = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(EXAMPLE)!r})
        import keras
        from utils import find_mnist_files, load_data
        files = find_mnist_files({str(MNIST)!r})
        x = load_data(files["t10k-images-idx3-ubyte.gz"], False) / 255.0
        y = load_data(files["t10k-labels-idx1-ubyte.gz"], True)
        model = keras.models.load_model({str(Path(target) / "model.keras")!r})
        acc = float((model.predict(x, verbose=0).argmax(axis=1) == y).mean())
        print(acc)
        """
    )
    out = subprocess.run([python, "-c", check], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.strip().splitlines()[-1]) > 0.9
