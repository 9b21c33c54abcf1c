"""The seed notebook's deploy, test and clean-up cells (2019 form, 475ea361:76-97; the
inventory as in the latest form, 8373b938:96), with ``azureml`` replaced by ``runyard``,
on the model the Keras example trains and registers (1 epoch here, to keep it short).

Kept as the notebook has it: the conda file from ``CondaDependencies`` (tensorflow and
keras, unpinned), ``cpu_cores=1, memory_gb=1`` (enforced here), auth on, the deprecated
``Webservice.deploy_from_model``, ``service.run`` on 30 test images, a raw POST with the key
through ``requests``, then ``delete``. Changed: the weights file name (Keras 3 saves
``model.weights.h5``), and the plots are left out.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from runyard.core import Experiment
from runyard.train.dnn import TensorFlow

pytestmark = [pytest.mark.integration, pytest.mark.keras]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "keras-mnist"
MNIST = Path(os.environ.get("MNIST_DIR", REPO.parent / "shared" / "data" / "mnist"))

# 2019 cell 76, with Keras 3's weights file name.
SCORE = textwrap.dedent(
    """
    import json
    import numpy as np
    import os
    from keras.models import model_from_json

    from runyard.core.model import Model

    def init():
        global model

        model_root = Model.get_model_path('keras-mlp-mnist')
        # load json and create model
        json_file = open(os.path.join(model_root, 'model.json'), 'r')
        model_json = json_file.read()
        json_file.close()
        model = model_from_json(model_json)
        # load weights into new model
        model.load_weights(os.path.join(model_root, "model.weights.h5"))
        model.compile(loss='binary_crossentropy', optimizer='rmsprop', metrics=['accuracy'])

    def run(raw_data):
        data = np.array(json.loads(raw_data)['data'])
        # make prediction
        y_hat = np.argmax(model.predict(data), axis=1)
        return y_hat.tolist()
    """
)


@pytest.fixture
def keras_model(ws, tmp_path):
    """The Keras example, submitted as the notebook does, 1 epoch; its model registered."""
    if not (MNIST / "train-images-idx3-ubyte.gz").exists():
        pytest.fail(f"The MNIST files are missing from {MNIST}; set MNIST_DIR.")
    ds = ws.get_default_datastore()
    ds.upload(src_dir=str(MNIST), target_path="mnist", overwrite=True, show_progress=False)
    script_folder = tmp_path / "keras-mnist"
    script_folder.mkdir()
    for name in ("keras_mnist.py", "utils.py"):
        shutil.copyfile(EXAMPLE / name, script_folder / name)
    est = TensorFlow(
        source_directory=str(script_folder),
        entry_script="keras_mnist.py",
        script_params={"--data-folder": ds.path("mnist").as_mount(), "--epochs": 1},
        compute_target="local",
        pip_packages=["keras", "matplotlib"],
    )
    run = Experiment(ws, "keras-mnist").submit(est)
    assert run.wait_for_completion(timeout_seconds=900)["status"] == "Completed"
    return run.register_model(model_name="keras-mlp-mnist", model_path="outputs/model")


def test_the_notebooks_deploy_test_and_cleanup_cells_run_on_the_keras_model(
    ws, keras_model, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    sys.path.insert(0, str(EXAMPLE))
    try:
        from utils import load_data
    finally:
        sys.path.remove(str(EXAMPLE))
    X_test = load_data(str(MNIST / "t10k-images-idx3-ubyte.gz"), False) / 255.0
    y_test = load_data(str(MNIST / "t10k-labels-idx1-ubyte.gz"), True).reshape(-1)
    model = keras_model

    # cell 76: %%writefile score.py
    Path("score.py").write_text(SCORE)

    # cell 78
    from runyard.core.runconfig import CondaDependencies

    cd = CondaDependencies.create()
    cd.add_conda_package("tensorflow")
    cd.add_conda_package("keras")
    cd.save_to_file(base_directory="./", conda_file_path="myenv.yml")
    print(cd.serialize_to_string())

    # cell 80
    from runyard.core.webservice import AciWebservice

    aciconfig = AciWebservice.deploy_configuration(
        cpu_cores=1,
        auth_enabled=True,  # this flag generates API keys to secure access
        memory_gb=1,
        tags={"name": "mnist", "framework": "Keras"},
        description="Keras MLP on MNIST",
    )

    # cell 82
    from runyard.core.image import ContainerImage

    imgconfig = ContainerImage.image_configuration(
        execution_script="score.py", runtime="python", conda_file="myenv.yml"
    )

    # cell 83
    from runyard.core.webservice import Webservice

    with pytest.warns(DeprecationWarning, match="deploy_from_model"):
        service = Webservice.deploy_from_model(
            workspace=ws,
            name="keras-mnist-svc",
            deployment_config=aciconfig,
            models=[model],
            image_config=imgconfig,
        )
    service.wait_for_deployment(show_output=True)
    printed = capsys.readouterr().out
    assert 'ACI service creation operation finished, operation "Succeeded"' in printed

    # cells 85 and 87
    print(service.get_logs())
    print(service.scoring_uri)
    assert service.state == "Healthy"
    assert "runs on CPUs" in service.get_logs()  # cpu_cores=1 applied

    # cell 89 (without the plot)
    n = 30
    sample_indices = np.random.permutation(X_test.shape[0])[0:n]
    test_samples = json.dumps({"data": X_test[sample_indices].tolist()})
    test_samples = bytes(test_samples, encoding="utf8")
    result = service.run(input_data=test_samples)
    assert len(result) == n and all(0 <= r <= 9 for r in result)
    assert np.mean(np.array(result) == y_test[sample_indices]) > 0.7  # a trained model

    # cell 91
    key1, Key2 = service.get_keys()  # noqa: RUF059 (as the notebook has it)
    print(key1)

    # cell 93. It builds the JSON body with str(list(row)): under numpy 2 a float prints
    # as np.float64(0.0), which is not JSON; numpy's own option gives the 2019 text.
    import requests

    random_index = np.random.randint(0, len(X_test) - 1)
    with np.printoptions(legacy="1.25"):
        input_data = '{"data": [' + str(list(X_test[random_index])) + "]}"
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + key1}
    resp = requests.post(service.scoring_uri, input_data, headers=headers)
    print("POST to url", service.scoring_uri)
    print("label:", y_test[random_index])
    print("prediction:", resp.text)
    assert resp.status_code == 200 and len(json.loads(resp.text)) == 1
    assert requests.post(service.scoring_uri, input_data).status_code == 401

    # cell 96 of the latest form (the 2019 one also lists ws.images: no images here)
    model = ws.models["keras-mlp-mnist"]
    print("Model: {}, ID: {}".format("keras-mlp-mnist", model.id))
    webservice = ws.webservices["keras-mnist-svc"]
    print("Webservice: {}, scoring URI: {}".format("keras-mnist-svc", webservice.scoring_uri))
    assert webservice.scoring_uri == service.scoring_uri

    # cell 97
    service.delete()
    assert "keras-mnist-svc" not in ws.webservices
